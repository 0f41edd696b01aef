"""The core's timers: set for what may come due, dropped early when cheap, never early when
still live."""

from __future__ import annotations

from contactcenter.config import MaxWait
from contactcenter.events import ContactRemoved, OfferRejected

from .conftest import agent, kinds, login, make_router, one, queue, step


def test_a_contact_answered_at_once_leaves_no_wait_timers_but_a_declined_one_keeps_them() -> None:
    """Accepting an offer drops the contact's step, breach and max-wait timers when they are
    still last in their lanes (they are stale from then on; most contacts of a busy day
    would otherwise each cost three heap pops). While it rings they must stay: a contact
    whose offer is declined still escalates, breaches and is removed on time."""
    r = make_router(
        [
            queue(
                escalation=(step(0, max_tier=1), step(30, max_tier=2)),
                max_wait=MaxWait(seconds=120),
                answer_target={"threshold_seconds": 20},
            )
        ],
        [agent("a", {"q": 1}), agent("b", {"q": 1}), agent("c", {"q": 1})],
    )
    for aid in ("a", "b"):
        login(r, 0, aid)
    r.contact_arrived(0, "first", "q")  # its timers head their lanes: they stay
    r.offer_accepted(0, "first")
    before = len(r._timers)
    r.contact_arrived(1, "second", "q")
    assert len(r._timers) == before + 4  # step, breach, max wait, ring
    r.offer_accepted(1, "second")
    assert len(r._timers) == before

    # the next one is declined: its timers still fire
    login(r, 2, "c")
    r.contact_arrived(2, "third", "q")
    assert one(r.offer_declined(3, "third"), OfferRejected).reason == "declined"
    r.agent_logged_out(4, "c")
    assert kinds(r.advance(22)) == ["TargetBreached"]
    assert kinds(r.advance(32)) == ["ContactEscalated"]
    assert one(r.advance(122), ContactRemoved).wait_seconds == 120
