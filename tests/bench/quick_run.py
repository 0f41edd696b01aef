"""Run a benchmark script with ``--quick`` and read its machine-readable last line.

Shared by the benchmark smoke tests: each checks its own keys, this checks the shape every
benchmark promises (human-readable lines, then one line of ``key=value`` pairs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_quick(script: str) -> dict[str, str]:
    """``python bench/<script> --quick``: exit 0 and the summary pairs of its last line."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) > 1, "expected human-readable lines before the summary"
    pairs = dict(item.split("=", 1) for item in lines[-1].split())
    assert pairs, "empty summary line"
    assert pairs["quick"] == "1"
    return pairs
