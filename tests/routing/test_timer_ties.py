"""An input at the instant one of the core's own timers is due: the timer goes first, and an
input about what that timer has just ended is void (it returns the timer's events and changes
nothing), whether or not the driver called ``advance`` for that instant before it."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.agents import Presence, SlotState
from contactcenter.config import MaxWait, QueueConfig
from contactcenter.events import (
    AgentStateChanged,
    ConsultAnswered,
    ConsultEnded,
    ContactAbandoned,
    ContactAnswered,
    ContactOffered,
    ContactRemoved,
    ContactTransferred,
    Event,
    OfferRejected,
    PriorityChanged,
    WrapUpEnded,
)
from contactcenter.routing import ContactState, InvalidInput, Router, UnknownContact

from .conftest import agent, kinds, login, make_router, of, one, queue


def q(qid: str = "q", **kw: Any) -> QueueConfig:
    kw.setdefault("answer_target", {"threshold_seconds": 1000})
    return queue(qid, **kw)


def at_the_timer(r: Router, due: float, advanced: bool) -> list[Event]:
    """What the driver got from the core for ``due`` before its own input: the timer's events
    when it called ``advance(due)`` first, none when its input comes first."""
    return r.advance(due) if advanced else []


both_orders = pytest.mark.parametrize("advanced", [False, True], ids=["input-first", "advanced"])


# -- wrap-up ---------------------------------------------------------------------------------


@both_orders
def test_wrap_up_done_at_the_instant_its_timer_ends_it(advanced: bool) -> None:
    r = make_router([q(wrap_up_seconds=30)], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(0, "c")
    r.contact_completed(100, "c")
    seen = at_the_timer(r, 130, advanced)
    seen += r.wrap_up_done(130, "c", "sale", "a")
    ended = one(seen, WrapUpEnded)
    assert (ended.at, ended.agent_id, ended.disposition) == (130, "a", None)
    assert ended.wrap_up_seconds == 30
    assert r.agent("a").slots == {}
    assert "c" not in r.contacts


@both_orders
def test_handed_off_segment_wrap_up_done_at_the_instant_its_timer_ends_it(advanced: bool) -> None:
    r = make_router([q(wrap_up_seconds=30)], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(0, "c")
    login(r, 50, "b")
    r.hand_off(50, "c", to_agent="b")
    r.offer_accepted(50, "c")
    seen = at_the_timer(r, 80, advanced)
    seen += r.wrap_up_done(80, "c", "sale", "a")
    ended = one(seen, WrapUpEnded)
    assert (ended.agent_id, ended.disposition, ended.wrap_up_seconds) == ("a", None, 30)
    assert r.wrapping("c") == {}
    assert r.contact("c").state is ContactState.ACTIVE  # b's segment goes on
    assert r.agent("b").slot("c") is SlotState.ACTIVE


# -- a customer leaving at the instant max wait ends the wait --------------------------------


def max_wait(action: str, **kw: Any) -> Router:
    rule = MaxWait(seconds=60, action=action, **kw)  # type: ignore[arg-type]
    return make_router([q(max_wait=rule), q("side")], [agent("a"), agent("s", {"side": 1})])


@both_orders
@pytest.mark.parametrize("leave", ["contact_abandoned", "accept_callback"])
def test_leaving_at_the_instant_max_wait_removes_the_contact(advanced: bool, leave: str) -> None:
    r = max_wait("disconnect")
    r.contact_arrived(0, "c", "q")
    seen = at_the_timer(r, 60, advanced)
    seen += getattr(r, leave)(60, "c")
    removed = one(seen, ContactRemoved)
    assert (removed.reason, removed.outcome, removed.wait_seconds) == ("max_wait", "disconnect", 60)
    assert of(seen, ContactAbandoned) == []
    assert "c" not in r.contacts


@both_orders
def test_abandon_at_the_instant_max_wait_overflows_is_an_abandon_in_the_new_queue(
    advanced: bool,
) -> None:
    r = max_wait("overflow", overflow_to="side")
    login(r, 0, "s")
    r.contact_arrived(0, "c", "q")
    r.set_agent_presence(0, "s", Presence.AWAY, "break")
    seen = at_the_timer(r, 60, advanced)
    seen += r.contact_abandoned(60, "c")
    assert kinds(seen) == ["ContactTransferred", "ContactQueued", "ContactAbandoned"]
    assert one(seen, ContactTransferred).to_queue == "side"
    assert one(seen, ContactAbandoned).queue == "side"


def test_a_contact_unknown_to_every_timer_is_still_refused() -> None:
    r = max_wait("disconnect")
    r.contact_arrived(0, "c", "q")
    r.advance(60)
    with pytest.raises(UnknownContact):
        r.contact_abandoned(61, "c")  # the clock moved on: the driver was told at 60
    with pytest.raises(UnknownContact):
        r.contact_abandoned(61, "never")


@both_orders
@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.set_priority(60, "c", 500),
        lambda r: r.contact_tier_changed(60, "c", "vip"),
        lambda r: r.transfer(60, "c", "side"),
    ],
    ids=["priority", "tier", "transfer"],
)
def test_supervisor_change_at_the_instant_max_wait_removes_the_contact(
    advanced: bool, change: Any
) -> None:
    r = max_wait("callback")
    r.contact_arrived(0, "c", "q")
    seen = at_the_timer(r, 60, advanced)
    seen += change(r)
    assert one(seen, ContactRemoved).outcome == "callback"
    assert of(seen, PriorityChanged) == [] and of(seen, ContactTransferred) == []


# -- offers at the instant their ring timeout fires ------------------------------------------


@both_orders
def test_accepting_an_offer_at_the_instant_it_rings_out(advanced: bool) -> None:
    """The timeout withdrew a's offer and the contact rang at b at once: a's late accept must
    not answer it for b, who has not picked up."""
    r = make_router([q()], [agent("a"), agent("b")])
    login(r, 0, "a")
    assert one(r.contact_arrived(0, "c", "q"), ContactOffered).agent_id == "a"
    login(r, 5, "b")
    seen = at_the_timer(r, 15, advanced)
    seen += r.offer_accepted(15, "c")
    assert one(seen, OfferRejected).reason == "timeout"
    assert one(seen, ContactOffered).agent_id == "b"
    assert of(seen, ContactAnswered) == []
    assert r.contact("c").state is ContactState.OFFERED
    assert r.agent("b").slot("c") is SlotState.OFFERED
    answered = one(r.offer_accepted(16, "c"), ContactAnswered)  # b picks up
    assert answered.agent_id == "b"


@both_orders
@pytest.mark.parametrize("answer", ["offer_accepted", "offer_declined", "offer_failed"])
def test_answering_an_offer_at_the_instant_it_rings_out_with_nobody_else(
    advanced: bool, answer: str
) -> None:
    r = make_router([q()], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    seen = at_the_timer(r, 15, advanced)
    seen += getattr(r, answer)(15, "c")
    assert one(seen, OfferRejected).reason == "timeout"
    assert r.contact("c").state is ContactState.WAITING
    assert r.agent("a").consecutive_no_answers == 1  # the timeout, counted once
    with pytest.raises(InvalidInput):
        getattr(r, answer)(16, "c")  # later, it is no answer to anything


@both_orders
def test_agent_away_at_the_instant_the_ring_timeout_sets_it_away(advanced: bool) -> None:
    """The second ring timeout reaches ``no_answer_limit`` (2) as the agent goes on a break:
    the timeout comes first, then the break, which the agent's state and its events show."""
    r = make_router([q()], [agent("a")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.advance(25)  # rang out at 15, rung again at 25 (re-offer delay 10)
    seen = at_the_timer(r, 40, advanced)
    seen += r.set_agent_presence(40, "a", Presence.AWAY, "break")
    assert one(seen, OfferRejected).reason == "timeout"
    assert [(e.state, e.reason) for e in of(seen, AgentStateChanged)][-1] == ("away", "break")
    a = r.agent("a")
    assert (a.presence, a.away_reason) == (Presence.AWAY, "break")


# -- consults --------------------------------------------------------------------------------


@both_orders
@pytest.mark.parametrize("answer", ["consult_accepted", "consult_declined", "consult_cancelled"])
def test_consult_answered_at_the_instant_it_rings_out(advanced: bool, answer: str) -> None:
    r = make_router([q()], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    r.offer_accepted(0, "c")
    login(r, 10, "b")
    r.consult_started(10, "c", "b")
    seen = at_the_timer(r, 25, advanced)
    seen += getattr(r, answer)(25, "c")
    assert one(seen, ConsultEnded).reason == "timeout"
    assert of(seen, ConsultAnswered) == []
    assert r.contact("c").consult is None
    assert r.agent("b").slots == {}
