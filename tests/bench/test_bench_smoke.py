"""Smoke test of the routing benchmark: ``python bench/routing.py --quick`` runs to the end and
its last line is the machine-readable summary. No timing floors here: those belong to the full
benchmark run, not to unit tests; but how a run is judged against them is tested, on made-up
measurements on either side of each floor."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.bench.quick_run import loaded, parse_summary, run_quick

BACKLOGS = ("1k", "10k", "100k")


def test_quick_run_prints_a_parsable_summary_with_positive_counts() -> None:
    summary = run_quick("routing.py")
    assert summary["lifecycles_per_s_is"] == "min_over_backlogs"
    assert summary["ratio_vs_naive_backlog"] == "10k"
    rates = ["lifecycles_per_s", "ratio_vs_naive", "cost_ratio_100k_vs_1k"]
    for b in BACKLOGS:
        rates += [
            f"lifecycles_per_s_{b}",
            f"us_per_lifecycle_{b}",
            f"cpu_us_per_lifecycle_{b}",
            f"naive_lifecycles_per_s_{b}",
        ]
        assert int(summary[f"lifecycles_{b}"]) > 0
        assert int(summary[f"naive_lifecycles_{b}"]) > 0
    for key in rates:
        assert float(summary[key]) > 0, key
    assert float(summary["lifecycles_per_s"]) == min(
        float(summary[f"lifecycles_per_s_{b}"]) for b in BACKLOGS
    )
    slowest, growth = float(summary["lifecycles_per_s"]), float(summary["cost_ratio_100k_vs_1k"])
    met = slowest >= float(summary["floor_lifecycles_per_s"])
    assert summary["floor_lifecycles_met"] == str(int(met)), "judged against its own floor"
    met = growth <= float(summary["floor_cost_ratio"])
    assert summary["floor_cost_ratio_met"] == str(int(met)), "judged against its own floor"


@pytest.fixture(scope="module")
def routing() -> Iterator[ModuleType]:
    with loaded("routing.py") as module:
        yield module


@pytest.mark.parametrize(
    ("per_floor", "met"),
    [
        ((3.0, 3.0, 2.0), ("1", "1")),  # fast everywhere, cost grows 1.5x
        ((1.5, 1.5, 0.9), ("0", "1")),  # the 100k backlog is below the floor
        ((0.9, 1.5, 1.5), ("0", "1")),  # so is the 1k one: the slowest backlog counts
        ((10.0, 5.0, 4.0), ("1", "0")),  # fast, but the cost per lifecycle grows 2.5x
        ((1.2, 1.0, 0.5), ("0", "0")),
    ],
)
def test_floors_are_judged_on_the_slowest_backlog_and_the_cost_growth(
    routing: ModuleType, per_floor: tuple[float, float, float], met: tuple[str, str]
) -> None:
    """``per_floor``: lifecycles/s at the 1k, 10k and 100k backlogs, in units of the floor."""
    floor = routing.FLOOR_LIFECYCLES_PER_S
    backlogs = routing.BACKLOGS

    def result(driver: str, backlog: int, per_s: float) -> object:
        lifecycles = 10_000
        seconds = lifecycles / per_s
        return routing.Result(driver, backlog, lifecycles, seconds, seconds, backlog, 0, 0.1)

    router = [result("router", b, k * floor) for b, k in zip(backlogs, per_floor, strict=True)]
    naive = [result("naive", b, floor / 10) for b in backlogs]
    pairs = parse_summary(routing.report(router, naive, False, 40_000.0))
    assert (pairs["floor_lifecycles_met"], pairs["floor_cost_ratio_met"]) == met
    assert float(pairs["lifecycles_per_s"]) == pytest.approx(min(per_floor) * floor)
