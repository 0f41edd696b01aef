"""Patience from censored waits (``sim.patience``): the Kaplan-Meier curve recovers a known
patience distribution where averaging the abandoners' waits is badly biased; draws from the
curve follow it; the curve file reads back exactly; an empirical patience in a scenario
abandons as Erlang A says for the same distribution."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from contactcenter.config import ConfigError
from sim.builders import simple_center, stationary_model
from sim.erlang import erlang_a_metrics
from sim.patience import PatienceCurve, kaplan_meier, load_curve, write_curve
from sim.replications import Runner, replicate, summary_of
from sim.scenario import Patience, ScenarioError, load_scenario
from tests.sim.files import base_spec, write_scenario

MEAN = 120.0


def censored_sample(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Exponential patience of mean 120 s; each customer is answered (censored) after an
    exponential wait of mean 90 s unless they hang up first."""
    rng = np.random.default_rng(seed)
    patience = rng.exponential(MEAN, n)
    answer = rng.exponential(90.0, n)
    return np.minimum(patience, answer), patience <= answer


def test_kaplan_meier_recovers_a_known_patience_where_the_naive_mean_does_not() -> None:
    true_median = MEAN * math.log(2)
    medians, means, at_60, naive = [], [], [], []
    for seed in range(20):
        waits, abandoned = censored_sample(seed)
        curve = kaplan_meier(waits, abandoned)
        assert curve is not None
        median = curve.median()
        assert median is not None
        medians.append(median)
        means.append(curve.mean())
        at_60.append(float(curve.survival(60.0)[0]))
        naive.append(float(waits[abandoned].mean()))
    medians_a, means_a, naive_a = np.array(medians), np.array(means), np.array(naive)
    # each seed within 12 % of the truth, and no bias over the sweep
    assert np.all(np.abs(medians_a / true_median - 1) < 0.12)
    assert abs(medians_a.mean() / true_median - 1) < 0.03
    assert np.all(np.abs(means_a / MEAN - 1) < 0.12)
    assert abs(means_a.mean() / MEAN - 1) < 0.03
    assert np.all(np.abs(np.array(at_60) - math.exp(-0.5)) < 0.03)
    # the abandoners' mean wait is 1 / (1/120 + 1/90) = 51 s: under half the true mean
    assert np.all(naive_a < 0.5 * MEAN)
    assert naive_a.mean() == pytest.approx(1 / (1 / MEAN + 1 / 90.0), rel=0.05)


def test_kaplan_meier_by_hand_with_ties_and_zero_waits() -> None:
    """Answered at 0 s count in no risk set after 0; a censored wait tied with an abandon is
    still at risk at that time (the usual convention)."""
    waits, abandoned = [0, 0, 5, 5, 5, 10, 12, 12], [0, 0, 1, 1, 0, 1, 0, 0]
    curve = kaplan_meier(waits, abandoned, min_at_risk=1)
    assert curve is not None
    expected = [[5.0, 4 / 6], [10.0, 4 / 6 * 2 / 3], [12.0, 4 / 9]]
    assert np.array(curve.points) == pytest.approx(np.array(expected))
    assert curve.tail_mean == pytest.approx(49 / 3)  # all waits / abandons
    assert float(curve.survival(4.9)[0]) == 1.0 and float(curve.survival(5.0)[0]) == 4 / 6
    beyond = float(curve.survival(12.0 + 49 / 3)[0])
    assert beyond == pytest.approx(4 / 9 * math.exp(-1))
    assert curve.mean() == pytest.approx(5 + 5 * 4 / 6 + 2 * 4 / 9 + 4 / 9 * 49 / 3)
    # fewer customers than MIN_AT_RISK: the exponential estimate alone
    small = kaplan_meier(waits, abandoned)
    assert small is not None and small.points == ((0.0, 1.0),) and small.abandons
    assert small.tail_mean == pytest.approx(49 / 3)
    # nobody abandoned: everyone stays (the curve never falls)
    flat = kaplan_meier([3.0, 8.0], [False, False])
    assert flat is not None and not flat.abandons
    assert flat.mean() == math.inf and flat.median() is None
    assert np.all(np.isinf(flat.sample(np.random.default_rng(1), 10)))
    assert kaplan_meier([], []) is None


def test_where_few_waited_long_the_tail_takes_over() -> None:
    """Most customers answered within seconds (waits exponential, mean 15 s): Kaplan-Meier
    to the last wait lets two or three customers set the curve at 2 minutes; cut where fewer
    than 20 are still waiting, with the exponential tail beyond, it stays near the truth
    (here exponential, mean 180 s)."""
    errors: dict[int, list[float]] = {1: [], 20: []}
    for seed in range(40):
        rng = np.random.default_rng(seed)
        patience, answer = rng.exponential(180.0, 3000), rng.exponential(15.0, 3000)
        waits, abandoned = np.minimum(patience, answer), patience <= answer
        for at_risk, errs in errors.items():
            curve = kaplan_meier(waits, abandoned, min_at_risk=at_risk)
            assert curve is not None
            errs.append(float(curve.survival(120.0)[0]) - math.exp(-120.0 / 180.0))
            assert np.sum(waits >= curve.horizon) == at_risk  # the horizon: that many waited
    raw, cut = (float(np.sqrt(np.mean(np.square(errors[k])))) for k in (1, 20))
    assert raw > 0.1 and cut < 0.05


def test_draws_follow_the_curve_and_those_beyond_a_wait_exceed_it() -> None:
    waits, abandoned = censored_sample(7, 5000)
    curve = kaplan_meier(waits, abandoned)
    assert curve is not None
    rng = np.random.default_rng(3)
    draws = curve.sample(rng, 200_000)
    for t in (10.0, 60.0, 120.0, 300.0, 600.0):
        assert (draws > t).mean() == pytest.approx(float(curve.survival(t)[0]), abs=0.005)
    given = np.full(100_000, 60.0)
    later = curve.sample_beyond(rng, given)
    assert np.all(later > 60.0)
    s60 = float(curve.survival(60.0)[0])
    for t in (90.0, 200.0):
        expected = float(curve.survival(t)[0]) / s60
        assert (later > t).mean() == pytest.approx(expected, abs=0.01)


def test_curve_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    waits, abandoned = censored_sample(1, 300)
    curve = kaplan_meier(waits, abandoned)
    assert curve is not None
    path = tmp_path / "patience.csv"
    write_curve(curve, path)
    assert load_curve(path, curve.tail_mean) == curve
    bad = tmp_path / "bad.csv"
    bad.write_text("seconds,survival\n10,0.9\n5,0.8\n20,0.95\n30,x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_curve(bad, None)
    lines = [str(i) for i in err.value.issues]
    assert len(lines) == 3
    assert "bad.csv:3" in lines[0] and "must increase" in lines[0]
    assert "bad.csv:4" in lines[1] and "survival" in lines[1]
    assert "bad.csv:5" in lines[2] and "two numbers" in lines[2]
    with pytest.raises(ConfigError, match="file is missing"):
        load_curve(tmp_path / "none.csv", None)


def test_empirical_patience_in_a_scenario_abandons_as_erlang_a_says(tmp_path: Path) -> None:
    """A curve holding exactly exponential patience (mean 180 s, tabulated to 600 s, then its
    own exponential tail) drives the planner like the exponential: abandon share and service
    level as Erlang A gives them."""
    grid = np.linspace(1.0, 600.0, 600)
    curve = PatienceCurve(tuple((t, math.exp(-t / 180.0)) for t in grid), 180.0)
    write_curve(curve, tmp_path / "patience.csv")
    assert load_curve(tmp_path / "patience.csv", 180.0).mean() == pytest.approx(180.0, rel=0.01)
    center = simple_center(20)
    model = stationary_model(
        center,
        {"q": 240.0},
        240.0,
        hours=10,
        agents=14,
        spec={
            "patience": Patience(
                distribution="empirical",
                file=str(tmp_path / "patience.csv"),
                tail_mean_seconds=180.0,
            ),
            "drain_minutes": 60,
        },
    )
    assert model.behaviour["q"].patience_curve is not None
    theory = erlang_a_metrics(240.0 / 2, 1800.0, 240.0, 20.0, 14, 180.0)
    with Runner(2) as runner:
        tallies = replicate(model, replications=16, seed=8, runner=runner)
    summary = summary_of(model, tallies)
    abandon = summary.by_queue["abandon_rate"]
    sl = summary.by_queue["sl_offered"]
    assert abs(abandon.mean[0] - theory.prob_abandon) < max(3 * abandon.half_width[0], 0.01)
    assert abs(sl.mean[0] - theory.service_level) < max(3 * sl.half_width[0], 0.02)


def test_a_scenario_names_a_bad_patience_file(tmp_path: Path) -> None:
    spec = base_spec()
    spec["queues"] = {"sales": {"patience": {"distribution": "empirical"}}}
    with pytest.raises(ScenarioError, match="empirical patience needs file"):
        load_scenario(write_scenario(tmp_path / "a", spec))
    spec["queues"] = {"sales": {"patience": {"distribution": "empirical", "file": "p.csv"}}}
    path = write_scenario(tmp_path / "b", spec, extra={"p.csv": "seconds,survival\n5,1.2\n"})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [str(i) for i in err.value.issues] == ["p.csv:2: survival: must be in [0, 1.0], got 1.2"]
