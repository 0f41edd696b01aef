"""CSAT of a period from the stored survey answers, per queue (and channel) and per agent.

An answer counts in the period it was given in, under the queue and agent it was stored with
(``Store.add_survey``: those of the contact's last segment an agent answered). Answers stored
before surveys said what they were about (no queue) count nowhere. Only scores are read:
comments are personal data and never leave the store here. A survey the phone asked that got
no score counts as ``unanswered`` in the period it ended in, never as an answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from contactcenter.kpi import SATISFIED, Csat
from contactcenter.store.store import Store


@dataclass(frozen=True)
class CsatReport:
    queues: dict[tuple[str, str], Csat]
    """(queue, channel) -> its answers."""
    agents: dict[str, Csat]
    """Agent id -> the answers about contacts it handled last."""


async def csat_between(store: Store, since_wall: float, until_wall: float) -> CsatReport:
    """The answers given at or after ``since_wall`` and before ``until_wall``."""
    rows = await store._rows(
        "SELECT queue, channel, agent_id, count(*), sum(score),"
        " sum(CASE WHEN score >= ? THEN 1 ELSE 0 END) FROM surveys"
        " WHERE wall_time >= ? AND wall_time < ? AND queue IS NOT NULL"
        " GROUP BY queue, channel, agent_id",
        (SATISFIED, since_wall, until_wall),
    )
    queues: dict[tuple[str, str], Csat] = defaultdict(Csat)
    agents: dict[str, Csat] = defaultdict(Csat)
    unanswered = await store._rows(
        "SELECT queue, channel, agent_id, count(*) FROM unanswered_surveys"
        " WHERE wall_time >= ? AND wall_time < ? AND queue IS NOT NULL"
        " GROUP BY queue, channel, agent_id",
        (since_wall, until_wall),
    )
    parts = [(q, ch, a, Csat(n, total, sat)) for q, ch, a, n, total, sat in rows]
    parts += [(q, ch, a, Csat(unanswered=n)) for q, ch, a, n in unanswered]
    for queue, channel, agent, part in parts:
        queues[(queue, channel)] += part
        if agent is not None:
            agents[agent] += part
    return CsatReport(dict(queues), dict(agents))
