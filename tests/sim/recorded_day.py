"""A simulated day recorded as the engine records a real one: its contacts as the replay reads
them, straight from the planner's domain events (``recording_of``), or in a real store the
way the live runtime writes it (``store_day``: ``create_contact``, then ``record_events`` per
event list, stamped at a wall clock ``midnight + at``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactQueued,
    ContactRemoved,
    Event,
    WrapUpEnded,
)
from contactcenter.store import CustomerRecord, Store
from sim.recording import RecordedContact, Recording, Transfer

DAY = date(2024, 6, 3)


def midnight(zone: Any = None) -> float:
    return datetime.combine(DAY, datetime.min.time(), zone).timestamp()


def recording_of(
    trace: Sequence[list[Event]],
    source: str = "simulated",
    *,
    dedicated: Mapping[str, str] | None = None,
) -> Recording:
    """The simulated day's contacts, as a recording with full-precision times: each segment an
    agent handed on as a ``Transfer``, a call back's contact (queued after its original
    arrival) with ``queued``; ``dedicated``: contact id -> the customer's dedicated agent."""
    seen: dict[str, dict[str, Any]] = {}
    last = 0.0
    for events in trace:
        for e in events:
            last = e.at
            if isinstance(e, ContactQueued):
                c = seen.get(e.contact_id)
                if c is None:
                    c = seen[e.contact_id] = {
                        "arrived": e.arrived_at, "queue": e.queue, "tier": e.tier,
                        "queued": e.at if e.at != e.arrived_at else None,
                        "talks": [], "hands": [],
                    }  # fmt: skip
                if e.segment == 1:
                    c["last"] = e.queue
                elif c["hands"] and c["hands"][-1]["out"]:  # a call back's next attempt
                    hand = c["hands"][-1]
                    hand["back"], hand["out"] = e.at - hand["at"], False
            elif isinstance(e, ContactAnswered) and e.segment == 1:
                seen[e.contact_id].update(outcome="answered", wait=e.wait_seconds)
            elif isinstance(e, ContactAbandoned) and e.segment == 1:
                seen[e.contact_id].update(outcome="abandoned", wait=e.wait_seconds)
            elif isinstance(e, ContactRemoved) and e.segment == 1:
                outcome = "callback" if e.reason == "callback_accepted" else "removed"
                seen[e.contact_id].update(outcome=outcome, wait=e.wait_seconds)
            elif isinstance(e, ContactCompleted):
                seen[e.contact_id]["talks"].append(e.handle_seconds)
            elif isinstance(e, ContactHandedOff):
                c = seen[e.contact_id]
                c["talks"].append(e.handle_seconds)
                out = e.to_queue is None and e.to_agent is None
                c["hands"].append(
                    {
                        "queue": e.to_queue,
                        "agent": e.to_agent,
                        "at": e.at,
                        "by": e.agent_id,
                        "out": out,
                        "back": None,
                        "wrap": None,
                    }
                )
            elif isinstance(e, WrapUpEnded):
                c = seen[e.contact_id]
                hand = next(
                    (h for h in c["hands"] if h["by"] == e.agent_id and h["wrap"] is None), None
                )
                if hand is not None:
                    hand["wrap"] = e.wrap_up_seconds
                else:
                    c["wrap"] = e.wrap_up_seconds
    dedicated = dedicated or {}
    contacts = [
        RecordedContact(
            c["arrived"],
            c["queue"],
            c["tier"],
            c.get("outcome", "unfinished"),
            c.get("wait", last - c["arrived"]),
            c["talks"][0] if c["talks"] else None,
            c.get("wrap"),
            c["last"] if c["last"] != c["queue"] else None,
            dedicated.get(cid),
            c["queued"],
            tuple(
                Transfer(
                    h["queue"],
                    h["agent"],
                    h["back"],
                    c["talks"][i + 1] if i + 1 < len(c["talks"]) else None,
                    h["wrap"],
                )
                for i, h in enumerate(c["hands"])
            ),
        )
        for cid, c in seen.items()
    ]
    contacts.sort(key=lambda c: c.arrived)
    return Recording(DAY, tuple(contacts), source)


async def store_day(
    trace: Sequence[list[Event]],
    db: Path,
    channel: str = "voice",
    *,
    dedicated: Mapping[str, str] | None = None,
) -> None:
    """Write the simulated day into a real store, as the live runtime would: a call back's
    contact (first queued after its original arrival) booked as one, a contact of
    ``dedicated`` (contact id -> agent) by a verified customer whose CRM card names the agent."""
    base = midnight()
    created: set[str] = set()
    dedicated = dedicated or {}
    async with await Store.open(db) as store:
        for events in trace:
            if not events:
                continue
            for e in events:
                if isinstance(e, ContactQueued) and e.contact_id not in created:
                    created.add(e.contact_id)
                    await _create(store, e, base, channel, dedicated.get(e.contact_id))
            await store.record_events(events, base + events[0].at)


async def _create(
    store: Store, e: ContactQueued, base: float, channel: str, agent: str | None
) -> None:
    if e.at != e.arrived_at:  # a call back's contact
        await store.add_callback(
            callback_contact_id=e.contact_id, contact_id=None, queue=e.queue, customer_id=None,
            verified=False, phone="+15550100", name=None, tier=e.tier, source="queue_offer",
            requested_by=None, arrived_wall=base + e.arrived_at, created_wall=base + e.at,
            due_wall=base + e.at,
        )  # fmt: skip
        return
    customer = None
    if agent is not None:
        customer = f"customer-{e.contact_id}"
        await store.upsert_customer(CustomerRecord(customer, "a customer", dedicated_agent=agent))
    await store.create_contact(
        e.contact_id, channel=channel, queue=e.queue, arrived_wall=base + e.arrived_at,
        tier=e.tier, customer_id=customer, verified=customer is not None,
    )  # fmt: skip
