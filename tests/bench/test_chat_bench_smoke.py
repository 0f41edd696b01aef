"""Smoke test of the chat load benchmark: ``python bench/chat.py --quick`` starts a real server,
runs customers and agents through it and ends with a parsable ``key=value`` summary line.
No timing floors here: those belong to the full benchmark run, not to unit tests."""

from __future__ import annotations

import math

from tests.bench.quick_run import run_quick


def test_quick_run_prints_a_parsable_summary_with_positive_counts() -> None:
    summary = run_quick("chat.py")
    for key in ("customers", "agents", "chats_answered", "messages_sent"):
        assert int(summary[key]) > 0, key
    assert int(summary["chats_answered"]) <= int(summary["customers"])
    for key in (
        "relay_p99_ms",
        "relay_p50_ms",
        "msgs_per_s",
        "routing_p50_ms",
        "routing_p99_ms",
        "engine_rss_mb",
        "baseline_echo_p99_ms",
        "ratio_p99_vs_echo",
    ):
        value = float(summary[key])
        assert math.isfinite(value) and value > 0, key
    assert float(summary["engine_cpu_pct"]) >= 0
    assert float(summary["relay_p50_ms"]) <= float(summary["relay_p99_ms"])
    assert summary["floor_met"] == "0"  # a quick run is never judged
    assert summary["messages_lost"] == "0"
