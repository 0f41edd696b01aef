"""Retention: customers' personal data older than the center keeps it is deleted or nulled
(``CenterSettings.retention``); contact records stay, for statistics.

Per setting (days; None keeps for ever), counted from the end of the contact the data belongs
to (a CRM note from its own time, a call back from its end):

* ``transcripts_days``: the chat lines (deleted);
* ``notes_days``: free text: wrap-up notes, notes for the next agent, survey comments (nulled),
  agents' private notes on contacts and notes on CRM customers (deleted); a complaint case's
  description, notes (deleted) and task texts, counted from the case's closing (an unclosed
  case keeps them);
* ``callbacks_days``: a finished call back's number and name, and the name (or number) its
  calling contact is labelled with;
* ``contacts_days``: the customer's name on contact records.

Call recordings are not stored yet; they will join this list when they are.

A contact still open (not ended, abandoned or removed; an agent's wrap-up counts as open) is
never touched, nor is an open call back. The work is done in small batches, each a short
transaction of its own, with a pause between them: ``serve`` on the same database waits for
one batch at most (SQLite's busy timeout), never for the whole run. Only NULL and DELETE:
personal columns may be stored sealed and are never compared; a ``<column>_hash`` look-up
column beside a nulled one is nulled too, or it would still find the customer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from contactcenter.config.models import RetentionSettings
from contactcenter.store.connection import Connection, columns
from contactcenter.store.store import Store


def closed_before(alias: str) -> str:
    """The contact ``alias`` is over (nothing will be added to it) since before the ``?``."""
    a = alias
    return f"{closed(a)} AND coalesce({a}.ended_wall, {a}.abandoned_wall, {a}.removed_wall) < ?"


def closed(alias: str) -> str:
    """The contact ``alias`` is over."""
    a = alias
    return (
        f"({a}.ended_wall IS NOT NULL OR {a}.abandoned_wall IS NOT NULL OR"
        f" {a}.removed_wall IS NOT NULL)"
    )


@dataclass(frozen=True)
class Step:
    """One kind of personal data: the rows of ``table`` (alias ``t``) that ``where`` finds
    older than the cut-off (its one ``?``), then deleted, or their ``columns`` nulled."""

    name: str
    setting: str
    table: str
    where: str
    columns: tuple[str, ...] = ()
    """Nulled; empty: the rows are deleted."""


def _of_closed_contact(column: str) -> str:
    return (
        f"t.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM contacts c WHERE c.contact_id ="
        f" t.contact_id AND {closed_before('c')})"
    )


def _of_closed_case(condition: str) -> str:
    return (
        f"{condition} AND EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id"
        " AND c.closed_wall < ?)"
    )


STEPS = (
    Step("transcript_lines", "transcripts_days", "messages", _of_closed_contact("text")),
    Step("wrap_up_notes", "notes_days", "contacts",
         f"t.disposition_notes IS NOT NULL AND {closed_before('t')}", ("disposition_notes",)),
    Step("transfer_notes", "notes_days", "contact_segments", _of_closed_contact("note"),
         ("note",)),
    Step("survey_comments", "notes_days", "surveys", _of_closed_contact("comment"),
         ("comment",)),
    Step("private_notes", "notes_days", "contact_notes", _of_closed_contact("text")),
    Step("crm_notes", "notes_days", "customer_notes", "t.wall_time < ?"),
    Step("callback_numbers", "callbacks_days", "callbacks",
         "(t.phone IS NOT NULL OR t.name IS NOT NULL) AND t.ended_wall < ?", ("phone", "name")),
    Step("contact_names", "callbacks_days", "contacts",
         "t.customer_name IS NOT NULL AND EXISTS (SELECT 1 FROM callbacks b WHERE"
         f" b.callback_contact_id = t.contact_id AND b.ended_wall < ?) AND {closed('t')}",
         ("customer_name",)),
    Step("contact_names", "contacts_days", "contacts",
         f"t.customer_name IS NOT NULL AND {closed_before('t')}", ("customer_name",)),
    Step("case_texts", "notes_days", "cases", "t.description IS NOT NULL AND t.closed_wall < ?",
         ("description",)),
    Step("case_texts", "notes_days", "case_notes", _of_closed_case("1 = 1")),
    Step("case_texts", "notes_days", "case_tasks", _of_closed_case("t.title IS NOT NULL"),
         ("title",)),
)  # fmt: skip


@dataclass(frozen=True)
class RetentionReport:
    """What a run deleted or nulled (or would have, in a dry run), per kind of data."""

    counts: dict[str, int]
    cutoffs: dict[str, float] = field(default_factory=dict)
    """Setting -> the wall time before which its data went."""


async def apply_retention(
    store: Store,
    settings: RetentionSettings,
    now_wall: float,
    *,
    actor: str,
    dry_run: bool = False,
    batch: int = 500,
    pause: float = 0.02,
) -> RetentionReport:
    """Delete or null what is older than ``settings`` keep at ``now_wall``, ``batch`` rows a
    transaction with ``pause`` seconds between them; then log the counts as ``actor``'s
    ``retention`` in the audit log. A dry run counts and changes nothing."""
    days = settings.model_dump()
    cutoffs = {k: now_wall - v * 86_400 for k, v in days.items() if v is not None}
    counts = {s.name: 0 for s in STEPS}
    for step in STEPS:
        cutoff = cutoffs.get(step.setting)
        if cutoff is not None:
            counts[step.name] += await _run(store, step, cutoff, dry_run, batch, pause)
    if not dry_run:
        detail = {"counts": counts, "days": days}
        await store.audit(actor, "retention", "store", detail, now_wall)
    return RetentionReport(counts, cutoffs)


async def _run(
    store: Store, step: Step, cutoff: float, dry_run: bool, batch: int, pause: float
) -> int:
    """The step's rows in ``rowid`` order, a batch at a time: each batch's selection and
    change are one transaction, and the next starts after the last row seen (one pass)."""
    done, last = 0, 0
    change = await _change(store, step)
    select = (
        f"SELECT t.rowid FROM {step.table} t WHERE t.rowid > ? AND {step.where}"
        " ORDER BY t.rowid LIMIT ?"
    )
    while True:
        if dry_run:
            rows = await store._rows(select, (last, cutoff, batch))
        else:
            async with store._write() as db:
                rows = list(await db.execute_fetchall(select, (last, cutoff, batch)))
                await _apply(db, change, [r[0] for r in rows])
        if not rows:
            return done
        done += len(rows)
        last = rows[-1][0]
        await asyncio.sleep(pause)  # another process's writer gets its turn


async def _change(store: Store, step: Step) -> str:
    """The step's DELETE, or its UPDATE nulling the columns and their ``_hash`` companions."""
    if not step.columns:
        return f"DELETE FROM {step.table} WHERE rowid IN ({{ids}})"
    async with store._read() as db:
        have = await columns(db, step.table)
    nulled = [c for col in step.columns for c in (col, f"{col}_hash") if c in have]
    sets = ", ".join(f"{c} = NULL" for c in nulled)
    return f"UPDATE {step.table} SET {sets} WHERE rowid IN ({{ids}})"


async def _apply(db: Connection, change: str, rowids: list[int]) -> None:
    if rowids:
        await db.execute(change.format(ids=", ".join("?" * len(rowids))), rowids)
