"""A new contact's way in, the same for every channel: stored first, then routed.

The store keeps the customer the contact claims to be (for the record and the agent's card),
marked verified when routing may trust it; routing gets only what may be trusted (a verified
customer buys tier and dedicated agent), also after a restart. An
unknown tier or preferred agent is dropped rather than refused: the customer is queued
whatever an IVR or a web page said.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from contactcenter.agents import SlotState
from contactcenter.routing import ContactState
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.ports import ContactStore
from contactcenter.store.records import OpenContact


@dataclass(frozen=True, slots=True)
class NewContact:
    contact_id: str
    channel: str
    queue: str
    tier: str | None = None
    customer_id: str | None = None
    """The customer routing may trust (verified)."""
    claimed_customer_id: str | None = None
    """The customer the contact says it is (stored for the record)."""
    preferred_agent: str | None = None
    name: str | None = None
    topic: str | None = None
    arrived_wall: float | None = None
    """When it arrived (default: now)."""


async def queue_contact(engine: Engine, store: ContactStore, new: NewContact) -> None:
    """Store ``new``, then have the core route it (it is on disk before anyone hears of it)."""
    center = engine.center
    tier = new.tier if new.tier in center.tiers else None
    preferred = new.preferred_agent if new.preferred_agent in center.agents else None
    await store.create_contact(
        new.contact_id,
        channel=new.channel,
        queue=new.queue,
        arrived_wall=new.arrived_wall if new.arrived_wall is not None else engine.wall(),
        customer_id=new.claimed_customer_id,
        tier=tier or center.settings.default_tier,
        customer_name=new.name,
        topic=new.topic,
        verified=new.customer_id is not None and new.customer_id == new.claimed_customer_id,
    )
    router = engine.router
    await engine.submit(
        lambda now: router.contact_arrived(
            now,
            new.contact_id,
            new.queue,
            tier=tier,
            customer_id=new.customer_id,
            preferred_agent=preferred,
        )
    )


async def queue_again(engine: Engine, oc: OpenContact, segment: int) -> None:
    """Queue a contact a restart found open in its place (its original arrival); only a
    verified customer drives routing."""
    await engine.submit(
        partial(
            engine.router.contact_arrived,
            contact_id=oc.contact_id,
            queue=oc.queue,
            tier=oc.tier if oc.tier in engine.center.tiers else None,
            customer_id=oc.customer_id if oc.verified else None,
            arrived_at=engine.now() - max(0.0, engine.wall() - oc.arrived_wall),
            segment=segment,
        )
    )


async def hand_back(engine: Engine, agent_id: str, channel: str) -> None:
    """The agent is gone: its ``channel`` contacts in conversation go back to their queues
    (their place), and its wrap-ups of them end (nobody is there to do them)."""
    router = engine.router
    held = [
        cid
        for cid, (ch, _) in router.agent(agent_id).slots.items()
        if ch == channel and router.contacts.get(cid) is not None
    ]
    for cid in held:
        view = router.contact(cid)
        if view.agent == agent_id and view.state is ContactState.ACTIVE:
            await engine.submit(partial(router.hand_off, contact_id=cid, to_queue=view.queue))
    for cid, (ch, state) in list(router.agent(agent_id).slots.items()):
        if ch == channel and state is SlotState.WRAP_UP:
            await engine.submit(
                partial(router.wrap_up_done, contact_id=cid, disposition=None, agent_id=agent_id)
            )
