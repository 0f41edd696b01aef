"""The planner on a Dask cluster (``--scheduler``): a ``LocalCluster`` of two real worker
processes on loopback runs the replications, the staffing search and the CLI's commands, and
every result equals the local pool's for the same seed."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

from sim.builders import simple_center, stationary_model
from sim.cli import main
from sim.cluster import ClusterError, DaskCluster, loopback_cluster
from sim.replications import Runner, replicate
from sim.scenario import Model
from sim.staffing import plan_staffing
from sim.statistics import Tallies
from tests.sim.files import write_scenario


def _model() -> Model:
    center = simple_center(12, threshold_seconds=20)
    return stationary_model(center, {"q": 120.0}, 180.0, hours=1.0, patience_seconds=120.0)


def _same(a: list[Tallies], b: list[Tallies]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.counts, y.counts)
        and np.array_equal(x.busy, y.busy)
        and (x.contacts, x.end) == (y.contacts, y.end)
        for x, y in zip(a, b, strict=True)
    )


def test_replications_on_the_cluster_equal_the_local_pools_and_ran_on_its_workers(
    cluster: LocalCluster, runner: Runner
) -> None:
    model = _model()
    local = replicate(model, replications=6, runner=runner)
    done: list[tuple[int, int]] = []
    with (
        Client(cluster.scheduler_address) as watcher,
        get_task_stream(watcher) as stream,
        Runner(scheduler=cluster.scheduler_address) as on_cluster,
    ):
        remote = replicate(
            model, replications=6, runner=on_cluster, progress=lambda i, n: done.append((i, n))
        )
    tasks = [t for t in stream.data if str(t["key"]).startswith("_apply")]
    assert _same(local, remote)
    assert done == [(i, 6) for i in range(1, 7)]
    assert len(tasks) == 6
    assert len({t["worker"] for t in tasks}) == 2  # both worker processes ran replications


def test_a_staffing_search_on_the_cluster_gives_the_local_plan(
    cluster: LocalCluster, runner: Runner
) -> None:
    model = _model()
    local = plan_staffing(model, runner=runner)
    with Runner(scheduler=cluster.scheduler_address) as on_cluster:
        remote = plan_staffing(model, runner=on_cluster)
    ours = [(i.required, i.evaluations) for i in local.intervals]
    assert [(i.required, i.evaluations) for i in remote.intervals] == ours
    assert all(required[0] >= 5 for required, _ in ours)


def test_run_and_staff_commands_on_the_cluster_write_the_local_results(
    cluster: LocalCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s")
    out: dict[str, str] = {}
    for name, where in (
        ("local", ["--workers", "2"]),
        ("cluster", ["--scheduler", cluster.scheduler_address]),
    ):
        args = ["run", str(scenario), "--out", str(tmp_path / name), "--no-charts", "--quiet"]
        assert main([*args, *where]) == 0
        out[name] = (tmp_path / name / "summary.json").read_text()
    assert out["local"] == out["cluster"]
    capsys.readouterr()
    args = [
        "staff",
        str(scenario),
        "--intervals",
        "09:00-09:30",
        "--replications",
        "4",
        "--no-charts",
    ]
    plans = []
    for where in (["--workers", "1"], ["--scheduler", cluster.scheduler_address]):
        assert main([*args, "--quiet", "--json", "--out", str(tmp_path / "st"), *where]) == 0
        plans.append(json.loads(capsys.readouterr().out)["intervals"])
    assert plans[0] == plans[1]


def test_an_unreachable_scheduler_is_one_clear_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    scenario = write_scenario(tmp_path / "s")
    out = tmp_path / "o"
    started = time.monotonic()
    assert main(["run", str(scenario), "--scheduler", address, "--out", str(out), "--quiet"]) == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"error: cannot reach the Dask scheduler at {address}"
    )
    assert not out.exists()  # nothing written
    with pytest.raises(ClusterError, match="cannot reach"):
        DaskCluster(address, timeout=1.0)


def test_a_scheduler_without_workers_is_refused_at_once() -> None:
    """Not a planner's command waiting forever for a worker that never comes."""
    with (
        loopback_cluster(0) as empty,
        pytest.raises(ClusterError, match="has no workers"),
    ):
        DaskCluster(empty.scheduler_address, timeout=1.0)


def test_workers_and_a_scheduler_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s")
    args = ["run", str(scenario), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "--quiet"]
    assert main(args) == 1
    assert "--workers applies to the local pool" in capsys.readouterr().err
