"""Wrap-up on top of the forecast AHT: shown, warned about when it overloads the staffing, and
switched off for a case meant as Erlang C."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from contactcenter.config import CenterSettings, QueueConfig, Skill, Tier, build_center
from contactcenter.config.models import AgentConfig
from sim.cli import main
from sim.erlang import erlang_c_metrics, required_agents
from sim.replications import Runner, replicate, summary_of
from sim.report import run_json, run_text
from sim.scenario import Forecast, Model, ScenarioSpec, Staffing, resolve
from sim.staffing import overloads
from tests.sim.files import write_scenario

AHT = 120.0
CALLS = 300.0  # per 30 minutes: 20 Erlangs of talk, 25 with a 30-second wrap-up


def quiet_default_center(agents: int) -> object:
    """A queue that names no wrap-up: the config's default (30 s) applies."""
    settings = CenterSettings(
        name="defaults", skills=(Skill(id="s"),), tiers=(Tier(id="standard", priority=0),)
    )
    queue = QueueConfig.model_validate(
        {
            "id": "q",
            "channel": "voice",
            "skills": {"s": 1},
            "answer_target": {"threshold_seconds": 20},
        }
    )
    people = [AgentConfig(id=f"a{i:03d}", skills={"s": 3}, queues={"q": 1}) for i in range(agents)]
    return build_center(settings, [queue], people)


def erlang_c_minimum() -> int:
    return required_agents(CALLS, 1800, AHT, 20, 80).agents


def meant_as_erlang_c(wrap_up: dict[str, object] | None = None) -> Model:
    """Staffed at the Erlang C minimum for the forecast AHT alone, 80 % in 20 s."""
    agents = erlang_c_minimum()
    center = quiet_default_center(agents)
    forecast = Forecast(3600.0, 1800.0, ("q",), np.full((2, 1), CALLS), np.full((2, 1), AHT))
    spec: dict[str, object] = {"seed": 5, "replications": 4, "warmup_minutes": 30}
    if wrap_up is not None:
        spec["wrap_up"] = wrap_up
    staffing = Staffing(("all",), np.full((2, 1), agents, dtype=np.int64))
    return resolve(ScenarioSpec.model_validate(spec), center, forecast, staffing=staffing)


def test_a_silent_default_wrap_up_is_shown_and_warned_about(runner: Runner) -> None:
    model = meant_as_erlang_c()
    assert model.center.queues["q"].wrap_up_seconds == 30  # the config default
    found = overloads(model)
    assert [(o.label, o.group) for o in found] == [("01:00", "all"), ("01:30", "all")]
    agents = erlang_c_minimum()
    erlangs = CALLS * (AHT + 30) / 1800
    assert erlangs > agents > CALLS * AHT / 1800
    assert found[0].erlangs == pytest.approx(erlangs)
    assert found[0].agents == agents
    summary = summary_of(model, replicate(model, runner=runner))
    assert "handle time = AHT + wrap-up: q: AHT 120 s + wrap-up 30 s = 150 s" in run_text(
        model, summary
    )
    out = run_json(model, summary)
    assert out["queues"]["q"]["handle_seconds"] == {"aht": 120.0, "wrap_up": 30.0, "total": 150.0}
    (warning,) = out["warnings"]
    assert warning.startswith(
        f"warning: all: offered load {erlangs:.1f} Erlangs exceeds the {agents} agents staffed"
    )
    assert "handle time = AHT + wrap-up: q: AHT 120 s + wrap-up 30 s = 150 s" in warning
    assert summary.by_queue["sl_offered"].mean[0] < 0.5  # what the planner got, unwarned


def test_erlang_c_without_wrap_up(runner: Runner) -> None:
    """``wrap_up: {mode: none}`` makes the case what it was meant to be: no warning, and the
    service level of Erlang C."""
    model = meant_as_erlang_c({"mode": "none"})
    assert model.center.queues["q"].wrap_up_seconds == 0
    assert overloads(model) == []
    summary = summary_of(model, replicate(model, replications=16, runner=runner))
    exact = erlang_c_metrics(CALLS, 1800, AHT, 20, erlang_c_minimum()).service_level
    sl = summary.by_queue["sl_offered"]
    assert sl.low[0] <= exact <= sl.high[0]
    assert not any("offered load" in w for w in run_json(model, summary)["warnings"])


def test_run_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The example center's billing queue (AHT 240 s + wrap-up 30 s) with two agents."""
    staffing = "interval_start,sales,billing,chat\n09:00,6,2,2\n"
    scenario = write_scenario(tmp_path / "s", staffing=staffing)
    out = tmp_path / "o"
    assert main(["run", str(scenario), "--out", str(out), "--no-charts", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning: billing: offered load" in captured.err
    assert "exceeds the 2 agents staffed" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["queues"]["billing"]["handle_seconds"]["wrap_up"] == 30.0
