"""A recorded day read from the engine's store, through the ``Store`` API (which opens the sealed
values with the data keys file; the replay reads no personal value, only ids, queues, times
and outcomes) and without writing anything: an existing database only, never a new one.

* Contacts: every inbound contact that entered a queue (``queued_wall``) on the day, in local
  time; call backs' own contacts (``kind`` ``callback``) are left out: they are outbound work
  the planner does not simulate (their bookings count as the ``callback`` outcome of the
  contact that asked). A contact an agent transferred is replayed as its first segment (its
  queue, talk and wrap-up); later segments are agents' work the core does not decide.
* Logins: the agent state log as shifts (``Shift``): an agent is on while logged in and not
  away (an away for ``no-answer`` counts as on: the planner makes those itself), which is the
  staffing the day really had.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from contactcenter.store import ContactRecord, SegmentRecord, Store, StoreError
from sim.recording import Outcome, RecordedContact, Recording
from sim.scenario import Shift

_ALL = sys.maxsize
"""A limit above any row count (the store's reads page by limit)."""


@dataclass(frozen=True)
class StoredDay:
    recording: Recording
    shifts: tuple[Shift, ...]
    """Agents' logged-in, not-away periods of the day (seconds since midnight)."""
    left_out: int
    """Inbound contacts of the day that never entered a queue, and call backs' contacts."""


def read_stored_day(
    db: Path, data_keys: Path | None, day: date | None, zone: tzinfo | None
) -> StoredDay:
    """The contacts and logins of ``day`` (default: the day of the last contact) in ``zone``
    (default: this machine's); ``StoreError`` when the database is missing or unreadable, or
    the day has no contact."""
    return asyncio.run(_read(db, data_keys, day, zone))


async def _read(
    db: Path, data_keys: Path | None, day: date | None, zone: tzinfo | None
) -> StoredDay:
    if not db.is_file():
        raise StoreError(f"no database at {db}")
    try:
        store = await Store.open(db, data_keys=data_keys)
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{db}: {err}") from err
    async with store:
        if day is None:
            last = await store.contact_records(None, limit=_ALL)
            if not last:
                raise StoreError(f"{db}: no contacts")
            day = datetime.fromtimestamp(last[-1].arrived_wall, zone).date()
        midnight = datetime.combine(day, datetime.min.time(), zone).timestamp()
        following = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
        end = following.timestamp()
        records = [
            r for r in await store.contact_records(midnight, limit=_ALL) if r.arrived_wall < end
        ]
        kept = [r for r in records if r.kind == "inbound" and r.queued_wall is not None]
        if not kept:
            raise StoreError(f"{db}: no contact entered a queue on {day.isoformat()}")
        latest = max(_last_wall(r) for r in records)
        contacts = []
        for r in kept:
            first = None
            if r.transfers or r.segment > 1:
                first = (await store.segments(r.contact_id))[0]
            contacts.append(_contact(r, first, midnight, latest))
        states = sorted(await store.agent_states(limit=_ALL), key=lambda s: s.id)
    contacts.sort(key=lambda c: c.arrived)
    recording = Recording(day, tuple(contacts), db.name)
    shifts: list[Shift] = []
    since: dict[str, float] = {}
    for s in states:
        on = s.state != "offline" and not (s.state == "away" and s.reason != "no-answer")
        t = min(max(s.wall_time - midnight, 0.0), end - midnight)
        if on and s.agent_id not in since:
            since[s.agent_id] = t
        elif not on and s.agent_id in since:
            start = since.pop(s.agent_id)
            if t > start:
                shifts.append(Shift(s.agent_id, start, t))
    shifts.extend(Shift(a, t, end - midnight) for a, t in since.items() if end - midnight > t)
    shifts.sort(key=lambda s: (s.start, s.agent))
    return StoredDay(recording, tuple(shifts), len(records) - len(kept))


def _last_wall(r: ContactRecord) -> float:
    walls = (r.arrived_wall, r.queued_wall, r.answered_wall, r.abandoned_wall, r.removed_wall,
             r.completed_wall, r.ended_wall)  # fmt: skip
    return max(w for w in walls if w is not None)


def _contact(
    r: ContactRecord, first: SegmentRecord | None, midnight: float, latest: float
) -> RecordedContact:
    """One stored contact as the replay sees it; ``first``: its first segment when it had
    more than one queue or segment."""
    assert r.queued_wall is not None
    arrived = r.queued_wall - midnight
    queue = first.queue if first is not None else r.queue
    talk = first.talk_seconds if first is not None else r.talk_seconds
    wrap = first.wrap_up_seconds if first is not None else r.wrap_up_seconds
    wait = r.wait_seconds
    outcome: Outcome
    if r.answered_wall is not None:
        outcome = "answered"
    elif r.outcome == "abandoned":
        outcome = "abandoned"
    elif r.outcome == "callback" and r.removed_reason == "callback_accepted":
        outcome = "callback"
    elif r.outcome in ("callback", "disconnect"):
        outcome = "removed"
    else:  # still waiting, or cut by a crash / ended outside routing while waiting
        outcome = "unfinished"
        wait = (r.ended_wall if r.ended_wall is not None else latest) - r.queued_wall
    if outcome != "answered":
        talk = wrap = None
    return RecordedContact(
        arrived,
        r.first_queue,
        r.tier,
        outcome,
        max(wait or 0.0, 0.0),
        talk,
        wrap,
        queue if queue != r.first_queue else None,
    )
