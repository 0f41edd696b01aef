"""Bugs found by the stateful invariant test (``test_invariants.py``), each as a plain test."""

from __future__ import annotations

from contactcenter.agents import Presence
from contactcenter.config import MaxWait
from contactcenter.events import ContactOffered, ContactRemoved, OfferRejected
from contactcenter.routing import ContactState

from .conftest import agent, kinds, login, make_router, one, queue, step


def test_contacts_escalating_at_the_same_instant_are_served_by_priority() -> None:
    """Two contacts reach a wider step at the same moment; the only agent must get the VIP,
    not whichever step timer happened to be set first (it used to be matched timer by
    timer)."""
    r = make_router(
        [
            queue(
                escalation=(step(0, max_tier=1), step(15, max_tier=2)),
                answer_target={"threshold_seconds": 1000},
            )
        ],
        [agent("a", {"q": 2})],
    )
    login(r, 0, "a")
    r.contact_arrived(0, "lo", "q", tier="standard")
    r.contact_arrived(0, "hi", "q", tier="vip")
    assert r.waiting("q") == ["hi", "lo"]
    offered = one(r.advance(15), ContactOffered)
    assert (offered.contact_id, offered.agent_id, offered.step) == ("hi", "a", 1)
    assert r.waiting("q") == ["lo"]


def test_contact_back_from_the_reoffer_delay_beats_a_lower_priority_overflow() -> None:
    """At the same instant a declined VIP's re-offer delay ends and a standard contact
    overflows in from another queue: the VIP gets the agent."""
    r = make_router(
        [
            queue("q", answer_target={"threshold_seconds": 1000}),
            queue(
                "side",
                skills={"support": 2},
                escalation=(step(0), step(10, overflow_to="q")),
                answer_target={"threshold_seconds": 1000},
            ),
        ],
        [agent("a"), agent("s", {"side": 1}, skills={"support": 3})],
        reoffer_delay_seconds=10,
    )
    login(r, 0, "a")
    r.contact_arrived(0, "lo", "side", tier="standard")  # nobody for side: overflows at 10
    assert one(r.contact_arrived(0, "hi", "q", tier="vip"), ContactOffered).agent_id == "a"
    r.offer_declined(0, "hi")  # a is kept away from hi until 10
    offered = one(r.advance(10), ContactOffered)
    assert (offered.contact_id, offered.agent_id) == ("hi", "a")
    assert r.waiting("q") == ["lo"]


def test_ring_timeout_set_by_an_offer_made_inside_a_long_advance_still_fires() -> None:
    """An offer made while firing timers (here at the end of the re-offer delay) sets a ring
    timeout that is itself due by ``now``: it fires in the same call. (A first version of
    matching once per instant missed it unless some unrelated timer was still queued.)"""
    r = make_router([queue(answer_target={"threshold_seconds": 1000})], [agent("a")])
    login(r, 0, "a")
    assert one(r.contact_arrived(0, "c", "q"), ContactOffered).ring_deadline == 15
    ev = r.advance(100)
    offers = [(e.at, e.ring_deadline) for e in ev if isinstance(e, ContactOffered)]
    assert offers == [(25, 40)]
    rejected = [(e.at, e.reason) for e in ev if isinstance(e, OfferRejected)]
    assert rejected == [(15, "timeout"), (40, "timeout")]
    assert r.agent("a").presence is Presence.AWAY  # two no-answers in a row
    assert r.next_deadline() is None or r.next_deadline() > 100


def test_contact_id_used_again_does_not_inherit_the_old_contacts_timers() -> None:
    """Ids may be reused once a contact has ended. The new contact used to pick up the old
    one's timers (same id, same stamps): here the old max-wait removed it after 27 s of a
    100 s limit."""
    r = make_router(
        [
            queue("q1", max_wait=MaxWait(seconds=30), answer_target={"threshold_seconds": 20}),
            queue("q2", max_wait=MaxWait(seconds=100), answer_target={"threshold_seconds": 90}),
        ],
        [agent("a", {"q1": 1, "q2": 1})],
    )
    login(r, 0, "a")
    r.contact_arrived(0, "x", "q1")
    r.offer_accepted(1, "x")
    r.contact_completed(2, "x")  # no wrap-up: x has ended
    r.agent_logged_out(3, "a")
    r.contact_arrived(3, "x", "q2")
    assert r.advance(92) == []  # neither the old breach (20) nor the old max wait (30)
    assert r.contact("x").state is ContactState.WAITING
    assert kinds(r.advance(93)) == ["TargetBreached"]
    assert one(r.advance(103), ContactRemoved).wait_seconds == 100
