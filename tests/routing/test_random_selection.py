"""``selection: random`` (Asterisk's ``random`` queue strategy): every ready, eligible agent is
equally likely to get an offer, drawn from the router's own generator (seeded: reproducible)."""

from __future__ import annotations

import random
from collections import Counter

from scipy import stats

from contactcenter.config import build_center
from contactcenter.events import ContactOffered
from contactcenter.routing import Router

from .conftest import agent, login, one, queue, settings

AGENTS = ("a", "b", "c", "d", "e")


def random_router(rng: random.Random | None) -> Router:
    """Five agents of one random-selection queue; ``a`` logs in first, ``e`` last (by any
    other strategy ``a`` would be offered every contact: longest idle, first in config)."""
    center = build_center(settings(), [queue(selection="random")], [agent(a) for a in AGENTS], [])
    r = Router(center) if rng is None else Router(center, rng=rng)
    for i, a in enumerate(AGENTS):
        login(r, float(i), a)
    return r


def picks(r: Router, n: int) -> list[str]:
    """Who is offered each of ``n`` contacts, one at a time (each ends before the next, so all
    five agents are ready for every offer)."""
    chosen = []
    for i in range(n):
        t = 10.0 + i
        cid = f"c{i}"
        chosen.append(one(r.contact_arrived(t, cid, "q"), ContactOffered).agent_id)
        r.offer_accepted(t, cid)
        r.contact_completed(t + 0.5, cid)
    return chosen


def test_random_selection_is_uniform_over_the_ready_agents() -> None:
    n = 5000
    counts = Counter(picks(random_router(random.Random(11)), n))
    observed = [counts[a] for a in AGENTS]
    assert sum(observed) == n
    # Chi-square against 1/5 each: a strategy that preferred anyone fails by far.
    assert stats.chisquare(observed).pvalue > 0.001, observed


def test_random_selection_only_draws_among_ready_agents() -> None:
    r = random_router(random.Random(3))
    r.agent_logged_out(5.0, "c")
    assert set(picks(r, 400)) == {"a", "b", "d", "e"}


def test_same_seed_same_choices_other_seed_other_choices() -> None:
    first = picks(random_router(random.Random(42)), 200)
    assert picks(random_router(random.Random(42)), 200) == first
    assert picks(random_router(random.Random(43)), 200) != first


def test_without_a_generator_the_router_draws_from_an_os_seeded_one() -> None:
    # (Two live routers agree on 200 draws among five with probability 5^-200.)
    assert picks(random_router(None), 200) != picks(random_router(None), 200)
