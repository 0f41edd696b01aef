"""Scale benchmark: contacts per second end to end on PostgreSQL against SQLite, a standby
engine's takeover, and the planner's replications on a Dask cluster against the local pool.

**Store.** ``contactcenter serve`` on the example center (its chat open around the clock), on
a SQLite file and then on a database of a real PostgreSQL server (``tests/postgres.py``'s, on
loopback, its commits waiting for the disk as SQLite's do). ``CUSTOMERS`` customers, at most
``CONCURRENT`` at a time, each live a whole chat through the HTTP API and the customer's
WebSocket: start it (the contact written before the 201), send a line (stored), leave (the
contact's end written), see it ended. Each customer comes through a trusted proxy from an
address of its own (``X-Forwarded-For``), as a site's customers do. Contacts per second
each way and ``pg_vs_sqlite_ratio`` (PostgreSQL over SQLite, same run, same machine).

**Takeover.** ``contactcenter serve --demo`` (the example center with simulated customers and
agents: an engine under load) on a database in a temporary directory, and a second ``serve
--standby`` on the same database and port. The serving engine is killed with SIGKILL; the
time until the standby answers ``/healthz`` on the same port is one takeover. ``ROUNDS``
rounds, each new standby taking over from the last one: ``takeover_seconds`` is their median
(``takeover_pg_seconds``: the same on PostgreSQL, where the lock is the server's).
Baseline, same run, same database: no standby, the killed engine restarted at once (what a
process supervisor does), from the kill to ``/healthz``: ``restart_seconds`` (median of
``ROUNDS``), and ``takeover_vs_restart_ratio``.

**Planner.** All in this run, on this machine, with the same model and seeds:

* **local pool**: ``Runner(2)``, the default executor (a process pool of 2 workers);
* **Dask, 1 and 2 workers**: a ``LocalCluster`` of that many real worker processes on
  loopback, driven through ``Runner(scheduler=...)`` exactly as ``--scheduler`` does.

The work is ``REPLICATIONS`` replications of the example planning day's first
``INTERVALS`` intervals (``config/planning/scenario.yaml``: hundreds of agents, its 30-minute
warm-up included). Reported: replications per second each way, ``dask_vs_pool_ratio`` (Dask
on 2 workers over the pool on 2), the speed-up from 1 to 2 Dask workers, and the overhead per
task: ``TINY`` replications of a model with almost no work, wall milliseconds per task on
either executor (their difference is what Dask adds to every task).

Each executor's results are checked equal to the pool's (the same seed gives the same
numbers whatever the executor); a mismatch fails the run.
Last line: ``key=value`` pairs. ``--quick``: fewer, shorter replications (a smoke test).

The PostgreSQL server and the opened-up copy of the example config come from the test suite
(``tests/postgres.py``, ``tests/integration/server.py``): run from a checkout.

Usage: ``python bench/scale.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

try:
    import sim  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.builders import simple_center, stationary_model
from sim.cluster import loopback_cluster
from sim.replications import Runner, seeds
from sim.scenario import Model, load_scenario
from sim.statistics import Tallies
from tests.integration.server import open_around_the_clock
from tests.postgres import running_postgres

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "config" / "planning" / "scenario.yaml"
WORKERS = 2
REPLICATIONS = 16
INTERVALS = 2
TINY = 200
ROUNDS = 3
CUSTOMERS = 400
CONCURRENT = 20


class Engine:
    """``python -m contactcenter serve`` as a child process, its output in a file."""

    def __init__(
        self,
        work: Path,
        db: Path | str,
        name: str,
        *extra: str,
        port: int = 0,
        config: Path = ROOT / "config",
        demo: bool = True,
    ) -> None:
        self.log = work / f"{name}.log"
        if isinstance(db, str):  # PostgreSQL: the engine's files in the work directory
            extra = ("--data-keys", str(work / "data-keys"), "--state-dir", str(work), *extra)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "contactcenter", "serve", "--config", str(config),
                 "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                 *(["--demo"] if demo else []), *extra],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip

    def said(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (m := re.search(pattern, self.log.read_text(errors="replace"))) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.log.name}: no {pattern!r}:\n{self.log.read_text()}")
            time.sleep(0.01)
        return m

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def healthy(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"nothing healthy on port {port} after {timeout} s")


def recoveries(rounds: int, standby: bool, url: str | None = None) -> list[float]:
    """Seconds from SIGKILL of the serving engine to ``/healthz`` on its port answered by
    the next one: a standby waiting beside it, or (``standby`` false) a fresh engine started
    only after the kill. ``url``: on that PostgreSQL database, else a SQLite file."""
    out: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cc-scale-") as tmp:
        work = Path(tmp)
        db: Path | str = url or work / "var" / "cc.sqlite3"
        active = Engine(work, db, "engine-0")
        engines = [active]
        try:
            port = int(active.said(r"serving on http://127\.0\.0\.1:(\d+)").group(1))
            healthy(port, 60)
            for n in range(1, rounds + 1):
                if standby:
                    nxt = Engine(work, db, f"engine-{n}", "--standby", port=port)
                    engines.append(nxt)
                    nxt.said("Standby: database")
                time.sleep(2.0)  # the serving engine under its demo load
                active.kill()
                killed = time.monotonic()
                if not standby:
                    nxt = Engine(work, db, f"engine-{n}", port=port)
                    engines.append(nxt)
                healthy(port, 60)
                out.append(time.monotonic() - killed)
                active = nxt
        finally:
            for e in engines:
                e.kill()
    return out


async def customers(base: str, n: int, concurrent: int) -> float:
    """``n`` customers each living a whole chat (start, a line, leave, seen ended), at most
    ``concurrent`` at a time; contacts per wall second."""
    gate = asyncio.Semaphore(concurrent)
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> None:
            via = {"X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}
            async with gate:
                async with http.post(
                    f"{base}/api/chat", json={"name": f"Customer {i}", "topic": "sales"},
                    headers=via,
                ) as resp:  # fmt: skip
                    if resp.status != 201:
                        raise RuntimeError(f"chat start: {resp.status} {await resp.text()}")
                    chat = await resp.json()
                url = f"{base}/api/chat/{chat['contact_id']}/ws?token={chat['token']}"
                async with http.ws_connect(url, headers=via) as ws:
                    await ws.send_json({"type": "message", "text": f"hello from {i}"})
                    await ws.send_json({"type": "end"})
                    async with asyncio.timeout(60):
                        while (await ws.receive_json()).get("type") != "ended":
                            pass

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


def store_rate(n: int, concurrent: int, url: str | None) -> float:
    """Contacts per second through a real engine on PostgreSQL (``url``) or SQLite."""
    with tempfile.TemporaryDirectory(prefix="cc-scale-") as tmp:
        work = Path(tmp)
        config = work / "config"
        shutil.copytree(ROOT / "config", config)
        open_around_the_clock(config)
        db: Path | str = url or work / "var" / "cc.sqlite3"
        engine = Engine(work, db, "engine", "--trusted-proxy", "127.0.0.1",
                        config=config, demo=False)  # fmt: skip
        try:
            port = int(engine.said(r"serving on http://127\.0\.0\.1:(\d+)").group(1))
            healthy(port, 60)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(customers(base, max(4, n // 10), concurrent))  # (warm-up)
            return asyncio.run(customers(base, n, concurrent))
        finally:
            engine.kill()


def tiny_model() -> Model:
    """One agent, a minute of a trickle: a replication that costs next to nothing."""
    return stationary_model(simple_center(1), {"q": 6.0}, 60.0, hours=1 / 60, interval_minutes=1)


def timed(runner: Runner, model: Model, n: int) -> tuple[float, list[Tallies]]:
    """(wall seconds, results) of ``n`` replications of ``model`` on ``runner``."""
    seed_list = seeds(7, n)
    start = time.perf_counter()
    out = runner.run(model, seed_list)
    return time.perf_counter() - start, out


def same(a: list[Tallies], b: list[Tallies]) -> bool:
    return all(
        np.array_equal(x.counts, y.counts) and x.contacts == y.contacts
        for x, y in zip(a, b, strict=True)
    )


def on_cluster(workers: int, model: Model, tiny: Model, n: int, t: int) -> dict[str, Any]:
    with (
        loopback_cluster(workers) as cluster,
        Runner(scheduler=cluster.scheduler_address) as runner,
    ):
        timed(runner, tiny, WORKERS)  # (workers import the package: not part of a task)
        wall, out = timed(runner, model, n)
        tiny_wall, _ = timed(runner, tiny, t)
    return {"wall": wall, "out": out, "tiny_wall": tiny_wall}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    args = parser.parse_args(argv)
    n = 4 if args.quick else REPLICATIONS
    t = 40 if args.quick else TINY
    model = load_scenario(SCENARIO).first_intervals(1 if args.quick else INTERVALS)
    if args.quick:
        model = replace(model, warmup_seconds=0.0)
    rounds = 1 if args.quick else ROUNDS
    chats = 20 if args.quick else CUSTOMERS
    with running_postgres() as pg:
        sqlite_rate = store_rate(chats, CONCURRENT, None)
        pg_rate = store_rate(chats, CONCURRENT, pg.new_database())
        taken_pg = recoveries(rounds, standby=True, url=pg.new_database())
    print(f"{chats} customers' chats end to end, {CONCURRENT} at a time:")
    print(f"  SQLite:      {sqlite_rate:7.1f} contacts/s")
    print(f"  PostgreSQL:  {pg_rate:7.1f} contacts/s ({pg_rate / sqlite_rate:.2f}x)")
    taken = recoveries(rounds, standby=True)
    restarted = recoveries(rounds, standby=False)
    takeover, restart = statistics.median(taken), statistics.median(restarted)
    takeover_pg = statistics.median(taken_pg)
    print(f"kill -9 of an engine under demo load, {rounds} round(s), until /healthz answers:")
    print(f"  standby takes over:    {', '.join(f'{t:.2f}' for t in taken)} s")
    print(f"  on PostgreSQL:         {', '.join(f'{t:.2f}' for t in taken_pg)} s")
    print(f"  restarted (baseline):  {', '.join(f'{t:.2f}' for t in restarted)} s")
    print(f"  takeover vs restart:   {takeover / restart:.3f}x")
    tiny = tiny_model()
    with Runner(WORKERS) as pool:
        timed(pool, tiny, WORKERS)  # (start the pool's processes: not part of a task)
        pool_wall, pool_out = timed(pool, model, n)
        pool_tiny, _ = timed(pool, tiny, t)
    one = on_cluster(1, model, tiny, n, t)
    two = on_cluster(WORKERS, model, tiny, n, t)
    if not (same(pool_out, one["out"]) and same(pool_out, two["out"])):
        print("results differ between executors for the same seeds", file=sys.stderr)
        return 1
    contacts = sum(x.contacts for x in pool_out) / n
    pool_rate, one_rate, two_rate = n / pool_wall, n / one["wall"], n / two["wall"]
    pool_ms, dask_ms = pool_tiny / t * 1000, two["tiny_wall"] / t * 1000
    print(
        f"{n} replications of {model.forecast.intervals} interval(s) of the planning day "
        f"(~{contacts:,.0f} contacts each), results equal on every executor"
    )
    for label, wall, rate in (
        (f"local pool, {WORKERS} workers", pool_wall, pool_rate),
        ("Dask, 1 worker", one["wall"], one_rate),
        (f"Dask, {WORKERS} workers", two["wall"], two_rate),
    ):
        print(f"  {label:<24} {wall:6.1f} s  {rate:6.2f} replications/s")
    print(f"  Dask on {WORKERS} workers vs the pool: {two_rate / pool_rate:.2f}x")
    print(f"  Dask 1 -> {WORKERS} workers: {two_rate / one_rate:.2f}x")
    print(
        f"{t} near-empty replications: {pool_ms:.1f} ms a task on the pool, {dask_ms:.1f} ms on "
        f"Dask ({dask_ms - pool_ms:+.1f} ms a task)"
    )
    pairs = {
        "quick": int(args.quick),
        "customers": chats,
        "sqlite_contacts_per_s": f"{sqlite_rate:.1f}",
        "pg_contacts_per_s": f"{pg_rate:.1f}",
        "pg_vs_sqlite_ratio": f"{pg_rate / sqlite_rate:.3f}",
        "takeover_seconds": f"{takeover:.2f}",
        "takeover_pg_seconds": f"{takeover_pg:.2f}",
        "restart_seconds": f"{restart:.2f}",
        "takeover_vs_restart_ratio": f"{takeover / restart:.3f}",
        "takeover_rounds": rounds,
        "replications": n,
        "contacts_per_replication": f"{contacts:.0f}",
        "pool_replications_per_s": f"{pool_rate:.3f}",
        "dask_1_worker_replications_per_s": f"{one_rate:.3f}",
        "dask_replications_per_s": f"{two_rate:.3f}",
        "dask_vs_pool_ratio": f"{two_rate / pool_rate:.3f}",
        "dask_speedup_1_to_2_workers": f"{two_rate / one_rate:.3f}",
        "pool_task_ms": f"{pool_ms:.2f}",
        "dask_task_ms": f"{dask_ms:.2f}",
        "dask_overhead_per_task_ms": f"{dask_ms - pool_ms:.2f}",
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
