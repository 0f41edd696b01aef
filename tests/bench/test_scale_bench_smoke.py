"""Smoke test of the scale benchmark: ``python bench/scale.py --quick`` runs customers' chats
through a real engine on SQLite and on a real PostgreSQL server, has a standby engine take
over from a killed one once on each (and, its baseline, a restart), runs the same replications
on the local pool and on Dask clusters of 1 and 2 real worker processes, checks their
results equal, and ends with a parsable ``key=value`` line."""

from __future__ import annotations

import math

from tests.bench.quick_run import run_quick


def test_quick_run_prints_a_parsable_summary() -> None:
    summary = run_quick("scale.py")
    assert summary["replications"] == "4"
    assert summary["takeover_rounds"] == "1"
    assert summary["customers"] == "20"
    for key in ("sqlite_contacts_per_s", "pg_contacts_per_s", "pg_vs_sqlite_ratio"):
        value = float(summary[key])
        assert math.isfinite(value) and value > 0, key
    assert 0 < float(summary["takeover_pg_seconds"]) < 60
    assert 0 < float(summary["takeover_seconds"]) < 60
    assert 0 < float(summary["restart_seconds"]) < 60
    assert math.isfinite(float(summary["takeover_vs_restart_ratio"]))
    for key in ("pool_replications_per_s", "dask_1_worker_replications_per_s",
                "dask_replications_per_s", "dask_vs_pool_ratio", "dask_speedup_1_to_2_workers",
                "pool_task_ms", "dask_task_ms"):  # fmt: skip
        value = float(summary[key])
        assert math.isfinite(value) and value > 0, key
    assert float(summary["contacts_per_replication"]) > 100
    assert math.isfinite(float(summary["dask_overhead_per_task_ms"]))
