"""``Router.explain``: every candidate for a waiting contact, with a reason code when it is
not eligible now."""

from __future__ import annotations

from contactcenter.agents import Presence
from contactcenter.routing import ContactState, Router

from .conftest import agent, customer, login, make_router, queue, step


def explain_router() -> Router:
    """Queue q (sales >= 3): tier 1 at once, tier 2 from 30 s; a 60 s wrap-up. Agent ``other``
    serves only ``elsewhere``."""
    q = queue(
        skills={"sales": 3},
        escalation=(step(0, max_tier=1), step(30, max_tier=2)),
        wrap_up_seconds=60,
        answer_target={"threshold_seconds": 999},
    )
    elsewhere = queue("elsewhere", skills={"support": 1})
    t1 = {"q": 1}
    return make_router(
        [q, elsewhere],
        [
            agent("busy", t1),
            agent("wrapping", t1),
            agent("ringing", t1),
            agent("decliner", t1),
            agent("away", t1),
            agent("offline", t1),
            agent("noskill", t1, skills={"support": 5}),
            agent("lowprof", t1, skills={"sales": 2}),
            agent("tier2", {"q": 2}),
            agent("tier3", {"q": 3}),
            agent("other", {"elsewhere": 1}, skills={"sales": 5, "support": 1}),
        ],
    )


def test_explain_gives_a_reason_code_for_every_candidate() -> None:
    r = explain_router()
    login(r, 0, "busy")
    r.contact_arrived(0, "b1", "q")
    r.offer_accepted(0, "b1")
    login(r, 1, "wrapping")
    r.contact_arrived(1, "w1", "q")
    r.offer_accepted(1, "w1")
    r.contact_completed(2, "w1")
    login(r, 3, "ringing")
    r.contact_arrived(3, "r1", "q")  # rings until 18
    login(r, 4, "decliner")
    r.contact_arrived(4, "T", "q")
    assert r.contact("T").agent == "decliner"
    r.offer_declined(5, "T")  # kept from T until 15
    r.agent_logged_in(5, "away", Presence.AWAY, "lunch")
    login(r, 5, "noskill", "lowprof", "tier2", "tier3", "other")
    r.advance(6)

    ex = r.explain("T")
    assert (ex.contact_id, ex.queue, ex.state, ex.step, ex.agent) == (
        "T",
        "q",
        ContactState.WAITING,
        0,
        None,
    )
    assert ex.wait_seconds == 2
    codes = {c.agent_id: c.reason for c in ex.candidates}
    assert codes == {
        "busy": "capacity",
        "wrapping": "wrap_up",
        "ringing": "offered",
        "decliner": "excluded",
        "away": "away",
        "offline": "offline",
        "noskill": "skill",
        "lowprof": "proficiency",
        "tier2": "step",
        "tier3": "tier_level",
    }  # "other" is no member and no step lets non-members in: not a candidate
    assert not any(c.eligible for c in ex.candidates)
    details = {c.agent_id: c.detail for c in ex.candidates}
    assert details["tier2"].endswith("eligible from step 1 (30 s)")
    assert details["tier3"] == "tier level 3 > 2 at every step"
    assert details["lowprof"] == "sales proficiency 2 < 3 at every step"
    assert details["away"] == "away (lunch)"
    assert details["decliner"] == "declined or missed it; again from 15"


def test_explain_follows_the_contact_as_it_escalates_and_agents_free_up() -> None:
    r = explain_router()
    login(r, 0, "busy")
    r.contact_arrived(0, "b1", "q")
    r.offer_accepted(0, "b1")
    r.contact_arrived(1, "T", "q")
    r.agent_logged_in(2, "tier2", Presence.AWAY, "break")
    codes = {c.agent_id: c.reason for c in r.explain("T").candidates}
    assert (codes["tier2"], codes["busy"]) == ("step", "capacity")

    r.advance(31)  # step 1: tier 2 is in, but away
    ex = r.explain("T")
    assert ex.step == 1
    codes = {c.agent_id: c.reason for c in ex.candidates}
    assert codes["tier2"] == "away"
    assert codes["tier3"] == "tier_level"

    # Back from the break: offered at once (work conservation), so no longer waiting.
    r.set_agent_presence(32, "tier2", Presence.AVAILABLE)
    ex = r.explain("T")
    assert (ex.state, ex.agent, ex.candidates) == (ContactState.OFFERED, "tier2", ())


def test_explain_dedicated_only_step() -> None:
    q = queue(escalation=(step(0, dedicated_only=True), step(20)))
    r = make_router(
        [q],
        [agent("ded", dedicated_customers=("K",)), agent("other"), agent("outsider", {})],
        [customer("K", "vip")],
    )
    login(r, 0, "ded")
    r.contact_arrived(0, "x", "q")
    r.offer_accepted(0, "x")
    login(r, 1, "other")
    r.contact_arrived(2, "k", "q", customer_id="K")
    cands = {c.agent_id: c for c in r.explain("k").candidates}
    assert set(cands) == {"ded", "other"}
    assert (cands["other"].eligible, cands["other"].reason) == (False, "dedicated_only")
    assert (cands["ded"].eligible, cands["ded"].reason) == (False, "capacity")


def test_dedicated_agent_who_is_no_member_is_a_candidate() -> None:
    r = make_router(
        [queue()],
        [agent("m"), agent("ded", {}, skills={}, dedicated_customers=("K",))],
        [customer("K")],
    )
    r.agent_logged_in(0, "ded", Presence.AWAY, "break")
    r.contact_arrived(1, "k", "q", customer_id="K")
    cands = {c.agent_id: c.reason for c in r.explain("k").candidates}
    assert cands == {"m": "offline", "ded": "away"}
    ev = r.set_agent_presence(2, "ded", Presence.AVAILABLE)
    assert r.contact("k").agent == "ded", ev


def test_explain_any_agent_step_lists_non_members() -> None:
    q = queue(escalation=(step(0), step(60, any_agent=True, min_proficiency=1)))
    r = make_router([q], [agent("m"), agent("helper", {}, skills={"sales": 1})])
    r.contact_arrived(0, "c", "q")
    cands = {c.agent_id: c for c in r.explain("c").candidates}
    assert cands["helper"].reason == "step"
    assert cands["helper"].detail.endswith("eligible from step 1 (60 s)")
    assert cands["m"].reason == "offline"
