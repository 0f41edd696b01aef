"""Selection: which of several ready, eligible agents gets an offer, and which queue an agent
who becomes ready serves first.

Every agent strategy ends in the agent's position in the config, so the choice is a total
order and the same inputs always give the same choice; ``random`` (Asterisk's strategy of that
name) draws from the router's generator instead, so the same seed and inputs do.

Across queues (``Router._best_contact_for``): the agent's own dedicated customers first; then,
among the head contacts of the queues it may serve, the best ``queue_rank`` (strict queue
priority: 1 first, queues the agent does not rank after every ranked one; an agent without
ranks has them all equal), and among equal ranks the highest ``tier weight x wait / answer
threshold`` (the contact most at risk of its target); a tie goes to the higher priority,
then the earlier arrival.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

from contactcenter.agents import Agent
from contactcenter.config import AgentConfig, Strategy

SortKey = tuple[float, ...]

UNRANKED = 100
"""The rank of a queue an agent's ``queue_rank`` leaves out: after every rank (1-99)."""


def queue_ranks(agent: AgentConfig, queues: Iterable[str]) -> dict[str, int]:
    """Queue -> the agent's rank of it (lower first); all 0 for an agent without ranks."""
    if not agent.queue_rank:
        return dict.fromkeys(queues, 0)
    return {q: agent.queue_rank.get(q, UNRANKED) for q in queues}


def choose_agent(
    strategy: Strategy,
    candidates: Sequence[Agent],
    *,
    now: float,
    skill_total: Mapping[str, int],
    order: Mapping[str, int],
    round_robin_last: int,
    member_count: int,
    rng: random.Random,
) -> Agent:
    """Pick one of ``candidates`` (non-empty) by ``strategy``.

    ``skill_total`` (agent id -> sum of its proficiencies in the queue's skills) and ``order``
    (agent id -> position in the config) come from the router; ``round_robin_last`` is the
    position of the queue's last chosen agent; ``rng`` draws ``random``'s choice. Each other
    strategy is the smallest of a sort key (``len(a.slots)`` is ``a.load()``), found in a plain
    loop: this runs for every offer to one of several ready agents, and a key function would
    cost a call per candidate.
    """
    best = candidates[0]
    key: SortKey
    best_key: SortKey
    if strategy == "longest_idle":
        best_key = (len(best.slots), best.idle_since, order[best.id])
        for a in candidates:
            key = (len(a.slots), a.idle_since, order[a.id])
            if key < best_key:
                best, best_key = a, key
    elif strategy == "least_occupied":
        best_key = (best.occupancy(now), len(best.slots), order[best.id])
        for a in candidates:
            key = (a.occupancy(now), len(a.slots), order[a.id])
            if key < best_key:
                best, best_key = a, key
    elif strategy == "most_skilled":
        best_key = (-skill_total[best.id], len(best.slots), best.idle_since, order[best.id])
        for a in candidates:
            key = (-skill_total[a.id], len(a.slots), a.idle_since, order[a.id])
            if key < best_key:
                best, best_key = a, key
    elif strategy == "random":
        return candidates[rng.randrange(len(candidates))]
    else:
        last, n = round_robin_last, max(member_count, 1)
        best_key = ((order[best.id] - last - 1) % n, order[best.id])
        for a in candidates:
            key = ((order[a.id] - last - 1) % n, order[a.id])
            if key < best_key:
                best, best_key = a, key
    return best
