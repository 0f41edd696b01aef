"""Hand-offs (transfers to a queue or an agent, out of routing and back), consults (warm
transfers), a supervisor's priority, and a logout's reason: segments of one contact."""

from __future__ import annotations

import math
from typing import Any

import pytest

from contactcenter.agents import SlotState
from contactcenter.config import QueueConfig
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    ConsultAnswered,
    ConsultEnded,
    ConsultOffered,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactOffered,
    ContactQueued,
    OfferRejected,
    PriorityChanged,
    TargetBreached,
    WrapUpEnded,
)
from contactcenter.kpi import Tally
from contactcenter.routing import ContactState, InvalidInput, Router

from .conftest import agent, kinds, login, make_router, of, one, queue, step


def q(qid: str = "q", **kw: Any) -> QueueConfig:
    kw.setdefault("answer_target", {"threshold_seconds": 20})
    kw.setdefault("wrap_up_seconds", 10)
    return queue(qid, **kw)


def two_queues() -> Router:
    """q (a, b) and q2 (b, c): chat-free voice queues with 10 s wrap-up."""
    return make_router(
        [q("q"), q("q2")],
        [agent("a", {"q": 1}), agent("b", {"q": 1, "q2": 1}), agent("c", {"q2": 1})],
    )


def answered(r: Router, now: float, cid: str, queue: str = "q") -> str:
    """Arrive and answer ``cid``; returns the agent who took it."""
    offer = one(r.contact_arrived(now, cid, queue), ContactOffered)
    r.offer_accepted(now, cid)
    return offer.agent_id


# -- to a queue -------------------------------------------------------------------------------


def test_hand_off_to_a_queue_starts_segment_two_in_its_place_by_arrival() -> None:
    r = two_queues()
    login(r, 0, "a")
    assert answered(r, 1, "x") == "a"
    r.contact_arrived(2, "early", "q2")  # waits: nobody in q2 yet
    ev = r.hand_off(5, "x", to_queue="q2")
    assert ev[:2] == [
        ContactHandedOff(5, "x", "q", "voice", "a", 4, 1, "q2", None),
        AgentStateChanged(5, "a", AgentActivity.BUSY, AgentActivity.WRAP_UP, None),
    ]
    assert one(ev, ContactQueued) == ContactQueued(5, "x", "q2", "voice", 0, "standard", 1, 2)
    view = r.contact("x")
    assert (view.state, view.segment, view.agent, view.queue) == ("waiting", 2, None, "q2")
    assert r.waiting("q2") == ["x", "early"]  # original arrival (1) before 2
    assert r.agent("a").slot("x") is SlotState.WRAP_UP
    assert r.wrapping("x") == {"a": r.wrapping("x")["a"]}
    # segment 2 never breaches the first segment's answer target again
    assert [e.contact_id for e in of(r.advance(40), TargetBreached)] == ["early"]
    ev = r.agent_logged_in(41, "c")
    assert one(ev, ContactOffered).contact_id == "x"
    ev = r.offer_accepted(42, "x")
    assert one(ev, ContactAnswered) == ContactAnswered(42, "x", "q2", "voice", "c", 37, 2)


def test_the_handing_agent_is_kept_away_until_its_wrap_up_ends() -> None:
    r = two_queues()
    login(r, 0, "a")
    answered(r, 1, "x")
    r.hand_off(5, "x", to_queue="q")  # back into its own queue: only a could take it
    assert r.contact("x").state is ContactState.WAITING
    assert math.isinf(r.contacts["x"].excluded["a"])
    ev = r.advance(15)  # a's wrap-up of segment 1 ends: now a may take segment 2
    assert kinds(ev)[:1] == ["WrapUpEnded"]
    assert one(ev, WrapUpEnded) == WrapUpEnded(15, "x", "q", "voice", "a", None, 10)
    assert one(ev, ContactOffered).agent_id == "a"
    assert "a" not in r.contacts["x"].excluded


def test_wrap_up_of_a_handed_off_segment_is_ended_by_its_agent() -> None:
    r = two_queues()
    login(r, 0, "a", "b")
    answered(r, 1, "x")  # a (longest idle)
    r.hand_off(5, "x", to_queue="q")  # b takes it at once
    r.offer_accepted(6, "x")
    with pytest.raises(InvalidInput):
        r.wrap_up_done(7, "x", "resolved")  # x is active with b, not in wrap-up
    ev = r.wrap_up_done(7, "x", "transferred", agent_id="a")
    assert one(ev, WrapUpEnded) == WrapUpEnded(7, "x", "q", "voice", "a", "transferred", 2)
    assert r.agent("a").slots == {} and r.wrapping("x") == {}
    r.contact_completed(9, "x")
    with pytest.raises(InvalidInput):
        r.wrap_up_done(10, "x", "resolved", agent_id="a")  # a's is over; x's is b's
    assert one(r.wrap_up_done(10, "x", "resolved", agent_id="b"), WrapUpEnded).agent_id == "b"
    assert "x" not in r.contacts


def test_hand_off_refusals_leave_everything_as_it_was() -> None:
    r = two_queues()
    login(r, 0, "a")
    r.contact_arrived(1, "w", "q")
    with pytest.raises(InvalidInput, match="not active"):
        r.hand_off(2, "w", to_queue="q2")  # only ringing
    r.offer_accepted(2, "w")
    with pytest.raises(InvalidInput, match="cannot take"):
        r.hand_off(3, "w", to_agent="c")  # c is offline
    with pytest.raises(InvalidInput, match="has the contact already"):
        r.hand_off(3, "w", to_agent="a")
    assert r.contact("w").state is ContactState.ACTIVE and r.contact("w").segment == 1


# -- to an agent ------------------------------------------------------------------------------


def test_hand_off_to_a_ready_agent_rings_that_agent_at_once() -> None:
    r = two_queues()
    login(r, 0, "a", "b", "c")  # c is no member of q: a direct transfer may still reach c
    answered(r, 1, "x")
    ev = r.hand_off(5, "x", to_agent="c")
    assert one(ev, ContactHandedOff).to_agent == "c"
    assert one(ev, ContactOffered) == ContactOffered(5, "x", "q", "voice", "c", 20, 0)
    ev = r.offer_accepted(6, "x")
    assert one(ev, ContactAnswered).segment == 2


def test_a_transfer_the_agent_declines_waits_in_its_queue() -> None:
    r = two_queues()
    login(r, 0, "a", "c")
    answered(r, 1, "x")
    r.hand_off(5, "x", to_agent="c")
    ev = r.offer_declined(6, "x")
    assert one(ev, OfferRejected).reason == "declined"
    assert r.waiting("q") == ["x"]
    ev = r.agent_logged_in(7, "b")  # b serves q: takes it
    assert one(ev, ContactOffered).agent_id == "b"


# -- out of routing and back ------------------------------------------------------------------


def test_a_contact_handed_out_of_routing_comes_back_as_its_next_segment() -> None:
    r = two_queues()
    login(r, 0, "a")
    answered(r, 1, "cb")
    ev = r.hand_off(30, "cb")
    assert one(ev, ContactHandedOff) == ContactHandedOff(
        30, "cb", "q", "voice", "a", 29, 1, None, None
    )
    assert "cb" not in r.contacts and r.agent("a").slot("cb") is SlotState.WRAP_UP
    # brought back before a's wrap-up ended: a is kept away meanwhile
    ev = r.contact_arrived(35, "cb", "q", arrived_at=1, segment=2)
    assert one(ev, ContactQueued).segment == 2 and of(ev, ContactOffered) == []
    ev = r.advance(40)
    assert kinds(ev) == ["WrapUpEnded", "AgentStateChanged", "ContactOffered", "AgentStateChanged"]
    assert one(r.offer_accepted(41, "cb"), ContactAnswered).segment == 2


def test_later_segments_are_not_counted_as_offered_or_answered_again() -> None:
    r = two_queues()
    tally = Tally({"q": 20, "q2": 20}, 5)
    login(r, 0, "a", "b")
    for e in r.contact_arrived(1, "x", "q") + r.offer_accepted(2, "x"):
        tally.observe(e)
    events = r.hand_off(5, "x", to_queue="q2") + r.offer_accepted(6, "x")
    tally.observe_all(events)
    q1, q2 = tally.queue("q"), tally.queue("q2")
    assert (q1.offered, q1.answered, q1.handed_off) == (1, 1, 1)
    assert (q2.offered, q2.answered, q2.transferred_in, q2.transfers_answered) == (0, 0, 1, 1)
    assert q1.sl_offered() == 1.0 and q2.sl_offered() is None


# -- consults ---------------------------------------------------------------------------------


def consulting() -> Router:
    """a talks with x; b is ready; a rings b to consult."""
    r = two_queues()
    login(r, 0, "a")
    answered(r, 1, "x")
    login(r, 2, "b")
    return r


def test_a_consult_reserves_the_colleague_and_completing_it_hands_the_contact_over() -> None:
    r = consulting()
    ev = r.consult_started(10, "x", "b")
    assert ev == [
        ConsultOffered(10, "x", "q", "voice", "b", "a", 25),
        AgentStateChanged(10, "b", AgentActivity.AVAILABLE, AgentActivity.RINGING, None),
    ]
    assert kinds(r.contact_arrived(11, "y", "q")) == ["ContactQueued"]  # b is not offered y
    ev = r.consult_accepted(12, "x")
    assert ev[0] == ConsultAnswered(12, "x", "q", "voice", "b", "a")
    assert r.agent("b").activity is AgentActivity.BUSY
    ev = r.consult_completed(20, "x")
    assert ev[0] == ContactHandedOff(20, "x", "q", "voice", "a", 19, 1, "q", "b")
    assert one(ev, ContactAnswered) == ContactAnswered(20, "x", "q", "voice", "b", 0.0, 2)
    view = r.contact("x")
    assert (view.agent, view.segment, view.consult, view.state) == ("b", 2, None, "active")
    assert r.agent("a").slot("x") is SlotState.WRAP_UP
    ev = r.contact_completed(50, "x")
    assert one(ev, ContactCompleted) == ContactCompleted(50, "x", "q", "voice", "b", 30)


@pytest.mark.parametrize("how", ["declined", "timeout", "cancelled", "agent_left"])
def test_a_consult_that_ends_while_ringing_frees_the_colleague(how: str) -> None:
    r = consulting()
    r.consult_started(10, "x", "b")
    if how == "declined":
        ev = r.consult_declined(12, "x")
    elif how == "timeout":
        ev = r.advance(25)
    elif how == "cancelled":
        ev = r.consult_cancelled(12, "x")
    else:
        ev = r.agent_logged_out(12, "b")
    assert one(ev, ConsultEnded).reason == how
    assert r.contact("x").consult is None and r.contact("x").agent == "a"
    assert "x" not in r.agent("b").slots
    assert r.agent("b").consecutive_no_answers == 0  # a colleague's request is no offer


def test_a_consult_called_off_while_talking_frees_the_colleague_without_wrap_up() -> None:
    r = consulting()
    r.consult_started(10, "x", "b")
    r.consult_accepted(11, "x")
    ev = r.consult_cancelled(15, "x")
    assert one(ev, ConsultEnded).reason == "cancelled"
    assert r.agent("b").activity is AgentActivity.AVAILABLE and r.agent("b").handled == 0
    assert r.agent("a").activity is AgentActivity.BUSY


def test_the_customer_hanging_up_ends_the_consult() -> None:
    r = consulting()
    r.consult_started(10, "x", "b")
    r.consult_accepted(11, "x")
    ev = r.contact_completed(15, "x")
    assert kinds(ev)[:2] == ["ConsultEnded", "AgentStateChanged"]
    assert one(ev, ConsultEnded).reason == "contact_left"
    assert one(ev, ContactCompleted).agent_id == "a"


def test_consult_refusals() -> None:
    r = consulting()
    with pytest.raises(InvalidInput, match="itself"):
        r.consult_started(10, "x", "a")
    with pytest.raises(InvalidInput, match="cannot take"):
        r.consult_started(10, "x", "c")  # offline
    with pytest.raises(InvalidInput, match="no consult"):
        r.consult_completed(10, "x")
    r.consult_started(10, "x", "b")
    with pytest.raises(InvalidInput, match="not active"):
        r.consult_completed(11, "x")  # still ringing
    with pytest.raises(InvalidInput, match="consult going on"):
        r.hand_off(11, "x", to_queue="q2")
    with pytest.raises(InvalidInput, match="consult going on"):
        r.consult_started(11, "x", "b")


# -- supervisors ------------------------------------------------------------------------------


def test_a_supervisor_priority_reorders_the_queue_and_survives_an_overflow() -> None:
    r = make_router(
        [q("q", escalation=(step(0), step(30, overflow_to="q2"))), q("q2")],
        [agent("a", {"q": 1, "q2": 1})],
    )
    r.contact_arrived(1, "first", "q")
    r.contact_arrived(2, "second", "q")
    ev = r.set_priority(3, "second", 40)
    assert ev == [PriorityChanged(3, "second", "q", 0, 40, "supervisor")]
    assert r.waiting("q") == ["second", "first"]
    r.advance(32)  # both overflow to q2: the nudge stays with the contact
    assert r.contact("second").queue == "q2" and r.contact("second").priority == 40
    assert r.waiting("q2") == ["second", "first"]
    login(r, 33, "a")
    assert r.contact("second").state is ContactState.OFFERED
    r.offer_accepted(34, "second")
    with pytest.raises(InvalidInput, match="not waiting"):
        r.set_priority(35, "second", 1)


def test_a_logout_records_its_reason() -> None:
    r = two_queues()
    login(r, 0, "a")
    ev = r.agent_logged_out(5, "a", "disconnected")
    assert ev == [
        AgentStateChanged(5, "a", AgentActivity.AVAILABLE, AgentActivity.OFFLINE, "disconnected")
    ]


# -- resumed after a restart ------------------------------------------------------------------


def test_a_contact_held_before_a_restart_resumes_with_its_agent() -> None:
    from contactcenter.agents import Presence
    from contactcenter.events import ContactResumed

    r = make_router([q("q", channel="chat")], [agent("a", {"q": 1})])
    r.agent_logged_in(0, "a", Presence.AWAY, "lunch")  # any presence but offline
    ev = r.contact_resumed(5, "x", "q", "a", segment=2, arrived_at=-60)
    assert ev[0] == ContactQueued(5, "x", "q", "chat", 0, "standard", -60, 2)
    assert ev[1] == ContactResumed(5, "x", "q", "chat", "a", 2)
    view = r.contact("x")
    assert (view.state, view.agent, view.segment) == (ContactState.ACTIVE, "a", 2)
    assert of(r.advance(100), TargetBreached) == []  # answered before: no target again
    ev = r.contact_completed(110, "x")
    assert one(ev, ContactCompleted).handle_seconds == 105
    with pytest.raises(InvalidInput, match="already known"):
        r.contact_resumed(111, "x", "q", "a", segment=2, arrived_at=0)  # in wrap-up
    with pytest.raises(InvalidInput, match="segment 2"):
        r.contact_resumed(111, "y", "q", "a", segment=1, arrived_at=0)
    r.wrap_up_done(112, "x", "resolved")
    r.agent_logged_out(113, "a")
    with pytest.raises(InvalidInput, match="cannot take"):
        r.contact_resumed(114, "y", "q", "a", segment=2, arrived_at=0)  # offline
