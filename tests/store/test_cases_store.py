"""Complaint cases in a real database (a SQLite file and PostgreSQL): the moves the table
allows and refuses, a history row for every change, notes and task texts sealed at rest (in
the file; in PostgreSQL's rows), erasure and retention of their texts, and the case policy
read from config."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.cases import (
    TRANSITIONS,
    CaseStatus,
    DepartmentRequired,
    IllegalMove,
    check_move,
    load_cases,
)
from contactcenter.config import ConfigError
from contactcenter.config.models import RetentionSettings
from contactcenter.store import CustomerRecord, Store
from contactcenter.store.cases import (
    CaseClosed,
    TaskDone,
    UnknownCase,
    UnknownTask,
    add_case_note,
    add_case_task,
    case,
    complete_task,
    customer_cases,
    move_case,
    open_case,
    working_cases,
)
from contactcenter.store.erasure import erase_customer
from contactcenter.store.retention import apply_retention
from tests.store.conftest import Database
from tests.store.scenes import DAY, contact
from tests.store.stored import every_value, rows

NOW = 1_800_000_000.0
CONFIG = Path(__file__).resolve().parents[2] / "config"
S = CaseStatus
SECRET = "Helena was billed twice for roaming"
NOTE = "called Helena back, she wants a refund"
TASK = "refund Helena's second roaming charge"


async def helena_case(store: Store, at: float = NOW) -> int:
    return await open_case(
        store, customer_id="C1001", contact_id="h-chat", category="billing", severity="high",
        description=SECRET, owner="a05", wall_time=at,
    )  # fmt: skip


# -- the transitions table -----------------------------------------------------------------


def test_every_pair_of_statuses_is_allowed_or_refused_by_the_table() -> None:
    for current in S:
        for to in S:
            department = "network" if to is S.WITH_DEPARTMENT else None
            if to in TRANSITIONS[current]:
                check_move(current, to, department)
            else:
                with pytest.raises(IllegalMove) as err:
                    check_move(current, to, department)
                assert f"a case {current} cannot move to {to}" in str(err.value)
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert S.CLOSED not in TRANSITIONS[S.OPEN]  # resolved first


def test_a_department_is_named_exactly_when_handing_to_one() -> None:
    with pytest.raises(DepartmentRequired):
        check_move(S.OPEN, S.WITH_DEPARTMENT, None)
    with pytest.raises(DepartmentRequired):
        check_move(S.OPEN, S.ESCALATED, "network")


# -- the store ---------------------------------------------------------------------------------


async def test_a_case_keeps_every_change_with_who_and_when(store: Store) -> None:
    cid = await helena_case(store)
    await move_case(store, cid, S.ESCALATED, actor="a05", wall_time=NOW + 60)
    await move_case(store, cid, S.WITH_DEPARTMENT, actor="sup", wall_time=NOW + 120,
                    department="billing_office")  # fmt: skip
    note = await add_case_note(store, cid, NOTE, author="b01", wall_time=NOW + 180)
    task = await add_case_task(store, cid, TASK, NOW + DAY, actor="b01", wall_time=NOW + 240)
    await complete_task(store, cid, task, actor="b01", wall_time=NOW + 300)
    await move_case(store, cid, S.RESOLVED, actor="b01", wall_time=NOW + 360)
    await move_case(store, cid, S.CLOSED, actor="a05", wall_time=NOW + 420)

    got = await case(store, cid)
    assert (got.status, got.department, got.description) == (S.CLOSED, None, SECRET)
    assert (got.opened_wall, got.acknowledged_wall, got.resolved_wall, got.closed_wall) == (
        NOW, NOW + 60, NOW + 360, NOW + 420,
    )  # fmt: skip
    assert [(h.actor, h.wall_time, h.action, h.status, h.detail) for h in got.history] == [
        ("a05", NOW, "opened", S.OPEN,
         {"contact": "h-chat", "category": "billing", "severity": "high"}),
        ("a05", NOW + 60, "moved", S.ESCALATED, {"from": "open"}),
        ("sup", NOW + 120, "moved", S.WITH_DEPARTMENT,
         {"from": "escalated", "department": "billing_office"}),
        ("b01", NOW + 180, "note_added", S.WITH_DEPARTMENT, {"note": note}),
        ("b01", NOW + 240, "task_added", S.WITH_DEPARTMENT, {"task": task, "due": NOW + DAY}),
        ("b01", NOW + 300, "task_done", S.WITH_DEPARTMENT, {"task": task}),
        ("b01", NOW + 360, "moved", S.RESOLVED, {"from": "with_department"}),
        ("a05", NOW + 420, "moved", S.CLOSED, {"from": "resolved"}),
    ]  # fmt: skip
    assert [(n.author, n.text) for n in got.notes] == [("b01", NOTE)]
    [t] = got.tasks
    assert (t.title, t.due_wall, t.created_by, t.done_by, t.done_wall) == (
        TASK, NOW + DAY, "b01", "b01", NOW + 300,
    )  # fmt: skip


async def test_refused_steps_change_nothing(store: Store) -> None:
    cid = await helena_case(store)
    with pytest.raises(IllegalMove):
        await move_case(store, cid, S.CLOSED, actor="a05", wall_time=NOW + 1)
    with pytest.raises(DepartmentRequired):
        await move_case(store, cid, S.WITH_DEPARTMENT, actor="a05", wall_time=NOW + 1)
    with pytest.raises(UnknownCase):
        await move_case(store, cid + 1, S.RESOLVED, actor="a05", wall_time=NOW + 1)
    with pytest.raises(UnknownTask):
        await complete_task(store, cid, 99, actor="a05", wall_time=NOW + 1)
    got = await case(store, cid)
    assert (got.status, got.acknowledged_wall, len(got.history)) == (S.OPEN, None, 1)
    task = await add_case_task(store, cid, TASK, NOW + DAY, actor="a05", wall_time=NOW + 2)
    await complete_task(store, cid, task, actor="a05", wall_time=NOW + 3)
    with pytest.raises(TaskDone):
        await complete_task(store, cid, task, actor="a06", wall_time=NOW + 4)
    await move_case(store, cid, S.RESOLVED, actor="a05", wall_time=NOW + 5)
    await move_case(store, cid, S.CLOSED, actor="a05", wall_time=NOW + 6)
    with pytest.raises(CaseClosed):
        await add_case_note(store, cid, NOTE, author="a05", wall_time=NOW + 7)
    with pytest.raises(IllegalMove):
        await move_case(store, cid, S.OPEN, actor="a05", wall_time=NOW + 8)
    assert len((await case(store, cid)).history) == 5


async def test_working_cases_and_a_customers_cases(store: Store) -> None:
    first = await helena_case(store)
    second = await helena_case(store, NOW + 10)
    other = await open_case(
        store, customer_id="C1002", contact_id="m-chat", category="service", severity="low",
        description="Marcus: no signal", owner="a06", wall_time=NOW + 20,
    )  # fmt: skip
    await move_case(store, first, S.RESOLVED, actor="a05", wall_time=NOW + 30)
    assert [c.id for c in await customer_cases(store, "C1001")] == [second, first]
    assert [c.id for c in await customer_cases(store, "C1001", working_only=True)] == [second]
    assert [c.id for c in await working_cases(store)] == [second, other]


async def test_texts_are_sealed_at_rest(store: Store, database: Database) -> None:
    cid = await helena_case(store)
    await add_case_note(store, cid, NOTE, author="a05", wall_time=NOW + 1)
    await add_case_task(store, cid, TASK, NOW + DAY, actor="a05", wall_time=NOW + 2)
    raw = await every_value(database)
    assert [v for v in raw if v[0] == "cases"]  # the reading sees the stored rows
    assert not [v for v in raw if "Helena" in v[2]]
    texts = [
        await rows(database, "SELECT description FROM cases WHERE id = ?", (cid,)),
        await rows(database, "SELECT text FROM case_notes WHERE case_id = ?", (cid,)),
        await rows(database, "SELECT title FROM case_tasks WHERE case_id = ?", (cid,)),
    ]
    assert all(str(v[0][0]).startswith("enc1:") for v in texts)
    got = await case(store, cid)  # the store opens them
    assert (got.description, got.notes[0].text, got.tasks[0].title) == (SECRET, NOTE, TASK)


async def test_erasure_leaves_no_case_text_and_keeps_the_case(
    store: Store, database: Database
) -> None:
    await store.upsert_customer(CustomerRecord(id="C1001", name="Helena Brandt"))
    await contact(store, "h-chat", arrived=NOW - DAY, customer_id="C1001", name="Helena Brandt")
    cid = await helena_case(store)
    await add_case_note(store, cid, NOTE, author="a05", wall_time=NOW + 1)
    await add_case_task(store, cid, TASK, NOW + DAY, actor="a05", wall_time=NOW + 2)
    marcus = await open_case(
        store, customer_id="C1002", contact_id="m-chat", category="service", severity="low",
        description="Marcus: no signal", owner="a06", wall_time=NOW,
    )  # fmt: skip
    done = await erase_customer(store, "C1001", actor="dpo", wall_time=NOW + 3600)
    assert (done.counts["cases"], done.counts["case_texts"]) == (1, 3)
    raw = await every_value(database)
    assert [v for v in raw if v[0] == "cases"]  # the reading sees the stored rows
    leaks = [v for v in raw if "Helena" in v[2] or "C1001" in v[2]]
    assert leaks == []
    got = await case(store, cid)
    assert (got.customer_id, got.description, got.notes, got.tasks[0].title) == (
        done.marker, None, (), None,
    )  # fmt: skip
    assert [h.action for h in got.history] == ["opened", "note_added", "task_added"]
    assert (await case(store, marcus)).description == "Marcus: no signal"


async def test_retention_removes_the_texts_of_cases_closed_long_ago(store: Store) -> None:
    old = await helena_case(store, NOW - 300 * DAY)
    await add_case_note(store, old, NOTE, author="a05", wall_time=NOW - 300 * DAY)
    await add_case_task(store, old, TASK, NOW - 299 * DAY, actor="a05", wall_time=NOW - 300 * DAY)
    await move_case(store, old, S.RESOLVED, actor="a05", wall_time=NOW - 200 * DAY)
    await move_case(store, old, S.CLOSED, actor="a05", wall_time=NOW - 200 * DAY)
    still = await helena_case(store, NOW - 300 * DAY)  # never closed: kept
    await add_case_note(store, still, NOTE, author="a05", wall_time=NOW - 300 * DAY)
    report = await apply_retention(
        store, RetentionSettings(notes_days=180), NOW, actor="cron", pause=0
    )
    assert report.counts["case_texts"] == 3
    gone, kept = await case(store, old), await case(store, still)
    assert (gone.description, gone.notes, gone.tasks[0].title) == (None, (), None)
    assert (kept.description, [n.text for n in kept.notes]) == (SECRET, [NOTE])


# -- the policy --------------------------------------------------------------------------------


def test_the_example_policy_loads() -> None:
    policy = load_cases(CONFIG)
    assert set(policy.categories) == {"billing", "service", "contract", "conduct"}
    assert policy.severities["high"].acknowledge_within_hours == 1
    assert policy.severities["normal"].resolve_within_hours == 48
    assert "billing_office" in policy.departments


def test_overdue_by_either_target() -> None:
    high = load_cases(CONFIG)  # acknowledge within 1 h, resolve within 24 h
    assert not high.overdue("high", S.OPEN, NOW, None, NOW + 3600)
    assert high.overdue("high", S.OPEN, NOW, None, NOW + 3601)
    assert not high.overdue("high", S.OPEN, NOW, NOW + 60, NOW + 3601)
    assert high.overdue("high", S.ESCALATED, NOW, NOW + 60, NOW + DAY + 1)
    assert not high.overdue("high", S.RESOLVED, NOW, None, NOW + 2 * DAY)


def test_a_bad_policy_names_file_key_and_reason(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        "categories: [{id: billing}, {id: billing}]\n"
        "severities: [{id: high, acknowledge_within_hours: 0, resolve_within_hours: 24}]\n"
        "departmens: []\n"
    )
    with pytest.raises(ConfigError) as err:
        load_cases(tmp_path)
    text = str(err.value)
    assert "cases.yaml" in text
    assert "severities[0].acknowledge_within_hours" in text
    assert "departmens" in text
    (tmp_path / "cases.yaml").write_text(
        "categories: [{id: billing}, {id: billing}]\nseverities: [{id: high, "
        "acknowledge_within_hours: 1, resolve_within_hours: 24}]\n"
    )
    with pytest.raises(ConfigError, match=r"categories\[1\]\.id.*categories\[0\] has this id"):
        load_cases(tmp_path)
    (tmp_path / "cases.yaml").write_text("categories: [\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        load_cases(tmp_path)
