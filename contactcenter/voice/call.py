"""One caller's call, from the first ring to the last hang-up, on the asyncio loop.

Everything that happens to the call arrives as an item in its ``inbox`` (from the SIP stack's
threads, the engine's hub, its own timers) and is handled one at a time by ``run()``, so the
call's state never changes under its feet. Phases::

    ringing -> ivr -> queued <-> agent_ringing -> talking -> ended
                  \\-> transferring -> transferred -> ended
    talking -> queued (an agent's blind transfer: the agent's phone is hung up)
    talking -> survey -> ended (the agent hung up on a caller who opted in to the survey)

While talking, the agent may consult a colleague (a warm transfer): the caller hears hold
music, the colleague's phone is rung (the consult leg) and, once it answers, the two agents
talk. Completing hands the caller to the colleague (the first agent's phone is hung up);
calling it off, or the colleague declining or hanging up, bridges the caller back.

The IVR session (``contactcenter.ivr.Session``) decides what is played and where the caller
is queued; the routing core decides which agent is rung; the post-call survey
(``voice/survey.py``) what a caller who opted in is asked once the agent has hung up; this
class only carries them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from contactcenter.events import (
    CallbackOffered,
    ConsultEnded,
    ConsultOffered,
    ContactHandedOff,
    ContactOffered,
    ContactRemoved,
    OfferRejected,
)
from contactcenter.ivr import (
    CancelTimer,
    CollectDigits,
    CustomerInfo,
    Enqueue,
    HangUp,
    InvalidInput,
    Lookup,
    Play,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Session,
    StartTimer,
    StopPlayback,
    Transfer,
)
from contactcenter.ivr.outcomes import IvrOutcome, IvrVisit, outcome_of_hang_up
from contactcenter.routing import RoutingError
from contactcenter.voice import _pyvoip as sip
from contactcenter.voice import survey
from contactcenter.voice.agent_legs import agent_leg_failure
from contactcenter.voice.media import RINGBACK, Audio, Loop, Player, bridge
from contactcenter.voice.prompts import announcement

if TYPE_CHECKING:
    from contactcenter.voice.edge import VoiceEdge

log = logging.getLogger("contactcenter.voice")

CALLBACK_KEY = "1"
"""The key a queued caller presses to take an offered call back (the ``callback_offer``
prompt says so)."""


class VoiceCall:
    def __init__(self, edge: VoiceEdge, leg: sip.Leg) -> None:
        self.edge = edge
        self.leg = leg
        self.inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.phase = "ringing"
        self.session: Session | None = None
        self.contact_id: str | None = None
        self.queue: str | None = None
        self.agent_leg: sip.Leg | None = None
        self.agent_id: str | None = None
        self.outcome: str | None = None
        """How the call ended: cancelled, ivr:<reason>, abandoned, completed, removed, ..."""
        self.timeline: list[str] = []
        self.answered_wall = 0.0
        """Wall time the engine answered the call (a call back keeps that place)."""
        self.callback_offered = False
        """The queue offered a call back (``CALLBACK_KEY`` takes it)."""
        self.survey_wanted = False
        """The caller opted in to the post-call survey at the IVR."""
        self._survey: survey.PhoneSurvey | None = None
        self.consult_leg: sip.Leg | None = None
        self.consult_agent: str | None = None
        self._hold_since: float | None = None
        self._hold_segment: int | None = None
        self._player: Player | None = None
        self._token = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_gen = 0
        self._announce: asyncio.TimerHandle | None = None
        self._hold: Loop | None = None
        self._closing = False
        self._pending_enqueue: Enqueue | None = None
        """The menu queued the caller before their ACK came: queued once it does."""
        self._callback_booked: str | None = None
        self._customer_id: str | None = None
        self._ivr_done = False
        self._rtp_check: asyncio.TimerHandle | None = None
        self._rtp_seen = (0, 0.0)
        """(packets heard from the caller, loop time that count last changed)."""

    # -- the loop ---------------------------------------------------------------------------

    def post(self, *item: Any) -> None:
        self.inbox.put_nowait(item)

    def on_stack(self, event: sip.StackEvent) -> None:
        """An event of one of the call's legs (from the edge, on the loop)."""
        caller_side = event.leg is self.leg
        if isinstance(event, sip.Digit):
            if caller_side:
                self.post("digit", event.digit)
        elif isinstance(event, sip.Ended):
            if caller_side:
                self.post("caller_ended", event.by)
            else:
                self.post("agent_ended", event.leg)
        elif isinstance(event, sip.Answered):
            self.post("agent_answered", event.leg)
        elif isinstance(event, sip.Failed):
            self.post("agent_failed", event.leg, event.status, event.reason)
        elif isinstance(event, sip.Confirmed):
            self.post("confirmed")
        elif isinstance(event, sip.HoldChanged) and caller_side:
            self.post("caller_hold", event.held)

    async def run(self) -> None:
        try:
            if await self._answer():
                await self._start_ivr()
                while self.phase != "ended":
                    item = await self.inbox.get()
                    await self._handle(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s failed; hanging up", self.leg.id)
            await self._leave_ivr(IvrOutcome.FAILED, "error")
            await self._finish("error")
        finally:
            self._stop_timers()
            self.edge.forget(self)

    def _note(self, what: str, *, private: str = "") -> None:
        """Add to the call's timeline (kept with the call, for tests and the desktop) and log
        it at debug; ``private`` (keys pressed: an account number, a PIN) is kept off the log."""
        self.timeline.append(what + private)
        log.debug("call %s: %s", self.leg.id, what + ("…" if private else ""))

    async def _answer(self) -> bool:
        delay = self.edge.settings.calls.answer_delay_seconds
        if delay > 0:
            item = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    item = await self.inbox.get()
            if item is not None and item[0] == "caller_ended":
                return self._cancelled()
            if item is not None:
                self.inbox.put_nowait(item)
        try:
            await self.edge.command(self.edge.stack.answer, self.leg)
        except sip.LegGone:
            return self._cancelled()
        self.phase = "ivr"
        self.answered_wall = self.edge.voice.wall()
        self.edge.count("answered")
        self._note("answered")
        self._watch_caller_audio()
        return True

    def _cancelled(self) -> bool:
        """The caller gave up while the IVR extension rang: never answered, no contact."""
        self.phase = "ended"
        self.outcome = "cancelled"
        self.edge.count("cancelled_ringing")
        self._note("cancelled while ringing")
        log.info("call %s cancelled before the answer", self.leg.id)
        return False

    async def _start_ivr(self) -> None:
        flow = self.edge.flow_for(self.leg)
        if flow is None:
            log.warning("no IVR flow for call %s; hanging up", self.leg.id)
            await self._leave_ivr(IvrOutcome.FAILED, "no-flow")
            await self._finish("no-flow")
            return
        flows = self.edge.flows
        assert flows is not None
        variables = {"caller": self.leg.peer, "dialled": self.edge.dialled(self.leg)}
        self.session = flows.session(flow, variables)
        self._note(f"ivr {flow.id}")
        await self._apply(self.session.start(self.edge.clock()))

    async def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "digit":
            self._note("digit ", private=item[1])
            if self.phase == "ivr" and self.session is not None:
                await self._ivr(lambda now: self.session.digit(item[1], now=now))
            elif self.phase == "survey" and self._survey is not None:
                await self._survey_step(self._survey.key(item[1]))
            elif item[1] == CALLBACK_KEY and self.callback_offered and self.phase == "queued":
                await self._take_callback()
        elif kind == "prompt_done":
            if item[1] == self._token:
                await self._prompt_done()
        elif kind == "timeout":
            if item[1] == self._timer_gen and self.phase == "ivr" and self.session is not None:
                await self._ivr(lambda now: self.session.timeout(now=now))
            elif item[1] == self._timer_gen and self.phase == "survey" and self._survey:
                await self._survey_step(self._survey.timeout())
        elif kind == "announce":
            await self._announce_position()
        elif kind == "caller_ended":
            self._note(f"caller ended ({item[1]})")
            await self._caller_ended(item[1])
        elif kind == "agent_answered":
            await self._agent_answered(item[1])
        elif kind == "agent_failed":
            await self._agent_failed(item[1], item[2], item[3])
        elif kind == "agent_ended":
            await self._agent_ended(item[1])
        elif kind == "notice":
            await self._notice(item[1])
        elif kind == "reconcile":
            await self._reconcile()
        elif kind == "hang_up":
            await self._hang_up_requested(item[1])
        elif kind == "confirmed":
            self._note("ACK")
            if self._pending_enqueue is not None:
                pending, self._pending_enqueue = self._pending_enqueue, None
                await self._enqueue(pending)
        elif kind == "caller_hold":
            await self._caller_hold(item[1])
        elif kind == "rtp_check":
            await self._check_caller_audio()

    # -- IVR --------------------------------------------------------------------------------

    async def _ivr(self, step: Any) -> None:
        try:
            actions = step(self.edge.clock())
        except InvalidInput as e:
            log.debug("call %s: IVR input refused: %s", self.leg.id, e)
            return
        await self._apply(actions)

    async def _apply(self, actions: Sequence[Any]) -> None:
        session = self.session
        assert session is not None
        for a in actions:
            if self.phase == "ended":
                return
            if isinstance(a, Play):
                self._note(f"play {a.prompt}")
                self._play([a.prompt])
            elif isinstance(a, StopPlayback):
                self._stop_playing()
            elif isinstance(a, CollectDigits):
                pass  # keys are always listened for
            elif isinstance(a, StartTimer):
                self._start_timer(a.seconds)
            elif isinstance(a, CancelTimer):
                self._cancel_timer()
            elif isinstance(a, Lookup):
                found = await self.edge.lookup(a.by, a.value)
                self._note(f"lookup {a.by}: {'found' if found else 'not found'}")  # not who
                await self._ivr(lambda now, f=found: session.lookup_result(f, now=now))
            elif isinstance(a, QueryQueueState):
                agents, wait = self.edge.voice.queue_status(a.queue)
                status = QueueStatus(a.queue, agents, wait)
                await self._ivr(lambda now, s=status: session.queue_state_result(s, now=now))
            elif isinstance(a, Enqueue):
                await self._enqueue(a)
            elif isinstance(a, RequestCallback):
                cid = await self.edge.voice.callback_requested(
                    a.queue,
                    a.number,
                    tier=a.tier,
                    customer_id=a.customer_id,
                    answered_wall=self.answered_wall,
                )
                self._callback_booked, self._customer_id = cid, a.customer_id
                self._note(f"callback {cid}")
            elif isinstance(a, Transfer):
                await self._leave_ivr(IvrOutcome.TRANSFERRED)
                await self._transfer(a.number)
            elif isinstance(a, HangUp):
                self._note(f"ivr hang-up {a.reason}")
                booked = self._callback_booked is not None
                outcome = outcome_of_hang_up(a.reason, callback_booked=booked)
                await self._leave_ivr(outcome, a.reason)
                await self._finish(f"ivr:{a.reason}")

    async def _prompt_done(self) -> None:
        self._player = None
        if self.phase == "ivr" and self.session is not None:
            await self._ivr(lambda now: self.session.prompt_finished(now=now))
        elif self.phase == "survey" and self._survey is not None:
            await self._survey_step(self._survey.played())
        elif self._closing:
            await self._finish(self.outcome or "removed")
        elif self.phase in ("queued", "agent_ringing"):
            self._resume_hold()

    # -- audio --------------------------------------------------------------------------------

    def _play(self, prompts: Sequence[str]) -> None:
        audio, missing = self.edge.prompts.resolve(prompts)
        if missing:
            log.warning("call %s: prompt(s) %s missing; skipped", self.leg.id, ", ".join(missing))
        self._play_audio(audio)

    def _play_audio(self, audio: list[Audio]) -> None:
        self._stop_playing()
        self._token += 1
        token = self._token
        post = self.edge.threadsafe(self.post)
        self._player = Player(audio, on_done=lambda: post("prompt_done", token))
        self.leg.stream.source = self._player

    def _stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
        self._token += 1
        self.leg.stream.source = None

    def _resume_hold(self) -> None:
        self._stop_playing()
        if self._hold is None:
            self._hold = Loop(self.edge.prompts.hold(self.edge.settings.waiting.hold_prompt))
        self.leg.stream.source = self._hold

    def _start_timer(self, seconds: float) -> None:
        self._cancel_timer()
        gen = self._timer_gen
        self._timer = asyncio.get_running_loop().call_later(seconds, self.post, "timeout", gen)

    def _cancel_timer(self) -> None:
        self._timer_gen += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule_announcement(self, delay: float) -> None:
        if self._announce is not None:
            self._announce.cancel()
        self._announce = asyncio.get_running_loop().call_later(delay, self.post, "announce")

    def _stop_timers(self) -> None:
        self._cancel_timer()
        if self._announce is not None:
            self._announce.cancel()
            self._announce = None
        if self._rtp_check is not None:
            self._rtp_check.cancel()
            self._rtp_check = None

    # -- a caller who is gone without a word ---------------------------------------------------

    def _watch_caller_audio(self) -> None:
        timeout = self.edge.settings.calls.rtp_timeout_seconds
        if timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        self._rtp_seen = (self._heard(), loop.time())
        self._rtp_check = loop.call_later(min(5.0, timeout / 4), self.post, "rtp_check")

    def _heard(self) -> int:
        """Packets from the caller so far: audio or keys (both say they are there)."""
        stats = self.leg.stream.stats
        return stats.received + stats.dtmf

    async def _check_caller_audio(self) -> None:
        """No audio from the caller for ``rtp_timeout_seconds`` outside hold: their phone or
        network is gone (no BYE will come), so the call is ended as if they hung up."""
        if self.phase == "ended":
            return
        timeout = self.edge.settings.calls.rtp_timeout_seconds
        now = asyncio.get_running_loop().time()
        received = self._heard()
        if received != self._rtp_seen[0] or self.leg.held:
            self._rtp_seen = (received, now)
        elif now - self._rtp_seen[1] >= timeout:
            self._note(f"no audio from the caller for {timeout:.0f} s")
            log.info("call %s: no audio from the caller for %.0f s; ended", self.leg.id, timeout)
            self.edge.count("caller_silent")
            await self._caller_ended("rtp_timeout")
            await self.edge.command(self.edge.stack.end, self.leg)
            return
        self._rtp_check = asyncio.get_running_loop().call_later(
            min(5.0, timeout / 4), self.post, "rtp_check"
        )

    # -- the menu's end ------------------------------------------------------------------------

    async def _leave_ivr(self, outcome: IvrOutcome, reason: str | None = None) -> None:
        """Put the caller's time in the menu on record, once, however it ended."""
        if self._ivr_done or self.phase not in ("ivr", "queued"):
            return
        self._ivr_done = True
        flow = self.session.flow.id if self.session is not None else "-"
        visit = IvrVisit(
            call=self.leg.id,
            flow=flow,
            started_wall=self.answered_wall,
            ended_wall=self.edge.voice.wall(),
            outcome=outcome,
            node=self.session.node if self.session is not None else None,
            reason=reason,
            contact_id=self.contact_id or self._callback_booked,
            customer_id=self._customer_id,
        )
        self.edge.count(f"ivr:{outcome}")
        self._note(f"ivr {outcome}" + (f" ({reason})" if reason else ""))
        await self.edge.voice.ivr_visited(visit)

    async def _caller_hold(self, held: bool) -> None:
        """The caller put the call on hold or took it off: the agent's desktop says so."""
        self._note("caller holds" if held else "caller resumed")
        if self.phase == "talking" and self.contact_id is not None and self.agent_id is not None:
            await self.edge.voice.caller_held(self.agent_id, self.contact_id, held)

    # -- queueing ------------------------------------------------------------------------------

    async def _enqueue(self, a: Enqueue) -> None:
        if not self.leg.acked:
            # RFC 3261 13.3.1.4: the dialog is not confirmed; a caller whose CANCEL crossed our
            # answer never ACKs, and must never reach an agent. Queued when the ACK comes.
            self._pending_enqueue = a
            self._note("queueing waits for the caller's ACK")
            return
        cid = f"voice-{secrets.token_hex(8)}"
        self.contact_id, self.queue = cid, a.queue
        self.edge.follow(cid, self)
        self.phase = "queued"
        self._resume_hold()
        await self.edge.voice.call_arrived(
            cid,
            queue=a.queue,
            tier=a.tier,
            customer_id=a.customer_id,
            preferred_agent=a.preferred_agent,
            caller=self.leg.peer,
        )
        self._customer_id = a.customer_id
        self.survey_wanted = a.survey
        await self._leave_ivr(IvrOutcome.QUEUED)
        self.edge.count("queued")
        self._note(f"queued {a.queue} as {cid} (preferred {a.preferred_agent})")
        self._schedule_announcement(self.edge.settings.waiting.first_announcement_seconds)

    async def _announce_position(self) -> None:
        if self.phase not in ("queued", "agent_ringing") or self.contact_id is None:
            return
        interval = self.edge.settings.waiting.announce_every_seconds
        self._schedule_announcement(interval)
        if self._player is not None or self._closing:
            return  # something else is being said
        try:
            place, wait = self.edge.voice.position(self.contact_id)
        except RoutingError:
            return
        self._note(f"announce place {place}")
        self._play(announcement(place, wait))

    async def _notice(self, n: object) -> None:
        if isinstance(n, ContactOffered):
            await self._offered(n)
        elif isinstance(n, OfferRejected):
            await self._offer_withdrawn(n)
        elif isinstance(n, ContactRemoved):
            await self._removed(n)
        elif isinstance(n, CallbackOffered):
            self._offer_callback()
        elif isinstance(n, ContactHandedOff):
            await self._handed_off(n)
        elif isinstance(n, ConsultOffered):
            await self._consult_offered(n)
        elif isinstance(n, ConsultEnded):
            await self._consult_ended(n)

    # -- transfers ------------------------------------------------------------------------------

    async def _handed_off(self, n: ContactHandedOff) -> None:
        """The agent handed the caller on: completed consult -> the colleague talks with the
        caller; blind -> the agent's phone is hung up and the caller waits (in their place)."""
        if self.phase != "talking" or n.agent_id != self.agent_id:
            return
        leg, self.agent_leg = self.agent_leg, None
        if leg is not None:
            await self.edge.command(self.edge.stack.end, leg)
        if self.consult_leg is not None and n.to_agent == self.consult_agent:
            self.agent_leg, self.agent_id = self.consult_leg, self.consult_agent
            self.consult_leg = self.consult_agent = None
            await self._end_hold()
            self._stop_playing()
            bridge(self.leg.stream, self.agent_leg.stream)
            self._note(f"transferred to {self.agent_id}: talking")
            return
        self.agent_id = None
        self.phase = "queued"
        self._resume_hold()
        self._note(f"transferred to {n.to_agent or n.to_queue}: waiting")
        self._schedule_announcement(self.edge.settings.waiting.first_announcement_seconds)

    async def _consult_offered(self, n: ConsultOffered) -> None:
        """The agent consults a colleague: the caller holds, the colleague's phone rings."""
        if self.phase != "talking" or n.from_agent != self.agent_id or self.contact_id is None:
            return
        self._resume_hold()
        self._hold_since = asyncio.get_running_loop().time()
        self._hold_segment = self.edge.voice.segment(self.contact_id)
        if self.agent_leg is not None:
            self.agent_leg.stream.source = Loop(RINGBACK)
        cfg = self.edge.voice.center.agents.get(n.agent_id)
        try:
            if cfg is None or cfg.extension is None:
                raise sip.DialError(f"agent {n.agent_id} has no extension")
            leg = await self.edge.dial(self, cfg.extension)
        except sip.DialError as e:
            log.warning("call %s: cannot ring %s to consult: %s", self.leg.id, n.agent_id, e)
            await self.edge.voice.consult_failed(n.agent_id, self.contact_id)
            return
        self.consult_leg, self.consult_agent = leg, n.agent_id
        self._note(f"consulting {n.agent_id}: ringing")

    async def _consult_answered(self, leg: sip.Leg) -> None:
        assert self.contact_id is not None and self.consult_agent is not None
        try:
            await self.edge.voice.consult_answered(self.consult_agent, self.contact_id)
        except Exception as e:  # the consult ended meanwhile
            log.info("call %s: consult answered too late: %s", self.leg.id, e)
            self.consult_leg = None
            await self.edge.command(self.edge.stack.hangup, leg)
            return
        if self.agent_leg is not None:
            bridge(self.agent_leg.stream, leg.stream)
        self._note(f"consulting {self.consult_agent}: talking")

    async def _consult_ended(self, n: ConsultEnded) -> None:
        """The consult is off (declined, rang out, called off, ...): back to the caller."""
        if n.agent_id != self.consult_agent:
            return
        leg, self.consult_leg, self.consult_agent = self.consult_leg, None, None
        if leg is not None:
            await self.edge.command(self.edge.stack.end, leg)
        self._note(f"consult ended ({n.reason})")
        await self._end_hold()
        if self.phase == "talking" and self.agent_leg is not None:
            self._stop_playing()
            bridge(self.leg.stream, self.agent_leg.stream)

    async def _end_hold(self) -> None:
        if self._hold_since is None or self.contact_id is None:
            return
        held = asyncio.get_running_loop().time() - self._hold_since
        self._hold_since = None
        try:
            await self.edge.voice.held(self.contact_id, held, self._hold_segment)
        except Exception:  # the record can wait; the call goes on
            log.exception("call %s: hold time not recorded", self.leg.id)

    def _offer_callback(self) -> None:
        """An escalation step offers a call back: say which key takes it (the caller keeps
        their place either way)."""
        if self.phase != "queued" or self._closing:
            return
        self.callback_offered = True
        self._note("call back offered")
        self._play(["callback_offer"])

    async def _take_callback(self) -> None:
        """The caller took the call back: they leave the queue; the removal that follows says
        it is booked (it is stored before that is said)."""
        assert self.contact_id is not None
        self._note("call back taken")
        try:
            await self.edge.voice.accept_callback(self.contact_id)
        except RoutingError as e:  # offered to an agent meanwhile: they stay
            log.info("call %s: call back not taken: %s", self.leg.id, e)

    async def _offered(self, n: ContactOffered) -> None:
        if self.phase != "queued":
            return
        cfg = self.edge.voice.center.agents.get(n.agent_id)
        extension = cfg.extension if cfg is not None else None
        if extension is None:
            log.warning("agent %s has no extension: offer of %s failed", n.agent_id, n.contact_id)
            await self._decline(n.agent_id, "no_extension", reachable=False)
            return
        try:
            leg = await self.edge.dial(self, extension)
        except sip.DialError as e:
            log.warning("cannot ring agent %s (%s): %s", n.agent_id, extension, e)
            await self._decline(n.agent_id, "dial_error", reachable=False)
            return
        self.agent_leg, self.agent_id = leg, n.agent_id
        self.phase = "agent_ringing"
        self._note(f"ringing {n.agent_id} at {extension}")

    async def _decline(self, agent_id: str, why: str, *, reachable: bool) -> None:
        """The offer to ``agent_id`` ends unanswered for ``why`` (counted by reason)."""
        self.edge.count(f"agent_leg:{why}")
        if self.contact_id is None:
            return
        try:
            await self.edge.voice.agent_failed(agent_id, self.contact_id, reachable=reachable)
        except Exception as e:  # the offer ended meanwhile (timeout, abandon)
            log.debug("decline of %s by %s not taken: %s", self.contact_id, agent_id, e)

    async def _offer_withdrawn(self, n: OfferRejected) -> None:
        """The core ended the offer (ring timeout, agent logged out, ...): stop the ringing."""
        if self.agent_leg is None or n.agent_id != self.agent_id or self.phase != "agent_ringing":
            return
        leg, self.agent_leg = self.agent_leg, None
        self._note(f"offer to {n.agent_id} withdrawn ({n.reason})")
        if n.reason == "timeout":
            self.edge.count("agent_no_answer")
        await self.edge.command(self.edge.stack.cancel, leg)
        self.phase = "queued"

    async def _agent_answered(self, leg: sip.Leg) -> None:
        if leg is self.consult_leg and leg is not None:
            await self._consult_answered(leg)
            return
        if leg is not self.agent_leg:
            await self.edge.command(self.edge.stack.hangup, leg)  # too late: the offer moved on
            return
        if self.contact_id is None:  # a transfer target answered
            self._stop_playing()
            bridge(self.leg.stream, leg.stream)
            self.phase = "transferred"
            self._note("transferred")
            return
        assert self.agent_id is not None
        try:
            await self.edge.voice.agent_answered(self.agent_id, self.contact_id)
        except Exception as e:
            log.info("agent %s answered %s too late (%s)", self.agent_id, self.contact_id, e)
            self.agent_leg = None
            await self.edge.command(self.edge.stack.hangup, leg)
            if self.phase == "agent_ringing":
                self.phase = "queued"
            return
        self._stop_playing()
        if self._announce is not None:
            self._announce.cancel()
        bridge(self.leg.stream, leg.stream)
        self.phase = "talking"
        self.edge.count("bridged")
        self._note(f"talking with {self.agent_id}")

    async def _agent_failed(self, leg: sip.Leg, status: int, reason: str) -> None:
        if leg is self.consult_leg and self.consult_agent is not None:
            self.consult_leg = None
            self._note(f"consult leg failed {status} {reason}")
            if self.contact_id is not None:
                await self.edge.voice.consult_failed(self.consult_agent, self.contact_id)
            return
        if leg is not self.agent_leg:
            return  # a leg we cancelled ourselves
        self.agent_leg = None
        self._note(f"agent leg failed {status} {reason}")
        if self.contact_id is None:  # transfer failed
            await self._finish("transfer-failed")
            return
        if self.phase == "agent_ringing":
            self.phase = "queued"
            if self.agent_id is not None:
                why, reachable = agent_leg_failure(status)
                if not reachable:
                    log.warning(
                        "agent %s's phone could not be reached: %s %s", self.agent_id, status,
                        reason,
                    )  # fmt: skip
                await self._decline(self.agent_id, why, reachable=reachable)

    async def _agent_ended(self, leg: sip.Leg) -> None:
        if leg is self.consult_leg and self.consult_agent is not None:
            self.consult_leg = None
            self._note(f"{self.consult_agent} hung up the consult")
            if self.contact_id is not None:
                await self.edge.voice.consult_left(self.consult_agent, self.contact_id)
            return
        if leg is not self.agent_leg:
            return
        self.agent_leg = None
        if self.consult_agent is not None and self.contact_id is not None:
            assert self.agent_id is not None
            self._note("agent hung up during a consult")
            await self.edge.voice.agent_left_consult(self.agent_id, self.contact_id)
            return
        self._note("agent hung up")
        await self._agent_hung_up()

    async def _removed(self, n: ContactRemoved) -> None:
        """The center took the caller out of the queue (max wait, no agents)."""
        if n.contact_id != self.contact_id or self.phase in ("talking", "ended"):
            return
        self.outcome = f"removed:{n.outcome}"
        self._closing = True
        self._stop_timers()
        if self.agent_leg is not None:
            leg, self.agent_leg = self.agent_leg, None
            await self.edge.command(self.edge.stack.end, leg)
        waiting = self.edge.settings.waiting
        prompt = "callback_scheduled" if n.outcome == "callback" else waiting.sorry_prompt
        if prompt is None:
            prompt = "sorry_disconnect"
        self._note(f"removed ({n.reason}, {n.outcome})")
        self._play([prompt])

    async def _transfer(self, number: str) -> None:
        try:
            leg = await self.edge.dial(self, number)
        except sip.DialError as e:
            log.warning("transfer of call %s to %s failed: %s", self.leg.id, number, e)
            await self._finish("transfer-failed")
            return
        self.agent_leg, self.agent_id = leg, None
        self.phase = "transferring"
        self._resume_hold()
        self._note(f"transferring to {number}")

    async def _reconcile(self) -> None:
        """After hub notices were lost: line the call up with what the core says."""
        if self.contact_id is None or self.phase not in ("queued", "agent_ringing"):
            return
        found = self.edge.voice.contact_state(self.contact_id)
        if found is None:
            return
        state, agent = found
        if self.phase == "agent_ringing" and (str(state) != "offered" or agent != self.agent_id):
            if self.agent_leg is not None:
                leg, self.agent_leg = self.agent_leg, None
                await self.edge.command(self.edge.stack.cancel, leg)
            self.phase = "queued"
        if self.phase == "queued" and str(state) == "offered" and agent is not None:
            offer = self.edge.voice.open_offer(agent)
            if offer is not None and offer.contact_id == self.contact_id:
                await self._offered(offer)

    async def _hang_up_requested(self, done: asyncio.Future[bool]) -> None:
        """The agent pressed Hang up on the desktop: only a call in conversation is ended."""
        if self.phase != "talking":
            if not done.done():
                done.set_result(False)
            return
        self._note("agent hung up on the desktop")
        try:
            await self._agent_hung_up()
        finally:
            if not done.done():
                done.set_result(True)

    # -- the post-call survey ------------------------------------------------------------------

    async def _agent_hung_up(self) -> None:
        """The agent ended the conversation: the call ends with it, unless the caller opted in
        to the survey; then the contact is completed (it is over for the agent: wrap-up runs)
        and the caller stays on the line to score it."""
        if not self.survey_wanted or self.contact_id is None:
            await self._finish("agent_hangup")
            return
        await self._end_hold()
        outcome = await self.edge.voice.call_ended(self.contact_id)
        if self.agent_leg is not None:  # the desktop's Hang up: the agent's phone is still on
            leg, self.agent_leg = self.agent_leg, None
            await self.edge.command(self.edge.stack.end, leg)
        if outcome != "completed":  # the core was done with the contact already
            await self._finish(outcome or "agent_hangup")
            return
        s = self.edge.settings.survey
        self._survey = survey.PhoneSurvey(s.timeout_seconds, s.repeats)
        self.phase = "survey"
        self.edge.count("surveys_asked")
        await self._survey_step(self._survey.start())

    async def _survey_step(self, action: survey.Action | None) -> None:
        assert self.contact_id is not None
        s = self.edge.settings.survey
        if isinstance(action, survey.Ask):
            self._cancel_timer()
            self._note("survey asked")
            self._play([s.prompt])
        elif isinstance(action, survey.Wait):
            self._start_timer(action.seconds)
        elif isinstance(action, survey.Scored):
            self._cancel_timer()
            self._note(f"survey scored {action.score}")
            self.edge.count("surveys_scored")
            await self._keep_survey(action.score)
            self._play([s.thanks_prompt])
        elif isinstance(action, survey.Unanswered):
            self._cancel_timer()
            self._note("survey unanswered")
            await self._keep_survey(None, "no_response")
            await self._end_survey()
        elif isinstance(action, survey.Done):
            await self._end_survey()

    async def _left_survey(self) -> None:
        """The caller hung up during the survey: a score they gave is kept; before one, the
        survey is kept as unanswered (``hung_up``), never as a score."""
        assert self._survey is not None
        if self._survey.step in (survey.Step.ASKING, survey.Step.WAITING):
            self._note("survey left unanswered")
            await self._keep_survey(None, "hung_up")
        self._end("completed")

    async def _keep_survey(self, score: int | None, unanswered: str = "") -> None:
        """Store the survey's score, or why it has none; a failure is logged and the call goes
        on (the caller has nothing to do about it)."""
        assert self.contact_id is not None
        try:
            if score is not None:
                await self.edge.voice.survey_answered(self.contact_id, score)
            else:
                await self.edge.voice.survey_unanswered(self.contact_id, unanswered)
        except Exception:
            log.exception("call %s: the survey's outcome was not kept", self.leg.id)

    async def _end_survey(self) -> None:
        await self.edge.command(self.edge.stack.end, self.leg)
        self._end("completed")

    # -- the end -------------------------------------------------------------------------------

    async def _caller_ended(self, by: str) -> None:
        if self.phase == "survey":
            await self._left_survey()
            return
        await self._leave_ivr(IvrOutcome.ABANDONED, by)
        outcome = None
        await self._end_hold()
        if self.contact_id is not None:
            outcome = await self.edge.voice.call_ended(self.contact_id)
        for leg in (self.consult_leg, self.agent_leg):
            if leg is not None:
                await self.edge.command(self.edge.stack.end, leg)
        self.agent_leg = self.consult_leg = None
        self._end(outcome or ("ivr:caller-hung-up" if self.contact_id is None else "ended"))

    async def _finish(self, why: str) -> None:
        """We end the call: hang up both legs and tell the core."""
        outcome = None
        await self._end_hold()
        if self.contact_id is not None:
            outcome = await self.edge.voice.call_ended(self.contact_id)
        for leg in (self.consult_leg, self.agent_leg, self.leg):
            if leg is not None:
                await self.edge.command(self.edge.stack.end, leg)
        self.agent_leg = self.consult_leg = None
        self._end(outcome if outcome is not None and why == "agent_hangup" else why)

    def _end(self, outcome: str) -> None:
        if self.phase == "ended":
            return
        self.phase = "ended"
        self.outcome = self.outcome if self.outcome and self._closing else outcome
        self._stop_timers()
        self._stop_playing()
        self.edge.count(f"ended:{self.outcome}")
        self.timeline.append(f"ended {self.outcome}")
        # one line per call at the default level, so an operator sees calls without debug
        log.info("call %s ended %s (contact %s, agent %s)", self.leg.id, self.outcome,
                 self.contact_id, self.agent_id)  # fmt: skip

    def now(self) -> dt.datetime:
        return self.edge.clock()


def customer_info(found: Any) -> CustomerInfo | None:
    """A store customer record -> what the IVR's lookup wants."""
    if found is None:
        return None
    return CustomerInfo(
        id=found.id, name=found.name, tier=found.tier, dedicated_agent=found.dedicated_agent
    )
