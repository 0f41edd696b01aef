"""Offers are reservations: ringing, ring timeout, decline, re-offer delay, the no-answer
policy, abandons while ringing; chat concurrency and channel blocking; wrap-up."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.agents import Presence
from contactcenter.config import QueueConfig
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactOffered,
    ContactTransferred,
    OfferRejected,
    WrapUpEnded,
)
from contactcenter.routing import ContactState, InvalidInput, Router, UnknownContact

from .conftest import agent, kinds, login, make_router, of, one, queue, step

NO_BREACH = {"threshold_seconds": 10_000}


def q(**kw: Any) -> QueueConfig:
    kw.setdefault("answer_target", NO_BREACH)
    return queue(**kw)


# -- reservation ------------------------------------------------------------------------------


def test_offered_agent_is_reserved_and_not_offered_a_second_contact() -> None:
    r = make_router([q()], [agent("a")])
    login(r, 0, "a")
    ev = r.contact_arrived(1, "c1", "q")
    assert ev[1:] == [
        ContactOffered(1, "c1", "q", "voice", "a", 16, 0),
        AgentStateChanged(1, "a", AgentActivity.AVAILABLE, AgentActivity.RINGING, None),
    ]
    assert r.agent("a").activity is AgentActivity.RINGING
    assert r.contact("c1").state is ContactState.OFFERED
    assert r.contact("c1").agent == "a"

    assert kinds(r.contact_arrived(2, "c2", "q")) == ["ContactQueued"]
    assert r.agent("a").offered_contact == "c1"
    assert r.contact("c2").state is ContactState.WAITING

    ev = r.offer_accepted(3, "c1")
    assert ev == [
        ContactAnswered(3, "c1", "q", "voice", "a", 2, 1),
        AgentStateChanged(3, "a", AgentActivity.RINGING, AgentActivity.BUSY, None),
    ]
    assert r.contact("c1").state is ContactState.ACTIVE
    assert r.contact("c2").state is ContactState.WAITING


def test_ring_timeout_at_exactly_the_ring_deadline() -> None:
    r = make_router([q(ring_timeout_seconds=12)], [agent("a"), agent("b")])
    login(r, 0, "a")
    deadline = one(r.contact_arrived(3, "c", "q"), ContactOffered).ring_deadline
    assert deadline == 15
    assert r.next_deadline() == 15
    assert r.advance(14.999) == []
    ev = r.advance(15)
    assert ev[0] == OfferRejected(15, "c", "q", "voice", "a", "timeout")
    view = r.contact("c")
    assert (view.state, view.arrived_at, view.agent) == (ContactState.WAITING, 3, None)
    assert r.agent("a").activity is AgentActivity.AVAILABLE
    assert r.agent("a").consecutive_no_answers == 1
    # Another agent gets it at once, with the wait counted from the original arrival.
    assert one(login(r, 16, "b"), ContactOffered).agent_id == "b"
    assert one(r.offer_accepted(17, "c"), ContactAnswered).wait_seconds == 14


@pytest.mark.parametrize("how", ["timeout", "declined"])
def test_unanswered_offer_puts_the_contact_back_ahead_of_later_arrivals(how: str) -> None:
    r = make_router([q()], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")  # rings a until 15
    r.contact_arrived(5, "c2", "q")
    r.contact_arrived(6, "c3", "q")
    ev = r.advance(15) if how == "timeout" else r.offer_declined(10, "c1")
    assert one(ev, OfferRejected).reason == how
    # a is kept away from c1 for a while and takes the next one instead.
    assert one(ev, ContactOffered).contact_id == "c2"
    assert r.waiting("q") == ["c1", "c3"]
    assert r.contact("c1").arrived_at == 0
    assert one(login(r, 16, "b"), ContactOffered).contact_id == "c1"


def test_no_answer_limit_sets_the_agent_away() -> None:
    r = make_router([q()], [agent("a")])  # no_answer_limit 2, re-offer delay 10
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    ev = r.advance(15)
    assert kinds(ev) == ["OfferRejected", "AgentStateChanged"]
    assert r.agent("a").presence is Presence.AVAILABLE

    assert r.next_deadline() == 25
    assert one(r.advance(25), ContactOffered).agent_id == "a"
    ev = r.advance(40)
    assert ev == [
        OfferRejected(40, "c", "q", "voice", "a", "timeout"),
        AgentStateChanged(40, "a", AgentActivity.RINGING, AgentActivity.AWAY, "no-answer"),
    ]
    agent_a = r.agent("a")
    assert (agent_a.presence, agent_a.away_reason) == (Presence.AWAY, "no-answer")
    assert r.advance(100) == []  # away agents are offered nothing
    assert r.contact("c").state is ContactState.WAITING

    # Back to available: the count starts over and the contact is offered again.
    ev = r.set_agent_presence(101, "a", Presence.AVAILABLE)
    assert one(ev, ContactOffered).contact_id == "c"
    assert r.agent("a").consecutive_no_answers == 0


def test_an_unreachable_phone_requeues_and_at_the_limit_sets_the_agent_away_as_such() -> None:
    """A phone the SIP server cannot reach (404/480/503) is not a decline: it counts toward
    the no-answer limit, and the agent goes away as ``phone-unreachable``, not re-offered
    silently every few seconds."""
    r = make_router([q()], [agent("a"), agent("b")])  # no_answer_limit 2, re-offer delay 10
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    ev = r.offer_failed(1, "c")
    assert ev[0] == OfferRejected(1, "c", "q", "voice", "a", "unreachable")
    assert r.agent("a").presence is Presence.AVAILABLE
    assert r.contact("c").state is ContactState.WAITING
    assert one(r.advance(11), ContactOffered).agent_id == "a"  # kept away 10 s, like a decline
    ev = r.offer_failed(12, "c")
    assert ev == [
        OfferRejected(12, "c", "q", "voice", "a", "unreachable"),
        AgentStateChanged(12, "a", AgentActivity.RINGING, AgentActivity.AWAY, "phone-unreachable"),
    ]
    # b, who can be reached, gets the caller (first in line, original arrival)
    offered = one(login(r, 13, "b"), ContactOffered)
    assert (offered.agent_id, offered.contact_id) == ("b", "c")
    assert one(r.offer_accepted(14, "c"), ContactAnswered).wait_seconds == 14
    with pytest.raises(InvalidInput):
        r.offer_failed(15, "c")  # only an offer can fail


def test_no_answer_limit_is_configurable_and_counts_consecutive_timeouts_only() -> None:
    r = make_router([q()], [agent("a")], no_answer_limit=3)
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.advance(15)  # 1
    r.advance(25)  # re-offered
    r.advance(40)  # 2
    assert r.agent("a").presence is Presence.AVAILABLE
    r.advance(50)  # re-offered
    r.offer_accepted(51, "c1")  # an answer resets the count
    assert r.agent("a").consecutive_no_answers == 0
    r.contact_completed(52, "c1")
    r.contact_arrived(53, "c2", "q")
    r.advance(68)
    assert r.agent("a").consecutive_no_answers == 1
    assert r.agent("a").presence is Presence.AVAILABLE


def test_declines_do_not_count_as_no_answers() -> None:
    r = make_router([q()], [agent("a")], no_answer_limit=1)
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_declined(1, "c")
    r.advance(11)
    r.offer_declined(12, "c")
    assert r.agent("a").presence is Presence.AVAILABLE
    assert r.agent("a").consecutive_no_answers == 0


def test_declining_agent_gets_the_contact_again_only_after_the_reoffer_delay() -> None:
    r = make_router([q()], [agent("a")], reoffer_delay_seconds=10)
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    ev = r.offer_declined(2, "c")
    assert ev == [
        OfferRejected(2, "c", "q", "voice", "a", "declined"),
        AgentStateChanged(2, "a", AgentActivity.RINGING, AgentActivity.AVAILABLE, None),
    ]
    assert not r.is_eligible("c", "a")
    assert r.next_deadline() == 12
    assert r.advance(11.999) == []
    ev = r.advance(12)
    assert one(ev, ContactOffered) == ContactOffered(12, "c", "q", "voice", "a", 27, 0)


@pytest.mark.parametrize("move", ["overflow", "supervisor"])
def test_reoffer_delay_ends_also_after_the_contact_changed_queue(move: str) -> None:
    """The exclusion travels with the contact; its end used to be forgotten after a move, so
    the contact waited for ever next to an idle agent who could take it."""
    first = q(qid="q1", escalation=(step(0), step(5, overflow_to="q2")))
    r = make_router([first, q(qid="q2")], [agent("a", {"q1": 1, "q2": 1})])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q1")
    r.offer_declined(2, "c")
    ev = r.advance(5) if move == "overflow" else r.transfer(4, "c", "q2")
    assert one(ev, ContactTransferred).reason == move
    assert not of(ev, ContactOffered)
    assert r.next_deadline() == 12
    offered = one(r.advance(12), ContactOffered)
    assert (offered.contact_id, offered.queue, offered.agent_id) == ("c", "q2", "a")


def test_declined_contact_goes_to_another_ready_agent_at_once() -> None:
    r = make_router([q()], [agent("a"), agent("b")])
    login(r, 0, "a", "b")
    assert one(r.contact_arrived(1, "c", "q"), ContactOffered).agent_id == "a"
    offered = one(r.offer_declined(2, "c"), ContactOffered)
    assert (offered.agent_id, offered.at) == ("b", 2)


def test_abandon_while_ringing_frees_the_agent() -> None:
    r = make_router([q()], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.contact_arrived(1, "c2", "q")
    ev = r.contact_abandoned(5, "c1")
    assert ev[:3] == [
        OfferRejected(5, "c1", "q", "voice", "a", "contact_left"),
        AgentStateChanged(5, "a", AgentActivity.RINGING, AgentActivity.AVAILABLE, None),
        ContactAbandoned(5, "c1", "q", "voice", 5, 1),
    ]
    # The freed agent takes the next contact in the same call.
    assert one(ev, ContactOffered).contact_id == "c2"
    assert r.agent("a").consecutive_no_answers == 0
    with pytest.raises(UnknownContact):
        r.contact("c1")


def test_abandon_while_waiting() -> None:
    r = make_router([q()], [agent("a")])
    r.contact_arrived(0, "c", "q")
    assert r.contact_abandoned(7, "c") == [ContactAbandoned(7, "c", "q", "voice", 7, 1)]
    assert r.waiting("q") == []
    assert r.next_deadline() is None


def test_agent_logging_out_while_ringing_puts_the_contact_back() -> None:
    r = make_router([q()], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    ev = r.agent_logged_out(3, "a")
    assert one(ev, OfferRejected).reason == "agent_left"
    assert r.agent("a").activity is AgentActivity.OFFLINE
    assert r.waiting("q") == ["c"]
    # Not held against a: once back, a may take it at once.
    assert one(login(r, 4, "a"), ContactOffered).agent_id == "a"


def test_agent_holding_a_contact_cannot_log_out() -> None:
    r = make_router([q()], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(1, "c")
    with pytest.raises(InvalidInput):
        r.agent_logged_out(2, "a")
    assert r.agent("a").activity is AgentActivity.BUSY


# -- chat concurrency and blocking ------------------------------------------------------------


def chat_router() -> Router:
    return make_router(
        [q(), q(qid="chat", channel="chat")],
        [agent("m", {"q": 1, "chat": 1})],  # chat capacity 3 by default
    )


def test_chat_agent_takes_up_to_capacity_one_offer_at_a_time() -> None:
    r = make_router([q(qid="chat", channel="chat")], [agent("m", {"chat": 1})])
    login(r, 0, "m")
    for i in range(5):
        r.contact_arrived(i, f"c{i}", "chat")
    assert r.agent("m").offered_contact == "c0"
    assert r.waiting("chat") == ["c1", "c2", "c3", "c4"]

    ev = r.offer_accepted(10, "c0")
    assert one(ev, ContactOffered).contact_id == "c1"
    assert r.agent("m").activity is AgentActivity.RINGING
    ev = r.offer_accepted(11, "c1")
    assert one(ev, ContactOffered).contact_id == "c2"
    ev = r.offer_accepted(12, "c2")
    assert not of(ev, ContactOffered)  # three chats: at capacity
    assert r.agent("m").activity is AgentActivity.BUSY
    assert r.agent("m").count("chat") == 3
    assert r.waiting("chat") == ["c3", "c4"]

    ev = r.contact_completed(20, "c1")  # no wrap-up: a slot frees
    assert one(ev, ContactOffered).contact_id == "c3"
    assert r.waiting("chat") == ["c4"]


def test_chat_capacity_comes_from_the_agent_config() -> None:
    r = make_router(
        [q(qid="chat", channel="chat")], [agent("m", {"chat": 1}, capacity={"chat": 1})]
    )
    login(r, 0, "m")
    r.contact_arrived(0, "c0", "chat")
    r.contact_arrived(1, "c1", "chat")
    assert not of(r.offer_accepted(2, "c0"), ContactOffered)
    assert r.waiting("chat") == ["c1"]


def test_a_voice_call_blocks_chats() -> None:
    r = chat_router()
    login(r, 0, "m")
    r.contact_arrived(0, "v", "q")
    r.offer_accepted(1, "v")
    assert kinds(r.contact_arrived(2, "ch", "chat")) == ["ContactQueued"]
    assert not r.is_eligible("ch", "m")
    (cand,) = r.explain("ch").candidates
    assert (cand.agent_id, cand.eligible, cand.reason) == ("m", False, "blocked")

    ev = r.contact_completed(5, "v")
    assert one(ev, ContactOffered).contact_id == "ch"


def test_a_chat_blocks_voice_calls() -> None:
    r = chat_router()
    login(r, 0, "m")
    r.contact_arrived(0, "ch", "chat")
    r.offer_accepted(1, "ch")
    assert kinds(r.contact_arrived(2, "v", "q")) == ["ContactQueued"]
    assert r.agent("m").can_take("chat")
    assert not r.agent("m").can_take("voice")
    ev = r.contact_completed(5, "ch")
    assert one(ev, ContactOffered).contact_id == "v"


# -- wrap-up ----------------------------------------------------------------------------------


def test_wrap_up_times_out_then_the_next_contact_is_offered() -> None:
    r = make_router([q(wrap_up_seconds=20)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.offer_accepted(1, "c1")
    ev = r.contact_completed(10, "c1")
    assert ev == [
        ContactCompleted(10, "c1", "q", "voice", "a", 9),
        AgentStateChanged(10, "a", AgentActivity.BUSY, AgentActivity.WRAP_UP, None),
    ]
    assert r.contact("c1").state is ContactState.WRAP_UP
    r.contact_arrived(12, "c2", "q")
    assert r.agent("a").activity is AgentActivity.WRAP_UP
    assert r.next_deadline() == 30
    assert r.advance(29.999) == []

    ev = r.advance(30)
    assert ev == [
        WrapUpEnded(30, "c1", "q", "voice", "a", None, 20),
        AgentStateChanged(30, "a", AgentActivity.WRAP_UP, AgentActivity.AVAILABLE, None),
        ContactOffered(30, "c2", "q", "voice", "a", 45, 0),
        AgentStateChanged(30, "a", AgentActivity.AVAILABLE, AgentActivity.RINGING, None),
    ]
    with pytest.raises(UnknownContact):
        r.contact("c1")


def test_wrap_up_done_early_with_a_disposition() -> None:
    r = make_router([q(wrap_up_seconds=20)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.offer_accepted(1, "c1")
    r.contact_completed(10, "c1")
    r.contact_arrived(12, "c2", "q")
    ev = r.wrap_up_done(15, "c1", "sale")
    assert ev[0] == WrapUpEnded(15, "c1", "q", "voice", "a", "sale", 5)
    assert one(ev, ContactOffered).contact_id == "c2"
    r.offer_accepted(16, "c2")
    assert r.advance(30) == []  # the old wrap-up timer is void


def test_no_wrap_up_frees_the_agent_at_once() -> None:
    r = make_router([q(wrap_up_seconds=0)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(1, "c")
    ev = r.contact_completed(4, "c")
    assert one(ev, WrapUpEnded) == WrapUpEnded(4, "c", "q", "voice", "a", None, 0)
    assert r.agent("a").activity is AgentActivity.AVAILABLE


def test_wrap_up_done_needs_a_contact_in_wrap_up() -> None:
    r = make_router([q(wrap_up_seconds=20)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(1, "c")
    with pytest.raises(InvalidInput):
        r.wrap_up_done(2, "c", "x")
    assert r.contact("c").state is ContactState.ACTIVE
