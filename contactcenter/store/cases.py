"""Complaint cases in the store: the case, its history, notes and follow-up tasks.

Every change is one transaction that reads the case's status, checks the move against
``contactcenter.cases.TRANSITIONS`` and writes the change with its history row (who, when,
what: ids and codes, never the text), so two agents moving one case at once cannot both win.
The description, notes and task titles are personal (sealed at rest, ``resealing.SEALED``);
erasure and retention remove them (``erasure.py``, ``retention.py``).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from contactcenter.cases import OPEN_STATUSES, CaseError, CaseStatus, check_move
from contactcenter.store.errors import StoreError
from contactcenter.store.store import Store, _lastrowid

_CASE_COLUMNS = (
    "id, customer_id, contact_id, category, severity, status, owner, department, description,"
    " opened_wall, acknowledged_wall, resolved_wall, closed_wall, updated_wall"
)


class UnknownCase(StoreError):
    """No case with that id."""


class CaseClosed(CaseError):
    """A closed case takes no more notes or tasks (reopen it first: it is final, so open a
    new one)."""


class UnknownTask(StoreError):
    """No follow-up task with that id on the case."""


class TaskDone(CaseError):
    """The follow-up task was done already."""


@dataclass(frozen=True)
class CaseEntry:
    """One change of a case: who did what when, and the status after it."""

    id: int
    actor: str
    wall_time: float
    action: str
    status: CaseStatus
    detail: dict[str, Any]


@dataclass(frozen=True)
class CaseNote:
    id: int
    author: str
    text: str
    wall_time: float


@dataclass(frozen=True)
class CaseTask:
    id: int
    title: str | None
    due_wall: float
    created_by: str
    created_wall: float
    done_by: str | None = None
    done_wall: float | None = None


@dataclass(frozen=True)
class CaseRecord:
    id: int
    customer_id: str
    contact_id: str
    category: str
    severity: str
    status: CaseStatus
    owner: str
    department: str | None
    description: str | None
    opened_wall: float
    acknowledged_wall: float | None
    resolved_wall: float | None
    closed_wall: float | None
    updated_wall: float
    history: tuple[CaseEntry, ...] = ()
    notes: tuple[CaseNote, ...] = ()
    tasks: tuple[CaseTask, ...] = ()


def _case(store: Store, row: sqlite3.Row) -> CaseRecord:
    values = dict(zip(row.keys(), row, strict=True))
    values["status"] = CaseStatus(values["status"])
    values["description"] = store._open("cases", "description", values["description"])
    return CaseRecord(**values)


async def _history(
    db: aiosqlite.Connection, case_id: int, actor: str, wall: float, action: str,
    status: CaseStatus, **detail: Any,
) -> None:  # fmt: skip
    """The history row of a change, and the case's first acknowledgement and last update."""
    await db.execute(
        "INSERT INTO case_history (case_id, actor, wall_time, action, status, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (case_id, actor, wall, action, str(status), json.dumps(detail, sort_keys=True)),
    )
    if action != "opened":
        await db.execute(
            "UPDATE cases SET acknowledged_wall = coalesce(acknowledged_wall, ?),"
            " updated_wall = ? WHERE id = ?",
            (wall, wall, case_id),
        )


async def _status(db: aiosqlite.Connection, case_id: int) -> CaseStatus:
    rows = list(await db.execute_fetchall("SELECT status FROM cases WHERE id = ?", (case_id,)))
    if not rows:
        raise UnknownCase(f"no case {case_id}")
    return CaseStatus(rows[0][0])


async def open_case(
    store: Store, *, customer_id: str, contact_id: str, category: str, severity: str,
    description: str, owner: str, wall_time: float,
) -> int:  # fmt: skip
    """Open a case owned by ``owner``; returns its id."""
    async with store._write() as db:
        cur = await db.execute(
            "INSERT INTO cases (customer_id, contact_id, category, severity, status, owner,"
            " description, opened_wall, updated_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (customer_id, contact_id, category, severity, str(CaseStatus.OPEN), owner,
             store._seal("cases", "description", description), wall_time, wall_time),
        )  # fmt: skip
        case_id = _lastrowid(cur)
        await _history(db, case_id, owner, wall_time, "opened", CaseStatus.OPEN,
                       contact=contact_id, category=category, severity=severity)  # fmt: skip
    return case_id


async def move_case(
    store: Store, case_id: int, to: CaseStatus, *, actor: str, wall_time: float,
    department: str | None = None,
) -> None:  # fmt: skip
    """Move the case to ``to`` (``IllegalMove``, ``DepartmentRequired`` if the rules refuse);
    a resolved case notes when, a closed one too; a department stays named only while the
    case is with it."""
    async with store._write() as db:
        current = await _status(db, case_id)
        check_move(current, to, department)
        await db.execute(
            "UPDATE cases SET status = ?, department = ?,"
            " resolved_wall = CASE WHEN ? = 'resolved' THEN ? WHEN ? = 'open' THEN NULL"
            " ELSE resolved_wall END,"
            " closed_wall = CASE WHEN ? = 'closed' THEN ? ELSE closed_wall END WHERE id = ?",
            (str(to), department, str(to), wall_time, str(to), str(to), wall_time, case_id),
        )
        detail: dict[str, Any] = {"from": str(current)}
        if department is not None:
            detail["department"] = department
        await _history(db, case_id, actor, wall_time, "moved", to, **detail)


async def _working(db: aiosqlite.Connection, case_id: int) -> CaseStatus:
    status = await _status(db, case_id)
    if status is CaseStatus.CLOSED:
        raise CaseClosed(f"case {case_id} is closed")
    return status


async def add_case_note(
    store: Store, case_id: int, text: str, *, author: str, wall_time: float
) -> int:
    """Add a note to a case that is not closed; returns the note's id."""
    async with store._write() as db:
        status = await _working(db, case_id)
        cur = await db.execute(
            "INSERT INTO case_notes (case_id, author, text, wall_time) VALUES (?, ?, ?, ?)",
            (case_id, author, store._seal("case_notes", "text", text), wall_time),
        )
        note_id = _lastrowid(cur)
        await _history(db, case_id, author, wall_time, "note_added", status, note=note_id)
    return note_id


async def add_case_task(
    store: Store, case_id: int, title: str, due_wall: float, *, actor: str, wall_time: float
) -> int:
    """Add a follow-up task due at ``due_wall`` to a case that is not closed; returns its id."""
    async with store._write() as db:
        status = await _working(db, case_id)
        cur = await db.execute(
            "INSERT INTO case_tasks (case_id, title, due_wall, created_by, created_wall)"
            " VALUES (?, ?, ?, ?, ?)",
            (case_id, store._seal("case_tasks", "title", title), due_wall, actor, wall_time),
        )
        task_id = _lastrowid(cur)
        await _history(db, case_id, actor, wall_time, "task_added", status, task=task_id,
                       due=due_wall)  # fmt: skip
    return task_id


async def complete_task(
    store: Store, case_id: int, task_id: int, *, actor: str, wall_time: float
) -> None:
    """Mark a follow-up task done (``TaskDone`` if it was, ``UnknownTask`` if the case has no
    such task)."""
    async with store._write() as db:
        status = await _working(db, case_id)
        rows = list(
            await db.execute_fetchall(
                "SELECT done_wall FROM case_tasks WHERE id = ? AND case_id = ?", (task_id, case_id)
            )
        )
        if not rows:
            raise UnknownTask(f"case {case_id} has no task {task_id}")
        if rows[0][0] is not None:
            raise TaskDone(f"task {task_id} is done already")
        await db.execute(
            "UPDATE case_tasks SET done_by = ?, done_wall = ? WHERE id = ?",
            (actor, wall_time, task_id),
        )
        await _history(db, case_id, actor, wall_time, "task_done", status, task=task_id)


async def case(store: Store, case_id: int) -> CaseRecord:
    """The case with its history, notes and tasks (in the order they happened)."""
    async with store._read() as db:
        rows = list(
            await db.execute_fetchall(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", (case_id,))
        )
        if not rows:
            raise UnknownCase(f"no case {case_id}")
        history = await db.execute_fetchall(
            "SELECT id, actor, wall_time, action, status, detail FROM case_history"
            " WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        notes = await db.execute_fetchall(
            "SELECT id, author, text, wall_time FROM case_notes WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        tasks = await db.execute_fetchall(
            "SELECT id, title, due_wall, created_by, created_wall, done_by, done_wall"
            " FROM case_tasks WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
    return replace(
        _case(store, rows[0]),
        history=tuple(
            CaseEntry(h[0], h[1], h[2], h[3], CaseStatus(h[4]), json.loads(h[5])) for h in history
        ),
        notes=tuple(
            CaseNote(n[0], n[1], str(store._open("case_notes", "text", n[2])), n[3]) for n in notes
        ),
        tasks=tuple(
            CaseTask(t[0], store._open("case_tasks", "title", t[1]), *t[2:]) for t in tasks
        ),
    )


async def customer_cases(
    store: Store, customer_id: str, *, working_only: bool = False
) -> list[CaseRecord]:
    """The customer's cases (without history, notes or tasks), newest first; ``working_only``:
    those still being worked on (``OPEN_STATUSES``)."""
    rows = await store._rows(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE customer_id = ? ORDER BY id DESC",
        (customer_id,),
    )
    found = [_case(store, r) for r in rows]
    return [c for c in found if c.status in OPEN_STATUSES] if working_only else found


@dataclass(frozen=True)
class CaseClock:
    """What the case metrics need of a case being worked on: no id, no text to open."""

    category: str
    severity: str
    status: CaseStatus
    opened_wall: float
    acknowledged_wall: float | None


async def working_clocks(store: Store) -> list[CaseClock]:
    """Every case still being worked on, as ``CaseClock``."""
    statuses = sorted(str(s) for s in OPEN_STATUSES)
    rows = await store._rows(
        "SELECT category, severity, status, opened_wall, acknowledged_wall FROM cases"
        f" WHERE status IN ({', '.join('?' * len(statuses))})",
        statuses,
    )
    return [CaseClock(r[0], r[1], CaseStatus(r[2]), r[3], r[4]) for r in rows]


async def working_cases(store: Store) -> list[CaseRecord]:
    """Every case still being worked on (without history, notes or tasks), oldest first."""
    statuses = sorted(str(s) for s in OPEN_STATUSES)
    rows = await store._rows(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE status IN ({', '.join('?' * len(statuses))})"
        " ORDER BY id",
        statuses,
    )
    return [_case(store, r) for r in rows]
