"""Follow-up tasks as routed work, owner changes and targets passed, in a real database (a
SQLite file and PostgreSQL): a due task is routed once (also after reopening the database: a
restart never routes it twice), with its contact on the task channel; a done task or one of a
resolved case is not routed; an owner change and each target passed are history rows, a
breach noted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.cases import CaseStatus, load_cases
from contactcenter.store import Store
from contactcenter.store.cases import (
    SameOwner,
    add_case_task,
    case,
    change_owner,
    complete_task,
    due_tasks,
    move_case,
    next_task_due,
    note_breaches,
    open_case,
    open_tasks,
    route_task,
    task_work,
)
from tests.store.conftest import Database

NOW = 1_800_000_000.0
CONFIG = Path(__file__).resolve().parents[2] / "config"


async def a_case(store: Store, severity: str = "high") -> int:
    return await open_case(
        store, customer_id="C1001", contact_id="h-chat", category="billing", severity=severity,
        description="billed twice", owner="a05", wall_time=NOW,
    )  # fmt: skip


async def route(store: Store, task_id: int, wall: float) -> bool:
    return await route_task(
        store, task_id, contact_id=f"task-{task_id}", queue="case_tasks", tier="standard",
        arrived_wall=wall, wall_time=wall,
    )  # fmt: skip


async def test_a_due_task_is_routed_once_even_across_a_restart(database: Database) -> None:
    async with await database.open() as store:
        cid = await a_case(store)
        due = await add_case_task(store, cid, "refund", NOW + 60, actor="a05", wall_time=NOW)
        later = await add_case_task(store, cid, "call back", NOW + 600, actor="a05",
                                    wall_time=NOW)  # fmt: skip
        assert await due_tasks(store, NOW + 59) == []
        assert await next_task_due(store) == NOW + 60
        [task] = await due_tasks(store, NOW + 61)
        assert (task.task_id, task.case_id, task.owner) == (due, cid, "a05")
        assert await route(store, due, NOW + 61)
        assert await due_tasks(store, NOW + 61) == []
        assert await next_task_due(store) == NOW + 600

    async with await database.open() as store:  # the engine started again
        assert [t.task_id for t in await due_tasks(store, NOW + 700)] == [later]
        assert not await route(store, due, NOW + 700)  # a second try writes nothing
        contact = await store.contact("task-1")
        assert contact is not None and (contact.channel, contact.queue) == ("task", "case_tasks")
        assert contact.customer_id is None  # the work is the center's, not a customer contact
        [open_one] = await open_tasks(store)
        assert (open_one.contact_id, open_one.task_id, open_one.owner) == ("task-1", due, "a05")
        work = await task_work(store, "task-1")
        assert work is not None
        assert (work.case_id, work.title, work.due_wall, work.done_wall) == (
            cid, "refund", NOW + 60, None,
        )  # fmt: skip
        assert (await case(store, cid)).tasks[0].contact_id == "task-1"


async def test_done_tasks_and_tasks_of_resolved_cases_are_not_routed(store: Store) -> None:
    cid = await a_case(store)
    done = await add_case_task(store, cid, "refund", NOW, actor="a05", wall_time=NOW)
    await complete_task(store, cid, done, actor="a05", wall_time=NOW + 1)
    assert await due_tasks(store, NOW + 10) == []
    assert not await route(store, done, NOW + 10)
    await add_case_task(store, cid, "call back", NOW, actor="a05", wall_time=NOW)
    await move_case(store, cid, CaseStatus.RESOLVED, actor="a05", wall_time=NOW + 2)
    assert await due_tasks(store, NOW + 10) == []
    assert await next_task_due(store) is None


async def test_an_owner_change_and_an_escalation_to_a_supervisor_are_history(
    store: Store,
) -> None:
    cid = await a_case(store)
    assert await change_owner(store, cid, "a07", actor="sup", wall_time=NOW + 1) == "a05"
    with pytest.raises(SameOwner):
        await change_owner(store, cid, "a07", actor="sup", wall_time=NOW + 2)
    before = await move_case(store, cid, CaseStatus.ESCALATED, actor="a07", wall_time=NOW + 3,
                             owner="sup")  # fmt: skip
    assert before == "a07"
    rec = await case(store, cid)
    assert (rec.owner, rec.status) == ("sup", CaseStatus.ESCALATED)
    changes = [(h.actor, h.action, h.detail.get("from"), h.detail.get("to")) for h in rec.history]
    assert changes[1:] == [
        ("sup", "owner_changed", "a05", "a07"),
        ("a07", "owner_changed", "a07", "sup"),
        ("a07", "moved", "open", None),
    ]


async def test_each_target_passed_is_noted_once_and_does_not_acknowledge(store: Store) -> None:
    policy = load_cases(CONFIG)  # high: acknowledge within 1 h, resolve within 24 h
    cid = await a_case(store)
    assert await note_breaches(store, policy, NOW + 3599) == []
    [ack] = await note_breaches(store, policy, NOW + 3601)
    assert (ack.case_id, ack.category, ack.severity, ack.target) == (
        cid, "billing", "high", "acknowledge",
    )  # fmt: skip
    assert await note_breaches(store, policy, NOW + 7200) == []
    assert [b.target for b in await note_breaches(store, policy, NOW + 86_401)] == ["resolve"]
    assert await note_breaches(store, policy, NOW + 90_000) == []
    rec = await case(store, cid)
    assert rec.acknowledged_wall is None
    assert [(h.actor, h.action, h.detail) for h in rec.history[1:]] == [
        ("system", "sla_breached", {"target": "acknowledge"}),
        ("system", "sla_breached", {"target": "resolve"}),
    ]
