"""Complaint cases in the store: the case, its history, notes and follow-up tasks.

Every change is one transaction that reads the case's status, checks the move against
``contactcenter.cases.TRANSITIONS`` and writes the change with its history row (who, when,
what: ids and codes, never the text), so two agents moving one case at once cannot both win.
A due follow-up task is routed once: marking it routed and creating its contact (channel
``task``) is one transaction that finds it unrouted, so a restart never routes it twice. A
severity's target passed is noted on the case and in its history once.
The description, notes and task titles are personal (sealed at rest, ``resealing.SEALED``);
erasure and retention remove them (``erasure.py``, ``retention.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from contactcenter.cases import (
    OPEN_STATUSES,
    CaseError,
    CasePolicy,
    CaseStatus,
    check_move,
)
from contactcenter.events import CaseTarget
from contactcenter.store.connection import Connection, Row
from contactcenter.store.errors import StoreError
from contactcenter.store.store import Store, _insert_contact, _new_id

SYSTEM = "system"
"""The actor of what the center itself notes on a case (a target passed)."""

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


class SameOwner(CaseError):
    """The case is that user's already."""


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
    contact_id: str | None = None
    """The contact that routes it as work (once it was due)."""


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


def _case(store: Store, row: Row) -> CaseRecord:
    values = dict(zip(row.keys(), row, strict=True))
    values["status"] = CaseStatus(values["status"])
    values["description"] = store._open("cases", "description", values["description"])
    return CaseRecord(**values)


async def _history(
    db: Connection, case_id: int, actor: str, wall: float, action: str,
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


async def _status(db: Connection, case_id: int) -> CaseStatus:
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
            " description, opened_wall, updated_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (customer_id, contact_id, category, severity, str(CaseStatus.OPEN), owner,
             store._seal("cases", "description", description), wall_time, wall_time),
        )  # fmt: skip
        case_id = await _new_id(cur)
        await _history(db, case_id, owner, wall_time, "opened", CaseStatus.OPEN,
                       contact=contact_id, category=category, severity=severity)  # fmt: skip
    return case_id


async def move_case(
    store: Store, case_id: int, to: CaseStatus, *, actor: str, wall_time: float,
    department: str | None = None, owner: str | None = None,
) -> str | None:  # fmt: skip
    """Move the case to ``to`` (``IllegalMove``, ``DepartmentRequired`` if the rules refuse);
    a resolved case notes when, a closed one too; a department stays named only while the
    case is with it. ``owner``: the case is that user's from this move on (an escalation to a
    supervisor), in the same transaction; returns the owner before when it changed."""
    async with store._write() as db:
        current = await _status(db, case_id)
        check_move(current, to, department)
        before = None
        if owner is not None:
            before = await _set_owner(db, case_id, owner, actor, wall_time, to, same_ok=True)
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
    return before


async def _set_owner(
    db: Connection, case_id: int, owner: str, actor: str, wall: float,
    status: CaseStatus, *, same_ok: bool = False,
) -> str | None:  # fmt: skip
    """Make ``owner`` the case's owner, with its history row; the owner before (None: it was
    ``owner``'s already, which ``same_ok`` allows, else ``SameOwner``)."""
    rows = list(await db.execute_fetchall("SELECT owner FROM cases WHERE id = ?", (case_id,)))
    before = str(rows[0][0])
    if before == owner:
        if same_ok:
            return None
        raise SameOwner(f"case {case_id} is {owner}'s already")
    await db.execute("UPDATE cases SET owner = ? WHERE id = ?", (owner, case_id))
    await _history(db, case_id, actor, wall, "owner_changed", status, **{"from": before,
                                                                        "to": owner})  # fmt: skip
    return before


async def change_owner(
    store: Store, case_id: int, owner: str, *, actor: str, wall_time: float
) -> str:
    """Hand a case that is not closed to ``owner`` (``SameOwner`` if it is theirs); returns
    the owner before."""
    async with store._write() as db:
        status = await _working(db, case_id)
        before = await _set_owner(db, case_id, owner, actor, wall_time, status)
    assert before is not None
    return before


async def _working(db: Connection, case_id: int) -> CaseStatus:
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
            "INSERT INTO case_notes (case_id, author, text, wall_time) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (case_id, author, store._seal("case_notes", "text", text), wall_time),
        )
        note_id = await _new_id(cur)
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
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (case_id, store._seal("case_tasks", "title", title), due_wall, actor, wall_time),
        )
        task_id = await _new_id(cur)
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
            "SELECT id, title, due_wall, created_by, created_wall, done_by, done_wall,"
            " contact_id FROM case_tasks WHERE case_id = ? ORDER BY id",
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


# -- follow-up tasks as routed work -------------------------------------------------------------


@dataclass(frozen=True)
class DueTask:
    """A follow-up task due and not yet routed, of a case still being worked on."""

    task_id: int
    case_id: int
    owner: str
    due_wall: float


_WORKING_SQL = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))


async def due_tasks(store: Store, now_wall: float) -> list[DueTask]:
    """Tasks due by ``now_wall``, not done and not routed, of cases being worked on: what the
    scheduler routes now, the longest due first."""
    rows = await store._rows(
        "SELECT t.id, t.case_id, c.owner, t.due_wall FROM case_tasks t JOIN cases c"
        " ON c.id = t.case_id WHERE t.done_wall IS NULL AND t.contact_id IS NULL"
        f" AND t.due_wall <= ? AND c.status IN ({_WORKING_SQL}) ORDER BY t.due_wall, t.id",
        (now_wall,),
    )
    return [DueTask(r[0], r[1], r[2], r[3]) for r in rows]


async def next_task_due(store: Store) -> float | None:
    """When the next task that is not done or routed falls due (of a case being worked on)."""
    row = await store._row(
        "SELECT min(t.due_wall) FROM case_tasks t JOIN cases c ON c.id = t.case_id"
        f" WHERE t.done_wall IS NULL AND t.contact_id IS NULL AND c.status IN ({_WORKING_SQL})"
    )
    return None if row is None or row[0] is None else float(row[0])


async def route_task(
    store: Store, task_id: int, *, contact_id: str, queue: str, tier: str, arrived_wall: float,
    wall_time: float,
) -> bool:  # fmt: skip
    """Mark the task routed by ``contact_id`` and create that contact (channel ``task``, no
    customer: the work is the center's), in one transaction; False, with nothing written,
    when the task was routed or done already."""
    async with store._write() as db:
        cur = await db.execute(
            "UPDATE case_tasks SET contact_id = ?, routed_wall = ?"
            " WHERE id = ? AND contact_id IS NULL AND done_wall IS NULL",
            (contact_id, wall_time, task_id),
        )
        if cur.rowcount != 1:
            return False
        await _insert_contact(db, contact_id, "task", queue, arrived_wall, None, tier, None,
                              None, False, "task", None)  # fmt: skip
    return True


@dataclass(frozen=True)
class TaskWork:
    """A routed task as its contact's agent sees it: the case it belongs to and what to do."""

    contact_id: str
    task_id: int
    case_id: int
    title: str | None
    due_wall: float
    done_wall: float | None
    category: str
    severity: str
    status: CaseStatus
    owner: str
    customer_id: str


async def task_work(store: Store, contact_id: str) -> TaskWork | None:
    """The task a ``task`` contact routes (None: it routes none)."""
    row = await store._row(
        "SELECT t.id, t.case_id, t.title, t.due_wall, t.done_wall, c.category, c.severity,"
        " c.status, c.owner, c.customer_id FROM case_tasks t JOIN cases c ON c.id = t.case_id"
        " WHERE t.contact_id = ?",
        (contact_id,),
    )
    if row is None:
        return None
    return TaskWork(
        contact_id, row[0], row[1], store._open("case_tasks", "title", row[2]), row[3], row[4],
        row[5], row[6], CaseStatus(row[7]), row[8], row[9],
    )  # fmt: skip


@dataclass(frozen=True)
class OpenTask:
    """A routed task whose contact is not over (what a restart finds in progress)."""

    contact_id: str
    task_id: int
    owner: str
    queue: str
    arrived_wall: float
    segment: int
    """The segment it goes on as (the next one once an agent had answered the current)."""
    cut: bool
    """An agent was working on it: the current segment ends where the stop cut it."""
    done: bool


async def open_tasks(store: Store) -> list[OpenTask]:
    """Routed tasks whose contact is not over, in arrival order."""
    rows = await store._rows(
        "SELECT t.contact_id, t.id, cs.owner, c.queue, c.arrived_wall,"
        " c.segment + CASE WHEN s.answered_wall IS NOT NULL THEN 1 ELSE 0 END,"
        " s.answered_wall IS NOT NULL AND s.ended_wall IS NULL, t.done_wall IS NOT NULL"
        " FROM case_tasks t JOIN cases cs ON cs.id = t.case_id"
        " JOIN contacts c ON c.contact_id = t.contact_id"
        " LEFT JOIN contact_segments s ON s.contact_id = c.contact_id AND s.segment = c.segment"
        " WHERE c.ended_wall IS NULL AND c.completed_wall IS NULL AND c.abandoned_wall IS NULL"
        " AND c.removed_wall IS NULL ORDER BY c.arrived_wall, c.seq"
    )
    return [OpenTask(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7])) for r in rows]


# -- targets passed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    """A case passed a target of its severity (noted once per case and target)."""

    case_id: int
    category: str
    severity: str
    target: CaseTarget


async def note_breaches(store: Store, policy: CasePolicy, now_wall: float) -> list[Breach]:
    """Note, on each case being worked on, the targets it passed by ``now_wall`` that were not
    noted yet (a history row by ``system``; it does not acknowledge the case); returns them."""
    found: list[Breach] = []
    async with store._write() as db:
        rows = await db.execute_fetchall(
            "SELECT id, category, severity, status, opened_wall, acknowledged_wall,"
            " acknowledge_breached_wall, resolve_breached_wall FROM cases"
            f" WHERE status IN ({_WORKING_SQL})"
            " AND (acknowledge_breached_wall IS NULL OR resolve_breached_wall IS NULL)"
        )
        for r in rows:
            status = CaseStatus(r[3])
            noted = {"acknowledge": r[6], "resolve": r[7]}
            for target in policy.breached(r[2], status, r[4], r[5], now_wall):
                if noted[target] is not None:
                    continue
                await db.execute(
                    f"UPDATE cases SET {target}_breached_wall = ? WHERE id = ?", (now_wall, r[0])
                )
                await db.execute(
                    "INSERT INTO case_history (case_id, actor, wall_time, action, status, detail)"
                    " VALUES (?, ?, ?, 'sla_breached', ?, ?)",
                    (r[0], SYSTEM, now_wall, str(status), json.dumps({"target": target})),
                )
                found.append(Breach(r[0], r[1], r[2], target))
    return found
