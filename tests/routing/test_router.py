"""The router as a whole: refused inputs, determinism, and the example center."""

from __future__ import annotations

import heapq
from collections.abc import Callable

import pytest

from contactcenter.agents import Presence
from contactcenter.events import (
    ContactEscalated,
    ContactOffered,
    ContactQueued,
    Event,
    OfferRejected,
    TargetBreached,
)
from contactcenter.routing import (
    ClockWentBackwards,
    ContactState,
    InvalidInput,
    Router,
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)

from .conftest import agent, example_router, login, make_router, of, one, queue

# -- refused inputs ---------------------------------------------------------------------------


def small() -> Router:
    return make_router([queue(), queue("chat", channel="chat")], [agent("a", {"q": 1, "chat": 1})])


def test_unknown_names_raise_the_named_errors() -> None:
    r = small()
    with pytest.raises(UnknownQueue):
        r.contact_arrived(0, "c", "nope")
    with pytest.raises(UnknownQueue):
        r.waiting("nope")
    with pytest.raises(UnknownContact):
        r.offer_accepted(0, "nope")
    with pytest.raises(UnknownContact):
        r.contact("nope")
    with pytest.raises(UnknownContact):
        r.explain("nope")
    with pytest.raises(UnknownContact):
        r.contact_abandoned(0, "nope")
    with pytest.raises(UnknownAgent):
        r.agent_logged_in(0, "nope")
    with pytest.raises(UnknownAgent):
        r.agent("nope")
    with pytest.raises(UnknownAgent):
        r.contact_arrived(0, "c", "q", preferred_agent="nope")
    assert r.contacts == {}  # the refused arrivals left nothing behind
    r.contact_arrived(1, "c", "q")
    with pytest.raises(UnknownQueue):
        r.transfer(2, "c", "nope")
    for exc in (UnknownQueue, UnknownContact, UnknownAgent, InvalidInput, ClockWentBackwards):
        assert issubclass(exc, RoutingError)


def test_inputs_that_do_not_fit_the_state_raise_invalid_input() -> None:
    r = small()
    r.contact_arrived(0, "c", "q")
    with pytest.raises(InvalidInput):
        r.offer_accepted(1, "c")  # waiting, not offered
    with pytest.raises(InvalidInput):
        r.offer_declined(1, "c")
    with pytest.raises(InvalidInput):
        r.contact_completed(1, "c")
    with pytest.raises(InvalidInput):
        r.contact_arrived(1, "c", "q")  # already known
    with pytest.raises(InvalidInput):
        r.contact_arrived(1, "d", "q", tier="platinum")
    with pytest.raises(InvalidInput):
        r.transfer(1, "c", "chat")  # another channel
    with pytest.raises(InvalidInput):
        r.transfer(1, "c", "q")  # already there
    with pytest.raises(InvalidInput):
        r.agent_logged_out(1, "a")  # not logged in
    with pytest.raises(InvalidInput):
        r.agent_logged_in(1, "a", Presence.AWAY)  # away needs a reason
    with pytest.raises(InvalidInput):
        r.agent_logged_in(1, "a", Presence.AWAY, "nap")  # not an away reason
    assert r.contact("c").state is ContactState.WAITING
    assert r.agent("a").presence is Presence.OFFLINE

    login(r, 2, "a")
    with pytest.raises(InvalidInput):
        r.agent_logged_in(3, "a")
    r.offer_accepted(3, "c")
    with pytest.raises(InvalidInput):
        r.offer_accepted(4, "c")  # already answered
    with pytest.raises(InvalidInput):
        r.contact_abandoned(4, "c")


def test_time_going_backwards_is_refused() -> None:
    r = small()
    r.advance(10)
    with pytest.raises(ClockWentBackwards):
        r.contact_arrived(9.5, "c", "q")
    with pytest.raises(ClockWentBackwards):
        r.advance(9.999)
    assert r.now == 10
    assert r.contacts == {}
    r.advance(10)  # the same time again is fine


def test_events_before_a_refused_input_come_with_the_next_call() -> None:
    r = small()
    r.contact_arrived(0, "c", "q")
    with pytest.raises(UnknownContact):
        r.offer_accepted(31, "nope")
    assert r.advance(31) == [TargetBreached(30, "c", "q", "voice", 30)]


def test_accepting_at_the_ring_deadline_is_too_late() -> None:
    r = small()
    login(r, 0, "a")
    r.contact_arrived(0, "c", "q")
    ev = r.offer_accepted(15, "c")  # the ring timeout (due 15) fires first: the accept is void
    assert one(ev, OfferRejected) == OfferRejected(15, "c", "q", "voice", "a", "timeout")
    assert r.contact("c").state is ContactState.WAITING
    with pytest.raises(InvalidInput):
        r.offer_accepted(16, "c")


# -- determinism ------------------------------------------------------------------------------


def play_shift(r: Router) -> list[Event]:
    """A busy hour on the example center: agents answer offers after a few seconds (every
    third one rings out, every seventh is declined), talk, and wrap up; customers arrive in
    several queues, some give up. Driven purely by the router's own deadlines."""
    out: list[Event] = []
    todo: list[tuple[float, int, Callable[[float], list[Event]]]] = []
    seq = 0

    def later(t: float, action: Callable[[float], list[Event]]) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(todo, (t, seq, action))

    def handle(events: list[Event]) -> None:
        out.extend(events)
        for e in events:
            if isinstance(e, ContactOffered):
                n = int(e.contact_id[1:])
                if n % 3 == 0:
                    continue  # rings out
                if n % 7 == 0:
                    later(e.at + 2, lambda t, c=e.contact_id: r.offer_declined(t, c))
                    continue
                later(e.at + 3, lambda t, c=e.contact_id: r.offer_accepted(t, c))
                later(e.at + 40 + n % 5, lambda t, c=e.contact_id: r.contact_completed(t, c))

    agents = ["a01", "a02", "a04", "a05", "a07", "a11", "a12", "a20", "a22", "a29"]
    for i, aid in enumerate(agents):
        later(i * 0.5, lambda t, a=aid: r.agent_logged_in(t, a))
    queues = ["sales", "support", "billing", "vip", "sales_chat", "support_chat"]
    customers = [None, "C1001", None, "C1007", None, "C1008"]
    for n in range(1, 60):
        q = queues[n % len(queues)]
        cust = customers[n % len(customers)]
        later(
            5 + n * 4.0, lambda t, c=f"c{n}", q=q, k=cust: r.contact_arrived(t, c, q, customer_id=k)
        )
        if n % 11 == 0:
            later(5 + n * 4.0 + 25, lambda t, c=f"c{n}": abandon(t, c))

    def abandon(t: float, cid: str) -> list[Event]:
        if cid in r.contacts and r.contact(cid).state in (
            ContactState.WAITING,
            ContactState.OFFERED,
        ):
            return r.contact_abandoned(t, cid)
        return []

    while todo:
        deadline = r.next_deadline()
        if deadline is not None and deadline < todo[0][0]:
            handle(r.advance(deadline))
            continue
        t, _, action = heapq.heappop(todo)
        try:
            handle(action(t))
        except InvalidInput:
            handle(r.advance(t))  # e.g. completing a call that was never answered
    while (deadline := r.next_deadline()) is not None and deadline < 2000:
        handle(r.advance(deadline))
    return out


def test_same_inputs_give_the_same_events() -> None:
    first = play_shift(example_router())
    second = play_shift(example_router())
    assert len(first) > 300
    assert first == second
    kinds = {type(e).__name__ for e in first}
    assert {"ContactOffered", "ContactAnswered", "OfferRejected", "WrapUpEnded"} <= kinds
    times = [e.at for e in first]
    assert times == sorted(times)  # events come in time order


# -- the example center -----------------------------------------------------------------------


def test_example_vip_customer_goes_to_their_dedicated_agent(example: Router) -> None:
    r = example
    login(r, 0, "a02")
    login(r, 5, "a01")  # a02 has been idle longer and is as skilled (vip_care 5)
    ev = r.contact_arrived(10, "v1", "vip", customer_id="C1001", tier="vip")
    assert one(ev, ContactQueued).priority == 120  # vip tier 100 + vip queue 20
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step) == ("a01", 0)

    # A caller without a dedicated agent starts at the first open step (tier 1).
    offered = one(r.contact_arrived(11, "v2", "vip", customer_id="C1008"), ContactOffered)
    assert (offered.agent_id, offered.step) == ("a02", 1)


def test_example_sales_expert_first_then_any_tier1_after_30s(example: Router) -> None:
    r = example
    login(r, 0, "a07", "a10")  # sales 3 tier 1, sales 2 tier 2
    login(r, 5, "a04")  # sales 5 tier 1
    assert one(r.contact_arrived(10, "s1", "sales"), ContactOffered).agent_id == "a04"
    r.offer_accepted(10.5, "s1")
    assert not of(r.contact_arrived(11, "s2", "sales"), ContactOffered)
    assert not of(r.advance(40.9), ContactOffered)
    ev = r.advance(41)
    assert one(ev, ContactEscalated).step == 1
    offered = one(ev, ContactOffered)
    assert (offered.agent_id, offered.step) == ("a07", 1)
    assert one(ev, TargetBreached).threshold_seconds == 30
