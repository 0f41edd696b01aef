"""The staffing search's control variate: the work a replication drew beyond the forecast's
takes that replication's luck out of its service level, so the same replications give a
tighter confidence interval around the same (unbiased) value."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from scipy import stats

from sim.builders import simple_center, stationary_model
from sim.erlang import erlang_c_metrics
from sim.replications import Runner, replicate, seeds
from sim.scenario import Model
from sim.staffing import SimulationEvaluator, stationary
from sim.statistics import (
    ANSWERED_WITHIN,
    ENTERED,
    OFFERED_WORK,
    Tallies,
    controlled_ratio,
    pooled_ratio,
)

AHT = 180.0


def estimates(model: Model, tallies: Sequence[Tallies]) -> tuple[float, float, float]:
    """The service level of the one queue ``q`` controlled by its offered work, its standard
    error, and the pooled ratio's standard error without the control."""
    c = np.stack([t.counts.sum(axis=0) for t in tallies])[:, :1]
    fc = model.forecast
    control = c[..., OFFERED_WORK] - float((fc.contacts * fc.aht).sum())
    level, se = controlled_ratio(c[..., ANSWERED_WITHIN], c[..., ENTERED], control)
    _, pooled_se = pooled_ratio(c[..., ANSWERED_WITHIN], c[..., ENTERED])
    return float(level[0]), float(se[0]), float(pooled_se[0])


def test_interval_covers_the_true_ratio_at_its_confidence() -> None:
    """Synthetic replications whose numerator leans on a control of known mean 0: over 2,000
    experiments of 12 replications the 95 % interval (Student's t, one degree of freedom spent
    on the slope) covers the true ratio 93-97 % of the time, and is narrower than the pooled
    ratio's without the control."""
    rng = np.random.default_rng(11)
    experiments, n, true_ratio = 2000, 12, 0.8
    den = rng.poisson(200.0, (experiments, n)).astype(float)
    control = rng.normal(0.0, 30.0, (experiments, n))
    num = true_ratio * den - 0.4 * control + rng.normal(0.0, 4.0, (experiments, n))
    q = stats.t.ppf(0.975, n - 2)
    covered = 0
    narrower = []
    for e in range(experiments):
        ratio, se = controlled_ratio(num[e, :, None], den[e, :, None], control[e, :, None])
        covered += abs(float(ratio[0]) - true_ratio) <= q * float(se[0])
        narrower.append(float(se[0] / pooled_ratio(num[e, :, None], den[e, :, None])[1][0]))
    assert 0.93 <= covered / experiments <= 0.97
    assert np.median(narrower) < 0.5


def test_without_a_varying_control_it_is_the_pooled_ratio() -> None:
    """Nothing to learn from: the pooled ratio, its error on one degree of freedom fewer."""
    num, den = np.array([[8.0], [9.0], [7.0], [10.0]]), np.array([[10.0], [11.0], [9.0], [12.0]])
    ratio, se = controlled_ratio(num, den, np.zeros_like(num))
    pooled, pooled_se = pooled_ratio(num, den)
    assert ratio == pooled
    assert se[0] == pytest.approx(pooled_se[0] * np.sqrt(3 / 2))  # (n - 1) / (n - 2)


def test_simulated_service_level_is_tighter_and_still_right(runner: Runner) -> None:
    """An Erlang C queue (10 agents, 85 % occupancy, 20 s threshold), 60 replications of an
    hour after a 30-minute warm-up: with the offered work as control the service level's
    standard error is at most 85 % of the pooled ratio's, and the estimate stays within
    3 standard errors of the exact Erlang C value."""
    center = simple_center(10, threshold_seconds=20)
    calls = 0.85 * 10 / AHT * 3600
    model = stationary_model(
        center, {"q": calls}, AHT, hours=1.0, spec={"warmup_minutes": 30, "seed": 21}
    )
    level, se, pooled_se = estimates(model, replicate(model, replications=60, runner=runner))
    exact = erlang_c_metrics(calls / 2, 1800, AHT, 20, 10).service_level
    assert se <= 0.85 * pooled_se
    assert abs(level - exact) <= 3 * se


def test_the_search_judges_with_the_control(runner: Runner) -> None:
    """The staffing search's verdict on a staffing uses the control: on the Erlang C queue its
    service level is the controlled estimate of the same replications (within 3 standard
    errors of exact), its half-width narrower than the pooled ratio's would be."""
    center = simple_center(12, threshold_seconds=20)
    calls = 0.85 * 10 / AHT * 3600
    model = stationary_model(
        center,
        {"q": calls},
        AHT,
        hours=0.5,
        spec={
            "seed": 8,
            "targets": {"service_level_percent": 80},
            "search": {"replications": 40, "max_replications": 40, "measure_intervals": 2},
        },
    )
    assessment = SimulationEvaluator(model, runner)(0, (10,))
    sim_model = stationary(model, 0, (10,))
    tallies = runner.run(sim_model, seeds(model.seed, 40, key=(0,)))
    level, se, pooled_se = estimates(sim_model, tallies)
    assert assessment.replications == 40
    assert assessment.service_level["q"] == pytest.approx(level)
    one_look = stats.t.ppf(1 - 0.025, 40 - 2)  # 95 %, one look of 40: alpha / 2 a side
    assert assessment.half_width["q"] == pytest.approx(one_look * se)
    assert se < pooled_se
    exact = erlang_c_metrics(calls / 2, 1800, AHT, 20, 10).service_level
    assert abs(assessment.service_level["q"] - exact) <= 3 * se
