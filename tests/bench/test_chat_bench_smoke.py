"""Smoke test of the chat load benchmark: ``python bench/chat.py --quick`` starts a real server,
runs customers and agents through it and ends with a parsable ``key=value`` summary line.
No timing floors here: those belong to the full benchmark run, not to unit tests; but how a run
is judged against them is tested, on made-up measurements on either side of each floor."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest

from tests.bench.quick_run import loaded, parse_summary, run_quick


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


@pytest.fixture(scope="module")
def chat() -> Iterator[ModuleType]:
    with loaded("chat.py") as module:
        yield module


MISSES: dict[str, dict[str, Any]] = {
    "none": {},
    "too few sessions": {"customers": 4_999},
    "a session not answered": {"joined": 4_999},
    "a line lost": {"lost": 1},
    "relay p99 too slow": {"relay_ms": 1.0},
    "too few lines a second": {"rate": 0.95},
    "routing p99 too slow": {"routing_ms": 1.0},
    "a quick run": {"quick": True},
}


@pytest.mark.parametrize("miss", MISSES)
def test_only_a_full_run_that_meets_every_floor_is_judged_met(chat: ModuleType, miss: str) -> None:
    """A full run at the floors' rate with every latency 10 % under its floor meets them; each
    single miss fails the whole judgement (``*_ms`` and ``rate``: in units of the floor)."""
    change = MISSES[miss]
    plan = replace(
        chat.FULL,
        customers=change.get("customers", chat.FLOOR_CUSTOMERS),
        quick=change.get("quick", False),
    )
    lines = round(change.get("rate", 1.0) * chat.FLOOR_RATE * plan.duration)
    relay = 0.9 * chat.FLOOR_RELAY_P99_MS + change.get("relay_ms", 0.0) * chat.FLOOR_RELAY_P99_MS
    routing = 0.9 * chat.FLOOR_ROUTING_P99_MS
    routing += change.get("routing_ms", 0.0) * chat.FLOOR_ROUTING_P99_MS
    result = chat.Result(
        plan=plan,
        relay_c2a=[relay] * (lines // 2),
        relay_a2c=[relay] * (lines - lines // 2),
        sent=lines,
        delivered=lines - change.get("lost", 0),
        routing=[routing] * plan.customers,
        joined=change.get("joined", plan.customers),
        arrive_seconds=10.0,
        cpu_pct=50.0,
        rss_mb=100.0,
        hwm_mb=120.0,
        echo=[1.0] * 100,
        client_lag=[1.0] * 100,
        client_cpu_pct=50.0,
        errors={},
        server_exit=0,
    )
    summary = parse_summary(chat.report(result))
    assert summary["floor_met"] == ("1" if miss == "none" else "0")
