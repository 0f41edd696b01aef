"""A simulated day recorded as the engine records a real one: its contacts as the replay reads
them, straight from the planner's domain events (``recording_of``), or in a real store the
way the live runtime writes it (``store_day``: ``create_contact``, then ``record_events`` per
event list, stamped at a wall clock ``midnight + at``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactQueued,
    ContactRemoved,
    Event,
    WrapUpEnded,
)
from contactcenter.store import Store
from sim.recording import RecordedContact, Recording

DAY = date(2024, 6, 3)


def midnight(zone: Any = None) -> float:
    return datetime.combine(DAY, datetime.min.time(), zone).timestamp()


def recording_of(trace: Sequence[list[Event]], source: str = "simulated") -> Recording:
    """The simulated day's contacts, as a recording with full-precision times."""
    seen: dict[str, dict[str, Any]] = {}
    for events in trace:
        for e in events:
            if isinstance(e, ContactQueued):
                c = seen.setdefault(
                    e.contact_id, {"arrived": e.arrived_at, "queue": e.queue, "tier": e.tier}
                )
                c["last"] = e.queue
            elif isinstance(e, ContactAnswered) and e.segment == 1:
                seen[e.contact_id].update(outcome="answered", wait=e.wait_seconds)
            elif isinstance(e, ContactAbandoned):
                seen[e.contact_id].update(outcome="abandoned", wait=e.wait_seconds)
            elif isinstance(e, ContactRemoved):
                outcome = "callback" if e.reason == "callback_accepted" else "removed"
                seen[e.contact_id].update(outcome=outcome, wait=e.wait_seconds)
            elif isinstance(e, ContactCompleted):
                seen[e.contact_id]["talk"] = e.handle_seconds
            elif isinstance(e, WrapUpEnded):
                seen[e.contact_id]["wrap"] = e.wrap_up_seconds
    contacts = [
        RecordedContact(
            c["arrived"],
            c["queue"],
            c["tier"],
            c["outcome"],
            c["wait"],
            c.get("talk"),
            c.get("wrap"),
            c["last"] if c["last"] != c["queue"] else None,
        )
        for c in seen.values()
    ]
    contacts.sort(key=lambda c: c.arrived)
    return Recording(DAY, tuple(contacts), source)


async def store_day(trace: Sequence[list[Event]], db: Path, channel: str = "voice") -> None:
    """Write the simulated day into a real store, as the live runtime would."""
    base = midnight()
    created: set[str] = set()
    async with await Store.open(db) as store:
        for events in trace:
            if not events:
                continue
            for e in events:
                if isinstance(e, ContactQueued) and e.contact_id not in created:
                    created.add(e.contact_id)
                    await store.create_contact(
                        e.contact_id,
                        channel=channel,
                        queue=e.queue,
                        arrived_wall=base + e.arrived_at,
                        tier=e.tier,
                    )
            await store.record_events(events, base + events[0].at)
