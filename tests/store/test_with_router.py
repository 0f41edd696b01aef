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
