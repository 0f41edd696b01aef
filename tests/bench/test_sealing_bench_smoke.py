"""Smoke test of the sealing benchmark: ``python bench/sealing.py --quick`` measures both
variants and ends with a parsable ``key=value`` line; what it compares is what it says it
compares (the sealed variant's files hold none of the values written, the baseline's all)."""

from __future__ import annotations

import math

from tests.bench.quick_run import run_quick

WORKLOADS = (
    "chat_batches", "single_lines", "customers", "callbacks", "transcripts", "screen_pops",
    "look_ups",
)  # fmt: skip


def test_quick_run_compares_sealed_with_clear() -> None:
    summary = run_quick("sealing.py")
    for name in WORKLOADS:
        sealed, clear = float(summary[f"sealed_{name}_ms"]), float(summary[f"clear_{name}_ms"])
        assert math.isfinite(sealed) and sealed > 0 and clear > 0, name
        assert math.isclose(float(summary[f"ratio_{name}"]), sealed / clear, rel_tol=0.01), name
        cpu = float(summary[f"cpu_sealed_{name}_ms"]), float(summary[f"cpu_clear_{name}_ms"])
        assert all(math.isfinite(c) and c >= 0 for c in cpu), name
    assert float(summary["seal_us"]) > 0 and float(summary["open_us"]) > 0
    assert summary["clear_in_sealed"] == "0"
    assert summary["clear_in_baseline"] == "46"  # 40 chat lines, 3 names, 3 e-mails
