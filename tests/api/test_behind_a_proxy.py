"""The engine behind a reverse proxy (``Limits.trusted_proxies``; ``serve --trusted-proxy``).

Every customer then connects from the proxy's address: per-address limits must count the
client the proxy names in ``X-Forwarded-For`` (one customer's flood must not lock out all the
others), the connection cap per address must not cut the proxy itself, and nobody may name
themselves a client by sending that header around the proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from contactcenter.api import Settings, build_app
from contactcenter.api.connections import listen
from contactcenter.api.ratelimit import Limits
from contactcenter.config import Center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store

PROXY = "127.0.0.9"
"""The proxy's address (a loopback address of its own, so the test can be both)."""


@asynccontextmanager
async def behind_proxy(
    tmp_path: Path, center: Center, chat_starts: int = 30, **limits: Any
) -> AsyncIterator[str]:
    store = await Store.open(tmp_path / "cc.sqlite3")
    metrics = Metrics(center)
    site = Site(center, store, metrics=metrics)
    settings = Settings(chat_starts=chat_starts, limits=Limits(trusted_proxies=(PROXY,), **limits))
    app = build_app(site, store, metrics, chat_secret=b"s" * 32, settings=settings)
    runner = await listen(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{next(a[1] for a in runner.addresses if isinstance(a, tuple))}"
    finally:
        await runner.cleanup()
        await store.close()


def via(source: str) -> aiohttp.ClientSession:
    """A client whose connections come from ``source``."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))


async def start_chat(http: aiohttp.ClientSession, base: str, client: str | None) -> int:
    headers = {"X-Forwarded-For": client} if client is not None else {}
    async with http.post(
        f"{base}/api/chat", json={"name": "Ann", "topic": "sales"}, headers=headers
    ) as resp:
        return resp.status


async def test_limits_count_the_client_the_proxy_names(tmp_path: Path, center: Center) -> None:
    async with behind_proxy(tmp_path, center, chat_starts=2) as base, via(PROXY) as proxy:
        assert [await start_chat(proxy, base, "203.0.113.7") for _ in range(3)] == [201, 201, 429]
        assert await start_chat(proxy, base, "203.0.113.8") == 201  # another customer


async def test_a_client_around_the_proxy_cannot_name_itself(tmp_path: Path, center: Center) -> None:
    async with behind_proxy(tmp_path, center) as base, via("127.0.0.1") as direct:
        async with direct.post(
            f"{base}/api/chat",
            json={"name": "Ann", "topic": "sales"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        ) as resp:
            assert resp.status == 400
            body = await resp.json()
            assert body["error"]["code"] == "not_via_proxy", body
        async with direct.get(f"{base}/healthz") as resp:  # probes and scrapes go direct
            assert resp.status == 200
        async with direct.get(f"{base}/metrics") as resp:
            assert resp.status == 200


async def test_the_proxy_is_not_cut_by_the_cap_per_address(tmp_path: Path, center: Center) -> None:
    async with behind_proxy(tmp_path, center, address_connections=2) as base:
        sessions = [via(PROXY) for _ in range(6)]  # one connection each, held open
        try:
            answers = await asyncio.gather(
                *(start_chat(s, base, f"203.0.113.{i}") for i, s in enumerate(sessions, 1))
            )
            assert answers == [201] * 6
        finally:
            for s in sessions:
                await s.close()


async def test_serve_takes_its_proxy_from_the_command_line(tmp_path: Path) -> None:
    from tests.integration.server import ServerProcess, fresh_server

    with fresh_server(tmp_path, [("root", "admin", None)]) as srv:
        srv = ServerProcess(srv.config, srv.db, tmp_path, extra=["--trusted-proxy", PROXY])
        try:
            base = srv.start()  # its /healthz answers directly
            async with via("127.0.0.1") as direct:
                assert await start_chat(direct, base, "203.0.113.7") == 400
            async with via(PROXY) as proxy:
                assert await start_chat(proxy, base, "203.0.113.7") == 201
            assert srv.stop() == 0
        finally:
            srv.finish()
