"""Warm-up: a run can discard exactly the warm-up it is given, which removes the bias of an
empty start against steady-state Erlang C / Erlang A."""

from __future__ import annotations

import numpy as np
import pytest

from contactcenter.events import AgentStateChanged, ContactQueued, Event
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.erlang import ErlangResult, erlang_a, erlang_c_metrics
from sim.replications import Runner, replicate
from sim.staffing import stationary
from sim.statistics import ANSWERED_WITHIN, ENTERED, Tallies, pooled_ratio

AHT = 180.0


def test_a_warmup_is_exactly_as_long_as_asked() -> None:
    """15 minutes of warm-up are 15 minutes (not a whole 30-minute interval): agents log in
    and contacts arrive from 15 minutes before the first interval, and only contacts that
    arrive from the first interval on are counted."""
    center = simple_center(10, threshold_seconds=20)
    model = stationary_model(
        center, {"q": 160}, AHT, hours=0.5, spec={"warmup_minutes": 15, "seed": 4}
    )
    start = model.forecast.start
    assert start == 900.0
    events: list[Event] = []
    tallies = simulate(model, 4, trace=events.extend)
    logins = [e.at for e in events if isinstance(e, AgentStateChanged)]
    arrivals = [e.arrived_at for e in events if isinstance(e, ContactQueued)]
    assert min(logins) == start - 900.0
    assert start - 900.0 <= min(arrivals) < start - 600.0
    warm = sum(1 for t in arrivals if t < start)
    assert 40 <= warm <= 120  # 15 minutes at 160 an hour: about 40 (Poisson)... or more
    assert tallies.counts[..., ENTERED].sum() == len(arrivals) - warm


def test_the_search_warms_up_for_its_warmup_minutes() -> None:
    center = simple_center(10, threshold_seconds=20)
    model = stationary_model(
        center,
        {"q": 160},
        AHT,
        hours=1,
        spec={"search": {"warmup_minutes": 15, "measure_intervals": 2}},
    )
    sim_model = stationary(model, 1, (8,))
    assert sim_model.warmup_seconds == 900.0
    assert sim_model.forecast.intervals == 2
    events: list[Event] = []
    simulate(sim_model, 1, trace=events.extend)
    first = min(e.at for e in events if isinstance(e, AgentStateChanged))
    assert first == sim_model.forecast.start - 900.0


def _pooled(tallies: list[Tallies]) -> dict[str, tuple[float, float]]:
    """Service level and occupancy over all replications, with standard errors."""
    counts = np.stack([t.counts.sum(axis=(0, 1)) for t in tallies])  # [R, F]
    busy = np.array([t.busy.sum() for t in tallies])
    idle = np.array([t.idle.sum() for t in tallies])
    sl, sl_se = pooled_ratio(counts[:, ANSWERED_WITHIN], counts[:, ENTERED])
    occ, occ_se = pooled_ratio(busy, busy + idle)
    return {"sl": (float(sl), float(sl_se)), "occupancy": (float(occ), float(occ_se))}


def _off_by(estimate: tuple[float, float], exact: float) -> float:
    """How many standard errors the estimate is off the exact value."""
    mean, se = estimate
    assert se > 0
    return abs(mean - exact) / se


CASES = {
    # agents, traffic (Erlangs), patience (None: Erlang C)
    "erlang-c": (20, 17.0, None),
    "erlang-a": (20, 19.0, 150.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_warmup_removes_the_empty_start_bias(case: str, runner: Runner) -> None:
    """Two 30-minute intervals, 300 replications: from an empty center service level is
    biased high and occupancy low by more than 3 standard errors; after a 30-minute warm-up
    both agree with the exact steady state within 3 standard errors."""
    agents, traffic, patience = CASES[case]
    threshold = 20.0
    exact: ErlangResult
    if patience is None:
        exact = erlang_c_metrics(traffic / AHT * 1800, 1800, AHT, threshold, agents)
    else:
        exact = erlang_a(agents, traffic, AHT, patience, threshold)
    rate = traffic / AHT * 3600

    def run(warmup: float) -> dict[str, tuple[float, float]]:
        center = simple_center(agents, threshold_seconds=threshold)
        model = stationary_model(
            center,
            {"q": rate},
            AHT,
            hours=1,
            patience_seconds=patience,
            spec={"seed": 31, "warmup_minutes": warmup},
        )
        return _pooled(replicate(model, replications=300, runner=runner))

    empty = run(0.0)
    assert _off_by(empty["occupancy"], exact.occupancy) > 3
    assert empty["occupancy"][0] < exact.occupancy
    assert _off_by(empty["sl"], exact.service_level) > 3
    assert empty["sl"][0] > exact.service_level
    warm = run(30.0)
    for name, value in (("sl", exact.service_level), ("occupancy", exact.occupancy)):
        assert _off_by(warm[name], value) < 3, (name, warm[name], value)
    assert warm["sl"][1] < 0.015 and warm["occupancy"][1] < 0.005
