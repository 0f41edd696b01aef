"""The ``contactcenter-sim`` command line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.erlang import erlang_a_metrics, erlang_c_metrics, required_agents
from tests.sim.files import ROOT, base_spec, write_scenario

ERLANG = ["erlang", "--calls", "300", "--interval-minutes", "30", "--aht", "180"]
TARGET = ["--target-seconds", "20", "--target-percent", "80"]


def test_erlang_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ERLANG, *TARGET, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {
        "traffic_erlangs",
        "agents",
        "service_level",
        "prob_wait",
        "asa_seconds",
        "occupancy",
    }
    assert "prob_abandon" not in out
    assert out["traffic_erlangs"] == pytest.approx(30.0)
    assert out["agents"] == required_agents(300, 1800, 180, 20, 80).agents == 35
    assert 0.8 <= out["service_level"] <= 1


def test_erlang_a_with_given_agents(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ERLANG, *TARGET, "--patience", "120", "--agents", "31", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    theory = erlang_a_metrics(300, 1800, 180, 20, 31, 120)
    assert out["agents"] == 31
    assert out["prob_abandon"] == pytest.approx(theory.prob_abandon, abs=1e-6)
    assert out["service_level"] == pytest.approx(theory.service_level, abs=1e-6)


def test_python_dash_m_sim() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim", *ERLANG, *TARGET],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "agents         35" in done.stdout


def test_run_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "out"
    code = main(["run", str(scenario), "--out", str(out), "--workers", "2", "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "3 replications" in text and "billing" in text and "occupancy:" in text
    for name in ("intervals.csv", "occupancy.csv", "summary.json"):
        assert (out / name).stat().st_size > 0
    for name in ("service_level.png", "occupancy.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "intervals.csv").open()))
    # billing overflows to support after 120 s: support gets contacts too
    assert {r["queue"] for r in rows} <= {"sales", "billing", "support_chat", "support"}
    assert {r["queue"] for r in rows} >= {"sales", "billing", "support_chat"}
    assert {r["interval_start"] for r in rows} == {"09:00", "09:30"}
    row = rows[0]
    assert float(row["sl_offered_low"]) <= float(row["sl_offered"]) <= float(row["sl_offered_high"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 3 and summary["seed"] == 3
    billing = summary["queues"]["billing"]
    assert billing["threshold_seconds"] == 30 and billing["goal"] == 0.8
    assert set(billing["total"]) >= {"offered", "sl_offered", "sl_excl_short", "asa"}
    assert set(summary["groups"]) == {"sales", "billing", "chat"}


def test_run_is_reproducible_and_what_if(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s")
    outs = []
    for i, workers in enumerate(("1", "2")):
        out = tmp_path / f"o{i}"
        args = ["run", str(scenario), "--out", str(out), "--no-charts", "--quiet"]
        assert main([*args, "--workers", workers]) == 0
        outs.append((out / "summary.json").read_text())
    assert outs[0] == outs[1]
    capsys.readouterr()
    what_if = tmp_path / "more.csv"
    what_if.write_text("interval_start,sales,billing,chat\n09:00,10,10,2\n")
    out = tmp_path / "w"
    args = ["run", str(scenario), "--staffing", str(what_if), "--out", str(out), "--no-charts"]
    assert main([*args, "--quiet", "--json"]) == 0
    more = json.loads(capsys.readouterr().out)
    base = json.loads(outs[0])
    assert more["total"]["asa"]["mean"] < base["total"]["asa"]["mean"]


def test_staff_analytic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "plan"
    assert main(["staff", str(scenario), "--analytic", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "required (scheduled" in text and "09:30" in text
    plan = json.loads((out / "staffing.json").read_text())
    assert [i["interval_start"] for i in plan["intervals"]] == ["09:00", "09:30"]
    assert plan["intervals"][0]["required"]["billing"] > 0
    assert (out / "staffing.png").exists()


def test_bad_scenario_exit_code_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = base_spec()
    spec["replications"] = 1
    scenario = write_scenario(tmp_path, spec)
    assert main(["run", str(scenario), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error: scenario.yaml: replications:" in err


def test_staff_whole_day_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "plan"
    args = ["staff", str(scenario), "--method", "day", "--iterations", "2", "--replications", "3"]
    assert main([*args, "--out", str(out), "--no-charts", "--quiet", "--workers", "2"]) == 0
    plan = json.loads((out / "staffing.json").read_text())
    assert len(plan["intervals"]) == 2
    assert all(i["required"]["sales"] >= 1 for i in plan["intervals"])
    assert "required (scheduled" in capsys.readouterr().out


@pytest.mark.parametrize("count", ["0", "-1", "two"])
def test_staff_refuses_whole_day_runs_that_are_not_a_count(
    tmp_path: Path, count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--iterations 0`` wrote an empty staffing table and said nothing."""
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "plan"
    with pytest.raises(SystemExit) as done:
        main(["staff", str(scenario), "--method", "day", "--iterations", count, "--out", str(out)])
    assert done.value.code == 2
    assert "--iterations" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("percent", ["80", "0.8", "80%"])
def test_erlang_target_percent_reads_80_and_0_8_alike(
    percent: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ERLANG, "--target-seconds", "20", "--target-percent", percent, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == 35


@pytest.mark.parametrize("percent", ["1", "0", "120", "-5", "eighty"])
def test_erlang_refuses_an_ambiguous_or_impossible_target(
    percent: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*ERLANG, "--target-seconds", "20", "--target-percent", percent])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "--target-percent" in err and percent in err


def test_erlang_help_says_how_the_target_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["erlang", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "80, 80% and 0.8 all mean 80 %" in help_text


def test_erlang_shows_the_table_around_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """Agents against service level, P(wait), ASA and occupancy from three below the answer
    to three above it, the answer marked; the JSON carries the same rows."""
    assert main([*ERLANG, *TARGET]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["agents", "SL"])
    rows = lines[head + 1 : head + 8]
    assert [int(r.split()[0]) for r in rows] == list(range(32, 39))
    marked = [r for r in rows if "<-" in r]
    assert len(marked) == 1 and marked[0].split()[0] == "35"
    exact = erlang_c_metrics(300, 1800, 180, 20, 34)
    row34 = rows[2].split()
    assert row34[1] == f"{100 * exact.service_level:.1f}%"
    assert row34[2] == f"{100 * exact.prob_wait:.1f}%"
    assert row34[3] == f"{exact.asa_seconds:.1f}"
    assert main([*ERLANG, *TARGET, "--patience", "120", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)["table"]
    answer = next(
        r
        for r in table
        if r["meets_target"] and r["agents"] == min(x["agents"] for x in table if x["meets_target"])
    )
    assert answer["agents"] == required_agents(300, 1800, 180, 20, 80, patience=120).agents
    assert {"service_level", "prob_wait", "asa_seconds", "occupancy", "prob_abandon"} <= set(
        table[0]
    )


def test_staff_verify_warns_like_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The day run of ``--verify`` warns as ``run`` does (here: two replications are far too
    few to act on)."""
    scenario = write_scenario(tmp_path / "s")
    args = ["staff", str(scenario), "--analytic", "--verify", "--no-charts", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "p"), "--workers", "1"]) == 0
    assert "too wide to act on" in capsys.readouterr().err
