"""The developer scripts on a fresh machine, as users have it.

``./scripts/start`` with the distribution's own Python (Debian 12, Ubuntu 24.04), which
refuses ``pip install`` into itself (PEP 668, ``EXTERNALLY-MANAGED``): it installs into the
project's ``.venv`` and serves; run again, it reuses that environment instead of installing
anew. ``./scripts/test`` under CI fails when it cannot install the tests' system peers."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import peers, processes

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")
FRESH_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""A fresh machine's search path: the distribution's ``python3``, no pyenv, no venv."""
PROJECT = ["pyproject.toml", "README.md", "scripts", "contactcenter", "sim", "config"]
"""What ``pip install -e .`` and ``scripts/start`` read from a checkout."""
INSTALL_SECONDS = 240.0
"""Bound on the first run: a venv, the engine's dependencies (numpy, scipy, matplotlib...)."""


def system_python() -> Path:
    """Debian's or Ubuntu's own ``python3``, refusing pip installs into itself (PEP 668)."""
    if not SYSTEM_PYTHON.exists():
        peers.missing(f"no {SYSTEM_PYTHON} (apt-get install python3 python3-venv)")
    stdlib = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        peers.missing(f"{SYSTEM_PYTHON} is not a distribution's externally managed Python")
    return SYSTEM_PYTHON


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """A copy of this checkout's project files, without any environment or build output."""
    target = tmp_path / "contactcenter"
    target.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "var")
            shutil.copytree(source, target / name, ignore=junk)
        else:
            shutil.copy2(source, target / name)
    yield target
    shutil.rmtree(target / ".venv", ignore_errors=True)  # hundreds of MB


class Start:
    """``./scripts/start --port 0`` in ``checkout``, as a child process stopped by its PID."""

    def __init__(self, checkout: Path, log: Path) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYENV", "VIRTUAL_ENV", "PYTHON", "CONDA"))
        }
        env["PATH"] = FRESH_PATH
        env["PYTHONUNBUFFERED"] = "1"  # the log is a file: its lines as a terminal gets them
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["./scripts/start", "--port", "0"],
                cwd=checkout,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def serving(self, timeout: float) -> str:
        """The engine's address once its /healthz answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"scripts/start exited:\n{self.text()[-4000:]}"
            m = re.search(r"serving on (http://127\.0\.0\.1:\d+)", self.text())
            if m is not None:
                health = f"{m.group(1)}/healthz"
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(health, timeout=2) as resp,
                ):
                    if resp.status == 200:
                        return m.group(1)
            time.sleep(0.2)
        raise AssertionError(f"not serving after {timeout:.0f} s:\n{self.text()[-4000:]}")

    def stop(self) -> None:
        processes.stop(self.proc, timeout=30)


@contextlib.contextmanager
def started(checkout: Path, log: Path) -> Iterator[Start]:
    start = Start(checkout, log)
    try:
        yield start
    finally:
        start.stop()


def test_quick_start_installs_into_a_venv_with_the_system_python_and_reuses_it(
    checkout: Path, tmp_path: Path
) -> None:
    python = system_python()
    refused = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "-e", str(checkout)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0, "the system Python took a pip install: nothing to prove"

    with started(checkout, tmp_path / "first.log") as first:
        first.serving(INSTALL_SECONDS)
    venv_python = checkout / ".venv" / "bin" / "python"
    assert "installing" in first.text(), first.text()[-4000:]
    cfg = (checkout / ".venv" / "pyvenv.cfg").read_text()
    assert re.search(rf"^home = {re.escape(str(python.parent))}$", cfg, re.M), cfg
    made = venv_python.stat().st_ino, venv_python.lstat().st_mtime_ns

    with started(checkout, tmp_path / "second.log") as second:
        second.serving(60.0)
    assert "installing" not in second.text(), second.text()[-4000:]
    assert (venv_python.stat().st_ino, venv_python.lstat().st_mtime_ns) == made


def test_under_ci_scripts_test_fails_when_it_cannot_install_the_peers(tmp_path: Path) -> None:
    """Not root (``id`` says 1000): the missing package cannot be installed, and under CI that
    stops the run before anything is installed or tested."""
    checkout = tmp_path / "contactcenter"
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    (checkout / ".ci").mkdir()
    (checkout / ".ci" / "apt-packages.txt").write_text("# a peer\nno-such-test-peer\n")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "id").write_text("#!/bin/sh\necho 1000\n")
    (stubs / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{FRESH_PATH}", "CI": "true"}
    run = subprocess.run(
        ["./scripts/test"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no-such-test-peer" in run.stderr and "CI is set" in run.stderr, run.stderr
    assert not (checkout / ".venv").exists()
