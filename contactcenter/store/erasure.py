"""A customer's erasure (the right to be forgotten): their personal data leaves every table,
the statistics stay.

What is the customer's: the CRM card and its notes; the contacts recorded under their id (also
an unverified claim of it) with their transcripts, wrap-up and transfer notes, agents' private
notes and survey comments; their complaint cases' descriptions, notes and task texts (a case's
codes, times and history stay; an open case does not refuse erasure); the call backs booked for
their id, from those contacts, or to their phone number; and, on contacts nobody identified, a
label that is their name or number (a caller the voice edge named by the calling number). Card,
notes and chat lines are deleted; the rest is nulled, and where the customer's id stood
(contacts, call backs, IVR visits, cases, the audit log) a marker stands instead: ``erased-``
and random hex, the same for all of this customer's rows (repeat contacts still count as one
customer's) and unrelated to the id, so it cannot be turned back.
Contact records keep their times, queues and outcomes.

A customer with a contact or call back still open is refused (``CustomerBusy``): an agent may
still be writing notes, and the engine still holds the number to dial; so is one whose contact
ended a moment ago, while a running engine may still be writing its last chat lines. Erasing
again finds nothing and changes nothing but the audit log, which records every erasure (who,
when, how much; the marker, never the id). Personal columns may be stored sealed: rows are
found by ids and matched in Python after the store opened them, never compared in SQL; a
``<column>_hash`` look-up column goes with its column.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from contactcenter.store.connection import Connection, dialect
from contactcenter.store.connection import columns as columns_of
from contactcenter.store.errors import StoreError
from contactcenter.store.records import ContactRecord, CustomerRecord
from contactcenter.store.retention import closed_before
from contactcenter.store.store import Store


class CustomerBusy(StoreError):
    """The customer has a contact or call back still open: erase once it is over."""

    def __init__(self, open_contacts: int, open_callbacks: int) -> None:
        super().__init__(
            f"the customer has {open_contacts} contact(s) and {open_callbacks} call back(s)"
            " still open (or ended in the last minute); erase once they are over"
        )
        self.open_contacts = open_contacts
        self.open_callbacks = open_callbacks


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, per kind; ``marker`` stands where the customer's id stood."""

    marker: str
    counts: dict[str, int]


def _digits(number: str | None) -> str:
    """A phone number as compared: its digits and a leading +."""
    return re.sub(r"(?!^\+)[^0-9]", "", (number or "").strip())


def _same_name(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


async def erase_customer(
    store: Store, customer_id: str, *, actor: str, wall_time: float, settle: float = 60.0
) -> Erasure:
    """Erase the customer ``customer_id`` (see the module); ``CustomerBusy`` if something of
    theirs is still open, or ended less than ``settle`` seconds before ``wall_time`` (a
    running engine may still be writing its last chat lines: pass 0 after flushing them).
    Returns the counts, also written to the audit log as ``actor``'s ``erase_customer``."""
    card = await store.customer(customer_id)
    callbacks = await _their_callbacks(store, customer_id, card)
    labels = await _their_labels(store, card) if card is not None else []
    marker = f"erased-{secrets.token_hex(8)}"
    async with store._write() as db:  # one transaction: all of it, with its entry, or nothing
        contacts = await _select(db, "SELECT contact_id FROM contacts WHERE customer_id IN ({})",
                                 [customer_id])  # fmt: skip
        calling = await _select(db, "SELECT callback_contact_id FROM callbacks WHERE id IN ({})",
                                callbacks)  # fmt: skip
        contacts += [c for c in calling if c not in contacts]
        still = f"SELECT contact_id FROM contacts c WHERE NOT ({closed_before('c')})"
        busy = await _select(db, still + " AND contact_id IN ({})", contacts, wall_time - settle)
        waiting = await _select(
            db, "SELECT id FROM callbacks WHERE ended_wall IS NULL AND id IN ({})", callbacks
        )
        if busy or waiting:
            raise CustomerBusy(len(busy), len(waiting))
        cases = await _select(db, "SELECT id FROM cases WHERE customer_id IN ({})", [customer_id])
        contact_nulls = await _nulls(db, "contacts", "disposition_notes")
        name_nulls = await _nulls(db, "contacts", "customer_name")
        counts = {
            "crm_notes": await _change(
                db, "DELETE FROM customer_notes WHERE customer_id IN ({})", [customer_id]
            ),
            "crm_card": await _change(db, "DELETE FROM customers WHERE id IN ({})", [customer_id]),
            "contacts": len(contacts),
            "transcript_lines": await _change(
                db, "DELETE FROM messages WHERE contact_id IN ({})", contacts
            ),
            "notes": await _change(
                db, f"{contact_nulls} WHERE disposition_notes IS NOT NULL AND contact_id IN ({{}})",
                contacts,
            ) + await _change(
                db, f"{await _nulls(db, 'contact_segments', 'note')} WHERE note IS NOT NULL"
                " AND contact_id IN ({})", contacts,
            ),
            "private_notes": await _change(
                db, "DELETE FROM contact_notes WHERE contact_id IN ({})", contacts
            ),
            "survey_comments": await _change(
                db, f"{await _nulls(db, 'surveys', 'comment')} WHERE comment IS NOT NULL"
                " AND contact_id IN ({})", contacts,
            ),
            "names": await _change(
                db, f"{name_nulls} WHERE customer_name IS NOT NULL AND contact_id IN ({{}})",
                [*contacts, *labels],
            ),
            "callbacks": await _change(
                db, f"{await _nulls(db, 'callbacks', 'phone', 'name')} WHERE (phone IS NOT NULL"
                " OR name IS NOT NULL) AND id IN ({})", callbacks,
            ),
            "cases": len(cases),
            "case_texts": await _change(
                db, "UPDATE cases SET description = NULL WHERE description IS NOT NULL"
                " AND id IN ({})", cases,
            ) + await _change(db, "DELETE FROM case_notes WHERE case_id IN ({})", cases)
            + await _change(
                db, "UPDATE case_tasks SET title = NULL WHERE title IS NOT NULL"
                " AND case_id IN ({})", cases,
            ),
            "ids_replaced": sum([
                await _change(db, f"UPDATE {table} SET customer_id = ? WHERE customer_id IN ({{}})",
                              [customer_id], marker)
                for table in ("contacts", "callbacks", "ivr_visits", "cases")
            ]),
            "audit_entries": await _mark_audit(db, customer_id, marker),
        }  # fmt: skip
        await store._append_audit(
            db, actor, "erase_customer", marker, {"counts": counts}, wall_time
        )
    return Erasure(marker, counts)


CHUNK = 500
"""Ids per statement (SQLite limits the parameters of one)."""


async def _select(db: Connection, sql: str, ids: Sequence[object], *before: object) -> list[Any]:
    """The first column of ``sql``'s rows, its ``IN ({})`` filled with ``ids`` (after
    ``before``), chunk-wise."""
    out: list[Any] = []
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        rows = await db.execute_fetchall(sql.format(", ".join("?" * len(chunk))), (*before, *chunk))
        out += [r[0] for r in rows]
    return out


async def _change(db: Connection, sql: str, ids: Sequence[object], *before: object) -> int:
    """Rows changed by ``sql``, its ``IN ({})`` filled with ``ids`` (after ``before``)."""
    changed = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        cur = await db.execute(sql.format(", ".join("?" * len(chunk))), (*before, *chunk))
        changed += cur.rowcount
    return changed


async def _nulls(db: Connection, table: str, *columns: str) -> str:
    """``UPDATE table SET`` the columns, and their ``_hash`` companions, to NULL."""
    have = await columns_of(db, table)
    nulled = [c for col in columns for c in (col, f"{col}_hash") if c in have]
    return f"UPDATE {table} SET {', '.join(f'{c} = NULL' for c in nulled)}"


async def _mark_audit(db: Connection, customer_id: str, marker: str) -> int:
    """Entries naming the customer (as target, or as a value in the detail) name the marker."""
    quoted = json.dumps(customer_id)
    found = "strpos(detail, ?)" if dialect(db) == "postgresql" else "instr(detail, ?)"
    rows = list(
        await db.execute_fetchall(
            f"SELECT id, target, detail FROM audit_log WHERE target = ? OR {found} > 0",
            (customer_id, quoted),
        )
    )
    for row_id, target, detail in rows:
        new = json.dumps(_replaced(json.loads(detail), customer_id, marker), sort_keys=True,
                         separators=(",", ":"))  # fmt: skip
        await db.execute(
            "UPDATE audit_log SET target = ?, detail = ? WHERE id = ?",
            (marker if target == customer_id else target, new, row_id),
        )
    return len(rows)


def _replaced(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replaced(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, old, new) for v in value]
    return new if value == old else value


async def _their_callbacks(
    store: Store, customer_id: str, card: CustomerRecord | None
) -> list[int]:
    """Call backs for the customer's id, booked from their contacts, or to their number."""
    number = _digits(card.phone) if card is not None else ""
    ids: set[int] = set()
    for row in await store._rows("SELECT id, customer_id, phone FROM callbacks"):
        phone = store._open("callbacks", "phone", row[2])  # numbers compare opened
        if row[1] == customer_id or (number and _digits(phone) == number):
            ids.add(row[0])
    rows = await store._rows(
        "SELECT b.id FROM callbacks b JOIN contacts c ON c.contact_id = b.contact_id"
        " WHERE c.customer_id = ?",
        (customer_id,),
    )
    ids.update(r[0] for r in rows)
    return sorted(ids)


async def _their_labels(store: Store, card: CustomerRecord) -> list[str]:
    """Contacts nobody identified that are labelled with the customer's name or number."""
    number = _digits(card.phone)
    return [
        c.contact_id
        async for c in _every_contact(store)
        if c.customer_id is None
        and (
            _same_name(c.customer_name, card.name)
            or (number and _digits(c.customer_name) == number)
        )
    ]


async def _every_contact(store: Store, page: int = 1000) -> AsyncIterator[ContactRecord]:
    """Every contact record, opened, a page at a time (in arrival order)."""
    since: float | None = None
    seen: set[str] = set()
    while True:
        records = await store.contact_records(since, limit=page + len(seen))
        fresh = [r for r in records if r.contact_id not in seen]
        for r in fresh:
            yield r
        if len(records) < page + len(seen):
            return
        since = records[-1].arrived_wall
        seen = {r.contact_id for r in records if r.arrived_wall == since}
