"""What a planner reads: the confidence a staffing plan delivers, the evidence that one agent
fewer misses, and a warning when a run's confidence intervals are too wide to act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.builders import simple_center, stationary_model
from sim.cli import main
from sim.replications import Runner, replicate, summary_of
from sim.report import plan_json, plan_text, run_warnings
from sim.scenario import load_scenario
from sim.staffing import plan_staffing
from tests.sim.files import base_spec, write_scenario

AHT = 180.0


def test_two_replications_are_too_wide_to_act_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "o"
    args = ["run", str(scenario), "--replications", "2", "--out", str(out), "--no-charts"]
    assert main([*args, "--quiet"]) == 0
    err = capsys.readouterr().err
    wide = [line for line in err.splitlines() if "too wide to act on" in line]
    assert wide, err
    assert any(line.startswith("warning: billing: service level ±") for line in wide)
    assert "2 replications" in wide[0] and "replications for ±2.5 points" in wide[0]
    summary = json.loads((out / "summary.json").read_text())
    assert any("too wide to act on" in w for w in summary["warnings"])


def test_enough_replications_raise_no_width_warning(runner: Runner) -> None:
    center = simple_center(12, threshold_seconds=20)
    model = stationary_model(center, {"q": 150}, AHT, hours=4, spec={"warmup_minutes": 30})
    summary = summary_of(model, replicate(model, replications=20, runner=runner))
    assert summary.by_queue["sl_offered"].half_width[0] < 0.05
    assert not any("too wide" in w for w in run_warnings(model, summary))


def test_a_plan_states_its_confidence_and_the_evidence_below(tmp_path: Path) -> None:
    spec = base_spec()
    spec["agent_groups"] = {"sales": {"template": "a05", "count": 30}}
    forecast = "interval_start,queue,contacts,aht_seconds\n09:00,sales,60,240\n"
    staffing = "interval_start,sales\n09:00,6\n"
    model = load_scenario(write_scenario(tmp_path, spec, forecast=forecast, staffing=staffing))
    plan = plan_staffing(model, runner=Runner(1))
    (interval,) = plan.intervals
    (below,) = interval.below
    assert below is not None and not below.meets  # one agent fewer was judged, and misses
    text = plan_text(model, plan)
    assert "95 % confidence" in text and "tolerance 1 point" in text
    n = interval.required[0]
    assert f"09:00 sales {n - 1}: misses (SL sales" in text
    out = plan_json(model, plan)
    assert out["decision"]["confidence"] == 0.95
    assert out["decision"]["tolerance_points"] == 1.0
    evidence = out["intervals"][0]["one_fewer"]["sales"]
    assert evidence["agents"] == n - 1 and evidence["meets_targets"] is False
    assert evidence["replications"] >= 10
