"""The per-agent assessment from a recorded morning (``tests/store/agent_day.py``): every figure
worked out by hand from the script's times, for the day and for its 30-minute intervals; and
the agent state log's gaps (a stopped engine) count nowhere."""

from __future__ import annotations

import pytest

from contactcenter.events import AgentActivity, AgentStateChanged
from contactcenter.kpi import AgentWork, Csat, Fcr
from contactcenter.store import Store
from contactcenter.store.assessment import AgentPeriod, assess
from tests.store.agent_day import BASE, INTERVAL, MIDNIGHT, record_day

WEEK = 7 * 86_400.0
LATER = BASE + 30 * 86_400  # every FCR window closed
DAY_EDGES = [MIDNIGHT, MIDNIGHT + 86_400]
INTERVAL_EDGES = [MIDNIGHT + n * INTERVAL for n in range(49)]
A = 18  # 09:00-09:30 (s < 300)
B = 19  # 09:30-10:00


def by_key(rows: list[AgentPeriod]) -> dict[tuple[str, int], AgentPeriod]:
    return {(r.agent, r.period): r for r in rows}


async def test_a_day_of_two_agents(store: Store) -> None:
    await record_day(store)
    rows = await assess(store, DAY_EDGES, ["a05", "a06", "a07"], window=WEEK, now_wall=LATER)
    assert [(r.agent, r.period) for r in rows] == [("a05", 0), ("a06", 0)]  # a07 did nothing
    a05, a06 = rows

    # a05: c1 talk 105 + wrap 15 = 120, c2 talk 285 + wrap 15 = 300
    assert a05.work.handled == 2 and a05.work.aht() == (120 + 300) / 2 == 210
    assert a05.work.average_talk() == (105 + 285) / 2
    assert a05.work.acw() == 15
    assert (a05.work.transfers, a05.work.no_answers) == (1, 1)  # c2 to a06; c3 declined
    # occupied: 30-155 (c1 ringing, talking, wrap-up) + 195-500 (c2) + 540-550 (c3 ringing);
    # idle: 0-30 + 155-195 + 500-540; the break and after count in neither
    occupied, idle = 125 + 305 + 10, 30 + 40 + 40
    assert (a05.work.occupied_seconds, a05.work.idle_seconds) == (occupied, idle) == (440, 110)
    assert a05.work.occupancy() == pytest.approx(0.8)
    assert a05.csat == Csat(1, 4, 1)  # c1: 4
    assert a05.fcr == Fcr(1, 0)  # c1's customer came back within the week
    assert a05.queues == {"sales": 2}

    # a06: c2's second segment talk 200 + wrap 10, c3 talk 235 + wrap 10
    assert a06.work.handled == 2 and a06.work.aht() == (210 + 245) / 2 == 227.5
    assert (a06.work.average_talk(), a06.work.acw()) == ((200 + 235) / 2, 10)
    assert (a06.work.transfers, a06.work.no_answers) == (0, 0)  # c4's customer left it ringing
    # occupied: 485-955 (c2, then c3 rang at once) + 1000-1010 (c4 ringing);
    # idle: 450-485 + 955-1000 + 1010-1090
    occupied, idle = 470 + 10, 35 + 45 + 80
    assert (a06.work.occupied_seconds, a06.work.idle_seconds) == (occupied, idle) == (480, 160)
    assert a06.work.occupancy() == pytest.approx(0.75)
    assert a06.csat == Csat(2, 2 + 5, 1)  # c2 (its last answered segment was a06's), c3
    assert a06.csat.average() == 3.5
    assert a06.fcr == Fcr(2, 2)  # c2 and c3
    assert a06.queues == {"sales": 2}


async def test_the_intervals_of_the_day(store: Store) -> None:
    await record_day(store)
    rows = by_key(await assess(store, INTERVAL_EDGES, ["a05", "a06"], window=WEEK, now_wall=LATER))
    assert set(rows) == {("a05", A), ("a05", B), ("a06", A), ("a06", B)}

    a05 = rows["a05", A]  # s 0-300: c1 whole, c2 ringing and talking from 195
    assert a05.work == AgentWork(
        handled=1, talk_seconds=105, wrap_ups=1, wrap_up_seconds=15,
        occupied_seconds=125 + 105, idle_seconds=30 + 40,
    )  # fmt: skip
    assert a05.work.occupancy() == pytest.approx(230 / 300)
    assert (a05.csat, a05.fcr) == (Csat(1, 4, 1), Fcr(1, 0))
    a05 = rows["a05", B]  # c2 ended at 485 (handed on), c3 declined at 550
    assert a05.work == AgentWork(
        handled=1, talk_seconds=285, wrap_ups=1, wrap_up_seconds=15, transfers=1, no_answers=1,
        occupied_seconds=200 + 10, idle_seconds=40,
    )  # fmt: skip
    assert a05.work.aht() == 300
    assert (a05.csat, a05.fcr) == (Csat(), Fcr())

    # a06 was not logged in before 09:30, but c2 arrived then: its first contact counts there
    assert rows["a06", A] == AgentPeriod("a06", A, AgentWork(), Csat(), Fcr(1, 1), {})
    a06 = rows["a06", B]
    assert a06.work.handled == 2 and a06.work.occupancy() == pytest.approx(0.75)
    assert (a06.csat, a06.fcr) == (Csat(2, 7, 1), Fcr(1, 1))


async def test_the_last_stretch_runs_until_now(store: Store) -> None:
    logged_in = AgentStateChanged(0.0, "a05", AgentActivity.OFFLINE, AgentActivity.AVAILABLE, None)
    await store.record_events([logged_in], BASE)
    (a05,) = await assess(store, DAY_EDGES, ["a05"], window=WEEK, now_wall=BASE + 100)
    assert (a05.work.occupied_seconds, a05.work.idle_seconds) == (0, 100)
    # an interval not begun yet holds nothing
    rows = await assess(store, INTERVAL_EDGES, ["a05"], window=WEEK, now_wall=BASE + 100)
    assert [(r.period, r.work.idle_seconds) for r in rows] == [(A, 100)]


async def test_a_stopped_engine_leaves_a_gap_that_counts_nowhere(store: Store) -> None:
    def changed(previous: AgentActivity, state: AgentActivity) -> AgentStateChanged:
        return AgentStateChanged(0.0, "a05", previous, state, None)

    off, available = AgentActivity.OFFLINE, AgentActivity.AVAILABLE
    await store.record_events([changed(off, available)], BASE)
    # the engine stopped; after the restart a05 logs in again (from offline, as a new router)
    await store.record_events([changed(off, available)], BASE + 600)
    await store.record_events([changed(available, off)], BASE + 900)
    (a05,) = await assess(store, DAY_EDGES, ["a05"], window=WEEK, now_wall=LATER)
    assert (a05.work.occupied_seconds, a05.work.idle_seconds) == (0, 300)


async def test_bad_edges_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="increasing"):
        await assess(store, [MIDNIGHT], ["a05"], window=WEEK, now_wall=LATER)
    with pytest.raises(ValueError, match="increasing"):
        await assess(store, [MIDNIGHT, MIDNIGHT], ["a05"], window=WEEK, now_wall=LATER)
