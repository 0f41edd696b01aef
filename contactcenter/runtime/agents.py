"""The agents' desk: logging into routing, presence, the offer ringing at each agent, the
after-contact work each agent owes, and the contact buttons (accept, decline, hang up, wrap up).

An agent only ever acts on contacts offered to or held by itself (``Forbidden`` otherwise).
What a button does depends on the contact's channel: a chat is answered on the desktop, a call
on the agent's phone; each channel's service is this desk's ``ContactHandler`` for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from contactcenter.agents import Agent, Presence, SlotState
from contactcenter.events import (
    AgentStateChanged,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactOffered,
    Event,
    OfferRejected,
    WrapUpEnded,
)
from contactcenter.routing import ContactState, ContactView, InvalidInput
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Forbidden, Refused
from contactcenter.runtime.ports import ContactHandler, ContactStore


@dataclass(frozen=True, slots=True)
class WrapUp:
    """After-contact work an agent owes a contact: the queue whose wrap-up it is (its seconds
    and dispositions) and when the core ends it by itself (the engine's clock)."""

    queue: str
    due: float


class UnknownDisposition(Refused):
    """A wrap-up's disposition is not one of its queue's."""

    def __init__(self, queue: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            "invalid_disposition",
            f"disposition must be one of queue {queue}'s: {', '.join(allowed)}",
        )


class AgentDesk:
    def __init__(self, engine: Engine, store: ContactStore) -> None:
        self.engine = engine
        self.store = store
        self.handlers: dict[str, ContactHandler] = {}
        """Channel -> what the contact buttons do for it."""
        self.offers: dict[str, ContactOffered] = {}
        """Agent id -> the offer ringing there."""
        self.wraps: dict[tuple[str, str], WrapUp] = {}
        """(agent id, contact id) -> the wrap-up the agent owes the contact."""
        self._changed_at: dict[str, float] = {}
        """Agent id -> when its activity last changed (the engine's clock)."""
        engine.listen(self._observe)

    def handle(self, channel: str, handler: ContactHandler) -> None:
        self.handlers[channel] = handler

    def _observe(self, e: Event) -> None:
        if isinstance(e, ContactOffered):
            self.offers[e.agent_id] = e
        elif isinstance(e, OfferRejected | ContactAnswered):
            self.offers.pop(e.agent_id, None)
        elif isinstance(e, ContactCompleted | ContactHandedOff):
            seconds = self.engine.center.queues[e.queue].wrap_up_seconds
            self.wraps[(e.agent_id, e.contact_id)] = WrapUp(e.queue, e.at + seconds)
        elif isinstance(e, WrapUpEnded):
            self.wraps.pop((e.agent_id, e.contact_id), None)
        elif isinstance(e, AgentStateChanged):
            self._changed_at[e.agent_id] = e.at

    # -- presence -------------------------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent:
        return self.engine.router.agent(agent_id)

    def state_since(self, agent_id: str) -> float:
        """When the state the desktop shows (the activity with its away reason) began: either
        changing starts it (the engine's clock)."""
        agent = self.agent(agent_id)
        return max(self._changed_at.get(agent_id, agent.presence_since), agent.presence_since)

    async def login(self, agent_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.agent_logged_in(now, agent_id))

    async def logout(self, agent_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.agent_logged_out(now, agent_id))

    async def set_presence(self, agent_id: str, presence: Presence, reason: str | None) -> None:
        router = self.engine.router
        await self.engine.submit(
            lambda now: router.set_agent_presence(now, agent_id, presence, reason)
        )

    # -- what the agent holds -------------------------------------------------------------------

    def contacts(self, agent_id: str) -> list[tuple[str, str, str]]:
        """(contact id, channel, slot state) of everything the agent holds."""
        agent = self.engine.router.agent(agent_id)
        return [(cid, ch, str(state)) for cid, (ch, state) in agent.slots.items()]

    def open_offer(self, agent_id: str) -> ContactOffered | None:
        """The offer ringing at the agent right now, if any."""
        return self.offers.get(agent_id)

    def held_by(self, agent_id: str, contact_id: str, *states: ContactState) -> ContactView:
        """The contact, if it is offered to or held by the agent (and in one of ``states``)."""
        view = self.engine.router.contact(contact_id)
        if view.agent != agent_id:
            raise Forbidden(f"contact {contact_id} is not with agent {agent_id}")
        if states and view.state not in states:
            raise InvalidInput(f"contact {contact_id} is {view.state}")
        return view

    def involved(self, agent_id: str, contact_id: str) -> ContactView:
        """The contact, if the agent is its agent or is consulted about it."""
        view = self.engine.router.contact(contact_id)
        if agent_id not in (view.agent, view.consult):
            raise Forbidden(f"contact {contact_id} is not with agent {agent_id}")
        return view

    def wrap_of(self, agent_id: str, contact_id: str) -> WrapUp | None:
        """The wrap-up the agent owes the contact, if any."""
        return self.wraps.get((agent_id, contact_id))

    def dispositions(self, agent_id: str, contact_id: str) -> tuple[str, ...]:
        """What the agent may record for the contact: its wrap-up's queue's dispositions (the
        contact's queue's before wrap-up starts)."""
        wrap = self.wraps.get((agent_id, contact_id))
        if wrap is not None:
            return self.engine.center.dispositions(wrap.queue)
        return self.engine.center.dispositions(self.engine.router.contact(contact_id).queue)

    def _handler(self, view: ContactView) -> ContactHandler:
        handler = self.handlers.get(view.channel)
        if handler is None:
            raise Refused("channel_unavailable", f"{view.channel} contacts are not served here")
        return handler

    # -- the contact buttons --------------------------------------------------------------------

    async def accept(self, agent_id: str, contact_id: str) -> None:
        view = self.held_by(agent_id, contact_id, ContactState.OFFERED)
        await self._handler(view).accept(agent_id, contact_id)

    async def decline(self, agent_id: str, contact_id: str) -> None:
        view = self.held_by(agent_id, contact_id, ContactState.OFFERED)
        await self._handler(view).decline(agent_id, contact_id)

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        view = self.held_by(agent_id, contact_id, ContactState.ACTIVE)
        await self._handler(view).hang_up(agent_id, contact_id)

    async def wrap_up(
        self, agent_id: str, contact_id: str, disposition: str, notes: str | None = None
    ) -> None:
        """End the agent's wrap-up of the contact: after the conversation, or of a segment it
        handed on (a transfer, a call back's attempt); ``notes`` go with that segment."""
        router = self.engine.router
        agent = router.agent(agent_id)
        if contact_id not in agent.slots:
            raise Forbidden(f"contact {contact_id} is not with agent {agent_id}")
        if agent.slot(contact_id) is not SlotState.WRAP_UP:
            raise InvalidInput(f"contact {contact_id} is not in wrap-up")
        wrap = self.wraps.get((agent_id, contact_id))
        if wrap is not None and disposition not in (
            allowed := self.engine.center.dispositions(wrap.queue)
        ):
            raise UnknownDisposition(wrap.queue, allowed)
        stamp = router.wrapping(contact_id).get(agent_id)
        if notes and stamp is not None:
            await self.store.set_segment_note(contact_id, router.wraps[stamp].segment, notes)
        elif notes:
            await self.store.set_disposition_notes(contact_id, notes)
        await self.engine.submit(
            lambda now: router.wrap_up_done(now, contact_id, disposition, agent_id)
        )
