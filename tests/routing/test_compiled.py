"""The routing core and the planner's driver compiled with mypyc (``scripts/compile-core``) pass
their own tests, and a compiled module older than its source is refused.

The normal test run uses whichever core is installed (pure Python on a fresh checkout). Here the
core is built into a copy of the checkout and the routing, agents and planner test files run
there, in a child process, on the compiled modules (checked: each one's file is an extension
module). It needs a C compiler, Python's headers and mypyc: missing, it skips, or fails under
CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec
from pathlib import Path

import pytest

from contactcenter.compiled import libpython_linkage
from tests.peers import required

ROOT = Path(__file__).resolve().parents[2]
CORE = [
    *sorted(
        f"contactcenter.{p.parent.name}.{p.stem}"
        for pkg in ("routing", "agents")
        for p in (ROOT / "contactcenter" / pkg).glob("*.py")
        if p.name != "__init__.py"
    ),
    "sim.distributions",
    "sim.driver",
    "sim.statistics",
]
"""What scripts/compile-core compiles: every module of the two core packages but their
__init__, and the planner's hot path."""
SLOW_PLANNER_TESTS = ("test_staffing_error.py", "test_warmup.py", "test_cluster.py")
"""Planner tests of the search's statistics over many seeds and of Dask, left out of the
compiled run (minutes of CPU): what they run is what the other planner tests run."""


def why_no_compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc}) to build the compiled core: apt-get install gcc"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        return f"no {headers} to build the compiled core: apt-get install python3-dev"
    if find_spec("mypyc") is None:
        return "no mypyc to build the compiled core: scripts/install --dev"
    return None


def copy_checkout(to: Path) -> Path:
    """What building and testing the core reads, copied without built files or caches."""
    skip = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", ".hypothesis")
    for name in ("contactcenter", "sim", "tests", "config", "scripts", "bench"):
        shutil.copytree(ROOT / name, to / name, ignore=skip)
    shutil.copy2(ROOT / "pyproject.toml", to / "pyproject.toml")
    return to


def run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``argv`` in ``cwd``, importing ``contactcenter`` from ``cwd`` (not the installed one)."""
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@required(why_no_compiler())
def test_the_compiled_core_passes_the_routing_agents_and_planner_tests(tmp_path: Path) -> None:
    copy = copy_checkout(tmp_path)
    built = run(["scripts/compile-core"], copy, timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    where = run(
        [
            sys.executable,
            "-c",
            "import importlib, json, sys; import contactcenter.routing as r, sim; "
            "print(json.dumps({'COMPILED': [r.COMPILED, sim.COMPILED], 'files': "
            "{m: importlib.import_module(m).__file__ for m in sys.argv[1:]}}))",
            *CORE,
        ],
        copy,
        timeout=30,
    )
    assert where.returncode == 0, where.stderr[-3000:]
    seen = json.loads(where.stdout)
    assert seen["COMPILED"] == [True, True]
    for module, file in seen["files"].items():
        assert file.startswith(str(copy)), (module, file)
        assert file.endswith(tuple(EXTENSION_SUFFIXES)), (module, file)

    tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "tests/routing",
            "tests/agents",
            "tests/sim",
            "--ignore=tests/routing/test_compiled.py",
            *(f"--ignore=tests/sim/{name}" for name in SLOW_PLANNER_TESTS),
        ],
        copy,
        timeout=400,
    )
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout.splitlines()[-1]


def fake_build(copy: Path) -> list[Path]:
    """Files named as scripts/compile-core's output (content does not matter: the check runs
    before any of them is loaded), made after their sources."""
    made = []
    for module in [*CORE, "contactcenter.core__mypyc"]:
        path = copy.joinpath(*module.split(".")).with_suffix(EXTENSION_SUFFIXES[0])
        path.write_bytes(b"")
        made.append(path)
    return made


@pytest.mark.parametrize(
    ("module", "imports"),
    [
        ("contactcenter.routing.router", ("contactcenter.routing", "contactcenter.events")),
        ("sim.driver", ("sim.erlang", "sim.driver")),
    ],
)
def test_a_source_newer_than_its_compiled_module_is_refused(
    tmp_path: Path, module: str, imports: tuple[str, ...]
) -> None:
    copy = copy_checkout(tmp_path)
    made = fake_build(copy)
    built = made[CORE.index(module)]
    source = copy.joinpath(*module.split(".")).with_suffix(".py")
    later = built.stat().st_mtime + 10
    os.utime(source, (later, later))  # the source changed after the build

    for what in imports:
        proc = run([sys.executable, "-c", f"import {what}"], copy, timeout=30)
        assert proc.returncode != 0
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("ImportError: ")
        assert str(built) in last and f"older than {source.name}" in last
        assert "run scripts/compile-core" in last and "--clean" in last


def test_clean_leaves_the_pure_python_core(tmp_path: Path) -> None:
    copy = copy_checkout(tmp_path)
    made = fake_build(copy)
    proc = run(["scripts/compile-core", "--clean"], copy, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert [p for p in made if p.exists()] == []
    assert all(copy.joinpath(*m.split(".")).with_suffix(".py").exists() for m in CORE)

    proc = run(
        [
            sys.executable,
            "-c",
            "import contactcenter.routing as r, sim, sim.driver; print(r.COMPILED, sim.COMPILED)",
        ],
        copy,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False False"

    proc = run([sys.executable, "bench/routing.py", "--compare", "--quick"], copy, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "bench/routing.py: --compare needs the compiled core: run scripts/compile-core"
    )


def test_an_unknown_option_is_refused(tmp_path: Path) -> None:
    proc = run([str(ROOT / "scripts" / "compile-core"), "--fast"], tmp_path, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "usage: scripts/compile-core [--clean]"


@required(None if Path("/proc/self/maps").exists() else "no /proc/self/maps (Linux) to read")
def test_how_the_interpreter_holds_libpython_is_read_from_the_process() -> None:
    """What the process's maps say is what ``ldd`` reads in the executable's file (a shared
    libpython makes the compiled planner's day take about a fifth longer)."""
    ldd = subprocess.run(["ldd", sys.executable], capture_output=True, text=True, check=True)
    assert libpython_linkage() == ("shared" if "libpython" in ldd.stdout else "static")


def test_libpython_linkage_from_made_up_maps(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    assert libpython_linkage(maps) == "unknown"
    lib = "7f0e1c000000-7f0e1c100000 r-xp 00000000 08:01 42 /usr/lib/libpython3.11.so.1.0\n"
    maps.write_text("55d0c0000000-55d0c0001000 r--p 00000000 08:01 7 /usr/bin/python3.11\n")
    assert libpython_linkage(maps) == "static"
    maps.write_text(maps.read_text() + lib)
    assert libpython_linkage(maps) == "shared"
