"""Regression: a supervisor's ``explain`` reports the wait as of now, not as of the last input.

The routing core explains at the time of its last input. On a quiet center (no arrivals, no
agent changes) that time can lie far behind, and ``GET /api/supervisor/contacts/{id}/explain``
used to report a contact's wait as it was then: after a restart it even left out the time
since the restore. The handler now brings the core to the current time first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from contactcenter.api import build_app
from contactcenter.config import load_center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store, passwords

CONFIG = Path(__file__).resolve().parents[2] / "config"
PASSWORD = "explain-password-1"


async def test_explain_counts_the_wait_up_to_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheap hashes; the store tests cover the cost
    center = load_center(CONFIG)
    store = await Store.open(tmp_path / "cc.sqlite3")
    await store.set_user("boss", PASSWORD, "supervisor")
    site = Site(center, store, metrics=Metrics(center))
    engine = site.engine
    app = build_app(site, store, None, chat_secret=b"s" * 32)
    client = TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        resp = await client.post("/api/login", json={"username": "boss", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}
        resp = await client.post("/api/chat", json={"name": "Jan", "topic": "billing"})
        assert resp.status == 201
        cid = (await resp.json())["contact_id"]
        arrived = engine.now()

        await asyncio.sleep(1.2)  # nothing happens meanwhile: no input reaches the core
        resp = await client.get(f"/api/supervisor/contacts/{cid}/explain", headers=auth)
        assert resp.status == 200
        ex = await resp.json()
        assert ex["state"] == "waiting"
        assert ex["wait_seconds"] >= round(engine.now() - arrived, 1) - 0.15 >= 1.0
    finally:
        await client.close()
        await store.close()
