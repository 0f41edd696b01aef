"""P(wait) and results per customer tier in the planner's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.builders import simple_center, stationary_model
from sim.cli import main
from sim.erlang import erlang_c_metrics
from sim.replications import Runner, replicate, summary_of
from tests.sim.files import write_scenario

AHT = 180.0


def test_prob_wait_agrees_with_erlang_c(runner: Runner) -> None:
    """P(wait): the share of offered contacts not answered at once, against Erlang C's
    probability of waiting (pooled over replications, within 3 standard errors)."""
    agents, traffic = 12, 9.0
    center = simple_center(agents, threshold_seconds=20)
    rate = traffic / AHT * 3600
    model = stationary_model(
        center, {"q": rate}, AHT, hours=4, spec={"seed": 8, "warmup_minutes": 30}
    )
    summary = summary_of(model, replicate(model, replications=24, runner=runner))
    p = summary.by_queue["prob_wait"]
    exact = erlang_c_metrics(rate / 2, 1800, AHT, 20, agents).prob_wait
    se = (p.high[0] - p.low[0]) / 2 / 2.07  # the t interval's half width over t(0.975, 23)
    assert se < 0.025
    assert abs(p.mean[0] - exact) < 3 * se, (p.mean[0], exact)


def test_run_reports_tiers_and_prob_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "o"
    assert main(["run", str(scenario), "--out", str(out), "--no-charts", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "P(wait)" in text
    tier_head = next(line for line in text.splitlines() if line.startswith("tier"))
    assert "SL" in tier_head and "P(wait)" in tier_head and "ASA" in tier_head
    for tier in ("vip", "gold", "standard"):
        assert any(line.startswith(tier) for line in text.splitlines())
    summary = json.loads((out / "summary.json").read_text())
    tiers = summary["tiers"]
    assert set(tiers) == {"vip", "gold", "standard"}
    offered = sum(t["offered"]["mean"] for t in tiers.values())
    assert offered == pytest.approx(summary["total"]["offered"]["mean"])
    assert tiers["standard"]["offered"]["mean"] > tiers["vip"]["offered"]["mean"]
    for t in tiers.values():
        assert 0 <= t["prob_wait"]["mean"] <= 1
    assert 0 <= summary["total"]["prob_wait"]["mean"] <= 1
