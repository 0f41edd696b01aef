"""A real app on a real SQLite store in tmp_path, driven through aiohttp's test client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from contactcenter.api import Settings, build_app
from contactcenter.cases import load_cases
from contactcenter.config import Center, load_center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Engine, Site
from contactcenter.store import Store, passwords

CONFIG = Path(__file__).resolve().parents[2] / "config"
PASSWORD = "correct horse battery"
USERS = {
    "a05": ("agent", "a05"),
    "a06": ("agent", "a06"),
    "a12": ("agent", "a12"),
    "sup": ("supervisor", None),
    "root": ("admin", None),
}


@pytest.fixture(scope="session")
def center() -> Center:
    return load_center(CONFIG)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at full cost takes 0.3 s a hash; the store's own tests cover the real cost."""
    monkeypatch.setattr(passwords, "N", 2**10)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    site: Site
    store: Store
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.site.engine

    def auth(self, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}

    async def login(self, user: str, password: str = PASSWORD) -> str:
        resp = await self.client.post("/api/login", json={"username": user, "password": password})
        assert resp.status == 200, await resp.text()
        token: str = (await resp.json())["token"]
        self.tokens[user] = token
        return token

    async def call(
        self, method: str, path: str, user: str | None = None, body: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        if user is not None and user not in self.tokens:
            await self.login(user)
        headers = {**self.auth(user), **kw.pop("headers", {})}
        resp = await self.client.request(method, path, headers=headers, json=body, **kw)
        text = await resp.text()
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        return resp.status, data

    async def ok(self, method: str, path: str, user: str | None = None, body: Any = None) -> Any:
        status, data = await self.call(method, path, user, body)
        assert 200 <= status < 300, (status, data)
        return data

    async def ws(self, path: str, user: str | None = None) -> aiohttp.ClientWebSocketResponse:
        if user is not None and user not in self.tokens:
            await self.login(user)
        return await self.client.ws_connect(path, headers=self.auth(user))

    async def start_chat(self, **body: Any) -> tuple[str, str]:
        data = await self.ok("POST", "/api/chat", body={"name": "Jan", "topic": "sales", **body})
        return data["contact_id"], data["token"]


async def frame(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 3.0, **match: Any
) -> dict[str, Any]:
    """The next frame of type ``kind`` (and with the ``match`` fields); others are skipped."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data: dict[str, Any] = json.loads(msg.data)
            if data["type"] == kind and all(data.get(k) == v for k, v in match.items()):
                return data


@pytest.fixture
def api_settings() -> Settings:
    """The app's settings in ``api`` (a test module overrides this fixture to change them);
    the example center's case policy (``config/cases.yaml``)."""
    return Settings(chat_grace=0.3, wallboard_min_interval=0.05, cases=load_cases(CONFIG))


@pytest.fixture
async def api(tmp_path: Path, center: Center, api_settings: Settings) -> AsyncIterator[Api]:
    async with serving(tmp_path, center, api_settings) as running:
        yield running


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, center: Center, settings: Settings, wall: Callable[[], float] = time.time
) -> AsyncIterator[Api]:
    """The app of a site of ``center`` on a new store in ``tmp_path`` holding the center's
    customers and ``USERS``: the ``api`` fixture's, and a module's whose center or wall clock
    differs (``wall``: the site's)."""
    store = await Store.open(tmp_path / "cc.sqlite3")
    await store.seed_customers(center.customers.values(), center.dedicated_agent)
    await asyncio.gather(
        *(store.set_user(u, PASSWORD, role, agent) for u, (role, agent) in USERS.items())  # type: ignore[arg-type]
    )
    metrics = Metrics(center)
    site = Site(center, store, metrics=metrics, wall=wall, cases=settings.cases)
    app = build_app(site, store, metrics, chat_secret=b"s" * 32, settings=settings)
    client = TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        yield Api(client, site, store)
    finally:
        await client.close()
        await store.close()
