"""A recorded day read from the engine's store, through the ``Store`` API (which opens the sealed
values with the data keys file; the replay reads no personal value, only ids, queues, times
and outcomes) and without writing anything: an existing database only, never a new one.

* Contacts: every contact that entered a queue (``queued_wall``) on the day, in local time:
  inbound ones, and call backs' own contacts (``kind`` ``callback``: queued when they did,
  with the customer's original arrival). A contact an agent handed on carries its segments
  (``contact_segments``) as ``Transfer``s: to a queue or an agent, or out of routing (a call
  back's attempt that missed the customer) and queued again when it was. A verified
  customer's dedicated agent (the CRM's ``dedicated_agent``) comes with the contact.
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
from sim.recording import Outcome, RecordedContact, Recording, Transfer
from sim.scenario import Shift

_ALL = sys.maxsize
"""A limit above any row count (the store's reads page by limit)."""


@dataclass(frozen=True)
class StoredDay:
    recording: Recording
    shifts: tuple[Shift, ...]
    """Agents' logged-in, not-away periods of the day (seconds since midnight)."""
    left_out: int
    """Contacts of the day that never entered a queue (e.g. served by the IVR alone)."""


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
        kept = [r for r in records if r.queued_wall is not None]
        if not kept:
            raise StoreError(f"{db}: no contact entered a queue on {day.isoformat()}")
        latest = max(_last_wall(r) for r in records)
        contacts = []
        dedicated: dict[str, str | None] = {}
        for r in kept:
            segments = None
            if r.transfers or r.segment > 1:
                segments = await store.segments(r.contact_id)
            agent = None
            if r.customer_id is not None and r.verified:  # (only a verified one routes live)
                if r.customer_id not in dedicated:
                    customer = await store.customer(r.customer_id)
                    dedicated[r.customer_id] = customer.dedicated_agent if customer else None
                agent = dedicated[r.customer_id]
            contacts.append(_contact(r, segments, midnight, latest, agent))
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
    r: ContactRecord,
    segments: list[SegmentRecord] | None,
    midnight: float,
    latest: float,
    dedicated: str | None,
) -> RecordedContact:
    """One stored contact as the replay sees it; ``segments``: its segments when it had more
    than one queue or segment."""
    assert r.queued_wall is not None
    callback = r.kind == "callback"
    start = r.arrived_wall if callback else r.queued_wall  # (a call back keeps its place)
    first = segments[0] if segments else None
    queue = first.queue if first is not None else r.queue
    talk = first.talk_seconds if first is not None else r.talk_seconds
    wrap = segments[-1].wrap_up_seconds if segments else r.wrap_up_seconds
    wait = r.wait_seconds
    outcome: Outcome
    if r.answered_wall is not None:
        outcome = "answered"
    elif r.outcome == "abandoned" and not callback:
        outcome = "abandoned"
    elif r.outcome == "callback" and r.removed_reason == "callback_accepted":
        outcome = "callback"
    elif r.removed_wall is not None or r.outcome in ("callback", "disconnect"):
        outcome = "removed"
    else:  # still waiting, or cut by a crash / ended outside routing while waiting
        outcome = "unfinished"
        wait = (r.ended_wall if r.ended_wall is not None else latest) - start
    if outcome != "answered":
        talk = wrap = None
    return RecordedContact(
        start - midnight,
        r.first_queue,
        r.tier,
        outcome,
        max(wait or 0.0, 0.0),
        talk,
        wrap,
        queue if queue != r.first_queue else None,
        dedicated,
        r.queued_wall - midnight if callback else None,
        _transfers(segments) if segments and outcome == "answered" else (),
    )


def _transfers(segments: list[SegmentRecord]) -> tuple[Transfer, ...]:
    """How each segment an agent handed on ended, with the next one's talk (a last attempt of
    a call back that missed the customer: out of routing, never back)."""
    out = []
    for s, nxt in zip(segments, [*segments[1:], None], strict=True):
        if s.end_reason not in ("transferred", "retry"):
            break
        back = None
        if s.end_reason == "retry" and nxt is not None and nxt.queued_wall is not None:
            back = nxt.queued_wall - (s.ended_wall if s.ended_wall is not None else 0.0)
        talk = nxt.talk_seconds if nxt is not None else None
        out.append(Transfer(s.to_queue, s.to_agent, back, talk, s.wrap_up_seconds))
    return tuple(out)
