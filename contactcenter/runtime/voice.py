"""Phone calls as the runtime sees them: the voice edge's one door into the engine, and what
an agent's buttons do to a call.

The voice edge (SIP/RTP) answers callers, runs the IVR and rings agents' phones; it tells this
service when a caller is queued, an agent's phone answered or failed, a call ended and how a
caller scored it after the agent hung up, and it asks for customer look-ups, queue states and
places in the queue. The routing core's offers,
withdrawn offers and removals reach the edge on the hub (``subscribe``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from contactcenter.agents import SlotState
from contactcenter.config import Center
from contactcenter.events import ContactOffered
from contactcenter.ivr.outcomes import IvrVisit
from contactcenter.routing import ContactState, InvalidInput, RoutingError
from contactcenter.runtime import waiting
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.callbacks import (
    AttemptOutcome,
    CallbackService,
    CallbackStatus,
    Origin,
)
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Refused
from contactcenter.runtime.hub import Subscription
from contactcenter.runtime.intake import NewContact, queue_contact
from contactcenter.runtime.ports import CallControl, ContactStore, CustomerLike
from contactcenter.runtime.surveys import Surveys

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallerHold:
    """The caller put the call on hold from their phone (``held``) or took it off: the agent
    talking with them is told (a hub notice, not a routing event)."""

    agent_id: str
    contact_id: str
    held: bool


class VoiceService:
    def __init__(
        self,
        engine: Engine,
        store: ContactStore,
        desk: AgentDesk,
        callbacks: CallbackService,
        surveys: Surveys,
    ) -> None:
        self.engine = engine
        self.store = store
        self.desk = desk
        self.callbacks = callbacks
        self.surveys = surveys
        self.control: CallControl | None = None
        """The voice edge, once it has attached itself."""

    @property
    def center(self) -> Center:
        return self.engine.center

    def wall(self) -> float:
        """Wall-clock seconds (for records)."""
        return self.engine.wall()

    def attach(self, control: CallControl) -> None:
        """The voice edge controls calls (and makes call backs) from now on."""
        self.control = control
        self.callbacks.attach(control)

    async def callback_result(self, contact_id: str, outcome: AttemptOutcome) -> None:
        """How the edge's call to a call back's customer went."""
        await self.callbacks.attempt_result(contact_id, outcome)

    def subscribe(self, accept: Callable[[object], bool], size: int) -> Subscription:
        """Live notices (the core's events among them) that ``accept`` wants."""
        return self.engine.hub.subscribe(accept, size)

    # -- calls ----------------------------------------------------------------------------------

    async def call_arrived(
        self,
        contact_id: str,
        *,
        queue: str,
        tier: str | None = None,
        customer_id: str | None = None,
        preferred_agent: str | None = None,
        caller: str | None = None,
    ) -> None:
        """Queue a call the IVR routed to ``queue``; it is in the store before it is routed.

        The edge picks ``contact_id`` (so it can follow the contact's events from the first
        one on). A caller identified by number or account is verified: the IVR's customer id
        is trusted.
        """
        cfg = self.center.queues.get(queue)
        if cfg is None or cfg.channel != "voice":
            raise InvalidInput(f"{queue!r} is not a voice queue")
        wall = self.engine.wall()
        self.callbacks.note_origin(
            contact_id,
            Origin(caller, queue, wall, tier, customer_id, customer_id is not None, caller),
        )
        name = await self.caller_name(caller, customer_id)
        await queue_contact(
            self.engine,
            self.store,
            NewContact(
                contact_id,
                "voice",
                queue,
                tier=tier,
                customer_id=customer_id,
                claimed_customer_id=customer_id,
                preferred_agent=preferred_agent,
                name=name,
                arrived_wall=wall,
            ),
        )

    async def call_ended(self, contact_id: str) -> str | None:
        """A call's caller or agent hung up: ``abandoned`` while waiting or ringing,
        ``completed`` while talking, None when the core is already done with it. A call back
        whose agent hangs up before the customer answered is an attempt given up."""
        self.callbacks.forget_origin(contact_id)
        cb = self.callbacks.for_contact(contact_id)
        if cb is not None and cb.status is CallbackStatus.DIALING:
            await self.callbacks.attempt_result(contact_id, "abandoned")
            return "abandoned"
        router = self.engine.router
        try:
            view = router.contact(contact_id)
        except RoutingError:
            return None
        if view.state in (ContactState.WAITING, ContactState.OFFERED):
            await self.engine.submit(lambda now: router.contact_abandoned(now, contact_id))
            return "abandoned"
        if view.state is ContactState.ACTIVE:
            await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
            return "completed"
        return None

    async def survey_answered(self, contact_id: str, score: int) -> None:
        """The caller scored the call 1-5 on the phone after the agent hung up: kept with the
        contact's queue and agent and counted, as a chat's score is. A score the center does
        not take (not surveyed, too late, a second one) is logged and dropped."""
        try:
            await self.surveys.answer(contact_id, score, None)
        except Refused as e:
            log.warning("voice: survey score of %s not taken: %s", contact_id, e.code)

    async def survey_unanswered(self, contact_id: str, reason: str) -> None:
        """The survey asked after the call got no score (``no_response``, ``hung_up``)."""
        try:
            await self.surveys.unanswered(contact_id, reason)
        except Refused as e:
            log.warning("voice: unanswered survey of %s not kept: %s", contact_id, e.code)

    async def agent_answered(self, agent_id: str, contact_id: str) -> None:
        """The agent's phone answered the offer: the contact is answered."""
        self.desk.held_by(agent_id, contact_id, ContactState.OFFERED)
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_accepted(now, contact_id))

    async def agent_failed(self, agent_id: str, contact_id: str, *, reachable: bool) -> None:
        """The agent's phone refused the offer (``reachable``: busy, declined on the phone) or
        could not be rung at all (not registered, unavailable, no extension): the latter
        counts toward the no-answer limit and can set the agent away as unreachable."""
        self.desk.held_by(agent_id, contact_id, ContactState.OFFERED)
        router = self.engine.router
        if reachable:
            await self.engine.submit(lambda now: router.offer_declined(now, contact_id))
        else:
            await self.engine.submit(lambda now: router.offer_failed(now, contact_id))

    # -- consults (warm transfers) on the phone -------------------------------------------------

    async def consult_answered(self, agent_id: str, contact_id: str) -> None:
        """The consulted agent's phone answered the consult."""
        view = self.engine.router.contact(contact_id)
        if view.consult != agent_id:
            raise InvalidInput(f"agent {agent_id} is not consulted about {contact_id}")
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_accepted(now, contact_id))

    async def consult_failed(self, agent_id: str, contact_id: str) -> None:
        """The consulted agent's phone refused or could not be rung."""
        if self._consulting(agent_id, contact_id) is SlotState.OFFERED:
            router = self.engine.router
            await self.engine.submit(lambda now: router.consult_declined(now, contact_id))

    async def consult_left(self, agent_id: str, contact_id: str) -> None:
        """The consulted agent hung up: the consult is off, the first agent carries on."""
        if self._consulting(agent_id, contact_id) is not None:
            router = self.engine.router
            await self.engine.submit(lambda now: router.consult_cancelled(now, contact_id))

    async def agent_left_consult(self, agent_id: str, contact_id: str) -> None:
        """The consulting agent hung up: a consult in conversation is completed (the customer
        stays with the colleague, as on any office phone); one still ringing is called off
        and the customer goes back to the queue (in their place)."""
        view = self.engine.router.contact(contact_id)
        if view.agent != agent_id or view.consult is None:
            return
        router = self.engine.router
        if self._consulting(view.consult, contact_id) is SlotState.ACTIVE:
            await self.engine.submit(lambda now: router.consult_completed(now, contact_id))
            return
        await self.engine.submit(lambda now: router.consult_cancelled(now, contact_id))
        await self.engine.submit(lambda now: router.hand_off(now, contact_id, to_queue=view.queue))

    def _consulting(self, agent_id: str, contact_id: str) -> SlotState | None:
        c = self.engine.router.contacts.get(contact_id)
        if c is None or c.consult != agent_id:
            return None
        return self.engine.router.agent(agent_id).slot(contact_id)

    def segment(self, contact_id: str) -> int | None:
        """The contact's current segment (None once the core is done with it)."""
        c = self.engine.router.contacts.get(contact_id)
        return c.segment if c is not None else None

    async def held(self, contact_id: str, seconds: float, segment: int | None) -> None:
        """The caller was on hold this long (a consult) in ``segment``."""
        await self.store.add_hold(contact_id, seconds, segment)

    def contact_state(self, contact_id: str) -> tuple[ContactState, str | None] | None:
        """(state, agent ringing or talking) of a contact the core still tracks."""
        try:
            view = self.engine.router.contact(contact_id)
        except RoutingError:
            return None
        return view.state, view.agent

    def open_offer(self, agent_id: str) -> ContactOffered | None:
        return self.desk.open_offer(agent_id)

    def position(self, contact_id: str) -> tuple[int, float | None]:
        return waiting.position(self.engine, contact_id)

    def queue_status(self, queue: str) -> tuple[int, float | None]:
        return waiting.queue_status(self.engine, queue)

    async def find_customer(self, by: str, value: str) -> CustomerLike | None:
        """The IVR's customer lookup: by ``phone``, ``account_number`` or ``customer_id``."""
        if by == "customer_id":
            return await self.store.customer(value)
        if by not in ("phone", "account_number"):
            raise InvalidInput(f"cannot look customers up by {by!r}")
        return await self.store.find_customer(**{by: value})

    async def caller_name(self, number: str | None, customer_id: str | None) -> str | None:
        """The name an agent sees for a caller: the CRM's, when the IVR identified the customer
        or the calling number is a customer's; else the number (all there is to go on). Only
        the record's label: routing still trusts only what the IVR verified."""
        try:
            if customer_id is not None:
                found = await self.store.customer(customer_id)
            elif number:
                found = await self.store.find_customer(phone=number)
            else:
                found = None
        except Exception:  # the name can wait; the call must not
            log.exception("voice: customer name lookup failed")
            found = None
        return found.name if found is not None else number

    async def ivr_visited(self, visit: IvrVisit) -> None:
        """A call left the menu: on record however it ended (a lost record is logged; the
        call goes on)."""
        try:
            await self.store.add_ivr_visit(visit)
        except Exception:
            log.exception("voice: IVR visit of call %s not recorded", visit.call)

    async def caller_held(self, agent_id: str, contact_id: str, held: bool) -> None:
        self.engine.hub.publish(CallerHold(agent_id, contact_id, held))

    async def callback_requested(
        self,
        queue: str,
        number: str,
        *,
        tier: str | None,
        customer_id: str | None,
        answered_wall: float,
    ) -> str:
        """The IVR booked a call back before the caller was queued (after hours, a long wait):
        the call is on record, ended as ``callback_requested``, and the call back keeps the
        call's place (it arrived when the engine answered it). Returns the call back's
        contact id; it is stored before the caller hears it is booked."""
        if queue not in self.center.queues:
            raise InvalidInput(f"unknown queue {queue!r}")
        contact_id = f"voice-{secrets.token_hex(8)}"
        wall = self.engine.wall()
        await self.store.create_contact(
            contact_id,
            channel="voice",
            queue=queue,
            arrived_wall=answered_wall,
            customer_id=customer_id,
            tier=tier if tier in self.center.tiers else self.center.settings.default_tier,
            customer_name=await self.caller_name(number, customer_id),
            topic=None,
            verified=customer_id is not None,
        )
        rec = await self.callbacks.book(
            queue,
            number,
            source="ivr",
            tier=tier,
            customer_id=customer_id,
            verified=customer_id is not None,
            contact_id=contact_id,
            arrived_wall=answered_wall,
        )
        await self.store.mark_ended(contact_id, wall, "callback_requested")
        return rec.callback_contact_id

    async def accept_callback(self, contact_id: str) -> None:
        """A queued caller took the offer of a call back (pressed the key): they leave the
        queue, and the call back is booked before they hear it is."""
        router = self.engine.router
        await self.engine.submit(lambda now: router.accept_callback(now, contact_id))

    async def start(self, stopped_wall: float | None) -> None:
        """Close honestly the calls a stop cut (they died with the engine's SIP stack): each
        ends ``interrupted`` at the engine's last sign of life (``stopped_wall``), with talk
        time up to then."""
        cut = stopped_wall if stopped_wall is not None else self.engine.wall()
        cut = min(cut, self.engine.wall())
        closed = 0
        for oc in await self.store.open_contacts("voice"):
            closed += await self.store.close_contact(oc.contact_id, cut, "interrupted",
                                                     "interrupted")  # fmt: skip
        if closed:
            log.info("closed %d call(s) the stop cut, as interrupted", closed)

    async def agent_returned(self, agent_id: str) -> None:
        """Calls do not survive a restart: nothing to hand back."""

    async def agent_lost(self, agent_id: str) -> None:
        """A call goes on without the agent's desktop (the phone is separate)."""

    # -- the agent's buttons (``ContactHandler`` for calls) -------------------------------------

    async def accept(self, agent_id: str, contact_id: str) -> None:
        """A call is answered on the agent's phone, never on the desktop: the desktop's Accept
        is refused and changes nothing. The exception is a call back on a site without a
        voice edge: the agent takes it on the desktop and dials the customer by hand."""
        cb = self.callbacks.for_contact(contact_id)
        if cb is not None and self.callbacks.dialer is None:
            router = self.engine.router
            await self.engine.submit(lambda now: router.offer_accepted(now, contact_id))
            return
        cfg = self.center.agents.get(agent_id)
        where = f" (extension {cfg.extension})" if cfg is not None and cfg.extension else ""
        raise Refused("answer_on_phone", f"answer the call on your phone{where}")

    async def decline(self, agent_id: str, contact_id: str) -> None:
        """The core withdraws the offer; the edge hears it and stops the agent's phone."""
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_declined(now, contact_id))

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        """End the call: the edge hangs up both legs, and the call's end completes the contact.
        Without a call to end (a call back dialled by hand) the contact completes here; a call
        back whose customer has not answered yet is an attempt given up."""
        if self.control is not None and await self.control.hang_up(contact_id):
            return
        cb = self.callbacks.for_contact(contact_id)
        if cb is not None and cb.status is CallbackStatus.DIALING:
            await self.callbacks.attempt_result(contact_id, "abandoned")
            return
        router = self.engine.router
        await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
