"""The ``contactcenter`` command, run as a user would: ``python -m contactcenter``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "config"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def demo() -> list[str]:
    run = run_cli("demo", str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return run.stdout.splitlines()


STAMPED = re.compile(r"^\[\s*(\d+\.\d)s\] (.+)$")


def events(lines: list[str]) -> list[tuple[float, str]]:
    out = []
    for line in lines[1:-1]:
        match = STAMPED.match(line)
        assert match, f"unexpected demo line {line!r}"
        out.append((float(match[1]), match[2]))
    return out


def test_demo_opens_and_closes(demo: list[str]) -> None:
    assert demo[0] == "demo of Northwind Telecom Customer Care: 12 agents, 12 contacts"
    assert demo[-1] == "all contacts handled"


def test_demo_lines_are_in_time_order(demo: list[str]) -> None:
    times = [t for t, _ in events(demo)]
    assert times == sorted(times)
    assert times[0] >= 5.0


def test_demo_shows_queued_offered_answered(demo: list[str]) -> None:
    said = [text for _, text in events(demo)]
    queued = [t for t in said if re.fullmatch(r"demo-\d\d queued in \w+ \((voice|chat), .+\)", t)]
    offered = [
        t for t in said if re.fullmatch(r"demo-\d\d offered to a\d\d \(step \d\), ringing", t)
    ]
    answered = [t for t in said if re.fullmatch(r"demo-\d\d answered by a\d\d after \d+ s", t)]
    assert len({t.split()[0] for t in queued}) == 12  # every contact is queued
    assert offered
    assert answered
    # Every answered contact was offered to that same agent first.
    for line in answered:
        contact, _, _, agent = line.split()[:4]
        assert f"{contact} offered to {agent}" in "\n".join(said)


def test_demo_shows_a_no_answer_timeout(demo: list[str]) -> None:
    said = [text for _, text in events(demo)]
    timeouts = [t for t in said if re.fullmatch(r"demo-\d\d: a\d\d timeout; back in \w+", t)]
    assert timeouts
    sleepy = timeouts[0].split()[1]
    # Two timeouts in a row set the agent away for no-answer.
    assert f"{sleepy} is away (no-answer)" in said


def test_demo_every_queued_contact_ends(demo: list[str]) -> None:
    said = [text for _, text in events(demo)]
    queued = {t.split()[0] for t in said if " queued in " in t}
    done = {t.split()[0] for t in said if " wrap-up done by " in t}
    gone = {t.split()[0] for t in said if " abandoned after " in t}
    assert queued == done | gone


def test_demo_with_a_broken_config_fails(tmp_path: Path) -> None:
    run = run_cli("demo", str(tmp_path / "nowhere"))
    assert run.returncode == 1
    assert "not a directory" in run.stderr
    assert run.stdout == ""


def test_command_is_required() -> None:
    run = run_cli()
    assert run.returncode == 2
    assert "usage: contactcenter" in run.stderr
