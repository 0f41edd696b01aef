"""The store fed by the real routing core: the events it emits make the expected record."""

from __future__ import annotations

from collections.abc import Callable

from contactcenter.config import (
    AgentConfig,
    CenterSettings,
    QueueConfig,
    Skill,
    Tier,
    build_center,
)
from contactcenter.events import ContactAnswered, Event, OfferRejected
from contactcenter.routing import Router
from contactcenter.store import Store

W0 = 1_700_000_000.0
"""Wall clock when the router's monotonic clock reads 0."""


def _router() -> Router:
    settings = CenterSettings(
        name="store test",
        skills=(Skill(id="support"),),
        tiers=(Tier(id="vip", priority=100), Tier(id="standard", priority=0)),
    )
    q = QueueConfig(id="chat_q", channel="chat", skills={"support": 2}, wrap_up_seconds=60)
    agents = [AgentConfig(id=a, skills={"support": 3}, queues={"chat_q": 1}) for a in ("a1", "a2")]
    return Router(build_center(settings, [q], agents, []))


async def test_chat_life_from_router_events(store: Store) -> None:
    router = _router()
    seen: list[Event] = []

    async def at(now: float, call: Callable[[float], list[Event]]) -> None:
        events = call(now)
        seen.extend(events)
        await store.record_events(events, W0 + now)

    await at(100.0, lambda n: router.agent_logged_in(n, "a1"))
    await store.create_contact(
        "chat-1", channel="chat", queue="chat_q", arrived_wall=W0 + 101, tier="vip"
    )
    await at(101.0, lambda n: router.contact_arrived(n, "chat-1", "chat_q", tier="vip"))
    assert [w.contact_id for w in await store.waiting_contacts()] == ["chat-1"]
    await at(103.0, lambda n: router.offer_declined(n, "chat-1"))
    await at(104.0, lambda n: router.agent_logged_in(n, "a2"))
    await at(106.0, lambda n: router.offer_accepted(n, "chat-1"))
    assert await store.waiting_contacts() == []
    await at(200.0, lambda n: router.contact_completed(n, "chat-1"))
    await at(210.0, lambda n: router.wrap_up_done(n, "chat-1", "resolved"))

    assert [e.agent_id for e in seen if isinstance(e, OfferRejected)] == ["a1"]
    answered = [e for e in seen if isinstance(e, ContactAnswered)]
    assert [(e.agent_id, e.wait_seconds) for e in answered] == [("a2", 5.0)]
    rec = await store.contact_record("chat-1")
    assert rec is not None
    assert (rec.queued_wall, rec.offered_wall, rec.answered_wall) == (W0 + 101, W0 + 104, W0 + 106)
    assert (rec.completed_wall, rec.ended_wall) == (W0 + 200, W0 + 210)
    assert (rec.agent_id, rec.offers, rec.rejections, rec.tier) == ("a2", 2, 1, "vip")
    assert (rec.wait_seconds, rec.talk_seconds, rec.wrap_up_seconds) == (5.0, 94.0, 10.0)
    assert (rec.disposition, rec.outcome) == ("resolved", "completed")
    states = await store.agent_states()
    assert {s.agent_id for s in states} == {"a1", "a2"}
    assert states[-1].previous == "offline" and states[-1].wall_time == W0 + 100


def _two_queue_router() -> Router:
    settings = CenterSettings(
        name="store test",
        skills=(Skill(id="support"),),
        tiers=(Tier(id="standard", priority=0),),
    )
    queues = [
        QueueConfig(id="q1", channel="voice", skills={"support": 2}, wrap_up_seconds=30),
        QueueConfig(id="q2", channel="voice", skills={"support": 2}, wrap_up_seconds=30),
    ]
    agents = [
        AgentConfig(id="a1", skills={"support": 3}, queues={"q1": 1}),
        AgentConfig(id="a2", skills={"support": 3}, queues={"q2": 1}),
        AgentConfig(id="a3", skills={"support": 3}, queues={"q2": 1}),
    ]
    return Router(build_center(settings, queues, agents, []))


async def test_a_transferred_call_is_one_contact_with_a_segment_per_agent(store: Store) -> None:
    """a1 answers in q1 and transfers blind to q2; a2 answers, consults a3 and hands over
    (warm); a3 finishes. One record, three segments, each with its own times."""
    router = _two_queue_router()

    async def at(now: float, call: Callable[[float], list[Event]]) -> None:
        await store.record_events(call(now), W0 + now)

    await at(0, lambda n: router.agent_logged_in(n, "a1"))
    await store.create_contact("v1", channel="voice", queue="q1", arrived_wall=W0 + 1, tier="x")
    await at(1, lambda n: router.contact_arrived(n, "v1", "q1"))
    await at(3, lambda n: router.offer_accepted(n, "v1"))
    await at(63, lambda n: router.hand_off(n, "v1", to_queue="q2"))  # waits: q2 unstaffed
    await at(70, lambda n: router.agent_logged_in(n, "a2"))
    await at(72, lambda n: router.offer_accepted(n, "v1"))
    await at(80, lambda n: router.wrap_up_done(n, "v1", "transferred", agent_id="a1"))
    await at(100, lambda n: router.agent_logged_in(n, "a3"))
    await at(110, lambda n: router.consult_started(n, "v1", "a3"))
    await at(112, lambda n: router.consult_accepted(n, "v1"))
    await at(130, lambda n: router.consult_completed(n, "v1"))
    await store.set_segment_note("v1", 2, "wants the fibre upgrade; verified")
    await at(190, lambda n: router.contact_completed(n, "v1"))
    await at(195, lambda n: router.wrap_up_done(n, "v1", "resolved", agent_id="a3"))
    await at(200, lambda n: router.advance(n))  # a2's wrap-up of segment 2 times out (160)
    await store.add_hold("v1", 12.5)

    rec = await store.contact_record("v1")
    assert rec is not None
    # two transfers: blind q1 -> q2, then warm a2 -> a3 (within q2)
    assert (rec.segment, rec.transfers, rec.transferred_from, rec.transferred_to) == (
        3, 2, "q2", "q2",
    )  # fmt: skip
    assert (rec.answered_wall, rec.wait_seconds, rec.agent_id) == (W0 + 3, 2.0, "a3")
    assert (rec.talk_seconds, rec.completed_wall, rec.ended_wall) == (
        60 + 58 + 60,
        W0 + 190,
        W0 + 195,
    )
    assert (rec.outcome, rec.disposition, rec.wrap_up_seconds) == ("completed", "resolved", 5)
    segs = await store.segments("v1")
    assert [
        (s.segment, s.queue, s.agent_id, s.answered_wall, s.ended_wall, s.talk_seconds,
         s.end_reason, s.to_queue, s.to_agent, s.wrap_up_seconds, s.disposition)
        for s in segs
    ] == [
        (1, "q1", "a1", W0 + 3, W0 + 63, 60, "transferred", "q2", None, 17, "transferred"),
        (2, "q2", "a2", W0 + 72, W0 + 130, 58, "transferred", "q2", "a3", 30, None),
        (3, "q2", "a3", W0 + 130, W0 + 190, 60, "completed", None, None, 5, "resolved"),
    ]  # fmt: skip
    assert (segs[1].queued_wall, segs[1].wait_seconds, segs[1].offers) == (W0 + 63, 9, 1)
    assert segs[1].note == "wants the fibre upgrade; verified"
    assert (rec.hold_seconds, [s.hold_seconds for s in segs]) == (12.5, [0, 0, 12.5])


async def test_open_contacts_and_closing_what_a_crash_cut(store: Store) -> None:
    router = _two_queue_router()

    async def at(now: float, call: Callable[[float], list[Event]]) -> None:
        await store.record_events(call(now), W0 + now)

    await at(0, lambda n: router.agent_logged_in(n, "a2"))
    for cid, t in (("waits", 1.0), ("talks", 2.0), ("moved", 3.0)):
        await store.create_contact(cid, channel="voice", queue="q2", arrived_wall=W0 + t, tier="x")
    await at(2, lambda n: router.contact_arrived(n, "talks", "q2"))
    await at(3, lambda n: router.offer_accepted(n, "talks"))
    await at(4, lambda n: router.contact_arrived(n, "waits", "q2"))
    await at(5, lambda n: router.agent_logged_in(n, "a3"))
    await at(6, lambda n: router.contact_arrived(n, "moved", "q2"))
    await at(7, lambda n: router.offer_accepted(n, "waits"))
    await at(9, lambda n: router.hand_off(n, "waits", to_queue="q1"))
    await at(10, lambda n: router.agent_logged_in(n, "a1"))  # segment 2 rings a1 in q1
    opened = await store.open_contacts("voice")
    assert [(o.contact_id, o.queue, o.segment, o.agent_id, o.answered) for o in opened] == [
        ("waits", "q1", 2, "a1", False),
        ("talks", "q2", 1, "a2", True),
        ("moved", "q2", 1, None, False),
    ]
    assert await store.close_contact("talks", W0 + 50, "interrupted", "interrupted")
    assert not await store.close_contact("talks", W0 + 60, "interrupted", "interrupted")
    rec = await store.contact_record("talks")
    assert rec is not None
    assert (rec.ended_wall, rec.outcome, rec.talk_seconds, rec.end_reason) == (
        W0 + 50, "interrupted", 47.0, "interrupted",
    )  # fmt: skip
    (seg,) = await store.segments("talks")
    assert (seg.ended_wall, seg.talk_seconds, seg.end_reason) == (W0 + 50, 47.0, "interrupted")
    await store.close_contact("moved", W0 + 50, "interrupted", "interrupted")
    rec = await store.contact_record("moved")
    assert rec is not None and rec.talk_seconds is None and rec.outcome == "interrupted"
    assert [o.contact_id for o in await store.open_contacts("voice")] == ["waits"]
    assert [w.contact_id for w in await store.waiting_contacts("voice")] == []
