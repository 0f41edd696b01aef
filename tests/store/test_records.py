"""Audit log, call backs and their attempts, agent states, the sign of life, surveys."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.ivr.outcomes import IvrOutcome, IvrVisit
from contactcenter.store import (
    CallbackAttempt,
    CallbackRecord,
    DuplicateContact,
    DuplicateSurvey,
    Store,
    UnknownCallback,
)
from tests.store.conftest import Database

T0 = 1_700_000_000.0


async def test_audit_log_newest_first(store: Store) -> None:
    await store.audit("sup1", "customer_tier", "C1001", {"tier": "vip"}, T0)
    await store.audit("sup1", "agent_state", "a01", {"state": "away", "reason": None}, T0 + 1)
    await store.audit("admin", "odd", "x", {"path": Path("/tmp"), "n": 3}, T0 + 2)
    log = await store.audit_log()
    assert [(e.actor, e.action, e.target, e.detail, e.wall_time) for e in log] == [
        ("admin", "odd", "x", {"path": "/tmp", "n": 3}, T0 + 2),
        ("sup1", "agent_state", "a01", {"state": "away", "reason": None}, T0 + 1),
        ("sup1", "customer_tier", "C1001", {"tier": "vip"}, T0),
    ]
    assert [e.action for e in await store.audit_log(limit=1)] == ["odd"]


async def _book(store: Store, cid: str, phone: str, arrived: float, **kw: object) -> CallbackRecord:
    args: dict[str, object] = {
        "callback_contact_id": cid,
        "contact_id": f"in-{cid}",
        "queue": "support",
        "customer_id": None,
        "verified": False,
        "phone": phone,
        "name": None,
        "tier": "standard",
        "source": "ivr",
        "requested_by": None,
        "arrived_wall": arrived,
        "created_wall": arrived + 30,
        "due_wall": arrived + 30,
    }
    args.update(kw)
    return await store.add_callback(**args)  # type: ignore[arg-type]


async def test_callbacks_keep_their_place_and_survive_reopen(database: Database) -> None:
    async with await database.open() as store:
        late = await _book(store, "cb3", "+4930555010003", T0 + 600)
        first = await _book(
            store, "cb1", "+4930555010001", T0, customer_id="C1001", verified=True, tier="vip"
        )
        tie = await _book(store, "cb2", "+4930555010002", T0, source="api", requested_by="boss")
    async with await database.open() as store:
        assert [c.id for c in await store.open_callbacks()] == [first.id, tie.id, late.id]
        got = await store.callback(first.id)
        assert got == first
        assert (got.status, got.verified, got.contact_id, got.callback_contact_id) == (
            "scheduled",
            True,
            "in-cb1",
            "cb1",
        )
        # the contact that calls is on record with the original arrival (its place)
        rec = await store.contact_record("cb1")
        assert rec is not None
        assert (rec.kind, rec.previous_contact_id, rec.arrived_wall, rec.queue) == (
            "callback",
            "in-cb1",
            T0,
            "support",
        )
        assert rec.customer_id == "C1001" and rec.verified and rec.tier == "vip"
        assert await store.open_callback_for("support", "+4930555010002") == tie
        assert await store.open_callback_for("sales", "+4930555010002") is None

        await store.start_attempt(first.id, 1, "a02", T0 + 40)
        await store.end_attempt(first.id, 1, "no_answer", T0 + 70)
        await store.update_callback(first.id, status="scheduled", due_wall=T0 + 370, attempts=1)
        await store.update_callback(
            tie.id, status="completed", outcome="completed", ended_wall=T0 + 90
        )
        assert [c.id for c in await store.open_callbacks()] == [first.id, late.id]
        assert await store.open_callback_for("support", "+4930555010002") is None
        again = await store.callback(first.id)
        assert (again.status, again.due_wall, again.attempts) == ("scheduled", T0 + 370, 1)
        assert await store.attempts(first.id) == [
            CallbackAttempt(first.id, 1, "a02", T0 + 40, T0 + 70, "no_answer")
        ]
        assert [c.id for c in await store.callbacks()] == [late.id, tie.id, first.id]
        with pytest.raises(UnknownCallback):
            await store.update_callback(999_999, status="cancelled")
        with pytest.raises(UnknownCallback):
            await store.callback(999_999)
        with pytest.raises(DuplicateContact):
            await _book(store, "cb1", "+4930555010009", T0)
        assert [c.id for c in await store.open_callbacks()] == [first.id, late.id]


async def test_agent_states_and_sign_of_life(store: Store) -> None:
    assert await store.last_agent_states() == {} and await store.last_alive() is None
    await store.log_agent_state("a01", "offline", "available", None, T0)
    await store.log_agent_state("a02", "offline", "away", "lunch", T0 + 1)
    await store.log_agent_state("a01", "available", "busy", None, T0 + 2)
    last = await store.last_agent_states()
    assert {a: (r.state, r.reason, r.wall_time) for a, r in last.items()} == {
        "a01": ("busy", None, T0 + 2),
        "a02": ("away", "lunch", T0 + 1),
    }
    await store.mark_alive(T0 + 5)
    await store.mark_alive(T0 + 7)
    assert await store.last_alive() == T0 + 7


async def test_surveys(store: Store) -> None:
    first = await store.add_survey("c1", 5, "quick and friendly", T0)
    with pytest.raises(DuplicateSurvey):  # one answer per contact
        await store.add_survey("c1", 1, None, T0 + 1)
    await store.add_survey("c2", 1, None, T0 + 1)
    got = await store.surveys("c1")
    assert [(s.id, s.score, s.comment, s.wall_time) for s in got] == [
        (first.id, 5, "quick and friendly", T0),
    ]
    assert [s.score for s in await store.surveys("c2")] == [1]
    for bad in (0, 6, 3.5, True):
        with pytest.raises(ValueError, match="score"):
            await store.add_survey("c1", bad, None, T0)  # type: ignore[arg-type]
    assert await store.surveys("nobody") == []


async def test_ivr_visits_are_kept_in_order_with_their_outcome(store: Store) -> None:
    first = IvrVisit("leg1", "main", 100.0, 104.5, IvrOutcome.ABANDONED, "main_menu", "bye")
    second = IvrVisit(
        "leg2", "main", 101.0, 130.0, IvrOutcome.QUEUED, "sales", None, "voice-1", "cust-7"
    )
    await store.add_ivr_visit(first)
    await store.add_ivr_visit(second)
    assert await store.ivr_visits() == [first, second]
    assert await store.ivr_visits(since_wall=100.5) == [second]
