"""Stored customers' data for the retention and erasure tests: contacts with transcripts,
notes and survey comments, call backs, made through the store's own API."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from contactcenter.events import ContactQueued
from contactcenter.store import CallbackRecord, Store

DAY = 86_400.0


async def contact(
    store: Store,
    cid: str,
    *,
    arrived: float,
    customer_id: str | None = None,
    name: str | None = None,
    channel: str = "chat",
    closed: bool = True,
    lines: Sequence[str] = (),
    notes: str | None = None,
    segment_note: str | None = None,
    survey: str | None = None,
) -> None:
    """A contact of ``arrived`` (wall seconds) in sales_chat, closed two minutes later unless
    ``closed`` is False, with what is given."""
    await store.create_contact(
        cid, channel=channel, queue="sales_chat", arrived_wall=arrived, customer_id=customer_id,
        tier="standard", customer_name=name, topic="sales", verified=customer_id is not None,
    )  # fmt: skip
    queued = ContactQueued(0.0, cid, "sales_chat", "chat", 0, "standard", 0.0, 1)
    await store.record_events([queued], arrived)
    await store.add_messages(
        [(cid, "customer", text, arrived + i, None) for i, text in enumerate(lines)]
    )
    if segment_note is not None:
        await store.set_segment_note(cid, 1, segment_note)
    if notes is not None:
        await store.set_disposition_notes(cid, notes)
    if survey is not None:
        await store.add_survey(cid, 4, survey, arrived + 100)
    if closed:
        await store.mark_ended(cid, arrived + 120, "done")


async def callback(
    store: Store,
    cid: str,
    *,
    created: float,
    phone: str,
    name: str | None = None,
    customer_id: str | None = None,
    ended: bool = True,
    contact_id: str | None = None,
) -> CallbackRecord:
    """A call back booked at ``created``; ended (completed) an hour later unless ``ended`` is
    False. Its calling contact is labelled with the name, else the number."""
    rec = await store.add_callback(
        callback_contact_id=cid, contact_id=contact_id, queue="sales", customer_id=customer_id,
        verified=customer_id is not None, phone=phone, name=name, tier="standard",
        source="api", requested_by="sup", arrived_wall=created, created_wall=created,
        due_wall=created,
    )  # fmt: skip
    if ended:
        await store.update_callback(
            rec.id, status="completed", outcome="completed", ended_wall=created + 3600
        )
        await store.mark_ended(cid, created + 3600, "done")
    return rec


def every_value(db: Path) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every non-null cell of every table."""
    out = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cur = conn.execute(f"SELECT * FROM {table}")  # table names from the schema
            columns = [d[0] for d in cur.description]
            for row in cur:
                out += [(table, c, str(v)) for c, v in zip(columns, row, strict=True) if v]
    return out


def statistics(db: Path) -> list[tuple[object, ...]]:
    """What the statistics read of each contact: times, queue, outcome, durations."""
    with sqlite3.connect(db) as conn:
        return list(
            conn.execute(
                "SELECT seq, contact_id, channel, queue, first_queue, tier, arrived_wall,"
                " queued_wall, offered_wall, answered_wall, abandoned_wall, removed_wall,"
                " completed_wall, ended_wall, agent_id, wait_seconds, talk_seconds,"
                " wrap_up_seconds, disposition, outcome, verified FROM contacts ORDER BY seq"
            )
        )
