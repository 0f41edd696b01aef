"""Time-driven rules: escalation steps (dedicated agent only, tier levels, proficiency,
non-members), priority raises, overflow, callback offers, answer-target breaches, max wait,
what happens when no agent is logged in, and ``next_deadline``."""

from __future__ import annotations

import pytest

from contactcenter.agents import Presence
from contactcenter.events import (
    AgentStateChanged,
    CallbackOffered,
    ContactAnswered,
    ContactEscalated,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    OfferRejected,
    PriorityChanged,
    TargetBreached,
)
from contactcenter.routing import ContactState, Router, UnknownContact

from .conftest import agent, customer, kinds, login, make_router, of, one, queue, step

NO_BREACH = {"threshold_seconds": 10_000}


# -- dedicated agent only ---------------------------------------------------------------------


def dedicated_router() -> Router:
    """Queue q: the dedicated agent only for 20 s, then any tier-1 agent. ``ded`` serves
    customer K (a VIP)."""
    q = queue(
        escalation=(step(0, dedicated_only=True), step(20, max_tier=1)),
        answer_target=NO_BREACH,
    )
    return make_router(
        [q], [agent("ded", dedicated_customers=("K",)), agent("other")], [customer("K", "vip")]
    )


def test_contact_with_dedicated_agent_waits_for_them_for_the_dedicated_step() -> None:
    r = dedicated_router()
    login(r, 0, "ded")
    r.contact_arrived(0, "x", "q")  # no dedicated agent: first open step, to ded (the only one)
    r.offer_accepted(0, "x")
    login(r, 1, "other")

    assert kinds(r.contact_arrived(2, "k", "q", customer_id="K")) == ["ContactQueued"]
    view = r.contact("k")
    assert (view.step, view.state) == (0, ContactState.WAITING)
    assert r.waiting("q") == ["k"]
    assert r.next_deadline() == 22
    assert r.advance(21.999) == []

    ev = r.advance(22)
    assert one(ev, ContactEscalated) == ContactEscalated(22, "k", "q", "voice", 1)
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step) == ("other", 1)


def test_waiting_lists_contacts_held_for_their_dedicated_agent_in_serving_order() -> None:
    """``waiting(queue)`` used to leave out contacts at a dedicated-only step (the runtime's
    queue position then failed for exactly the VIPs)."""
    r = dedicated_router()
    login(r, 0, "ded")
    r.contact_arrived(0, "x", "q")
    r.offer_accepted(0, "x")
    r.contact_arrived(1, "s", "q")  # no dedicated agent, nobody free: waits at step 1
    r.contact_arrived(2, "k", "q", customer_id="K", tier="vip")  # waits at step 0 for ded
    r.contact_arrived(3, "t", "q")
    assert [r.contact(c).step for c in ("s", "k", "t")] == [1, 0, 1]
    assert r.waiting("q") == ["k", "s", "t"]


def test_dedicated_agent_takes_their_customer_when_free_during_the_dedicated_step() -> None:
    r = dedicated_router()
    login(r, 0, "ded")
    r.contact_arrived(0, "x", "q")
    r.offer_accepted(0, "x")
    login(r, 1, "other")
    r.contact_arrived(2, "k", "q", customer_id="K")

    ev = r.contact_completed(10, "x")  # no wrap-up: ded is free again at once
    offered = one(ev, ContactOffered)
    assert (offered.contact_id, offered.agent_id, offered.step, offered.at) == ("k", "ded", 0, 10)


def test_dedicated_agent_is_preferred_over_a_longer_idle_agent() -> None:
    r = dedicated_router()
    login(r, 0, "other")
    login(r, 5, "ded")
    r.contact_arrived(6, "k", "q", customer_id="K")
    assert r.agent("ded").offered_contact == "k"

    # After the dedicated step too: the customer's agent first.
    r.offer_accepted(7, "k")
    r.contact_completed(8, "k")
    r.set_agent_presence(8, "ded", Presence.AWAY, "break")
    r.contact_arrived(9, "k2", "q", customer_id="K")
    r.advance(29)  # k2 reached step 1 and went to other
    assert r.contact("k2").agent == "other"


def test_contact_without_dedicated_agent_starts_at_the_first_open_step() -> None:
    r = dedicated_router()
    login(r, 0, "other")
    ev = r.contact_arrived(1, "n", "q")
    assert not of(ev, ContactEscalated)  # starting there is not an escalation
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step) == ("other", 1)
    assert r.contact("n").step == 1


def test_contact_whose_dedicated_agent_is_offline_starts_at_the_first_open_step() -> None:
    r = dedicated_router()
    login(r, 0, "other")
    offered = one(r.contact_arrived(1, "k", "q", customer_id="K"), ContactOffered)
    assert (offered.agent_id, offered.step) == ("other", 1)


def test_dedicated_agent_logging_out_moves_their_waiting_contacts_on_at_once() -> None:
    r = dedicated_router()
    r.agent_logged_in(0, "ded", Presence.AWAY, "break")
    login(r, 0, "other")
    assert kinds(r.contact_arrived(5, "k", "q", customer_id="K")) == ["ContactQueued"]

    ev = r.agent_logged_out(8, "ded")
    assert kinds(ev) == [
        "AgentStateChanged",
        "ContactEscalated",
        "ContactOffered",
        "AgentStateChanged",
    ]
    assert one(ev, ContactEscalated) == ContactEscalated(8, "k", "q", "voice", 1)
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.at, offered.step) == ("other", 8, 1)
    # The original step-1 time (25) brings no second escalation.
    r.offer_accepted(9, "k")
    assert r.advance(25) == []


# -- tier levels, proficiency, non-members ----------------------------------------------------


def ladder_router() -> Router:
    """Tier 1 with proficiency >= 4 first, any tier 1 after 30 s, tier 2 after 60 s, anyone
    with the skill after 120 s."""
    q = queue(
        skills={"sales": 2},
        escalation=(
            step(0, max_tier=1, min_proficiency=4),
            step(30, max_tier=1),
            step(60, max_tier=2),
            step(120, any_agent=True, min_proficiency=1),
        ),
        answer_target=NO_BREACH,
    )
    return make_router(
        [q],
        [
            agent("expert", {"q": 1}, skills={"sales": 4}),
            agent("t1", {"q": 1}, skills={"sales": 2}),
            agent("t2", {"q": 2}, skills={"sales": 5}),
            agent("outsider", {}, skills={"sales": 1}),
            agent("noskill", {}, skills={"support": 5}),
        ],
    )


@pytest.mark.parametrize(
    ("who", "when", "step_no"),
    [("expert", 0, 0), ("t1", 30, 1), ("t2", 60, 2), ("outsider", 120, 3)],
)
def test_escalation_ladder_widens_by_time(who: str, when: float, step_no: int) -> None:
    r = ladder_router()
    login(r, 0, who)
    ev = r.contact_arrived(0, "c", "q")
    if when > 0:
        assert not of(ev, ContactOffered)
        assert not of(r.advance(when - 0.001), ContactOffered)
        ev = r.advance(when)
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.at, offered.step) == (who, when, step_no)


def test_agent_without_the_skill_is_never_offered_even_at_the_widest_step() -> None:
    r = ladder_router()
    login(r, 0, "noskill")
    r.contact_arrived(0, "c", "q")
    ev = r.advance(1000)
    assert [e.step for e in of(ev, ContactEscalated)] == [1, 2, 3]
    assert not of(ev, ContactOffered)
    assert r.contact("c").state is ContactState.WAITING


def test_expert_is_chosen_over_longer_idle_tier1_at_the_first_step() -> None:
    r = ladder_router()
    login(r, 0, "t1", "t2", "outsider")
    login(r, 5, "expert")
    assert one(r.contact_arrived(6, "c", "q"), ContactOffered).agent_id == "expert"


def test_escalation_steps_count_from_entering_the_queue() -> None:
    r = ladder_router()
    login(r, 0, "t1")
    r.contact_arrived(10, "c", "q")
    assert r.next_deadline() == 40
    offered = one(r.advance(40), ContactOffered)
    assert (offered.agent_id, offered.step) == ("t1", 1)


# -- priority raise, overflow, callback offer -------------------------------------------------


def test_raise_priority_step_reorders_the_queue() -> None:
    q = queue(
        priority=5,
        escalation=(step(0), step(10, raise_priority=60)),
        answer_target=NO_BREACH,
    )
    r = make_router([q], [agent("a")])
    r.contact_arrived(0, "s", "q")
    r.contact_arrived(9, "g", "q", tier="gold")
    assert r.waiting("q") == ["g", "s"]

    ev = r.advance(10)
    assert ev == [
        ContactEscalated(10, "s", "q", "voice", 1),
        PriorityChanged(10, "s", "q", 5, 65, "escalation"),
    ]
    assert r.contact("s").priority == 65
    assert r.waiting("q") == ["s", "g"]

    assert one(r.advance(19), PriorityChanged) == PriorityChanged(
        19, "g", "q", 55, 115, "escalation"
    )
    assert r.waiting("q") == ["g", "s"]


def overflow_router(**q1: object) -> Router:
    first = queue("q1", **q1)
    second = queue("q2", answer_target=NO_BREACH)
    return make_router([first, second], [agent("a1", {"q1": 1}), agent("a2", {"q2": 1})])


def test_overflow_step_moves_the_contact_keeping_its_arrival() -> None:
    r = overflow_router(escalation=(step(0), step(60, overflow_to="q2")), answer_target=NO_BREACH)
    r.contact_arrived(0, "c", "q1")
    r.contact_arrived(50, "x", "q2")
    ev = r.advance(60)
    assert ev == [
        ContactEscalated(60, "c", "q1", "voice", 1),
        ContactTransferred(60, "c", "q1", "q2", "voice", "overflow", 1),
        ContactQueued(60, "c", "q2", "voice", 0, "standard", 0, 1),
    ]
    view = r.contact("c")
    assert (view.queue, view.arrived_at, view.queued_at, view.step) == ("q2", 0, 60, 0)
    assert r.waiting("q1") == []
    assert r.waiting("q2") == ["c", "x"]  # ahead of a later arrival in the target queue

    offered = one(login(r, 61, "a2"), ContactOffered)
    assert (offered.contact_id, offered.queue) == ("c", "q2")
    assert one(r.offer_accepted(62, "c"), ContactAnswered).wait_seconds == 62


def test_overflow_due_while_ringing_happens_when_the_offer_ends() -> None:
    r = overflow_router(escalation=(step(0), step(60, overflow_to="q2")), answer_target=NO_BREACH)
    r.contact_arrived(0, "c", "q1")
    login(r, 55, "a1")  # rings a1 until 70
    ev = r.advance(60)
    assert kinds(ev) == ["ContactEscalated"]
    assert r.contact("c").state is ContactState.OFFERED
    ev = r.offer_declined(62, "c")
    assert one(ev, OfferRejected).reason == "declined"
    assert one(ev, ContactTransferred).reason == "overflow"
    assert r.contact("c").queue == "q2"


def test_offer_callback_step_emits_callback_offered() -> None:
    q = queue(escalation=(step(0), step(45, offer_callback=True)), answer_target=NO_BREACH)
    r = make_router([q], [agent("a")])
    r.contact_arrived(5, "c", "q")
    ev = r.advance(50)
    assert ev == [
        ContactEscalated(50, "c", "q", "voice", 1),
        CallbackOffered(50, "c", "q", "voice"),
    ]
    removed = one(r.accept_callback(52, "c"), ContactRemoved)
    assert (removed.reason, removed.outcome, removed.wait_seconds) == (
        "callback_accepted",
        "callback",
        47,
    )
    with pytest.raises(UnknownContact):
        r.contact("c")


# -- answer target, max wait ------------------------------------------------------------------


def test_target_breached_exactly_at_arrival_plus_threshold_once() -> None:
    r = make_router([queue(answer_target={"threshold_seconds": 20})], [agent("a")])
    r.contact_arrived(3, "c", "q")
    assert r.next_deadline() == 23
    assert r.advance(22.999) == []
    assert r.advance(23) == [TargetBreached(23, "c", "q", "voice", 20)]
    assert r.advance(500) == []


def test_target_breach_counts_from_the_original_arrival_after_overflow() -> None:
    r = overflow_router(escalation=(step(0), step(20, overflow_to="q2")))  # q1: 30 s target
    r.contact_arrived(0, "c", "q1")
    r.advance(20)
    # q1's 30 s breach is gone with the move; q2's target counts from the original arrival.
    assert r.advance(30) == []
    assert r.next_deadline() == 10_000


def test_overflow_into_a_queue_with_a_shorter_target_breaches_at_the_move() -> None:
    """The target queue's threshold (30 s) had passed before the move (60 s): the breach is
    reported at the move, not stamped at 30 s after events of 60 s."""
    first = queue("q1", escalation=(step(0), step(60, overflow_to="q2")), answer_target=NO_BREACH)
    second = queue("q2", answer_target={"threshold_seconds": 30})
    r = make_router([first, second], [agent("a1", {"q1": 1}), agent("a2", {"q2": 1})])
    r.contact_arrived(0, "c", "q1")
    ev = r.advance(60)
    assert one(ev, TargetBreached) == TargetBreached(60, "c", "q2", "voice", 30)
    assert [e.at for e in ev] == [60] * len(ev)


def test_contact_answered_in_time_is_not_breached() -> None:
    r = make_router([queue(ring_timeout_seconds=60)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(29, "c")
    assert not of(r.advance(100), TargetBreached)


@pytest.mark.parametrize("action", ["disconnect", "callback"])
def test_max_wait_removes_the_contact(action: str) -> None:
    q = queue(max_wait={"seconds": 50, "action": action}, answer_target=NO_BREACH)
    r = make_router([q], [agent("a")])
    r.contact_arrived(10, "c", "q")
    assert r.next_deadline() == 60
    assert r.advance(59.999) == []
    assert r.advance(60) == [ContactRemoved(60, "c", "q", "voice", "max_wait", action, 50, 1)]
    with pytest.raises(UnknownContact):
        r.contact("c")


def test_max_wait_overflow_moves_the_contact() -> None:
    r = overflow_router(
        max_wait={"seconds": 50, "action": "overflow", "overflow_to": "q2"},
        answer_target=NO_BREACH,
    )
    login(r, 0, "a2")
    r.contact_arrived(10, "c", "q1")
    ev = r.advance(60)
    assert ev[:2] == [
        ContactTransferred(60, "c", "q1", "q2", "voice", "max_wait", 1),
        ContactQueued(60, "c", "q2", "voice", 0, "standard", 10, 1),
    ]
    assert one(ev, ContactOffered).agent_id == "a2"


def test_max_wait_while_ringing_applies_when_the_offer_times_out() -> None:
    q = queue(max_wait={"seconds": 50, "action": "disconnect"}, answer_target=NO_BREACH)
    r = make_router([q], [agent("a")])
    r.contact_arrived(0, "c", "q")
    login(r, 40, "a")  # rings until 55
    assert r.advance(50) == []
    assert r.contact("c").state is ContactState.OFFERED
    ev = r.advance(55)
    assert kinds(ev) == ["OfferRejected", "AgentStateChanged", "ContactRemoved"]
    assert one(ev, ContactRemoved).reason == "max_wait"


# -- no agents logged in ----------------------------------------------------------------------


def no_agents_router(policy: str) -> Router:
    extra = {"no_agents_overflow_to": "q2"} if policy == "overflow" else {}
    first = queue("q1", when_no_agents=policy, answer_target=NO_BREACH, **extra)
    second = queue("q2", answer_target=NO_BREACH)
    return make_router([first, second], [agent("a1", {"q1": 1}), agent("a2", {"q2": 1})])


def test_when_no_agents_wait_keeps_the_contact() -> None:
    r = no_agents_router("wait")
    assert kinds(r.contact_arrived(0, "c", "q1")) == ["ContactQueued"]
    assert r.waiting("q1") == ["c"]
    assert one(login(r, 5, "a1"), ContactOffered).contact_id == "c"


def test_when_no_agents_disconnect_on_arrival() -> None:
    r = no_agents_router("disconnect")
    login(r, 0, "a2")  # staffs q2 only
    ev = r.contact_arrived(3, "c", "q1")
    assert ev == [
        ContactQueued(3, "c", "q1", "voice", 0, "standard", 3, 1),
        ContactRemoved(3, "c", "q1", "voice", "no_agents", "disconnect", 0, 1),
    ]
    assert r.waiting("q1") == []


def test_when_no_agents_overflow_on_arrival() -> None:
    r = no_agents_router("overflow")
    login(r, 0, "a2")
    ev = r.contact_arrived(3, "c", "q1")
    assert ev[:3] == [
        ContactQueued(3, "c", "q1", "voice", 0, "standard", 3, 1),
        ContactTransferred(3, "c", "q1", "q2", "voice", "no_agents", 1),
        ContactQueued(3, "c", "q2", "voice", 0, "standard", 3, 1),
    ]
    assert one(ev, ContactOffered).agent_id == "a2"


def test_an_away_agent_still_staffs_the_queue() -> None:
    r = no_agents_router("disconnect")
    r.agent_logged_in(0, "a1", Presence.AWAY, "break")
    assert kinds(r.contact_arrived(1, "c", "q1")) == ["ContactQueued"]
    assert r.waiting("q1") == ["c"]


@pytest.mark.parametrize("policy", ["disconnect", "overflow"])
def test_last_agent_logging_out_applies_when_no_agents(policy: str) -> None:
    r = no_agents_router(policy)
    r.agent_logged_in(0, "a1", Presence.AWAY, "break")
    r.contact_arrived(1, "c1", "q1")
    r.contact_arrived(2, "c2", "q1")
    ev = r.agent_logged_out(10, "a1")
    assert one(ev, AgentStateChanged).state == "offline"
    assert r.waiting("q1") == []
    if policy == "disconnect":
        assert of(ev, ContactRemoved) == [
            ContactRemoved(10, "c1", "q1", "voice", "no_agents", "disconnect", 9, 1),
            ContactRemoved(10, "c2", "q1", "voice", "no_agents", "disconnect", 8, 1),
        ]
    else:
        assert [(e.contact_id, e.to_queue, e.reason) for e in of(ev, ContactTransferred)] == [
            ("c1", "q2", "no_agents"),
            ("c2", "q2", "no_agents"),
        ]
        assert r.waiting("q2") == ["c1", "c2"]


def test_contact_kept_only_for_its_dedicated_agent_gets_the_policy_when_they_log_out() -> None:
    """Nobody staffs q (policy disconnect); K's contact waited there only because K's
    dedicated agent (no member of q) was logged in. When that agent logs out, the policy
    applies to it as to any contact arriving now."""
    q = queue(when_no_agents="disconnect", answer_target=NO_BREACH)
    r = make_router(
        [q], [agent("m"), agent("ded", {}, dedicated_customers=("K",))], [customer("K")]
    )
    r.agent_logged_in(0, "ded", Presence.AWAY, "break")
    assert kinds(r.contact_arrived(1, "k", "q", customer_id="K")) == ["ContactQueued"]
    assert kinds(r.contact_arrived(1, "n", "q")) == ["ContactQueued", "ContactRemoved"]
    ev = r.agent_logged_out(2, "ded")
    assert one(ev, ContactRemoved) == ContactRemoved(
        2, "k", "q", "voice", "no_agents", "disconnect", 1, 1
    )
    assert r.waiting("q") == []


def test_no_agents_overflow_loop_between_unstaffed_queues_waits() -> None:
    first = queue("q1", when_no_agents="overflow", no_agents_overflow_to="q2")
    second = queue("q2", when_no_agents="overflow", no_agents_overflow_to="q1")
    r = make_router([first, second], [agent("a1", {"q1": 1}), agent("a2", {"q2": 1})])
    assert kinds(r.contact_arrived(0, "c", "q1")) == ["ContactQueued"]
    assert r.waiting("q1") == ["c"]


# -- next_deadline ----------------------------------------------------------------------------


def test_next_deadline_is_the_earliest_pending_deadline() -> None:
    q = queue(
        escalation=(step(0), step(20)),
        answer_target={"threshold_seconds": 30},
        max_wait={"seconds": 100},
        ring_timeout_seconds=15,
        wrap_up_seconds=40,
    )
    r = make_router([q], [agent("a")])
    assert r.next_deadline() is None
    r.contact_arrived(0, "c", "q")
    assert r.next_deadline() == 20  # step 1
    r.advance(20)
    assert r.next_deadline() == 30  # breach
    r.advance(30)
    assert r.next_deadline() == 100  # max wait
    login(r, 90, "a")
    assert r.next_deadline() == 100  # ring deadline 105 comes later
    r.offer_accepted(91, "c")
    assert r.next_deadline() is None  # the waiting contact's timers are stale now
    r.contact_completed(95, "c")
    assert r.next_deadline() == 135  # wrap-up end
    r.wrap_up_done(96, "c", "done")
    assert r.next_deadline() is None


def test_next_deadline_reports_the_ring_timeout() -> None:
    r = make_router([queue(answer_target=NO_BREACH)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(2, "c", "q")
    assert r.next_deadline() == 17
