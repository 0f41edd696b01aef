"""Smoke test of the planner benchmark: ``python bench/sim.py --quick`` runs to the end and its
last line is the machine-readable summary. No timing floors here: those belong to the full
benchmark run, not to unit tests."""

from __future__ import annotations

from tests.bench.quick_run import run_quick


def test_quick_run_prints_a_parsable_summary() -> None:
    summary = run_quick("sim.py")
    for key in (
        "contacts_per_s_core",
        "contacts_per_s_simpy_baseline",
        "ratio_core_vs_baseline",
        "day_x30_seconds",
        "day_x30_cpu_seconds_per_worker",
    ):
        assert float(summary[key]) > 0, key
    assert int(summary["day_contacts"]) > 90_000
    assert summary["day_x30_measured"] == "0"
    assert summary["floor_contacts_per_s_met"] in ("0", "1")
    assert summary["floor_day_x30_met"] in ("0", "1")
