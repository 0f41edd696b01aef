"""A password set with ``contactcenter user set`` while a real ``serve`` runs (another process on
the same database) ends that user's sessions: the old token is refused as soon as the command
has returned, and the user's open desktop socket is closed (issue 11: it kept working for
seconds, and the socket kept receiving the customer's lines)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from contactcenter.api.session_sockets import SESSION_ENDED, WATCH_EVERY
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    frame,
    fresh_server,
    login,
)

USERS = [("root", "admin", None), ("boss", "supervisor", None), ("a05", "agent", "a05")]
NEW_PASSWORD = "a much better one"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with fresh_server(tmp_path, USERS) as srv:
        yield srv


def reset_password(db: Path, user: str, password: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "user", "set", user, "--role", "agent",
         "--password-stdin", "--db", str(db)],
        input=password + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


async def test_user_set_in_another_process_ends_the_running_sessions(
    server: ServerProcess,
) -> None:
    base = server.start()
    async with aiohttp.ClientSession() as http:
        agent = await login(http, base, "a05")
        boss = await login(http, base, "boss")
        desk = await http.ws_connect(f"{base.replace('http', 'ws')}/api/agent/ws", headers=agent)
        await frame(desk, "snapshot")
        assert (await call(http, "GET", f"{base}/api/me", agent))["username"] == "a05"

        await asyncio.to_thread(reset_password, server.db, "a05", NEW_PASSWORD)
        async with http.get(f"{base}/api/me", headers=agent) as resp:
            assert resp.status == 401, await resp.text()
        async with asyncio.timeout(2 * WATCH_EVERY + 2.0):
            while True:
                msg = await desk.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                assert json.loads(msg.data)["type"] != "message"
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == SESSION_ENDED, msg

        assert (await call(http, "GET", f"{base}/api/me", boss))["username"] == "boss"
        async with http.post(
            f"{base}/api/login", json={"username": "a05", "password": NEW_PASSWORD}
        ) as resp:
            assert resp.status == 200
    assert server.stop() == 0
