"""The simulation staffing search over many seeds against exact Erlang C / Erlang A minima.

Each case is one stationary interval of one queue whose exact minimum is known from
``sim.erlang``; the goal is set so that the minimum meets it by a hair (0.2 points of service
level) or by half a step. The search runs with the scenario's decision rule and confidence
(the defaults) and a tolerance of ``TOLERANCE`` points, once per seed; it must return the
exact minimum in at least 95 % of the seeds (its confidence) and fewer agents than needed in
no more than the error rate it states for that ((1 - confidence) / 2, here one seed in 20).
Each case's seeds run in two processes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import pytest

from sim.builders import simple_center, stationary_model
from sim.erlang import ErlangResult, erlang_a_metrics, erlang_c_metrics, required_agents
from sim.replications import Runner
from sim.scenario import Model
from sim.staffing import plan_staffing

AHT = 180.0
INTERVAL = 1800.0
SEEDS = 20
TOLERANCE = 2.0
"""Service-level points: the by-a-hair cases resolve in about 200 replications (a 1-point
tolerance needs four times as many, and minutes for the sweep)."""


@dataclass(frozen=True)
class Case:
    name: str
    calls: float
    """Per 30-minute interval."""
    threshold: float
    patience: float | None
    agents: int
    """The exact minimum: the goal is set just under this staffing's service level."""
    margin: float
    """How far above the goal the minimum's service level is, as a share of the step to the
    staffing below (0.0: by a hair, 0.2 points)."""

    def result(self, agents: int) -> ErlangResult:
        if self.patience is None:
            return erlang_c_metrics(self.calls, INTERVAL, AHT, self.threshold, agents)
        return erlang_a_metrics(self.calls, INTERVAL, AHT, self.threshold, agents, self.patience)

    def goal_percent(self) -> float:
        top = self.result(self.agents).service_level
        below = self.result(self.agents - 1).service_level
        return 100.0 * (top - max(0.002, self.margin * (top - below)))


CASES = [
    Case("erlang-c-hair", 40.0, 20.0, None, 7, 0.0),
    Case("erlang-a-hair", 60.0, 20.0, 120.0, 8, 0.0),
    Case("erlang-c-half-step", 80.0, 20.0, None, 10, 0.5),
    Case("erlang-a-hair-impatient", 30.0, 30.0, 60.0, 5, 0.0),
]


def model_for(case: Case, seed: int) -> Model:
    center = simple_center(case.agents + 6, threshold_seconds=case.threshold)
    model = stationary_model(
        center,
        {"q": case.calls * 2},
        AHT,
        hours=0.5,
        patience_seconds=case.patience,
        spec={
            "targets": {"service_level_percent": case.goal_percent()},
            "search": {"tolerance_percent": TOLERANCE},
        },
    )
    return replace(model, seed=seed)


def search_once(args: tuple[Case, int]) -> int:
    case, seed = args
    plan = plan_staffing(model_for(case, seed), runner=Runner(1))
    (interval,) = plan.intervals
    return interval.required[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_search_returns_the_exact_minimum_over_seeds(case: Case) -> None:
    goal = case.goal_percent()
    exact = required_agents(case.calls, INTERVAL, AHT, case.threshold, goal, patience=case.patience)
    assert exact.agents == case.agents  # the case is what it says
    confidence = model_for(case, 0).confidence
    assert confidence == 0.95
    with ProcessPoolExecutor(2) as pool:
        found = list(pool.map(search_once, [(case, 1000 + s) for s in range(SEEDS)]))
    exact_share = sum(f == case.agents for f in found) / SEEDS
    fewer_share = sum(f < case.agents for f in found) / SEEDS
    assert exact_share >= confidence, f"minimum {case.agents}, found {sorted(found)}"
    assert fewer_share <= (1.0 - confidence) / 2, f"minimum {case.agents}, found {sorted(found)}"
