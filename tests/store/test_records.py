"""Audit log, callbacks and surveys."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.store import CallbackRecord, Store, UnknownCallback

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


async def test_callbacks_due_in_order_and_survive_reopen(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        late = await store.add_callback(
            "v3", queue="support", customer_id=None, phone="+4930555010003", due_wall=T0 + 600
        )
        first = await store.add_callback(
            "v1", queue="sales", customer_id="C1001", phone="+4930555010001", due_wall=T0
        )
        tie = await store.add_callback(
            "v2", queue="sales", customer_id=None, phone=None, due_wall=T0
        )
    async with await Store.open(db_path) as store:
        assert await store.due_callbacks(T0 - 1) == []
        due = await store.due_callbacks(T0 + 1)
        assert due == [
            CallbackRecord(first, "v1", "sales", "C1001", "+4930555010001", T0),
            CallbackRecord(tie, "v2", "sales", None, None, T0),
        ]
        await store.mark_callback_done(first, T0 + 5)
        await store.mark_callback_done(tie)
        assert [c.id for c in await store.due_callbacks(T0 + 1000)] == [late]
        with pytest.raises(UnknownCallback):
            await store.mark_callback_done(999_999)


async def test_surveys(store: Store) -> None:
    first = await store.add_survey("c1", 5, "quick and friendly", T0)
    await store.add_survey("c1", 1, None, T0 + 1)
    got = await store.surveys("c1")
    assert [(s.id, s.score, s.comment, s.wall_time) for s in got] == [
        (first, 5, "quick and friendly", T0),
        (first + 1, 1, None, T0 + 1),
    ]
    for bad in (0, 6, 3.5, True):
        with pytest.raises(ValueError, match="score"):
            await store.add_survey("c1", bad, None, T0)  # type: ignore[arg-type]
    assert await store.surveys("nobody") == []
