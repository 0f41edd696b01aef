"""``kill -9`` of a real ``contactcenter serve`` does not empty "today": after a restart on the
same database the supervisor's queue view (the wallboard's numbers) shows the offered,
answered and abandoned chats of the day as before the kill.

The kill comes after a sign of life (written every 2 s, with today's tally) that followed the
last chat; what a kill loses is at most the counts since the last one (docs/architecture.md).
On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.server import ServerProcess, call, frame, fresh_server, login
from tests.postgres import database_for

USERS = [("root", "admin", None), ("boss", "supervisor", None), ("a05", "agent", "a05")]
COUNTED = ("offered", "answered", "abandoned", "service_level", "asa_seconds", "aht_seconds")


@pytest.fixture(params=["sqlite", "postgresql"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The server on a new SQLite file or a new database of the shared PostgreSQL server."""
    with fresh_server(tmp_path, USERS, database_for(request, request.param)) as srv:
        yield srv


async def sales_chat(http: aiohttp.ClientSession, base: str, sup: dict[str, str]) -> dict:
    rows = await call(http, "GET", f"{base}/api/supervisor/queues", sup)
    (row,) = [r for r in rows if r["queue"] == "sales_chat"]
    return {k: row[k] for k in COUNTED}


async def test_today_survives_kill_9(server: ServerProcess) -> None:
    base = server.start()
    async with aiohttp.ClientSession() as http:
        sup = await login(http, base, "boss")
        assert (await sales_chat(http, base, sup))["offered"] == 0

        # a customer gives up while nobody serves sales chat
        gone = await call(http, "POST", f"{base}/api/chat", body={"name": "Ada", "topic": "sales"})
        ws = await http.ws_connect(f"{base}/api/chat/{gone['contact_id']}/ws?token={gone['token']}")
        await frame(ws, "status", state="waiting")
        await ws.send_json({"type": "end"})
        await frame(ws, "ended", by="customer")
        await ws.close()

        # a05 answers two
        a05 = await login(http, base, "a05")
        desk = await http.ws_connect(f"{base}/api/agent/ws", headers=a05)
        await frame(desk, "snapshot")
        await call(http, "POST", f"{base}/api/agent/login", a05)
        for name in ("Bo", "Cy"):
            chat = await call(http, "POST", f"{base}/api/chat", body={"name": name,
                              "topic": "sales"})  # fmt: skip
            cid = chat["contact_id"]
            await frame(desk, "offer", contact_id=cid)
            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/accept", a05)
            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/hangup", a05)
            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/wrapup", a05,
                       {"disposition": "resolved"})  # fmt: skip
        await desk.close()
        before = await sales_chat(http, base, sup)
        assert (before["offered"], before["answered"], before["abandoned"]) == (3, 2, 1)
        await asyncio.sleep(2.5)  # a sign of life after all of it
        server.kill9()

    base = server.start(port=server.port)
    async with aiohttp.ClientSession() as http:
        sup = await login(http, base, "boss")
        assert await sales_chat(http, base, sup) == before
    assert server.stop() == 0, server.log()
