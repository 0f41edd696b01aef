"""Smoke test of the planner benchmark: ``python bench/sim.py --quick`` runs to the end and its
last line is the machine-readable summary. No timing floors here: those belong to the full
benchmark run, not to unit tests; but how a run is judged against them is tested, on made-up
measurements on either side of each floor."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from tests.bench.quick_run import loaded, parse_summary, run_quick


def test_quick_run_prints_a_parsable_summary() -> None:
    summary = run_quick("sim.py")
    for key in (
        "contacts_per_s_core",
        "contacts_per_s_simpy_baseline",
        "ratio_core_vs_baseline",
        "day_x30_seconds",
        "day_x30_cpu_seconds_per_worker",
        "staff_day_seconds",
        "staff_day_evaluations",
        "staff_day_replications",
        "day_method_seconds",
    ):
        assert float(summary[key]) > 0, key
    assert summary["day_method_runs"] == "1"  # --quick: one run of the first intervals
    assert summary["day_method_measured"] == "0"
    assert int(summary["day_contacts"]) > 90_000
    assert summary["day_x30_measured"] == "0"
    assert summary["staff_day_measured"] == "0"
    assert summary["staff_day_intervals"] == "1"  # --quick: the first interval only
    assert summary["python"] == platform.python_version()
    assert summary["libpython"] in ("shared", "static", "unknown")
    with loaded("sim.py") as bench:
        rate_met = float(summary["contacts_per_s_core"]) >= bench.FLOOR_CONTACTS_PER_S
        day_met = float(summary["day_x30_seconds"]) < bench.FLOOR_DAY_X30_SECONDS
        staff_met = float(summary["staff_day_seconds"]) < bench.FLOOR_STAFF_DAY_SECONDS
        assert 0 <= int(summary["day_method_short"]) <= bench.QUICK_INTERVALS
    assert summary["floor_staff_day_met"] == str(int(staff_met)), "judged against its floor"
    assert summary["floor_contacts_per_s_met"] == str(int(rate_met)), "judged against its floor"
    assert summary["floor_day_x30_met"] == str(int(day_met)), "judged against its floor"


@pytest.fixture(scope="module")
def planner() -> Iterator[ModuleType]:
    with loaded("sim.py") as module:
        yield module


@pytest.mark.parametrize(
    ("rate_per_floor", "day_per_floor", "staff_per_floor", "met"),
    [
        (2.0, 0.5, 0.5, ("1", "1", "1")),
        (0.8, 0.5, 0.5, ("0", "1", "1")),  # the core simulates too few contacts a CPU second
        (2.0, 1.2, 0.5, ("1", "0", "1")),  # the planning day takes too long
        (2.0, 0.5, 1.2, ("1", "1", "0")),  # so does the day's staffing search
        (0.8, 1.2, 1.2, ("0", "0", "0")),
    ],
)
def test_floors_are_judged_on_the_core_rate_and_the_planning_day(
    planner: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    rate_per_floor: float,
    day_per_floor: float,
    staff_per_floor: float,
    met: tuple[str, str, str],
) -> None:
    """Made-up measurements in units of the floors, instead of simulating."""
    rate = rate_per_floor * planner.FLOOR_CONTACTS_PER_S
    day = day_per_floor * planner.FLOOR_DAY_X30_SECONDS

    def cpu_rate(fn: Callable[..., int], hours: float) -> tuple[int, float, float]:
        cpu = 10.0 if fn is planner.ours else 2.0  # the bare SimPy model is 5x as fast
        return round(rate * 10.0), cpu, cpu

    def planning_day(quick: bool) -> tuple[float, float, int, bool]:
        return day, day, 100_000, True

    monkeypatch.setattr(planner, "cpu_rate", cpu_rate)

    budgets: list[float] = []

    def staffing_day(quick: bool, budget: float) -> tuple[float, int, int, int, bool]:
        budgets.append(budget)
        return staff_per_floor * planner.FLOOR_STAFF_DAY_SECONDS, 100, 2_000, 28, True

    def day_method(quick: bool) -> tuple[float, int, int, bool]:
        return 276.0, 10, 0, True

    monkeypatch.setattr(planner, "planning_day", planning_day)
    monkeypatch.setattr(planner, "staffing_day", staffing_day)
    monkeypatch.setattr(planner, "day_method", day_method)
    assert planner.main(["--staff-budget", "42"]) == 0
    assert budgets == [42.0]
    pairs = parse_summary(capsys.readouterr().out.splitlines())
    assert pairs["driver"] in ("compiled", "pure")
    judged = ("floor_contacts_per_s_met", "floor_day_x30_met", "floor_staff_day_met")
    assert tuple(pairs[k] for k in judged) == met
    assert float(pairs["contacts_per_s_core"]) == pytest.approx(rate, abs=1)
    assert pairs["staff_day_intervals"] == "28"
    assert (pairs["day_method_seconds"], pairs["day_method_runs"]) == ("276.0", "10")
