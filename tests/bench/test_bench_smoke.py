"""Smoke test of the routing benchmark: ``python bench/routing.py --quick`` runs to the end and
its last line is the machine-readable summary. No timing floors here: those belong to the full
benchmark run, not to unit tests."""

from __future__ import annotations

from tests.bench.quick_run import run_quick

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
    assert summary["floor_lifecycles_met"] in ("0", "1")
    assert summary["floor_cost_ratio_met"] in ("0", "1")
