"""Who may take a contact (skills, proficiency, tier levels) and in which order a queue serves
its contacts (tier priority + queue priority, FIFO by original arrival)."""

from __future__ import annotations

import pytest

from contactcenter.events import (
    AgentStateChanged,
    ContactAnswered,
    ContactOffered,
    ContactQueued,
    PriorityChanged,
)
from contactcenter.routing import ContactState, InvalidInput

from .conftest import agent, customer, kinds, login, make_router, one, queue, step


def test_agent_needs_the_skill_at_the_minimum_proficiency() -> None:
    r = make_router(
        [queue(skills={"sales": 3})],
        [
            agent("noskill", skills={"support": 5}),
            agent("low", skills={"sales": 2}),
            agent("ok", skills={"sales": 3}),
        ],
    )
    # All idle since 0: longest_idle would pick noskill, then low, by config order.
    login(r, 0, "noskill", "low", "ok")
    offered = one(r.contact_arrived(1, "c1", "q"), ContactOffered)
    assert (offered.contact_id, offered.agent_id, offered.step) == ("c1", "ok", 0)
    assert offered.ring_deadline == 16

    # ok is ringing; nobody else may take the next one.
    assert kinds(r.contact_arrived(2, "c2", "q")) == ["ContactQueued"]
    assert r.contact("c2").state is ContactState.WAITING
    assert not r.is_eligible("c2", "low")
    assert not r.is_eligible("c2", "noskill")
    assert r.waiting("q") == ["c2"]


def test_every_required_skill_is_needed() -> None:
    r = make_router(
        [queue(skills={"sales": 2, "billing": 2})],
        [
            agent("sales_only", skills={"sales": 5}),
            agent("both", skills={"sales": 2, "billing": 2}),
        ],
    )
    login(r, 0, "sales_only", "both")
    assert one(r.contact_arrived(1, "c", "q"), ContactOffered).agent_id == "both"


def test_tier_level_limits_who_is_eligible_until_the_step_widens() -> None:
    r = make_router(
        [
            queue(
                escalation=(step(0, max_tier=1), step(30, max_tier=2)),
                answer_target={"threshold_seconds": 300},
            )
        ],
        [agent("t3", {"q": 3}), agent("t2", {"q": 2}), agent("t1", {"q": 1})],
    )
    login(r, 0, "t3", "t2")
    assert kinds(r.contact_arrived(0, "c", "q")) == ["ContactQueued"]
    assert r.advance(29.999) == []
    ev = r.advance(30)
    assert kinds(ev) == ["ContactEscalated", "ContactOffered", "AgentStateChanged"]
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step, offered.at) == ("t2", 1, 30)
    assert r.contact("c").step == 1

    # A primary (tier 1) agent takes a new contact at once.
    login(r, 31, "t1")
    offered = one(r.contact_arrived(32, "d", "q"), ContactOffered)
    assert (offered.agent_id, offered.step) == ("t1", 0)


def test_priority_is_tier_priority_plus_queue_priority() -> None:
    r = make_router([queue(priority=10)], [agent("a")])
    vip = one(r.contact_arrived(0, "v", "q", tier="vip"), ContactQueued)
    std = one(r.contact_arrived(1, "s", "q"), ContactQueued)
    gold = one(r.contact_arrived(2, "g", "q", tier="gold"), ContactQueued)
    assert (vip.priority, vip.tier) == (110, "vip")
    assert (std.priority, std.tier) == (10, "standard")
    assert (gold.priority, gold.tier) == (60, "gold")
    assert r.contact("v").priority == 110
    assert r.contact("g").priority == 60


def test_customer_tier_from_the_caller_is_not_guessed() -> None:
    """``tier`` defaults to the center's default tier, not the CRM record's tier."""
    r = make_router([queue()], [agent("a")], [customer("K", "vip")])
    assert one(r.contact_arrived(0, "k", "q", customer_id="K"), ContactQueued).tier == "standard"


def test_fifo_within_equal_priority() -> None:
    r = make_router([queue()], [agent("a")])
    for i, t in enumerate((1.0, 2.0, 3.0)):
        r.contact_arrived(t, f"c{i}", "q")
    assert r.waiting("q") == ["c0", "c1", "c2"]
    offered = one(login(r, 10, "a"), ContactOffered)
    assert offered.contact_id == "c0"
    assert r.waiting("q") == ["c1", "c2"]


def test_higher_tier_is_served_first() -> None:
    r = make_router([queue()], [agent("a")])
    r.contact_arrived(1, "std", "q")
    r.contact_arrived(2, "gold1", "q", tier="gold")
    r.contact_arrived(3, "vip", "q", tier="vip")
    r.contact_arrived(4, "gold2", "q", tier="gold")
    assert r.waiting("q") == ["vip", "gold1", "gold2", "std"]

    served = []
    login(r, 10, "a")
    for t in (11.0, 12.0, 13.0, 14.0):
        cid = r.agent("a").offered_contact
        assert cid is not None
        served.append(cid)
        r.offer_accepted(t, cid)
        r.contact_completed(t, cid)  # no wrap-up: the next one is offered at once
    assert served == ["vip", "gold1", "gold2", "std"]


def test_customer_tier_change_reorders_waiting_contacts_at_once() -> None:
    r = make_router([queue()], [agent("a")], [customer("K"), customer("L")])
    r.contact_arrived(1, "c1", "q")
    r.contact_arrived(2, "k", "q", customer_id="K")
    r.contact_arrived(3, "g", "q", tier="gold")
    assert r.waiting("q") == ["g", "c1", "k"]

    ev = r.customer_tier_changed(5, "K", "vip")
    assert ev == [PriorityChanged(5, "k", "q", 0, 100, "tier")]
    assert r.waiting("q") == ["k", "g", "c1"]
    assert (r.contact("k").tier, r.contact("k").priority) == ("vip", 100)

    # A customer without waiting contacts: nothing happens.
    assert r.customer_tier_changed(6, "L", "vip") == []

    offered = one(login(r, 7, "a"), ContactOffered)
    assert offered.contact_id == "k"


def test_contact_tier_change_reorders_and_lowering_moves_it_back() -> None:
    r = make_router([queue()], [agent("a")])
    r.contact_arrived(1, "c1", "q")
    r.contact_arrived(2, "c2", "q")
    r.contact_arrived(3, "c3", "q")

    ev = r.contact_tier_changed(4, "c3", "gold")
    assert ev == [PriorityChanged(4, "c3", "q", 0, 50, "tier")]
    assert r.waiting("q") == ["c3", "c1", "c2"]

    ev = r.contact_tier_changed(5, "c3", "standard")
    assert ev == [PriorityChanged(5, "c3", "q", 50, 0, "tier")]
    assert r.waiting("q") == ["c1", "c2", "c3"]

    with pytest.raises(InvalidInput):
        r.contact_tier_changed(6, "c1", "platinum")
    assert r.waiting("q") == ["c1", "c2", "c3"]


def test_tier_change_of_an_answered_contact_changes_no_priority() -> None:
    r = make_router([queue()], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(1, "c")
    assert r.contact_tier_changed(2, "c", "vip") == []
    assert r.contact("c").tier == "vip"


def test_restored_contact_keeps_its_original_arrival() -> None:
    r = make_router([queue(answer_target={"threshold_seconds": 300})], [agent("a")])
    r.contact_arrived(100, "new", "q")
    queued = one(r.contact_arrived(101, "old", "q", arrived_at=40), ContactQueued)
    assert (queued.at, queued.arrived_at) == (101, 40)
    view = r.contact("old")
    assert (view.arrived_at, view.queued_at) == (40, 40)
    assert r.waiting("q") == ["old", "new"]

    offered = one(login(r, 110, "a"), ContactOffered)
    assert offered.contact_id == "old"
    answered = one(r.offer_accepted(112, "old"), ContactAnswered)
    assert answered.wait_seconds == 72


def test_arrival_in_the_future_is_clamped_to_now() -> None:
    r = make_router([queue()], [agent("a")])
    r.contact_arrived(10, "c", "q", arrived_at=50)
    assert r.contact("c").arrived_at == 10


def test_restored_contact_with_overdue_timers_fires_them_now_not_in_the_past() -> None:
    """Steps, breach and the like that fell due before the restore happen at the restore
    time: no event is stamped before the input, and an offer made then rings its full
    ring timeout (it used to be offered "at 20" and time out "at 35" within the same call,
    counting as a no-answer)."""
    r = make_router(
        [queue(escalation=(step(0, max_tier=1), step(20, max_tier=2)))],
        [agent("a", {"q": 2})],
    )
    login(r, 100, "a")
    ev = r.contact_arrived(100, "c", "q", arrived_at=0)
    assert all(e.at == 100 for e in ev), ev
    assert kinds(ev) == [
        "ContactQueued",
        "ContactEscalated",
        "ContactOffered",
        "AgentStateChanged",
        "TargetBreached",
    ]
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step, offered.ring_deadline) == ("a", 1, 115)
    assert r.contact("c").state is ContactState.OFFERED
    assert r.agent("a").consecutive_no_answers == 0
    assert r.next_deadline() == 115


def test_login_announces_availability() -> None:
    r = make_router([queue()], [agent("a")])
    ev = r.agent_logged_in(0, "a")
    assert len(ev) == 1
    changed = ev[0]
    assert isinstance(changed, AgentStateChanged)
    assert (changed.agent_id, changed.previous, changed.state) == ("a", "offline", "available")
