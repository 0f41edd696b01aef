"""Per-agent assessment for supervisors: each agent's handled contacts, AHT, talk, ACW,
occupancy, CSAT, FCR, transfers and no-answers over consecutive periods (a day, or the
intervals of a day), read from the stored records by the definitions of
``contactcenter.kpi`` (``AgentWork``, ``Csat``, ``Fcr``).

The period a record counts in:

* a segment the agent handled (answered, its conversation ended ``completed``,
  ``transferred`` or ``retry``: the KPI tally's handled) counts when its conversation ended,
  with its queue and its wrap-up once that has ended; a ``transferred`` one is a transfer made;
* an offer that ended unanswered (``rejected_offers``) counts when it ended, as a no-answer
  if its reason is one of ``kpi.NO_ANSWERS``;
* the agent state log is cut at the periods' edges. The stretch between two entries counts
  as the activity the later entry says the agent left (``previous``) when that is the one the
  earlier entry set; otherwise the log has a gap there (the engine was stopped, and after a
  restart an agent starts from offline) and the stretch counts nowhere. The last stretch runs
  until ``now``;
* a survey answer counts when it was given (``store/surveys.csat_between``);
* a first contact counts when it arrived, under the agent of its last answered segment
  (``store/fcr.first_contacts_between``: verified customers only).

Only sums leave this module: no contact or customer ids.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from contactcenter.kpi import IDLE, NO_ANSWERS, OCCUPIED, AgentWork, Csat, Fcr
from contactcenter.store.fcr import first_contacts_between
from contactcenter.store.store import Store
from contactcenter.store.surveys import csat_between

HANDLED = ("completed", "transferred", "retry")
"""How a handled segment's conversation ended (a hang-up or a hand-off)."""

_SEGMENTS = (
    "SELECT agent_id, queue, ended_wall, talk_seconds, wrap_up_seconds, end_reason"
    " FROM contact_segments WHERE ended_wall >= ? AND ended_wall < ?"
    " AND answered_wall IS NOT NULL AND agent_id IS NOT NULL"
    f" AND end_reason IN ({', '.join('?' for _ in HANDLED)})"
)
_NO_ANSWERS = (
    "SELECT agent_id, wall_time FROM rejected_offers WHERE wall_time >= ? AND wall_time < ?"
    f" AND reason IN ({', '.join('?' for _ in NO_ANSWERS)})"
)
_STATE_BEFORE = (
    "SELECT state FROM agent_state_log WHERE agent_id = ? AND wall_time < ?"
    " ORDER BY wall_time DESC, id DESC LIMIT 1"
)
_STATES = (
    "SELECT previous, state, wall_time FROM agent_state_log"
    " WHERE agent_id = ? AND wall_time >= ? AND wall_time < ? ORDER BY id"
)
_STATE_AFTER = (
    "SELECT previous FROM agent_state_log WHERE agent_id = ? AND wall_time >= ?"
    " ORDER BY wall_time, id LIMIT 1"
)


@dataclass(frozen=True)
class AgentPeriod:
    """One agent's figures of one period (``edges[period]`` up to ``edges[period + 1]``)."""

    agent: str
    period: int
    work: AgentWork
    csat: Csat
    fcr: Fcr
    queues: dict[str, int]
    """Queue -> segments the agent handled in it."""


class _Periods:
    """The periods between consecutive ``edges`` (wall seconds, increasing)."""

    def __init__(self, edges: Sequence[float]) -> None:
        if len(edges) < 2 or any(b <= a for a, b in pairwise(edges)):
            raise ValueError("edges must be at least two increasing times")
        self.edges = edges

    def of(self, wall: float) -> int | None:
        """The period holding ``wall`` (None: none does)."""
        i = bisect_right(self.edges, wall) - 1
        return i if 0 <= i < len(self.edges) - 1 else None

    def split(self, since: float, until: float) -> list[tuple[int, float]]:
        """(period, seconds) of the stretch from ``since`` to ``until`` in each period."""
        out = []
        first = max(0, bisect_right(self.edges, since) - 1)
        for i in range(first, len(self.edges) - 1):
            start, end = self.edges[i], self.edges[i + 1]
            if start >= until:
                break
            seconds = min(until, end) - max(since, start)
            if seconds > 0:
                out.append((i, seconds))
        return out


async def assess(
    store: Store,
    edges: Sequence[float],
    agents: Sequence[str],
    *,
    window: float,
    now_wall: float,
) -> list[AgentPeriod]:
    """The figures of each of ``agents`` in each period between consecutive ``edges``, for
    every agent and period holding anything, in the order of ``agents`` then of the periods.
    ``window``: first-contact resolution's, in seconds."""
    periods = _Periods(edges)
    start, end = edges[0], edges[-1]
    wanted = set(agents)
    work: dict[tuple[str, int], AgentWork] = defaultdict(AgentWork)
    queues: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    segments = await store._rows(_SEGMENTS, (start, end, *HANDLED))
    for agent, queue, ended, talk, wrap, how in segments:
        period = periods.of(ended)
        if agent in wanted and period is not None:
            key = (agent, period)
            work[key] += AgentWork(
                handled=1,
                talk_seconds=talk or 0.0,
                wrap_ups=int(wrap is not None),
                wrap_up_seconds=wrap or 0.0,
                transfers=int(how == "transferred"),
            )
            queues[key][queue] += 1

    for agent, wall in await store._rows(_NO_ANSWERS, (start, end, *NO_ANSWERS)):
        period = periods.of(wall)
        if agent in wanted and period is not None:
            work[(agent, period)] += AgentWork(no_answers=1)

    for agent in agents:
        for period, occupied, idle in await _presence(store, periods, agent, now_wall):
            work[(agent, period)] += AgentWork(occupied_seconds=occupied, idle_seconds=idle)

    csat: dict[tuple[str, int], Csat] = {}
    for period in range(len(edges) - 1):
        report = await csat_between(store, edges[period], edges[period + 1])
        for agent, answers in report.agents.items():
            if agent in wanted:
                csat[(agent, period)] = answers

    fcr: dict[tuple[str, int], Fcr] = defaultdict(Fcr)
    for first in await first_contacts_between(store, start, end, window=window):
        agent, period = first.contact.agent, periods.of(first.contact.arrived)
        if agent in wanted and period is not None:
            fcr[(agent, period)] += Fcr.of(first)

    order = {a: n for n, a in enumerate(agents)}
    keys = sorted({*work, *csat, *fcr}, key=lambda k: (order[k[0]], k[1]))
    return [
        AgentPeriod(
            agent,
            period,
            work.get((agent, period), AgentWork()),
            csat.get((agent, period), Csat()),
            fcr.get((agent, period), Fcr()),
            dict(queues.get((agent, period), {})),
        )
        for agent, period in keys
    ]


async def _presence(
    store: Store, periods: _Periods, agent: str, now_wall: float
) -> list[tuple[int, float, float]]:
    """(period, seconds occupied, seconds idle) of the agent, from its state log."""
    start, end = periods.edges[0], periods.edges[-1]
    before = await store._row(_STATE_BEFORE, (agent, start))
    after = await store._row(_STATE_AFTER, (agent, end))
    entries = [tuple(r) for r in await store._rows(_STATES, (agent, start, end))]
    if after is not None:  # only what says the agent left: whether the last stretch is whole
        entries.append((after["previous"], None, end))
    spent: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    state: str | None = before["state"] if before is not None else "offline"
    since = start

    def count(until: float) -> None:
        if state in OCCUPIED or state == IDLE:
            column = 0 if state in OCCUPIED else 1
            for period, seconds in periods.split(since, min(until, now_wall)):
                spent[period][column] += seconds

    for previous, new, wall in entries:
        if previous == state:
            count(wall)
        state, since = new, max(since, wall)
    count(end)
    return [(period, occupied, idle) for period, (occupied, idle) in sorted(spent.items())]
