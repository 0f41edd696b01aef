"""Progress on stderr: live bars on a terminal as replications finish, plain lines in a file."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.progress import Display, ProgressLine
from tests.sim.files import base_spec, write_scenario

ESCAPES = re.compile(r"\x1b\[")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_file_progress_is_plain_lines() -> None:
    out = io.StringIO()
    progress = ProgressLine("replications", out)
    for done in range(1, 31):
        progress(done, 30)
    text = out.getvalue()
    assert "\r" not in text and not ESCAPES.search(text)
    lines = text.splitlines()
    assert lines[0] == "replications 3/30"
    assert lines[-1] == "replications 30/30"
    assert len(lines) == 10


def test_on_a_terminal_the_bar_moves_as_replications_finish() -> None:
    out = Terminal()
    with Display(out) as display:
        assert display.live
        display.update("replications", 1, 30)
        assert display._bars is not None
        display._bars.refresh()
        assert "1/30" in out.getvalue()  # shown before the last one finishes
        display.update("replications", 30, 30)
    assert "30/30" in out.getvalue()


def test_quiet_prints_nothing() -> None:
    out = Terminal()
    progress = ProgressLine("replications", out, enabled=False)
    progress(1, 2)
    progress(2, 2)
    assert out.getvalue() == ""


def test_staff_reports_every_judged_staffing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run with stderr captured (a file, not a terminal): one plain line per judged staffing,
    with its verdict and replications, and the intervals as they are planned."""
    spec = base_spec()
    spec["agent_groups"] = {"sales": {"template": "a05", "count": 30}}
    forecast = "interval_start,queue,contacts,aht_seconds\n09:00,sales,60,240\n"
    staffing = "interval_start,sales\n09:00,6\n"
    scenario = write_scenario(tmp_path / "s", spec, forecast=forecast, staffing=staffing)
    args = ["staff", str(scenario), "--no-charts"]
    assert main([*args, "--out", str(tmp_path / "p"), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and not ESCAPES.search(err)
    judged = [line for line in err.splitlines() if line.startswith("09:00 sales=")]
    assert judged, err
    assert all("replications (SL " in line for line in judged)
    assert any(": meets after" in line for line in judged)
    assert any(": misses (" in line for line in judged)
    assert "intervals 1/1" in err
