"""Which agent gets a contact (selection strategies) and which contact an agent in several
queues gets (tier weight * wait / answer threshold, own dedicated customers first)."""

from __future__ import annotations

import random

import hypothesis.strategies as st
import pytest
from hypothesis import given

from contactcenter.agents import Agent, SlotState
from contactcenter.events import ContactOffered
from contactcenter.routing import Router
from contactcenter.routing.selection import choose_agent

from .conftest import agent, customer, login, make_router, one, queue

# -- selection strategies ---------------------------------------------------------------------


def strategy_router(strategy: str) -> Router:
    """A, B, C, D (config order) serve q; A and D also serve ``warm``. History by t = 100:

    * A: logged in at 0, handled a ``warm`` call 0-10, idle since 10 (occupancy 10 %);
    * B: logged in at 30, C (the only sales 5) at 20, D at 0; none of them has worked yet.

    longest_idle -> D (idle since 0); least_occupied -> B (0 %, first of B, C, D in config
    order); most_skilled -> C; round_robin -> A (first in order; nobody took a q contact yet).
    """
    r = make_router(
        [queue("warm"), queue("q", selection=strategy, answer_target={"threshold_seconds": 999})],
        [
            agent("A", {"warm": 1, "q": 1}),
            agent("B", {"q": 1}),
            agent("C", {"q": 1}, skills={"sales": 5}),
            agent("D", {"warm": 1, "q": 1}),
        ],
    )
    login(r, 0, "A", "D")
    assert one(r.contact_arrived(0, "w", "warm"), ContactOffered).agent_id == "A"
    r.offer_accepted(0, "w")
    r.contact_completed(10, "w")
    login(r, 20, "C")
    login(r, 30, "B")
    return r


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("longest_idle", "D"), ("least_occupied", "B"), ("most_skilled", "C"), ("round_robin", "A")],
)
def test_each_strategy_picks_its_own_agent(strategy: str, expected: str) -> None:
    r = strategy_router(strategy)
    assert r.agent("A").occupancy(100) == pytest.approx(0.1)
    offered = one(r.contact_arrived(100, "c", "q"), ContactOffered)
    assert offered.agent_id == expected


def test_longest_idle_is_the_default() -> None:
    r = make_router([queue()], [agent("a"), agent("b")])
    login(r, 0, "b")
    login(r, 5, "a")
    assert one(r.contact_arrived(6, "c", "q"), ContactOffered).agent_id == "b"


def test_longest_idle_counts_idle_from_the_end_of_the_last_contact() -> None:
    r = make_router([queue()], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.offer_accepted(0, "c1")
    login(r, 5, "b")
    r.contact_completed(10, "c1")  # a idle since 10, b since 5
    assert one(r.contact_arrived(11, "c2", "q"), ContactOffered).agent_id == "b"


def test_round_robin_rotates_through_the_members() -> None:
    r = make_router([queue(selection="round_robin")], [agent("a"), agent("b"), agent("c")])
    login(r, 0, "c", "b", "a")  # a logged in last: longest_idle would pick c first
    chosen = []
    for i in range(5):
        t = 10.0 * (i + 1)
        offered = one(r.contact_arrived(t, f"k{i}", "q"), ContactOffered)
        chosen.append(offered.agent_id)
        r.offer_accepted(t, offered.contact_id)
        r.contact_completed(t + 1, offered.contact_id)
    assert chosen == ["a", "b", "c", "a", "b"]


def test_round_robin_skips_agents_who_are_not_ready() -> None:
    r = make_router([queue(selection="round_robin")], [agent("a"), agent("b"), agent("c")])
    login(r, 0, "a", "c")  # b offline
    assert one(r.contact_arrived(1, "k1", "q"), ContactOffered).agent_id == "a"
    assert one(r.contact_arrived(2, "k2", "q"), ContactOffered).agent_id == "c"


def test_most_skilled_sums_proficiency_over_the_queue_skills() -> None:
    r = make_router(
        [queue(skills={"sales": 1, "billing": 1}, selection="most_skilled")],
        [
            agent("spiky", skills={"sales": 5, "billing": 1}),  # 6
            agent("broad", skills={"sales": 4, "billing": 4}),  # 8
        ],
    )
    login(r, 0, "spiky", "broad")
    assert one(r.contact_arrived(1, "c", "q"), ContactOffered).agent_id == "broad"


@pytest.mark.parametrize(("strategy", "expected"), [("least_occupied", "b"), ("longest_idle", "a")])
def test_least_occupied_prefers_the_agent_who_worked_least(strategy: str, expected: str) -> None:
    r = make_router([queue(selection=strategy)], [agent("a"), agent("b")])
    login(r, 0, "a")
    r.contact_arrived(0, "c1", "q")
    r.offer_accepted(0, "c1")
    r.contact_completed(50, "c1")  # a: busy 50 s, idle since 50
    login(r, 60, "b")  # b: idle since 60, never busy
    assert r.agent("a").occupancy(70) == pytest.approx(50 / 70)
    assert r.agent("b").occupancy(70) == 0
    assert one(r.contact_arrived(70, "c2", "q"), ContactOffered).agent_id == expected


# -- an agent serving several queues ----------------------------------------------------------


@pytest.mark.parametrize(("tier", "expected"), [("standard", "x"), ("vip", "y")])
def test_cross_queue_choice_weighs_tier_and_wait_against_the_threshold(
    tier: str, expected: str
) -> None:
    """At 30 s: x scores 1 * 30 / 30 = 1; y scores weight * 30 / 60 (0.5 standard, 1.5 VIP)."""
    r = make_router(
        [
            queue("q1", answer_target={"threshold_seconds": 30}),
            queue("q2", answer_target={"threshold_seconds": 60}),
        ],
        [agent("m", {"q1": 1, "q2": 1})],
    )
    r.contact_arrived(0, "x", "q1")
    r.contact_arrived(0, "y", "q2", tier=tier)
    assert one(login(r, 30, "m"), ContactOffered).contact_id == expected


def test_cross_queue_choice_is_by_score_not_by_raw_wait_or_priority() -> None:
    """x waited 10 s of a 10 s target (score 1); y waited 30 s of 100 s (0.3), although y
    waited longer and its queue has the higher priority."""
    r = make_router(
        [
            queue("q1", answer_target={"threshold_seconds": 10}),
            queue("q2", priority=50, answer_target={"threshold_seconds": 100}),
        ],
        [agent("m", {"q1": 1, "q2": 1})],
    )
    r.contact_arrived(0, "y", "q2")
    r.contact_arrived(20, "x", "q1")
    assert one(login(r, 30, "m"), ContactOffered).contact_id == "x"


def test_a_stream_of_fresh_contacts_does_not_starve_an_old_one() -> None:
    """Every 2 s a contact that arrived 1 s ago competes in ``fast`` (target 10 s, score 0.1)
    with ``o`` in ``slow`` (target 100 s, score (t - 0.5) / 100): o wins from t = 12 on."""
    r = make_router(
        [
            queue("fast", answer_target={"threshold_seconds": 10}),
            queue("slow", answer_target={"threshold_seconds": 100}),
        ],
        [agent("m", {"fast": 1, "slow": 1})],
    )
    login(r, 0, "m")
    r.contact_arrived(0, "f0", "fast")
    r.offer_accepted(0, "f0")
    r.contact_arrived(0.5, "o", "slow")
    current = "f0"
    served_at = None
    for t in range(2, 40, 2):
        r.contact_arrived(t - 1, f"f{t}", "fast")
        offered = one(r.contact_completed(t, current), ContactOffered)
        current = offered.contact_id
        r.offer_accepted(t, current)
        if current == "o":
            served_at = t
            break
        assert current == f"f{t}"
    assert served_at == 12


def test_own_dedicated_customer_first_across_queues() -> None:
    r = make_router(
        [queue("q1"), queue("q2")],
        [agent("m", {"q1": 1, "q2": 1}, dedicated_customers=("K",))],
        [customer("K")],
    )
    login(r, 0, "m")
    r.contact_arrived(0, "busy", "q1")
    r.offer_accepted(0, "busy")
    r.contact_arrived(1, "x", "q1", tier="vip")  # older, VIP, and higher score
    r.contact_arrived(2, "k", "q2", customer_id="K")
    ev = r.contact_completed(5, "busy")
    assert one(ev, ContactOffered).contact_id == "k"


# -- the choice is the smallest of each strategy's sort key -----------------------------------

SORT_KEYS = {
    "longest_idle": lambda a, now, skill, order: (len(a.slots), a.idle_since, order[a.id]),
    "least_occupied": lambda a, now, skill, order: (a.occupancy(now), len(a.slots), order[a.id]),
    "most_skilled": lambda a, now, skill, order: (
        -skill[a.id],
        len(a.slots),
        a.idle_since,
        order[a.id],
    ),
}
"""What ``choose_agent`` documents, as plain sort keys: its loops compare them field by field."""

few = st.integers(0, 2)  # small ranges: most candidates tie on most fields


@given(
    agents=st.lists(st.tuples(few, few, few, few, few), min_size=1, max_size=12),
    data=st.data(),
)
def test_the_chosen_agent_has_the_smallest_sort_key(
    agents: list[tuple[int, int, int, int, int]], data: st.DataObject
) -> None:
    """Per agent: load, idle since, busy and idle seconds (occupancy), skill total; the
    candidates in a drawn order (not the config's), so position decides only full ties."""
    pool = []
    for i, (load, idle_since, busy, idle, _) in enumerate(agents):
        a = Agent(f"a{i}", {"chat": 3}, {})
        a.slots = {f"c{i}/{k}": ("chat", SlotState.ACTIVE) for k in range(load)}
        a.idle_since, a.busy_seconds, a.available_idle_seconds = idle_since, busy, idle
        pool.append(a)
    skill = {f"a{i}": s for i, (*_, s) in enumerate(agents)}
    order = {a.id: i for i, a in enumerate(pool)}
    candidates = data.draw(st.permutations(pool))
    for strategy, key in SORT_KEYS.items():
        chosen = choose_agent(
            strategy,  # type: ignore[arg-type]
            candidates,
            now=10.0,
            skill_total=skill,
            order=order,
            round_robin_last=-1,
            member_count=len(pool),
            rng=random.Random(0),
        )
        assert chosen is min(candidates, key=lambda a: key(a, 10.0, skill, order)), strategy
    last = data.draw(st.integers(-1, len(pool) - 1))
    turn = choose_agent(
        "round_robin",
        candidates,
        now=10.0,
        skill_total=skill,
        order=order,
        round_robin_last=last,
        member_count=len(pool),
        rng=random.Random(0),
    )
    assert turn is min(candidates, key=lambda a: ((order[a.id] - last - 1) % len(pool), a.id))
