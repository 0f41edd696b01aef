"""Chat load benchmark: thousands of web-chat customers and hundreds of agents against a real
``contactcenter serve`` on loopback.

Setup (in a temporary directory, removed at the end): the example center from ``config/`` with
``AGENTS`` extra chat agents appended to ``agents.yaml`` (clones of the example's chat agents
a29/a30: their skills, members of ``sales_chat`` and ``billing_chat`` at tier level 1, chat
capacity 7-10, so 300 agents hold 2,000 chats at once); an ``admin`` and one login per bench
agent are written with ``Store.set_user`` before the server starts. Password hashing runs at
scrypt ``N = 2**10`` in this process only (each hash records its own parameters, so the server
verifies them at that cost): 300 full-cost hashes would take a minute of setup and measure
nothing. Then ``python -m contactcenter serve`` runs as a child process on 127.0.0.1.

The load generator runs in this process, on one asyncio loop (uvloop if installed):

1. *Agents* log in (``POST /api/login``, Bearer token), open ``/api/agent/ws``, go available
   (``POST /api/agent/login``) and accept every offer they are pushed.
2. *Routing*: customers start chats (``POST /api/chat``) at a bounded rate (25 a second: each
   new chat costs about three fsync'd SQLite commits, which bound routing throughput) and open
   their chat socket. Routing latency is the time from sending ``POST /api/chat`` to the offer
   frame arriving at an agent with free capacity. The server allows 30 new chats a minute per
   client address, so customers come from many loopback addresses (127.0.x.y, 25 each).
3. *Relay*: once every customer has an agent, messages flow at a fixed aggregate rate (1,000/s)
   for a fixed duration, alternating customer -> agent (a frame on the customer's socket) and
   agent -> customer (``POST /api/agent/contacts/{id}/messages``), round-robin over the chats.
   Each text carries its send time (``time.monotonic``, one clock on one machine); the
   receiving client computes the relay latency. The first ``WARMUP`` seconds are not measured;
   in-flight messages get a short drain before counting.
4. The engine's CPU (``/proc/PID/stat`` utime+stime over the relay window, as % of one core)
   and memory (VmRSS at the end, VmHWM peak) are read from ``/proc`` (psutil when installed).

The server runs as ``serve`` runs by default, with its heap keeper (``--heap-sweep 3600``);
``--heap-sweep 0`` measures it with Python's ordinary garbage collector, whose full collections
over a heap of 5,000 sessions stop the loop for up to a second. The load generator holds as
many sessions and keeps its own heap the same way (``HeapKeeper``), or its pauses would be
measured as the server's latency.

Baseline in the same run, for the ratio: a bare aiohttp WebSocket echo server (this script with
``--echo-server``, also a child process) with as many client sockets, at the same message rate;
``ratio_p99_vs_echo`` is the relay p99 over the echo round-trip p99.

Everything is bounded: counts, durations, and an overall deadline; the children are stopped by
PID (SIGTERM, then SIGKILL). Loopback only. Prints human-readable lines and, last, one line of
``key=value`` pairs. The floor reported against: 5,000 sessions all answered with none lost,
relay p99 under 50 ms at 1,000 messages/s and routing p99 under 50 ms.

Usage: ``python bench/chat.py [--quick] [--customers N] [--agents N] [--duration S]
[--rate R] [--heap-sweep S] [--profile FILE]`` (``--profile`` runs the server under cProfile
and prints its hottest functions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

try:
    import contactcenter  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contactcenter.config import load_center
from contactcenter.runtime.heap import HeapKeeper
from contactcenter.store import Store, passwords

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
TOPICS = ("sales", "billing")
CHAT_QUEUES = ("sales_chat", "billing_chat")
TEMPLATES = ("a29", "a30")
"""Chat agents of the example center that the bench agents are cloned from."""
CUSTOMERS_PER_ADDRESS = 25
"""The server takes 30 new chats a minute per client address (``Settings.chat_starts``)."""
FLOOR_RELAY_P99_MS = 50.0
FLOOR_RATE = 1000.0
FLOOR_ROUTING_P99_MS = 50.0
FLOOR_CUSTOMERS = 5000
BENCH_HASH_N = 2**10


@dataclass(frozen=True)
class Plan:
    customers: int
    agents: int
    rate: float
    """Relayed messages a second, both directions together."""
    duration: float
    """Measured seconds of relay."""
    warmup: float
    routing_rate: float
    """New chats a second while customers arrive."""
    echo_duration: float
    deadline: float
    """The whole run stops after this many seconds, finished or not."""
    quick: bool = False
    heap_sweep: float = 3600.0
    """The server's ``--heap-sweep`` (0: its ordinary garbage collector)."""


FULL = Plan(5000, 600, 1000.0, 20.0, 3.0, 25.0, 10.0, 900.0)
QUICK = Plan(100, 20, 200.0, 5.0, 1.0, 25.0, 2.0, 180.0, quick=True)


# == small helpers =============================================================================


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def fmt(x: float, digits: int = 2) -> str:
    return "nan" if x != x else f"{x:.{digits}f}"


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


class ProcStats:
    """CPU seconds and memory of a process: psutil if installed, else ``/proc``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._ps: Any = None
        try:
            import psutil  # type: ignore[import-untyped]

            self._ps = psutil.Process(pid)
        except ImportError:
            pass

    def cpu_seconds(self) -> float:
        if self._ps is not None:
            t = self._ps.cpu_times()
            return float(t.user + t.system)
        raw = Path(f"/proc/{self.pid}/stat").read_text()
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) in MiB."""
        if self._ps is not None:
            rss = self._ps.memory_info().rss / 2**20
            return rss, rss
        status = Path(f"/proc/{self.pid}/status").read_text()
        kb = {
            m.group(1): int(m.group(2))
            for m in re.finditer(r"^(VmRSS|VmHWM):\s+(\d+)", status, re.M)
        }
        return kb.get("VmRSS", 0) / 1024, kb.get("VmHWM", 0) / 1024


class Child:
    """A server child process, found by the 'serving on URL' line it prints."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> str:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"serving on (http://127\.0\.0\.1:\d+)", self.log())
            if m is not None:
                base = m.group(1)
                break
            self._check(deadline)
            time.sleep(0.05)
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return base
            except OSError:
                pass
            self._check(deadline)
            time.sleep(0.05)

    def _check(self, deadline: float) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.argv[1:3]} exited:\n{self.log()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{self.argv[1:3]} did not start:\n{self.log()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM by PID, then SIGKILL if it does not exit in time; the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            return None


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class LoopLag:
    """How late this process's event loop wakes up (a busy load generator shows here)."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.samples: list[float] = []
        self.recording = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(self.every)
            if self.recording:
                self.samples.append((time.monotonic() - t - self.every) * 1000)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# == the bench center ==========================================================================


def build_center_dir(where: Path, n_agents: int) -> list[str]:
    """Copy config/ to ``where`` (its chat open around the clock: the bench runs at any hour)
    and append ``n_agents`` chat agents; their ids."""
    shutil.copytree(ROOT / "config", where)
    hours_file = where / "ivr" / "hours.yaml"
    hours = yaml.safe_load(hours_file.read_text())
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours["schedules"]["chat"] = {"weekly": {day: ["00:00-24:00"] for day in days}}
    hours_file.write_text(yaml.safe_dump(hours, sort_keys=False))
    path = where / "agents.yaml"
    data = yaml.safe_load(path.read_text())
    templates = {a["id"]: a for a in data["agents"] if a["id"] in TEMPLATES}
    ids: list[str] = []
    for i in range(n_agents):
        t = templates[TEMPLATES[i % len(TEMPLATES)]]
        aid = f"bench{i + 1:03d}"
        ids.append(aid)
        data["agents"].append(
            {
                "id": aid,
                "name": f"{t['name'].split()[0]} Bench{i + 1}",
                "skills": dict(t["skills"]),
                "queues": dict.fromkeys(CHAT_QUEUES, 1),
                "capacity": {"voice": 0, "chat": 7 + i % 4},
            }
        )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    load_center(where)  # fails loudly if the generated center is invalid
    return ids


async def create_users(db: Path, agent_ids: Sequence[str]) -> None:
    """An admin (so the first run creates no users) and one login per bench agent."""
    passwords.N = BENCH_HASH_N  # this process only; see the module docstring
    store = await Store.open(db)
    try:
        await store.set_user("admin", PASSWORD, "admin")
        await asyncio.gather(*(store.set_user(a, PASSWORD, "agent", a) for a in agent_ids))
    finally:
        await store.close()


PROFILE_SERVER = """
import cProfile, sys
from contactcenter.cli import main
out, args = sys.argv[1], sys.argv[2:]
prof = cProfile.Profile()
prof.enable()
try:
    main(args)
finally:
    prof.disable()
    prof.dump_stats(out)
"""


# == the load ==================================================================================


@dataclass
class AgentClient:
    id: str
    headers: dict[str, str]
    ws: aiohttp.ClientWebSocketResponse | None = None


@dataclass
class CustomerClient:
    n: int
    session: aiohttp.ClientSession
    cid: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None
    joined: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Latencies:
    """Relay samples (seq, milliseconds) per direction, as the receivers saw them."""

    c2a: list[tuple[int, float]] = field(default_factory=list)
    a2c: list[tuple[int, float]] = field(default_factory=list)


def stamp(seq: int) -> str:
    return f"m {seq} {time.monotonic():.6f}"


def parse_stamp(text: str) -> tuple[int, float] | None:
    parts = text.split()
    if len(parts) != 3 or parts[0] != "m":
        return None
    return int(parts[1]), (time.monotonic() - float(parts[2])) * 1000


class ChatLoad:
    def __init__(self, base: str, plan: Plan, agent_ids: Sequence[str]) -> None:
        self.base = base
        self.plan = plan
        self.agent_ids = list(agent_ids)
        self.agents: list[AgentClient] = []
        self.customers: list[CustomerClient] = []
        self.sessions: list[aiohttp.ClientSession] = []
        self.agent_http: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.chat_sent: dict[str, float] = {}
        self.chat_ack_ms: list[float] = []
        self.offered_at: dict[str, float] = {}
        self.answered_by: dict[str, AgentClient] = {}
        self.lat = Latencies()
        self.errors: dict[str, int] = {}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        for t in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for s in self.sessions:
            await s.close()
        if self.agent_http is not None:
            await self.agent_http.close()

    # -- agents ---------------------------------------------------------------------------

    async def start_agents(self) -> None:
        self.agent_http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
        sem = asyncio.Semaphore(20)

        async def one(aid: str) -> AgentClient:
            http = self.agent_http
            assert http is not None
            async with sem:
                async with http.post(
                    f"{self.base}/api/login", json={"username": aid, "password": PASSWORD}
                ) as resp:
                    resp.raise_for_status()
                    token = (await resp.json())["token"]
                agent = AgentClient(aid, {"Authorization": f"Bearer {token}"})
                agent.ws = await http.ws_connect(f"{self.base}/api/agent/ws", headers=agent.headers)
                first = json.loads((await agent.ws.receive()).data)
                assert first["type"] == "snapshot", first
                self._spawn(self._agent_reader(agent))
                async with http.post(f"{self.base}/api/agent/login", headers=agent.headers) as r:
                    r.raise_for_status()
                return agent

        self.agents = list(await asyncio.gather(*(one(a) for a in self.agent_ids)))

    async def _agent_reader(self, agent: AgentClient) -> None:
        ws = agent.ws
        assert ws is not None
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            d = json.loads(msg.data)
            kind = d.get("type")
            if kind == "message":
                if d.get("sender") == "customer":
                    got = parse_stamp(d.get("text", ""))
                    if got is not None:
                        self.lat.c2a.append(got)
            elif kind == "offer":
                cid = d["contact_id"]
                self.offered_at.setdefault(cid, time.monotonic())
                self._spawn(self._accept(agent, cid))
            elif kind == "answered":
                self.answered_by[d["contact_id"]] = agent

    async def _accept(self, agent: AgentClient, cid: str) -> None:
        http = self.agent_http
        assert http is not None
        try:
            async with http.post(
                f"{self.base}/api/agent/contacts/{cid}/accept", headers=agent.headers
            ) as resp:
                if resp.status != 200:
                    self._error(f"accept_{resp.status}")
        except aiohttp.ClientError:
            self._error("accept_failed")

    # -- customers --------------------------------------------------------------------------

    def _customer_sessions(self) -> None:
        n = -(-self.plan.customers // CUSTOMERS_PER_ADDRESS)
        for j in range(n):
            addr = f"127.0.{1 + j // 250}.{1 + j % 250}"
            self.sessions.append(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0, local_addr=(addr, 0)),
                    cookie_jar=aiohttp.DummyCookieJar(),
                )
            )
        self.customers = [
            CustomerClient(i, self.sessions[i // CUSTOMERS_PER_ADDRESS])
            for i in range(self.plan.customers)
        ]

    async def _customer(self, c: CustomerClient) -> None:
        try:
            sent = time.monotonic()
            body = {"name": f"Customer {c.n}", "topic": TOPICS[c.n % len(TOPICS)]}
            async with c.session.post(f"{self.base}/api/chat", json=body) as resp:
                if resp.status != 201:
                    self._error(f"chat_{resp.status}")
                    return
                started = await resp.json()
            self.chat_ack_ms.append((time.monotonic() - sent) * 1000)
            c.cid = started["contact_id"]
            self.chat_sent[c.cid] = sent
            c.ws = await c.session.ws_connect(
                f"{self.base}/api/chat/{c.cid}/ws?token={started['token']}"
            )
        except aiohttp.ClientError:
            self._error("chat_failed")
            return
        async for msg in c.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            d = json.loads(msg.data)
            kind = d.get("type")
            if kind == "message":
                if d.get("sender") == "agent":
                    got = parse_stamp(d.get("text", ""))
                    if got is not None:
                        self.lat.a2c.append(got)
            elif kind == "agent_joined":
                c.joined.set()
            elif kind == "ended":
                break

    async def arrive(self, timeout: float) -> float:
        """Customers start chats at the routing rate; seconds until all have an agent."""
        self._customer_sessions()
        start = time.monotonic()
        for k, c in enumerate(self.customers):
            delay = start + k / self.plan.routing_rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._spawn(self._customer(c))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                for c in self.customers:
                    await c.joined.wait()
        return time.monotonic() - start

    def routing_ms(self) -> list[float]:
        return [
            (self.offered_at[cid] - sent) * 1000
            for cid, sent in self.chat_sent.items()
            if cid in self.offered_at
        ]

    # -- relay ------------------------------------------------------------------------------

    async def relay(self, lag: LoopLag) -> tuple[range, int, int]:
        """Messages at the plan's rate; (seqs measured, customer sends, agent sends)."""
        pairs = [
            (c, self.answered_by[c.cid])
            for c in self.customers
            if c.joined.is_set() and c.cid in self.answered_by and c.ws is not None
        ]
        if not pairs:
            raise RuntimeError("no chat has an agent: nothing to relay")
        http = self.agent_http
        assert http is not None
        plan = self.plan
        seq = 0
        first_measured = 0
        sends = {"c": 0, "a": 0}
        start = time.monotonic()
        measure_from = start + plan.warmup
        end = measure_from + plan.duration

        async def agent_says(agent: AgentClient, cid: str, text: str) -> None:
            try:
                async with http.post(
                    f"{self.base}/api/agent/contacts/{cid}/messages",
                    json={"text": text},
                    headers=agent.headers,
                ) as resp:
                    if resp.status != 200:
                        self._error(f"agent_message_{resp.status}")
                    await resp.read()
            except aiohttp.ClientError:
                self._error("agent_message_failed")

        while (now := time.monotonic()) < end:
            if not first_measured and now >= measure_from:
                first_measured = seq + 1
                lag.recording = True
            due = int((now - start) * plan.rate) - seq
            for _ in range(due):
                seq += 1
                customer, agent = pairs[(seq // 2) % len(pairs)]
                if seq % 2:
                    ws = customer.ws
                    assert ws is not None
                    try:
                        await ws.send_str(json.dumps({"type": "message", "text": stamp(seq)}))
                        sends["c"] += 1
                    except (ConnectionError, RuntimeError):
                        self._error("customer_send_failed")
                else:
                    self._spawn(agent_says(agent, customer.cid, stamp(seq)))
                    sends["a"] += 1
            await asyncio.sleep(0.002)
        lag.recording = False
        return range(first_measured, seq + 1), sends["c"], sends["a"]


# == baseline: a bare aiohttp echo server ======================================================


async def serve_echo() -> None:
    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/ws", ws_echo)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(a for a in runner.addresses if isinstance(a, tuple))[1]
    print(f"echo: serving on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


async def echo_baseline(base: str, sockets: int, rate: float, duration: float) -> list[float]:
    """Round trips (ms) of stamped frames to the echo server at ``rate`` over ``sockets``."""
    samples: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sem = asyncio.Semaphore(100)

        async def connect() -> aiohttp.ClientWebSocketResponse:
            async with sem:
                return await http.ws_connect(f"{base}/ws")

        conns = list(await asyncio.gather(*(connect() for _ in range(sockets))))
        measuring = False

        async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                got = parse_stamp(json.loads(msg.data)["text"])
                if got is not None and measuring:
                    samples.append(got[1])

        readers = [asyncio.create_task(reader(ws)) for ws in conns]
        start = time.monotonic()
        warm = min(2.0, duration / 3)
        end = start + warm + duration
        seq = 0
        while (now := time.monotonic()) < end:
            measuring = now >= start + warm
            for _ in range(int((now - start) * rate) - seq):
                seq += 1
                ws = conns[seq % len(conns)]
                await ws.send_str(json.dumps({"type": "message", "text": stamp(seq)}))
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.5)
        for ws in conns:
            await ws.close()
        for t in readers:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
    return samples


# == the run ===================================================================================


@dataclass
class Result:
    plan: Plan
    relay_c2a: list[float]
    relay_a2c: list[float]
    sent: int
    delivered: int
    routing: list[float]
    joined: int
    arrive_seconds: float
    cpu_pct: float
    rss_mb: float
    hwm_mb: float
    echo: list[float]
    client_lag: list[float]
    client_cpu_pct: float
    errors: dict[str, int]
    server_exit: int | None


async def run(plan: Plan, work: Path, profile: Path | None, say: Any) -> Result:
    say(
        f"chat bench: {plan.customers} customers, {plan.agents} agents, relay {plan.rate:g} "
        f"msg/s for {plan.duration:g} s (+{plan.warmup:g} s warm-up), new chats "
        f"{plan.routing_rate:g}/s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    # baseline first, on a quiet machine
    echo = Child(
        [sys.executable, str(Path(__file__).resolve()), "--echo-server"], work / "echo.log"
    )
    try:
        echo_base = echo.start()
        echo_ms = await echo_baseline(echo_base, plan.customers, plan.rate, plan.echo_duration)
    finally:
        echo.stop()
    say(
        f"baseline: aiohttp echo over {plan.customers} sockets at {plan.rate:g} msg/s: "
        f"p50 {fmt(percentile(echo_ms, 50))} ms, p99 {fmt(percentile(echo_ms, 99))} ms "
        f"({len(echo_ms)} round trips)"
    )

    t0 = time.monotonic()
    agent_ids = build_center_dir(work / "config", plan.agents)
    db = work / "var" / "cc.sqlite3"
    await create_users(db, agent_ids)
    serve_args = ["serve", "--config", str(work / "config"), "--host", "127.0.0.1",
                  "--port", "0", "--db", str(db), "--heap-sweep", str(plan.heap_sweep)]  # fmt: skip
    if profile is not None:
        argv = [sys.executable, "-c", PROFILE_SERVER, str(profile), *serve_args]
    else:
        argv = [sys.executable, "-m", "contactcenter", *serve_args]
    server = Child(argv, work / "serve.log")
    load: ChatLoad | None = None
    lag = LoopLag()
    lag.start()
    try:
        base = server.start()
        stats = ProcStats(server.pid)
        say(
            f"setup: center, {plan.agents + 1} users, server (pid {server.pid}) up in "
            f"{time.monotonic() - t0:.1f} s"
        )
        load = ChatLoad(base, plan, agent_ids)
        t1 = time.monotonic()
        await load.start_agents()
        say(f"agents: {len(load.agents)} logged in with sockets in {time.monotonic() - t1:.1f} s")
        arrive_s = await load.arrive(timeout=max(30.0, plan.customers / plan.routing_rate * 3))
        joined = sum(c.joined.is_set() for c in load.customers)
        routing = load.routing_ms()
        say(
            f"routing: {joined}/{plan.customers} chats answered after {arrive_s:.1f} s; "
            f"POST /api/chat -> offer at an agent: p50 {fmt(percentile(routing, 50))} ms, "
            f"p99 {fmt(percentile(routing, 99))} ms ({len(routing)} offers); the POST's own "
            f"answer: p50 {fmt(percentile(load.chat_ack_ms, 50))} ms, p99 "
            f"{fmt(percentile(load.chat_ack_ms, 99))} ms"
        )
        await asyncio.sleep(1.0)  # let the last accepts settle
        cpu0, w0, own0 = stats.cpu_seconds(), time.monotonic(), own_cpu_seconds()
        measured, c_sends, a_sends = await load.relay(lag)
        cpu1, w1, own1 = stats.cpu_seconds(), time.monotonic(), own_cpu_seconds()
        rss, hwm = stats.memory_mb()
        await asyncio.sleep(2.0)  # drain what is in flight
        c2a = [ms for seq, ms in load.lat.c2a if seq in measured]
        a2c = [ms for seq, ms in load.lat.a2c if seq in measured]
        relay_window = w1 - w0
        cpu_pct = 100 * (cpu1 - cpu0) / relay_window if relay_window > 0 else float("nan")
        own_pct = 100 * (own1 - own0) / relay_window if relay_window > 0 else float("nan")
        say(
            f"relay: sent {c_sends} customer->agent and {a_sends} agent->customer lines "
            f"over {relay_window:.1f} s"
        )
        result = Result(
            plan,
            c2a,
            a2c,
            len(measured),
            len(c2a) + len(a2c),
            routing,
            joined,
            arrive_s,
            cpu_pct,
            rss,
            hwm,
            echo_ms,
            list(lag.samples),
            own_pct,
            dict(load.errors),
            None,
        )
    finally:
        # stop the server while the clients still answer its close frames, then the clients
        code = await asyncio.to_thread(server.stop)
        await lag.stop()
        if load is not None:
            await load.close()
    result.server_exit = code
    if code not in (0, None):
        say(f"server exited with {code}; log tail:\n{server.log()[-2000:]}")
    return result


def report(r: Result) -> list[str]:
    p = r.plan
    relay = r.relay_c2a + r.relay_a2c
    p50, p99 = percentile(relay, 50), percentile(relay, 99)
    echo_p99 = percentile(r.echo, 99)
    rate = r.delivered / p.duration if p.duration else float("nan")
    ratio = p99 / echo_p99 if echo_p99 > 0 else float("nan")
    lost = r.sent - r.delivered
    lines = [
        f"relay customer->agent: p50 {fmt(percentile(r.relay_c2a, 50))} ms, p99 "
        f"{fmt(percentile(r.relay_c2a, 99))} ms, max {fmt(max(r.relay_c2a, default=float('nan')))}"
        f" ms ({len(r.relay_c2a)})",
        f"relay agent->customer: p50 {fmt(percentile(r.relay_a2c, 50))} ms, p99 "
        f"{fmt(percentile(r.relay_a2c, 99))} ms, max {fmt(max(r.relay_a2c, default=float('nan')))}"
        f" ms ({len(r.relay_a2c)})",
        f"relay both: p50 {fmt(p50)} ms, p99 {fmt(p99)} ms at {rate:.0f} msg/s delivered "
        f"({r.delivered}/{r.sent} measured lines, {lost} lost); {fmt(ratio)}x the echo p99",
        f"engine: {fmt(r.cpu_pct, 1)}% of a core during the relay, RSS {r.rss_mb:.0f} MiB "
        f"(peak {r.hwm_mb:.0f} MiB)",
        f"load generator: {fmt(r.client_cpu_pct, 1)}% of a core, loop lag p99 "
        f"{fmt(percentile(r.client_lag, 99))} ms, max "
        f"{fmt(max(r.client_lag, default=float('nan')))} ms",
    ]
    if r.errors:
        lines.append("errors: " + ", ".join(f"{k}={v}" for k, v in sorted(r.errors.items())))
    routing_p99 = percentile(r.routing, 99)
    met = (
        p.customers >= FLOOR_CUSTOMERS
        and r.joined == p.customers
        and lost == 0
        and p99 < FLOOR_RELAY_P99_MS
        and rate >= FLOOR_RATE * 0.98
        and routing_p99 < FLOOR_ROUTING_P99_MS
    )
    floor = (
        f"floor: {FLOOR_CUSTOMERS} sessions all answered, none lost, relay p99 < "
        f"{FLOOR_RELAY_P99_MS:g} ms at {FLOOR_RATE:g} msg/s, routing p99 < "
        f"{FLOOR_ROUTING_P99_MS:g} ms: "
    )
    lines.append(floor + ("not judged on a quick run" if p.quick else "met" if met else "missed"))
    summary = {
        "relay_p99_ms": fmt(p99),
        "relay_p50_ms": fmt(p50),
        "msgs_per_s": f"{rate:.1f}",
        "relay_c2a_p99_ms": fmt(percentile(r.relay_c2a, 99)),
        "relay_a2c_p99_ms": fmt(percentile(r.relay_a2c, 99)),
        "routing_p50_ms": fmt(percentile(r.routing, 50)),
        "routing_p99_ms": fmt(routing_p99),
        "engine_cpu_pct": fmt(r.cpu_pct, 1),
        "engine_rss_mb": f"{r.rss_mb:.1f}",
        "engine_peak_rss_mb": f"{r.hwm_mb:.1f}",
        "customers": str(p.customers),
        "agents": str(p.agents),
        "chats_answered": str(r.joined),
        "messages_sent": str(r.sent),
        "messages_lost": str(lost),
        "target_msgs_per_s": f"{p.rate:g}",
        "duration_s": f"{p.duration:g}",
        "baseline_echo_p50_ms": fmt(percentile(r.echo, 50)),
        "baseline_echo_p99_ms": fmt(echo_p99),
        "ratio_p99_vs_echo": fmt(ratio),
        "client_lag_p99_ms": fmt(percentile(r.client_lag, 99)),
        "client_cpu_pct": fmt(r.client_cpu_pct, 1),
        "load_avg": f"{os.getloadavg()[0]:.2f}",
        "errors": str(sum(r.errors.values())),
        "floor_met": "1" if met and not p.quick else "0",
        "server_heap_sweep_s": f"{p.heap_sweep:g}",
        "quick": "1" if p.quick else "0",
    }
    lines.append(" ".join(f"{k}={v}" for k, v in summary.items()))
    return lines


def print_profile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--agents", type=int)
    parser.add_argument("--duration", type=float, help="measured relay seconds")
    parser.add_argument("--rate", type=float, help="relayed messages a second")
    parser.add_argument("--routing-rate", type=float, help="new chats a second")
    parser.add_argument(
        "--heap-sweep",
        type=float,
        help="the server's --heap-sweep (default 3600; 0: its ordinary garbage collector)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile the server into this file")
    parser.add_argument("--top", type=int, default=25, help="rows of profile output")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (logs)")
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    if args.echo_server:
        asyncio.run(serve_echo())
        return 0
    plan = QUICK if args.quick else FULL
    if args.customers is not None:
        plan = replace(plan, customers=args.customers)
    if args.agents is not None:
        plan = replace(plan, agents=args.agents)
    if args.duration is not None:
        plan = replace(plan, duration=args.duration)
    if args.rate is not None:
        plan = replace(plan, rate=args.rate)
    if args.routing_rate is not None:
        plan = replace(plan, routing_rate=args.routing_rate)
    if args.heap_sweep is not None:
        plan = replace(plan, heap_sweep=args.heap_sweep)
    raise_fd_limit(4 * (plan.customers + plan.agents) + 1000)

    def say(line: str) -> None:
        print(line, flush=True)

    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            if args.keep.exists():
                shutil.rmtree(args.keep)
            args.keep.mkdir(parents=True)
            work = args.keep
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chat-bench-")))

        async def bounded() -> Result:
            # the load generator's own collector pauses would be measured as latency (its heap
            # holds as many sessions as the server's): it keeps its heap as the server does
            keeper = HeapKeeper()
            await keeper.start()
            try:
                async with asyncio.timeout(plan.deadline):
                    return await run(plan, work, args.profile, say)
            finally:
                await keeper.stop()

        result = asyncio.run(bounded())
    if args.profile is not None and args.profile.exists():
        print_profile(args.profile, args.top)
    for line in report(result):
        say(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
