"""One call back as the voice edge makes it, agent first: ring the agent's phone, and once the
agent answers, dial the customer while the agent hears a ring-back tone; bridge them when the
customer answers, or report why not.

Like ``VoiceCall``, everything that happens arrives in the call's inbox and is handled one
item at a time. Phases::

    ringing_agent -> dialing_customer -> talking -> ended
          \\                \\-> ended (not answered, busy, failed, the agent gave up)
           \\-> ended (declined, rang out, the agent's phone failed)

The runtime decides what an outcome means (retry, unreachable); this class only reports it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from contactcenter.events import ContactRemoved, OfferRejected
from contactcenter.runtime.callbacks import AttemptOutcome
from contactcenter.voice import _pyvoip as sip
from contactcenter.voice.agent_legs import agent_leg_failure
from contactcenter.voice.media import RINGBACK, Loop, RtpStream, bridge

if TYPE_CHECKING:
    from contactcenter.voice.edge import VoiceEdge

log = logging.getLogger("contactcenter.voice")


def outcome_of(status: int) -> AttemptOutcome:
    """The attempt outcome a final SIP status of the customer's leg means."""
    if status in (486, 600):
        return "busy"
    if status in (408, 480, 487):
        return "no_answer"
    return "failed"


class CallbackCall:
    def __init__(
        self, edge: VoiceEdge, contact_id: str, agent_id: str, number: str, ring_seconds: float
    ) -> None:
        self.edge = edge
        self.contact_id: str | None = contact_id
        self.agent_id = agent_id
        self.number = number
        self.ring_seconds = ring_seconds
        self.inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.phase = "ringing_agent"
        self.agent_leg: sip.Leg | None = None
        self.customer_leg: sip.Leg | None = None
        self.outcome: str | None = None
        self.timeline: list[str] = []
        self.streams: dict[str, RtpStream] = {}
        """The agent's and the customer's media streams (kept after the call, for stats)."""
        self._ring_timer: asyncio.TimerHandle | None = None

    def post(self, *item: Any) -> None:
        self.inbox.put_nowait(item)

    def on_stack(self, event: sip.StackEvent) -> None:
        if isinstance(event, sip.Answered):
            self.post("answered", event.leg)
        elif isinstance(event, sip.Failed):
            self.post("failed", event.leg, event.status)
        elif isinstance(event, sip.Ended):
            self.post("ended", event.leg)

    def _note(self, what: str) -> None:
        self.timeline.append(what)
        log.debug("call back %s: %s", self.contact_id, what)

    async def run(self) -> None:
        try:
            if await self._ring_agent():
                while self.phase != "ended":
                    await self._handle(await self.inbox.get())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call back %s failed; hanging up", self.contact_id)
            await self._end_legs()
            self._ended("error")
        finally:
            if self._ring_timer is not None:
                self._ring_timer.cancel()
            self.edge.forget(self)

    async def _ring_agent(self) -> bool:
        cfg = self.edge.voice.center.agents.get(self.agent_id)
        extension = cfg.extension if cfg is not None else None
        assert self.contact_id is not None
        try:
            if extension is None:
                raise sip.DialError(f"agent {self.agent_id} has no extension")
            leg = await self.edge.dial(self, extension)
        except sip.DialError as e:
            log.warning("call back %s: cannot ring agent %s: %s", self.contact_id, self.agent_id, e)
            await self._agent_failed("dial_error", reachable=False)
            return False
        self.agent_leg = leg
        self.streams["agent"] = leg.stream
        self._note(f"ringing {self.agent_id} at {extension}")
        return True

    async def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "answered":
            if item[1] is self.agent_leg:
                await self._agent_answered()
            elif item[1] is self.customer_leg:
                await self._customer_answered()
        elif kind == "failed":
            if item[1] is self.agent_leg:
                self.agent_leg = None
                await self._agent_failed(*agent_leg_failure(item[2]))
            elif item[1] is self.customer_leg:
                self.customer_leg = None
                await self._not_reached(outcome_of(item[2]))
        elif kind == "ended":
            await self._leg_ended(item[1])
        elif kind == "ring_timeout":
            if self.phase == "dialing_customer" and self.customer_leg is not None:
                leg, self.customer_leg = self.customer_leg, None
                await self.edge.command(self.edge.stack.cancel, leg)
                await self._not_reached("no_answer")
        elif kind == "notice":
            await self._notice(item[1])
        elif kind == "hang_up":
            await self._hang_up_requested(item[1])
        elif kind == "reconcile":  # notices were lost: is the agent still being offered it?
            found = self.edge.voice.contact_state(self.contact_id or "")
            if self.phase == "ringing_agent" and (found is None or found[1] != self.agent_id):
                await self._end_legs()
                self._ended("offer_gone")

    # -- the agent ------------------------------------------------------------------------------

    async def _agent_answered(self) -> None:
        assert self.contact_id is not None and self.agent_leg is not None
        try:
            await self.edge.voice.agent_answered(self.agent_id, self.contact_id)
        except Exception as e:  # the offer moved on meanwhile
            log.info("call back %s answered too late by %s: %s", self.contact_id, self.agent_id, e)
            await self._end_legs()
            self._ended("too_late")
            return
        self.agent_leg.stream.source = Loop(RINGBACK)
        self._note(f"{self.agent_id} answered; dialling the customer")
        try:
            self.customer_leg = await self.edge.dial(self, self.number)
        except sip.DialError as e:
            log.warning("call back %s: cannot dial the customer: %s", self.contact_id, e)
            await self._not_reached("failed")
            return
        self.streams["customer"] = self.customer_leg.stream
        self.phase = "dialing_customer"
        loop = asyncio.get_running_loop()
        self._ring_timer = loop.call_later(self.ring_seconds, self.post, "ring_timeout")

    async def _agent_failed(self, why: str, reachable: bool) -> None:
        assert self.contact_id is not None
        self._note(f"the agent's phone failed ({why})")
        self.edge.count(f"agent_leg:{why}")
        try:
            await self.edge.voice.agent_failed(self.agent_id, self.contact_id, reachable=reachable)
        except Exception as e:  # the offer ended meanwhile
            log.debug("call back %s: decline not taken: %s", self.contact_id, e)
        self._ended("agent_failed")

    async def _notice(self, n: object) -> None:
        """The core ended the offer (rang out, declined on the desktop) or removed it."""
        if self.phase != "ringing_agent":
            return
        if isinstance(n, OfferRejected) and n.agent_id == self.agent_id:
            self._note(f"offer withdrawn ({n.reason})")
            await self._end_legs()
            self._ended(f"offer_{n.reason}")
        elif isinstance(n, ContactRemoved):
            await self._end_legs()
            self._ended("removed")

    # -- the customer ---------------------------------------------------------------------------

    async def _customer_answered(self) -> None:
        assert self.contact_id is not None
        if self._ring_timer is not None:
            self._ring_timer.cancel()
        if self.agent_leg is None or self.customer_leg is None:
            return
        self.agent_leg.stream.source = None
        bridge(self.agent_leg.stream, self.customer_leg.stream)
        self.phase = "talking"
        self._note("the customer answered: talking")
        await self.edge.voice.callback_result(self.contact_id, "answered")
        self.edge.count("callbacks_connected")

    async def _not_reached(self, outcome: AttemptOutcome) -> None:
        """The customer's phone was not answered: report it and hang up the agent."""
        assert self.contact_id is not None
        if self._ring_timer is not None:
            self._ring_timer.cancel()
        self._note(f"customer not reached: {outcome}")
        await self._end_legs()
        await self.edge.voice.callback_result(self.contact_id, outcome)
        self._ended(outcome)

    # -- the end --------------------------------------------------------------------------------

    async def _leg_ended(self, leg: sip.Leg) -> None:
        """A BYE from the agent or the customer: the call is over (before the customer
        answered, the attempt was given up: ``call_ended`` tells the runtime so)."""
        assert self.contact_id is not None
        if leg is self.agent_leg:
            self.agent_leg = None
        elif leg is self.customer_leg:
            self.customer_leg = None
        else:
            return
        await self._end_legs()
        outcome = await self.edge.voice.call_ended(self.contact_id)
        self._ended(outcome or "ended")

    async def _hang_up_requested(self, done: asyncio.Future[bool]) -> None:
        if self.phase not in ("dialing_customer", "talking"):
            if not done.done():
                done.set_result(False)
            return
        assert self.contact_id is not None
        try:
            await self._end_legs()
            outcome = await self.edge.voice.call_ended(self.contact_id)
            self._ended(outcome or "ended")
        finally:
            if not done.done():
                done.set_result(True)

    async def _end_legs(self) -> None:
        for leg in (self.customer_leg, self.agent_leg):
            if leg is not None:
                await self.edge.command(self.edge.stack.end, leg)
        self.customer_leg = self.agent_leg = None

    def _ended(self, outcome: str) -> None:
        if self.phase == "ended":
            return
        self.phase = "ended"
        self.outcome = outcome
        self.edge.count(f"callback_ended:{outcome}")
        self._note(f"ended {outcome}")
