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
    strategy is the smallest of a sort key (``len(a.slots)`` is ``a.load()``):

    * ``longest_idle``: (load, idle since, position);
    * ``least_occupied``: (occupancy now, load, position);
    * ``most_skilled``: (-skill total, load, idle since, position);
    * ``round_robin``: position after the last chosen one, cyclically.

    This runs for every offer to one of several ready agents (tens to hundreds of them in a
    planning day), so each key is compared field by field in a plain loop: compiled, these are
    machine comparisons, where a key tuple or key function would cost objects per candidate.
    """
    if strategy == "longest_idle":
        return _longest_idle(candidates, order)
    if strategy == "least_occupied":
        return _least_occupied(candidates, now, order)
    if strategy == "most_skilled":
        return _most_skilled(candidates, skill_total, order)
    if strategy == "random":
        return candidates[rng.randrange(len(candidates))]
    n = max(member_count, 1)
    best = candidates[0]
    best_turn = (order[best.id] - round_robin_last - 1) % n
    for a in candidates:
        turn = (order[a.id] - round_robin_last - 1) % n
        if turn < best_turn:  # (positions differ, so turns differ: no tie to break)
            best, best_turn = a, turn
    return best


def _longest_idle(candidates: Sequence[Agent], order: Mapping[str, int]) -> Agent:
    best = candidates[0]
    load, idle = len(best.slots), best.idle_since
    for a in candidates:
        a_load = len(a.slots)
        if a_load > load:
            continue
        a_idle = a.idle_since
        if a_load == load and (a_idle > idle or (a_idle == idle and order[a.id] > order[best.id])):
            continue
        best, load, idle = a, a_load, a_idle
    return best


def _least_occupied(candidates: Sequence[Agent], now: float, order: Mapping[str, int]) -> Agent:
    best = candidates[0]
    occupancy, load = best.occupancy(now), len(best.slots)
    for a in candidates:
        a_occupancy = a.occupancy(now)
        if a_occupancy > occupancy:
            continue
        a_load = len(a.slots)
        if a_occupancy == occupancy and (
            a_load > load or (a_load == load and order[a.id] > order[best.id])
        ):
            continue
        best, occupancy, load = a, a_occupancy, a_load
    return best


def _most_skilled(
    candidates: Sequence[Agent], skill_total: Mapping[str, int], order: Mapping[str, int]
) -> Agent:
    best = candidates[0]
    skill, load, idle = skill_total[best.id], len(best.slots), best.idle_since
    for a in candidates:
        a_skill = skill_total[a.id]
        if a_skill < skill:
            continue
        a_load, a_idle = len(a.slots), a.idle_since
        if a_skill == skill and (
            a_load > load
            or (
                a_load == load
                and (a_idle > idle or (a_idle == idle and order[a.id] > order[best.id]))
            )
        ):
            continue
        best, skill, load, idle = a, a_skill, a_load, a_idle
    return best
