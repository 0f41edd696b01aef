"""The planner against queueing theory: Erlang C, Erlang A, pooling and priority.

Each check runs enough independent replications that the standard error is small (asserted),
then requires the simulated mean within 3 standard errors of the analytic value. The
deterministic checks replay the simulated arrivals and handle times through a hand-written
first-come-first-served M/M/c recursion and require the very same waits.
"""

from __future__ import annotations

import heapq
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from contactcenter.events import ContactAnswered, ContactCompleted, ContactQueued, Event
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.erlang import erlang_a, erlang_c_metrics
from sim.replications import Runner, replicate, seeds
from sim.statistics import Tallies, kpis

AHT = 180.0


def per_replication(tallies: list[Tallies], name: str, *, skip: int = 1) -> np.ndarray:
    """One KPI per replication over every queue, without the first ``skip`` (warm-up)
    intervals."""
    return np.array([kpis(t.counts[skip:].sum(axis=(0, 1)))[name] for t in tallies])


def mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def within(values: np.ndarray, expected: float, *, max_se: float) -> None:
    mean, se = mean_se(values)
    assert se < max_se, f"standard error {se:.4f} too large to judge"
    assert abs(mean - expected) < 3 * se, f"simulated {mean:.4f} ± {se:.4f}, theory {expected:.4f}"


def fcfs_waits(arrivals: list[tuple[float, float]], agents: int) -> list[float]:
    """Waits of contacts (arrival, handle) under FCFS with ``agents`` servers."""
    free = [0.0] * agents
    waits = []
    for t, h in arrivals:
        start = max(t, heapq.heappop(free))
        heapq.heappush(free, start + h)
        waits.append(start - t)
    return waits


def replay(
    events: list[Event], tiers: dict[str, str] | None = None
) -> tuple[list[tuple[float, float]], list[float]]:
    """(arrival, handle) of every contact in arrival order, and the waits the core produced;
    fills ``tiers`` (same order) when given."""
    arrived: dict[str, float] = {}
    handle: dict[str, float] = {}
    wait: dict[str, float] = {}
    tier: dict[str, str] = {}
    for e in events:
        if isinstance(e, ContactQueued):
            arrived.setdefault(e.contact_id, e.arrived_at)
            tier[e.contact_id] = e.tier
        elif isinstance(e, ContactCompleted):
            handle[e.contact_id] = e.handle_seconds
        elif isinstance(e, ContactAnswered):
            wait[e.contact_id] = e.wait_seconds
    order = sorted(arrived, key=lambda c: arrived[c])
    if tiers is not None:
        tiers.update((str(i), tier[c]) for i, c in enumerate(order))
    return [(arrived[c], handle[c]) for c in order], [wait[c] for c in order]


def test_erlang_c_single_skill(runner: Runner) -> None:
    agents, traffic, target = 20, 14.0, 10.0
    center = simple_center(agents, threshold_seconds=target)
    rate = traffic / AHT * 3600
    model = stationary_model(center, {"q": rate}, AHT, hours=12, spec={"seed": 101})
    tallies = replicate(model, replications=16, runner=runner)
    assert sum(t.contacts for t in tallies) > 50_000
    theory = erlang_c_metrics(rate / 2, 1800, AHT, target, agents)
    within(per_replication(tallies, "sl_offered"), theory.service_level, max_se=0.01)
    within(per_replication(tallies, "asa"), theory.asa_seconds, max_se=0.5)
    assert per_replication(tallies, "abandoned").sum() == 0
    occupancy = np.array(
        [t.busy[1:].sum() / (t.busy[1:].sum() + t.idle[1:].sum()) for t in tallies]
    )
    within(occupancy, traffic / agents, max_se=0.005)


def test_erlang_a_exponential_patience(runner: Runner) -> None:
    agents, traffic, target, patience = 20, 17.0, 20.0, 120.0
    center = simple_center(agents, threshold_seconds=target)
    rate = traffic / AHT * 3600
    model = stationary_model(
        center, {"q": rate}, AHT, hours=8, patience_seconds=patience, spec={"seed": 202}
    )
    tallies = replicate(model, replications=12, runner=runner)
    theory = erlang_a(agents, traffic, AHT, patience, target)
    assert theory.prob_abandon is not None
    within(per_replication(tallies, "sl_offered"), theory.service_level, max_se=0.01)
    within(per_replication(tallies, "asa"), theory.asa_seconds, max_se=0.5)
    within(per_replication(tallies, "abandon_rate"), theory.prob_abandon, max_se=0.005)


def test_single_skill_core_is_exactly_fcfs_mmc() -> None:
    """Replaying the simulated arrivals through an FCFS M/M/c recursion gives the same waits."""
    center = simple_center(12, threshold_seconds=20)
    model = stationary_model(center, {"q": 10 / AHT * 3600}, AHT, hours=6)
    events: list[Event] = []
    simulate(model, 5, trace=events.extend)
    arrivals, waits = replay(events)
    assert len(arrivals) > 1000
    assert max(waits) > 30  # queueing happened
    assert np.allclose(fcfs_waits(arrivals, 12), waits, atol=1e-9)


def test_pooling_two_queues_is_mmc_on_merged_traffic(runner: Runner) -> None:
    agents, traffic, target = 20, 14.0, 10.0
    center = simple_center(agents, queues=("q1", "q2"), threshold_seconds=target)
    half = traffic / 2 / AHT * 3600
    model = stationary_model(center, {"q1": half, "q2": half}, AHT, hours=12, spec={"seed": 303})

    events: list[Event] = []
    simulate(model, 9, trace=events.extend)
    arrivals, waits = replay(events)
    assert {e.queue for e in events if isinstance(e, ContactAnswered)} == {"q1", "q2"}
    assert np.allclose(fcfs_waits(arrivals, agents), waits, atol=1e-9)

    tallies = replicate(model, replications=16, runner=runner)
    theory = erlang_c_metrics(2 * half / 2, 1800, AHT, target, agents)
    within(per_replication(tallies, "sl_offered"), theory.service_level, max_se=0.01)
    within(per_replication(tallies, "asa"), theory.asa_seconds, max_se=0.5)
    counts = np.stack([t.counts[1:].sum(axis=0) for t in tallies])  # [R, Q, F]
    by_queue = kpis(counts)["asa"]  # [R, Q]
    diff = by_queue[:, 0] - by_queue[:, 1]
    mean, se = mean_se(diff)
    assert abs(mean) < 3 * se  # FCFS across queues: both wait alike


def _priority_replication(seed: np.random.SeedSequence) -> tuple[float, float, float, float]:
    """One replication with 20% VIPs at strict priority: mean wait of all contacts, of the
    same arrivals and handle times served FCFS, of VIPs, of standard contacts."""
    agents = 20
    center = simple_center(agents, threshold_seconds=20, tiers={"vip": 100, "standard": 0})
    model = stationary_model(
        center, {"q": 15 / AHT * 3600}, AHT, hours=12, tiers={"vip": 0.2, "standard": 0.8}
    )
    events: list[Event] = []
    simulate(model, seed, trace=events.extend)
    tier: dict[str, str] = {}
    arrivals, waits = replay(events, tier)
    fcfs = fcfs_waits(arrivals, agents)
    keep = [i for i, (t, _) in enumerate(arrivals) if t >= model.forecast.interval_seconds]
    vip = [waits[i] for i in keep if tier[str(i)] == "vip"]
    std = [waits[i] for i in keep if tier[str(i)] == "standard"]
    return (
        float(np.mean([waits[i] for i in keep])),
        float(np.mean([fcfs[i] for i in keep])),
        float(np.mean(vip)),
        float(np.mean(std)),
    )


def test_vip_priority_conserves_the_mean_wait() -> None:
    """Strict VIP priority: VIPs wait much less, and the blended mean wait is the FCFS mean
    wait of the same arrivals and handle times (the conservation law), within the CI of the
    paired difference."""
    with ProcessPoolExecutor(2) as pool:
        rows = np.array(list(pool.map(_priority_replication, seeds(404, 16))))
    blended, fcfs, vip, std = rows.T
    diff, diff_se = mean_se(blended - fcfs)
    assert diff_se < 0.1
    assert abs(diff) < 3 * diff_se, f"priority {blended.mean():.3f} vs FCFS {fcfs.mean():.3f}"
    gap, gap_se = mean_se(std - vip)
    assert gap > 3 * gap_se
    assert vip.mean() < 0.5 * std.mean()


@pytest.mark.parametrize("workers", [1, 2])
def test_replications_reproduce_from_the_seed(workers: int) -> None:
    center = simple_center(8, threshold_seconds=20)
    model = stationary_model(
        center, {"q": 150}, AHT, hours=2, patience_seconds=90, spec={"seed": 5}
    )
    with Runner(workers) as r:
        first = replicate(model, replications=4, runner=r)
    again = replicate(model, replications=4, runner=Runner(1))
    other = replicate(model, replications=4, seed=6, runner=Runner(1))
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.counts, b.counts)
        assert np.array_equal(a.busy, b.busy)
        assert a.contacts == b.contacts
    assert not all(np.array_equal(a.counts, b.counts) for a, b in zip(first, other, strict=True))
    assert len({t.contacts for t in first}) > 1  # replications differ from each other
