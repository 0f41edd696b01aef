"""Contact records from domain events: a full life, abandon, removal, transfer, restart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ChannelName,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactEscalated,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    OfferRejected,
    PriorityChanged,
    TargetBreached,
    WrapUpEnded,
)
from contactcenter.store import ContactRecord, DuplicateContact, Store, UnknownContact
from tests.store.conftest import Database

CHAT: ChannelName = "chat"
T0 = 1_700_000_000.0
"""Wall clock at arrival; event ``at`` values are a monotonic clock near 50 (never stored)."""


async def _create(store: Store, cid: str, arrived: float = T0, **kw: str) -> None:
    args: dict[str, str] = {"channel": "chat", "queue": "support_chat", "tier": "standard"}
    args.update(kw)
    await store.create_contact(
        cid,
        channel=args["channel"],
        queue=args["queue"],
        arrived_wall=arrived,
        customer_id=args.get("customer_id"),
        tier=args["tier"],
        customer_name=args.get("customer_name"),
        topic=args.get("topic"),
    )


def _queued(
    cid: str, at: float, queue: str = "support_chat", tier: str = "standard"
) -> ContactQueued:
    return ContactQueued(
        at=at,
        contact_id=cid,
        queue=queue,
        channel="chat",
        priority=0,
        tier=tier,
        arrived_at=50.0,
        segment=1,
    )


async def test_created_contact(store: Store) -> None:
    await _create(store, "c1", customer_id="C1001", tier="vip", customer_name="Helena",
                  topic="support")  # fmt: skip
    rec = await store.contact_record("c1")
    assert rec == ContactRecord(
        contact_id="c1",
        channel="chat",
        queue="support_chat",
        first_queue="support_chat",
        tier="vip",
        customer_id="C1001",
        customer_name="Helena",
        topic="support",
        arrived_wall=T0,
    )
    assert await store.contact("c1") == rec
    assert await store.contact_record("nope") is None
    with pytest.raises(DuplicateContact):
        await _create(store, "c1")


async def test_full_life(store: Store) -> None:
    """Queued, offered, rejected, offered again, answered, completed, wrapped up."""
    await _create(store, "c1")
    q, ch = "support_chat", CHAT
    steps: list[tuple[float, list[Event]]] = [
        (T0 + 0.1, [_queued("c1", 50.0)]),
        (T0 + 2.0, [ContactOffered(51.9, "c1", q, ch, "a1", 66.9, 0)]),
        (T0 + 5.0, [OfferRejected(54.9, "c1", q, ch, "a1", "declined")]),
        (T0 + 7.0, [TargetBreached(60.0, "c1", q, ch, 10.0),
                    ContactOffered(56.9, "c1", q, ch, "a2", 71.9, 1)]),
        (T0 + 12.0, [ContactAnswered(61.9, "c1", q, ch, "a2", 11.9, 1)]),
        (T0 + 132.0, [ContactCompleted(181.9, "c1", q, ch, "a2", 120.0)]),
        (T0 + 152.5, [WrapUpEnded(202.4, "c1", q, ch, "a2", "resolved", 20.5)]),
    ]  # fmt: skip
    for wall, events in steps:
        await store.record_events(events, wall)
    await store.set_disposition_notes("c1", "reset the router")
    rec = await store.contact_record("c1")
    assert rec is not None
    assert rec == ContactRecord(
        contact_id="c1",
        channel="chat",
        queue=q,
        first_queue=q,
        tier="standard",
        customer_id=None,
        customer_name=None,
        topic=None,
        arrived_wall=T0,
        queued_wall=T0 + 0.1,
        offered_wall=T0 + 7.0,
        answered_wall=T0 + 12.0,
        completed_wall=T0 + 132.0,
        ended_wall=T0 + 152.5,
        agent_id="a2",
        offers=2,
        rejections=1,
        wait_seconds=11.9,
        talk_seconds=120.0,
        wrap_up_seconds=20.5,
        disposition="resolved",
        disposition_notes="reset the router",
        breached=True,
        outcome="completed",
    )
    assert await store.waiting_contacts("chat") == []


async def test_wrap_up_timed_out_has_no_disposition(store: Store) -> None:
    await _create(store, "c1")
    q, ch = "support_chat", CHAT
    await store.record_events(
        [
            _queued("c1", 1.0),
            ContactOffered(1.0, "c1", q, ch, "a1", 16.0, 0),
            ContactAnswered(2.0, "c1", q, ch, "a1", 1.0, 1),
            ContactCompleted(3.0, "c1", q, ch, "a1", 1.0),
            WrapUpEnded(33.0, "c1", q, ch, "a1", None, 30.0),
        ],
        T0 + 33,
    )
    rec = await store.contact_record("c1")
    assert rec is not None
    assert (rec.disposition, rec.wrap_up_seconds, rec.outcome) == (None, 30.0, "completed")


async def test_abandon_while_ringing(store: Store) -> None:
    await _create(store, "c1")
    q, ch = "support_chat", CHAT
    await store.record_events([_queued("c1", 50.0)], T0)
    await store.record_events([ContactOffered(53.0, "c1", q, ch, "a1", 68.0, 0)], T0 + 3)
    await store.record_events(
        [
            OfferRejected(58.0, "c1", q, ch, "a1", "contact_left"),
            ContactAbandoned(58.0, "c1", q, ch, 8.0, 1),
        ],
        T0 + 8,
    )
    rec = await store.contact_record("c1")
    assert rec is not None
    assert (rec.abandoned_wall, rec.wait_seconds, rec.outcome) == (T0 + 8, 8.0, "abandoned")
    assert (rec.offers, rec.rejections, rec.agent_id, rec.answered_wall) == (1, 1, None, None)
    assert await store.waiting_contacts() == []


async def test_removal_and_transfer(store: Store) -> None:
    await _create(store, "v1", channel="voice", queue="sales")
    await store.record_events(
        [
            ContactQueued(1.0, "v1", "sales", "voice", 0, "gold", 1.0, 1),
            ContactEscalated(31.0, "v1", "sales", "voice", 1),
            PriorityChanged(31.0, "v1", "sales", 0, 10, "escalation"),
            ContactTransferred(61.0, "v1", "sales", "support", "voice", "overflow", 1),
            ContactQueued(61.0, "v1", "support", "voice", 10, "gold", 1.0, 1),
        ],
        T0 + 61,
    )
    rec = await store.contact_record("v1")
    assert rec is not None
    assert (rec.queue, rec.first_queue, rec.tier) == ("support", "sales", "gold")
    assert (rec.transfers, rec.transferred_from, rec.transferred_to) == (1, "sales", "support")
    assert rec.queued_wall == T0 + 61  # the first queueing in this batch
    assert [w.contact_id for w in await store.waiting_contacts("voice")] == ["v1"]
    await store.record_events(
        [
            CallbackOffered(90.0, "v1", "support", "voice"),
            ContactRemoved(
                95.0, "v1", "support", "voice", "callback_accepted", "callback", 94.0, 1
            ),
        ],
        T0 + 95,
    )
    rec = await store.contact_record("v1")
    assert rec is not None
    assert (rec.removed_wall, rec.removed_reason, rec.outcome, rec.wait_seconds) == (
        T0 + 95,
        "callback_accepted",
        "callback",
        94.0,
    )
    assert await store.waiting_contacts("voice") == []


async def test_agent_states_and_unknown_contacts(store: Store) -> None:
    q, ch = "support_chat", CHAT
    await store.record_events(
        [
            AgentStateChanged(1.0, "a1", AgentActivity.OFFLINE, AgentActivity.AVAILABLE, None),
            _queued("ghost", 1.0),
            ContactOffered(1.0, "ghost", q, ch, "a1", 16.0, 0),
            ContactAnswered(2.0, "ghost", q, ch, "a1", 1.0, 1),
            AgentStateChanged(2.0, "a1", AgentActivity.AVAILABLE, AgentActivity.AWAY, "lunch"),
        ],
        T0,
    )
    await store.record_events([], T0 + 1)
    assert await store.contact_record("ghost") is None
    log = await store.agent_states("a1")
    assert [(s.previous, s.state, s.reason, s.wall_time) for s in log] == [
        ("available", "away", "lunch", T0),
        ("offline", "available", None, T0),
    ]
    assert await store.agent_states("a2") == []
    assert len(await store.agent_states(limit=1)) == 1


async def test_waiting_contacts_after_reopen(database: Database) -> None:
    """Exactly the waiting ones come back, by original arrival time, then creation order."""
    q, ch = "support_chat", CHAT
    async with await database.open() as store:
        # created out of arrival order on purpose, with a tie at T0 + 1
        arrivals = {"w3": T0 + 3, "w1": T0 + 1, "w1b": T0 + 1, "w0": T0, "done": T0 + 0.5,
                    "gone": T0 + 0.7, "talking": T0 + 0.2, "ringing": T0 + 2,
                    "removed": T0 + 2.5, "closed": T0 + 2.7}  # fmt: skip
        for cid, arrived in arrivals.items():
            await _create(store, cid, arrived, customer_id=f"cust-{cid}", tier="gold")
        await _create(store, "voice1", T0, channel="voice", queue="sales")
        await store.record_events([_queued(c, 1.0, tier="gold") for c in arrivals], T0 + 10)
        await store.record_events(
            [
                ContactOffered(2.0, "ringing", q, ch, "a1", 17.0, 0),
                ContactAnswered(2.0, "talking", q, ch, "a2", 1.0, 1),
                ContactAnswered(2.0, "done", q, ch, "a3", 1.0, 1),
                ContactCompleted(3.0, "done", q, ch, "a3", 1.0),
                WrapUpEnded(4.0, "done", q, ch, "a3", "ok", 1.0),
                ContactAbandoned(2.0, "gone", q, ch, 2.0, 1),
                ContactRemoved(2.0, "removed", q, ch, "max_wait", "disconnect", 2.0, 1),
            ],
            T0 + 11,
        )
        assert await store.mark_ended("closed", T0 + 12, "restart") is True
        assert await store.mark_ended("closed", T0 + 13, "again") is False
        with pytest.raises(UnknownContact):
            await store.mark_ended("nope", T0, "x")
    async with await database.open() as store:
        waiting = await store.waiting_contacts("chat")
        assert [w.contact_id for w in waiting] == ["w0", "w1", "w1b", "ringing", "w3"]
        assert [w.arrived_wall for w in waiting] == [T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3]
        assert {(w.queue, w.tier) for w in waiting} == {("support_chat", "gold")}
        assert waiting[0].customer_id == "cust-w0"
        assert [w.contact_id for w in await store.waiting_contacts("voice")] == ["voice1"]
        closed = await store.contact_record("closed")
        assert closed is not None
        assert (closed.ended_wall, closed.end_reason, closed.outcome) == (
            T0 + 12,
            "restart",
            "ended",
        )
        done = await store.contact_record("done")
        assert done is not None and done.outcome == "completed"


async def test_contact_records_since(store: Store) -> None:
    for i in range(5):
        await _create(store, f"c{i}", T0 + 10 * (4 - i))  # created newest first
    assert [r.contact_id for r in await store.contact_records()] == [
        "c4", "c3", "c2", "c1", "c0"
    ]  # fmt: skip
    since = await store.contact_records(since_wall=T0 + 20)
    assert [r.contact_id for r in since] == ["c2", "c1", "c0"]
    assert [r.contact_id for r in await store.contact_records(limit=2)] == ["c4", "c3"]


async def test_disposition_notes_of_unknown_contact(store: Store) -> None:
    with pytest.raises(UnknownContact):
        await store.set_disposition_notes("nope", "x")


async def test_record_events_is_one_transaction(store: Store) -> None:
    """A failing batch leaves nothing behind (the agent state row is rolled back too)."""
    await _create(store, "c1")
    bad = replace(_queued("c1", 1.0), queue=None)  # type: ignore[arg-type]  # NOT NULL fails
    with pytest.raises(Exception, match=r"(?i)not.null"):
        await store.record_events(
            [AgentStateChanged(1.0, "a1", AgentActivity.OFFLINE, AgentActivity.BUSY, None), bad],
            T0,
        )
    assert await store.agent_states() == []
    rec = await store.contact_record("c1")
    assert rec is not None and rec.queued_wall is None
