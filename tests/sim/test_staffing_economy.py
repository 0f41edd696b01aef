"""What keeps the simulation search cheap without touching its error control: a model
calibrated on what was measured proposes the next staffing, and an evaluation decides only
the queues its step acts on, extending the same replications when asked for more."""

from __future__ import annotations

from dataclasses import replace

from sim.builders import simple_center, stationary_model
from sim.erlang import erlang_c_metrics, required_agents
from sim.replications import Runner
from sim.scenario import Model
from sim.staffing import (
    AnalyticEvaluator,
    Assessment,
    SimulationEvaluator,
    calibrated,
    erlang_seed,
    owners,
    search_interval,
)

AHT = 180.0


def one_queue(
    aht: float, calls: float = 300.0, agents: int = 200, percent: float = 80.0, **search: object
) -> Model:
    center = simple_center(agents, threshold_seconds=20)
    return stationary_model(
        center,
        {"q": calls * 2},
        aht,
        hours=0.5,
        spec={"seed": 5, "targets": {"service_level_percent": percent}, "search": search},
    )


def test_the_calibrated_guess_is_the_minimum_when_only_the_scale_is_off() -> None:
    """Reality handles each call 30 % longer than the pooled model thinks (what shared agents
    or priorities do to a group): one measurement at any staffing is enough for the guess to
    be reality's exact minimum."""
    planned, real = one_queue(AHT), one_queue(AHT * 1.3)
    truth = required_agents(300, 1800, AHT * 1.3, 20, 80).agents
    assert erlang_seed(planned, 0)[0] < truth - 5  # the plain Erlang start is far off
    propose, measure = calibrated(planned, 0), AnalyticEvaluator(real)
    for n in (truth - 6, truth - 2, truth + 4):
        assert propose((n,), measure(0, (n,))) == [truth]


def test_guided_search_reaches_the_minimum_in_fewer_evaluations() -> None:
    planned, real = one_queue(AHT), one_queue(AHT * 1.3)
    truth = required_agents(300, 1800, AHT * 1.3, 20, 80).agents
    start, limits = erlang_seed(planned, 0), [200]
    plain = search_interval(AnalyticEvaluator(real), 0, start, owners(real), limits=limits)
    guided = search_interval(
        AnalyticEvaluator(real),
        0,
        start,
        owners(real),
        limits=limits,
        propose=calibrated(planned, 0),
    )
    assert plain[0] == guided[0] == (truth,)
    assert guided[2] <= 4 < plain[2] / 2, (guided[2], plain[2])


def test_a_focused_evaluation_is_extended_not_redone(runner: Runner) -> None:
    model = one_queue(AHT, calls=80.0, agents=20, replications=4, max_replications=64)
    counts = (11,)
    focused = SimulationEvaluator(model, runner)
    first = focused(0, counts, frozenset())  # nothing to decide: the first batch only
    assert first.replications == 4
    extended = focused(0, counts)
    fresh = SimulationEvaluator(model, runner)(0, counts)
    assert extended == fresh  # the same replications, extended: as if asked at once
    assert extended.replications > first.replications or not first.unresolved


def test_the_search_still_finds_the_exact_minimum_when_focused(runner: Runner) -> None:
    """Focus and calibration change what is simulated, not the answer: the sequential search
    on one queue lands on the Erlang C minimum as before."""
    below = erlang_c_metrics(80, 1800, AHT, 20, 10).service_level
    above = erlang_c_metrics(80, 1800, AHT, 20, 11).service_level
    percent = 100 * (below + above) / 2  # the answer does not hinge on luck
    model = replace(one_queue(AHT, calls=80.0, agents=30, percent=percent), seed=3)
    expected = required_agents(80, 1800, AHT, 20, percent).agents
    assert expected == 11
    evaluate = SimulationEvaluator(model, runner)
    for start in (expected - 4, expected + 5):
        found, assessment, _ = search_interval(
            evaluate, 0, (start,), owners(model), limits=[30], propose=calibrated(model, 0)
        )
        assert found == (expected,)
        assert assessment.meets


def shared_agents(counts: tuple[int, ...]) -> Assessment:
    """Two groups where the second's agents also answer the first's queue: queue ``s`` (group
    0) meets with 15 agents of both groups together, queue ``c`` (group 1) with 8."""
    total = counts[0] + counts[1]
    missed = frozenset(q for q, need in (("s", 15), ("c", 8)) if total < need)
    levels = {"s": min(1.0, total / 15), "c": min(1.0, total / 8)}
    deficits = {q: 0.8 - levels[q] for q in levels}
    return Assessment(not missed, deficits, levels, {"s": 0.0, "c": 0.0}, missed)


def test_a_move_that_makes_another_groups_queue_miss_is_not_trusted() -> None:
    """From (10, 5) with group 0 at its minimum: group 1 losing an agent keeps its own queue
    meeting but makes group 0's miss; the joint descent must not let group 1 gallop down to 0
    on its own queue's word (a staffing that misses), and the answer is minimal per group."""
    evaluated: list[tuple[int, ...]] = []

    def evaluate(
        k: int, counts: tuple[int, ...], focus: frozenset[str] | None = None
    ) -> Assessment:
        evaluated.append(counts)
        return shared_agents(counts)

    found, assessment, _ = search_interval(
        evaluate, 0, (10, 5), {"s": 0, "c": 1}, limits=[30, 30], propose=None
    )
    assert assessment.meets
    assert shared_agents((found[0] - 1, found[1])).missed
    assert shared_agents((found[0], found[1] - 1)).missed
    assert (10, 0) not in evaluated, evaluated
