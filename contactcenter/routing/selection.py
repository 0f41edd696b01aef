"""Agent selection: which of several ready, eligible agents gets the offer.

Every strategy ends in the agent's position in the config, so the choice is a total order and
the same inputs always give the same choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contactcenter.agents import Agent
from contactcenter.config import Strategy

SortKey = tuple[float, ...]


def choose_agent(
    strategy: Strategy,
    candidates: Sequence[Agent],
    *,
    now: float,
    skill_total: Mapping[str, int],
    order: Mapping[str, int],
    round_robin_last: int,
    member_count: int,
) -> Agent:
    """Pick one of ``candidates`` (non-empty) by ``strategy``.

    ``skill_total`` (agent id -> sum of its proficiencies in the queue's skills) and ``order``
    (agent id -> position in the config) come from the router; ``round_robin_last`` is the
    position of the queue's last chosen agent. Each strategy is the smallest of a sort key
    (``len(a.slots)`` is ``a.load()``), found in a plain loop: this runs for every offer to
    one of several ready agents, and a key function would cost a call per candidate.
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
    else:
        last, n = round_robin_last, max(member_count, 1)
        best_key = ((order[best.id] - last - 1) % n, order[best.id])
        for a in candidates:
            key = ((order[a.id] - last - 1) % n, order[a.id])
            if key < best_key:
                best, best_key = a, key
    return best
