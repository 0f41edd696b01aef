"""A real engine (site, store, HTTP app with ``/metrics``) on a loopback port, for Prometheus to
scrape, with a wall clock the test can move and every domain event kept for the test."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp.test_utils import TestServer

from contactcenter.api import Settings, build_app
from contactcenter.bus import BusCollector, BusEdge, BusSettings
from contactcenter.config import load_center
from contactcenter.events import Event
from contactcenter.ivr import load_flows, with_flows
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store

from .scenario import CONFIG_DIR


class Wall:
    """Wall-clock seconds from ``start``, going on with real time; ``jump`` moves it on."""

    def __init__(self, start: float) -> None:
        self._offset = start - time.monotonic()

    def __call__(self) -> float:
        return self._offset + time.monotonic()

    def jump(self, seconds: float) -> None:
        self._offset += seconds


@dataclass
class LiveSite:
    site: Site
    metrics: Metrics
    server: TestServer
    wall: Wall
    events: list[Event] = field(default_factory=list)

    @property
    def port(self) -> int:
        port = self.server.port
        assert port is not None
        return port


@asynccontextmanager
async def live_site(
    db: Path, wall: Wall, *, bus_port: int | None = None
) -> AsyncIterator[LiveSite]:
    """The example center with its IVR (so its business hours count), started and serving;
    with ``bus_port`` also its MQTT bus, for a broker on that loopback port (as ``serve``
    builds it from ``bus.yaml``)."""
    plain = load_center(CONFIG_DIR)
    center = with_flows(plain, load_flows(CONFIG_DIR, plain))
    store = await Store.open(db)
    try:
        await store.seed_customers(center.customers.values(), center.dedicated_agent)
        metrics = Metrics(center, wall=wall)
        site = Site(center, store, metrics=metrics, wall=wall)
        if bus_port is not None:
            bus = BusSettings(enabled=True, port=bus_port, stop_seconds=1.0)
            edge = BusEdge(site, bus, wall=wall)
            metrics.registry.register(BusCollector(edge))
            site.add_edge(edge)
        app = build_app(site, store, metrics, chat_secret=b"s" * 32, settings=Settings())
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        live = LiveSite(site, metrics, server, wall)
        site.engine.listen(live.events.append)
        try:
            yield live
        finally:
            await server.close()
    finally:
        await store.close()
