"""A whole site on loopback per test: Kamailio, the runtime with its voice edge (in process, on
a temporary SQLite store and a copy of the example center), SIPp agents and callers."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from contactcenter.config import load_center
from contactcenter.ivr import load_flows, with_flows
from contactcenter.metrics import Metrics
from contactcenter.runtime import Engine
from contactcenter.runtime import Site as Runtime
from contactcenter.store.store import Store
from contactcenter.voice.edge import VoiceEdge
from contactcenter.voice.settings import VoiceSettings
from tests import peers
from tests.polling import until
from tests.voice.harness import (
    Kamailio,
    Sipp,
    ensure_tools,
    free_media_port,
    free_udp_port,
    free_udp_range,
    register_extension,
    scenario,
    sipp_uas,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
BERLIN = ZoneInfo("Europe/Berlin")
OPEN = dt.datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)  # a Wednesday morning
CLOSED = dt.datetime(2026, 6, 10, 22, 30, tzinfo=BERLIN)  # the same evening


@pytest.fixture(scope="session")
def voice_tools() -> None:
    peers.require(ensure_tools())


def site_config(tmp: Path, center: dict[str, Any] | None = None, **queue_overrides: Any) -> Path:
    """A copy of the example center with short ring timeouts and wrap-ups (tests are short);
    ``center`` changes top-level sections of center.yaml (e.g. ``callbacks``)."""
    target = tmp / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("planning", "prometheus"))
    if center:
        path = target / "center.yaml"
        doc = yaml.safe_load(path.read_text())
        for key, value in center.items():
            doc[key] = {**doc.get(key, {}), **value}
        path.write_text(yaml.safe_dump(doc))
    path = target / "queues.yaml"
    doc = yaml.safe_load(path.read_text())
    for q in doc["queues"]:
        if q["channel"] == "voice":
            q["ring_timeout_seconds"] = 4
            q["wrap_up_seconds"] = 1
            q.update(queue_overrides.get(q["id"], {}))
    path.write_text(yaml.safe_dump(doc))
    return target


@dataclass
class Site:
    tmp: Path
    kamailio: Kamailio
    runtime: Runtime
    store: Store
    edge: VoiceEdge
    metrics: Metrics | None = None
    procs: list[Sipp] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def proxy(self) -> int:
        return self.kamailio.port

    async def agent(self, agent_id: str, scenario_name: str = "agent_uas.xml", *, calls: int = 1,
                    login: bool = True, **values: object) -> Sipp:  # fmt: skip
        """Start the agent's softphone, register its extension, log the agent in."""
        cfg = self.engine.center.agents[agent_id]
        assert cfg.extension is not None
        values = {"ring_ms": 300, "talk_ms": 3000, **values}
        sf = scenario(self.tmp / f"{agent_id}-{scenario_name}", scenario_name, **values)
        port = free_udp_port()
        uas = sipp_uas(self.tmp, sf, port, free_media_port(), calls)
        self.procs.append(uas)
        await register_extension(self.tmp, self.proxy, cfg.extension, port)
        if login:
            await self.runtime.agents.login(agent_id)
        return uas

    def track(self, proc: Sipp) -> Sipp:
        self.procs.append(proc)
        return proc

    def finished(self) -> list[Any]:
        return list(self.edge.finished)

    async def ended(self, count: int = 1, timeout: float = 30) -> list[Any]:
        assert await until(lambda: len(self.edge.finished) >= count, timeout), (
            f"calls still going: {[c.timeline for c in set(self.edge.calls.values())]}"
        )
        return self.finished()


@pytest.fixture
async def make_site(voice_tools: None, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    sites: list[Site] = []
    kams: list[Kamailio] = []

    async def make(
        *,
        clock: dt.datetime = OPEN,
        auth: bool = False,
        password: str = "",
        rtp_ports: int = 200,
        voice: dict[str, Any] | None = None,
        queues: dict[str, Any] | None = None,
        center: dict[str, Any] | None = None,
        start_kamailio: bool = True,
        wait_registered: bool = True,
        metrics: bool = False,
    ) -> Site:
        tmp = tmp_path / f"site{len(sites)}"
        tmp.mkdir()
        kam = Kamailio(tmp / "kamailio", auth=auth)
        kams.append(kam)
        if start_kamailio:
            kam.start()
        config = site_config(tmp, center, **(queues or {}))
        center = load_center(config)
        center = with_flows(center, load_flows(config, center))
        store = await Store.open(tmp / "cc.sqlite3")
        await store.seed_customers(center.customers.values(), center.dedicated_agent)
        counted = Metrics(center) if metrics else None
        runtime = Runtime(center, store, metrics=counted)
        base = free_udp_range(rtp_ports)
        doc: dict[str, Any] = {
            "enabled": True,
            "server": {"host": "127.0.0.1", "port": kam.port},
            "registration": {"extension": "1000", "password": password,
                             "retry_initial_seconds": 0.5, "retry_max_seconds": 2,
                             "timeout_seconds": 2},
            "local": {"ip": "127.0.0.1", "sip_port": free_udp_port(),
                      "rtp_port_low": base, "rtp_port_high": base + rtp_ports - 1},
            "waiting": {"first_announcement_seconds": 1.0, "announce_every_seconds": 20},
        }  # fmt: skip
        for key, value in (voice or {}).items():
            doc[key] = {**doc.get(key, {}), **value}
        settings = VoiceSettings.model_validate(doc)
        edge = VoiceEdge(runtime.voice, settings, config_dir=config, clock=lambda: clock)
        runtime.add_edge(edge)
        await runtime.start()
        site = Site(tmp, kam, runtime, store, edge, counted)
        sites.append(site)
        if wait_registered:
            assert await until(edge.registered.is_set, 10), "the IVR extension did not register"
        return site

    yield make
    for site in sites:
        for proc in site.procs:
            proc.stop()
        await site.runtime.stop()
        await site.store.close()
    for kam in kams:
        kam.stop()
