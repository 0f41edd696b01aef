"""Real mosquitto brokers (Debian's ``mosquitto``) on free loopback ports, started from a
config file in ``tmp_path`` and stopped by PID; aiomqtt subscribers that record what they
see; and live sites (engine and services on a real SQLite store) with the bus edge."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from contactcenter.bus import BusCollector, BusEdge, BusSettings
from contactcenter.cases import CasePolicy
from contactcenter.config import Center, load_center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store
from tests import processes
from tests.peers import require

CONFIG = Path(__file__).resolve().parents[2] / "config"
MOSQUITTO = shutil.which("mosquitto", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Broker:
    """One mosquitto with one loopback listener. ``lines`` are extra config lines (password
    file, TLS files); ``persistent`` keeps sessions and retained messages across restarts."""

    workdir: Path
    lines: list[str] = field(default_factory=list)
    persistent: bool = False
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def config(self) -> Path:
        path = self.workdir / "mosquitto.conf"
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        anonymous = not any(line.startswith("password_file") for line in self.lines)
        text = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if anonymous else 'false'}",
            *self.lines,
            f"persistence {'true' if self.persistent else 'false'}",
            f"persistence_location {data}/",
            "max_queued_messages 0",  # a subscriber's session may hold all it missed
            f"user {getpass.getuser()}",  # (as root, keep reading the files in tmp_path)
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        path.write_text("\n".join(text) + "\n")
        return path

    def start(self, timeout: float = 10.0) -> None:
        require(None if MOSQUITTO else "mosquitto is not installed (apt-get install mosquitto)")
        assert MOSQUITTO is not None
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.runs += 1
        log = (self.workdir / f"mosquitto-{self.runs}.log").open("wb")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config())], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

        def serving() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
            except OSError:
                return False
            return True

        processes.wait_serving(self.proc, serving, self.log, "mosquitto", timeout)

    def stop(self) -> None:
        """SIGTERM by PID (a clean broker shutdown: it saves its persistence file)."""
        processes.stop(self.proc)

    def log(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.workdir.glob("mosquitto-*.log"))
        )


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """``make_broker(lines=[...], persistent=...)``: a started broker; all stopped at the end."""
    brokers: list[Broker] = []

    def make(lines: list[str] | None = None, persistent: bool = False) -> Broker:
        workdir = tmp_path / f"broker-{len(brokers)}"
        workdir.mkdir()
        broker = Broker(workdir, list(lines or []), persistent)
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker()


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: bytes
    retain: bool
    qos: int

    @cached_property
    def _parsed(self) -> Any:
        return json.loads(self.payload)

    def json(self) -> Any:
        return self._parsed


class Watcher:
    """An MQTT subscriber recording every message it gets; reconnects on its own when it has
    a ``session`` (a fixed client id, clean_session false: the broker keeps what it misses)."""

    def __init__(
        self,
        port: int,
        topic: str = "cc/v1/#",
        *,
        host: str = "127.0.0.1",
        session: str | None = None,
        **client: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.topic = topic
        self.session = session
        self.client = client
        self.seen: list[Seen] = []
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        self._task = task = asyncio.create_task(self._run())
        ready = asyncio.create_task(self.subscribed.wait())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if task.done():
            task.result()  # why it could not subscribe
        assert self.subscribed.is_set(), "the watcher did not subscribe in 10 s"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    identifier=self.session,
                    clean_session=self.session is None,
                    **self.client,
                ) as c:
                    await c.subscribe(self.topic, qos=1)
                    self.subscribed.set()
                    async for m in c.messages:
                        payload = m.payload if isinstance(m.payload, bytes) else b""
                        self.seen.append(Seen(m.topic.value, payload, m.retain, m.qos))
            except aiomqtt.MqttError:
                if self.session is None:
                    raise
                await asyncio.sleep(0.1)

    def on(self, topic: str) -> list[Seen]:
        return [m for m in self.seen if m.topic == topic]

    def last(self, topic: str) -> Any:
        found = self.on(topic)
        assert found, f"nothing on {topic}; seen: {sorted({m.topic for m in self.seen})}"
        return found[-1].json()

    async def until(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, (
                f"not seen in {timeout} s; last: {[m.topic for m in self.seen[-5:]]}"
            )
            await asyncio.sleep(0.02)


def bus_settings(broker: Broker, **kw: Any) -> BusSettings:
    base: dict[str, Any] = {
        "enabled": True,
        "site": "hq",
        "port": broker.port,
        "reconnect_initial_seconds": 0.2,
        "reconnect_max_seconds": 1.0,
        "queue_stats_interval_seconds": 0.5,
    }
    return BusSettings(**{**base, **kw})


@dataclass
class BusSite:
    site: Site
    bus: BusEdge
    metrics: Metrics


BusSiteFactory = Callable[..., Awaitable[BusSite]]


@contextlib.asynccontextmanager
async def running_bus_site(
    path: Path,
    settings: BusSettings,
    center: Center | None = None,
    cases: CasePolicy | None = None,
) -> AsyncIterator[BusSite]:
    """A started site on a SQLite store at ``path`` with the bus edge (and its collector in
    the site's metrics), stopped on leaving; it runs in whichever event loop enters it."""
    c = center or load_center(CONFIG)
    store = await Store.open(path)
    try:
        await store.seed_customers(c.customers.values(), c.dedicated_agent)
        metrics = Metrics(c)
        site = Site(c, store, metrics=metrics, cases=cases)
        bus = BusEdge(site, settings)
        metrics.registry.register(BusCollector(bus))
        site.add_edge(bus)
        await site.start()
        try:
            yield BusSite(site, bus, metrics)
        finally:
            await site.stop()
    finally:
        await store.close()


@pytest.fixture
async def make_bus_site(tmp_path: Path) -> AsyncIterator[BusSiteFactory]:
    """``await make_bus_site(settings)``: a started site with the bus edge; all stopped at
    the end."""
    made = itertools.count()
    async with contextlib.AsyncExitStack() as running:

        async def make(
            settings: BusSettings, center: Center | None = None, cases: CasePolicy | None = None
        ) -> BusSite:
            path = tmp_path / f"cc-{next(made)}.sqlite3"
            return await running.enter_async_context(
                running_bus_site(path, settings, center, cases)
            )

        yield make
