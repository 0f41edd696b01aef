"""Agent selection: which of several ready, eligible agents gets the offer.

Every strategy ends in the agent's position in the config, so the choice is a total order and
the same inputs always give the same choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from contactcenter.agents import Agent
from contactcenter.config import QueueConfig, Strategy

SortKey = tuple[float, ...]


def choose_agent(
    strategy: Strategy,
    candidates: Sequence[Agent],
    *,
    now: float,
    queue: QueueConfig,
    proficiency: Callable[[str, str], int],
    order: Callable[[str], int],
    round_robin_last: int,
    member_count: int,
) -> Agent:
    """Pick one of ``candidates`` (non-empty) by ``strategy``.

    ``proficiency(agent_id, skill)`` and ``order(agent_id)`` (config position) come from the
    router; ``round_robin_last`` is the position of the queue's last chosen agent.
    """
    if strategy == "longest_idle":
        return min(candidates, key=lambda a: (a.load(), a.idle_since, order(a.id)))
    if strategy == "least_occupied":
        return min(candidates, key=lambda a: (a.occupancy(now), a.load(), order(a.id)))
    if strategy == "most_skilled":
        return min(
            candidates,
            key=lambda a: (
                -sum(proficiency(a.id, s) for s in queue.skills),
                a.load(),
                a.idle_since,
                order(a.id),
            ),
        )
    n = max(member_count, 1)
    return min(candidates, key=lambda a: ((order(a.id) - round_robin_last - 1) % n, order(a.id)))
