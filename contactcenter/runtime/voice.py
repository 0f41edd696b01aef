"""Phone calls as the runtime sees them: the voice edge's one door into the engine, and what
an agent's buttons do to a call.

The voice edge (SIP/RTP) answers callers, runs the IVR and rings agents' phones; it tells this
service when a caller is queued, an agent's phone answered or failed, and a call ended, and it
asks for customer look-ups, queue states and places in the queue. The routing core's offers,
withdrawn offers and removals reach the edge on the hub (``subscribe``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import cast

from contactcenter.config import Center
from contactcenter.events import ContactOffered
from contactcenter.routing import ContactState, InvalidInput, RoutingError
from contactcenter.runtime import waiting
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.hub import Subscription
from contactcenter.runtime.intake import NewContact, queue_contact
from contactcenter.runtime.ports import CallbackStore, CallControl, ContactStore, CustomerLike

log = logging.getLogger(__name__)


class VoiceService:
    def __init__(self, engine: Engine, store: ContactStore, desk: AgentDesk) -> None:
        self.engine = engine
        self.store = store
        self.desk = desk
        self.control: CallControl | None = None
        """The voice edge, once it has attached itself."""

    @property
    def center(self) -> Center:
        return self.engine.center

    def attach(self, control: CallControl) -> None:
        self.control = control

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
                name=caller,
            ),
        )

    async def call_ended(self, contact_id: str) -> str | None:
        """A call's caller or agent hung up: ``abandoned`` while waiting or ringing,
        ``completed`` while talking, None when the core is already done with it."""
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

    async def agent_answered(self, agent_id: str, contact_id: str) -> None:
        """The agent's phone answered the offer: the contact is answered."""
        self.desk.held_by(agent_id, contact_id, ContactState.OFFERED)
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_accepted(now, contact_id))

    async def agent_failed(self, agent_id: str, contact_id: str) -> None:
        """The agent's phone refused or could not be rung: the offer is declined."""
        self.desk.held_by(agent_id, contact_id, ContactState.OFFERED)
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_declined(now, contact_id))

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

    async def callback_requested(
        self, queue: str, number: str, *, tier: str | None, customer_id: str | None
    ) -> str:
        """The IVR booked a call back: a contact record that ends as ``callback`` at once."""
        if queue not in self.center.queues:
            raise InvalidInput(f"unknown queue {queue!r}")
        store = cast(CallbackStore, self.store)
        contact_id = f"voice-{secrets.token_hex(8)}"
        wall = self.engine.wall()
        await self.store.create_contact(
            contact_id,
            channel="voice",
            queue=queue,
            arrived_wall=wall,
            customer_id=customer_id,
            tier=tier if tier in self.center.tiers else self.center.settings.default_tier,
            customer_name=number,
            topic=None,
        )
        await store.add_callback(
            contact_id, queue=queue, customer_id=customer_id, phone=number, due_wall=wall
        )
        await self.store.mark_ended(contact_id, wall, "callback_requested")
        return contact_id

    # -- the agent's buttons (``ContactHandler`` for calls) -------------------------------------

    async def accept(self, agent_id: str, contact_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_accepted(now, contact_id))

    async def decline(self, agent_id: str, contact_id: str) -> None:
        """The core withdraws the offer; the edge hears it and stops the agent's phone."""
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_declined(now, contact_id))

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
