"""Run a benchmark script with ``--quick`` and read its machine-readable last line, or load
it as a module to test how it judges its floors.

Shared by the benchmark smoke tests: each checks its own keys, this checks the shape every
benchmark promises (human-readable lines, then one line of ``key=value`` pairs)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

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
    pairs = parse_summary(lines)
    assert pairs["quick"] == "1"
    return pairs


def parse_summary(lines: Sequence[str]) -> dict[str, str]:
    """The ``key=value`` pairs of a benchmark's last line."""
    pairs = dict(item.split("=", 1) for item in lines[-1].split())
    assert pairs, "empty summary line"
    return pairs


@contextmanager
def loaded(script: str) -> Iterator[ModuleType]:
    """``bench/<script>`` imported as the module ``bench_<name>`` (the script's own name would
    clash: ``bench/sim.py`` is not the ``sim`` package)."""
    spec = importlib.util.spec_from_file_location(
        f"bench_{Path(script).stem}", ROOT / "bench" / script
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]
