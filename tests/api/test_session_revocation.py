"""Ending a login session ends everything it opened: logging out, expiry and a password set
close the session's WebSockets at once, and its token stops working on the next request.

Found in issue 11: an agent who logged out still received the customer's next line on the
desktop socket, and a reset password's old token worked for seconds more.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from contactcenter.api import session_sockets
from contactcenter.api.context import CTX
from contactcenter.api.session_sockets import SESSION_ENDED, WATCH_EVERY
from tests.api.conftest import PASSWORD, Api, frame


async def until_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> list[Any]:
    """The text frames ``ws`` receives until the server closes it (fails after ``timeout``)."""
    seen: list[Any] = []
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                seen.append(json.loads(msg.data))
                continue
            assert msg.type is aiohttp.WSMsgType.CLOSE, msg
            assert msg.data == SESSION_ENDED, msg
            return seen


async def still_open(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Whether the server still answers a ping on ``ws``."""
    await ws.send_json({"type": "ping"})
    await frame(ws, "pong")
    return not ws.closed


async def in_conversation(
    api: Api, agent: str
) -> tuple[str, aiohttp.ClientWebSocketResponse, aiohttp.ClientWebSocketResponse]:
    """A customer's chat answered by ``agent``: (contact id, customer socket, desktop socket)."""
    cid, token = await api.start_chat(name="Jan")
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    desk = await api.ws("/api/agent/ws", agent)
    await frame(desk, "snapshot")
    await api.ok("POST", "/api/agent/login", agent)
    await frame(desk, "offer", contact_id=cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)
    await frame(desk, "answered", contact_id=cid)
    await customer.send_json({"type": "message", "text": "my order number is 4711"})
    assert (await frame(desk, "message", contact_id=cid))["text"] == "my order number is 4711"
    return cid, customer, desk


def customer_lines(frames: list[Any]) -> list[str]:
    return [f["text"] for f in frames if f.get("type") == "message"]


async def test_logging_out_closes_the_desktop_before_the_customers_next_line(api: Api) -> None:
    _, customer, desk = await in_conversation(api, "a05")
    await api.ok("POST", "/api/logout", "a05")
    await customer.send_json({"type": "message", "text": "and my card ends in 1234"})
    assert customer_lines(await until_closed(desk, timeout=2.0)) == []
    await customer.close()


async def test_logging_out_closes_every_socket_of_that_session_and_no_other(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_sockets, "WATCH_EVERY", 60.0)  # only the logout closes them
    first = await api.login("a05")
    second = await api.client.post("/api/login", json={"username": "a05", "password": PASSWORD})
    other = {"Authorization": f"Bearer {(await second.json())['token']}"}
    mine = [await api.ws("/api/agent/ws", "a05") for _ in range(2)]
    kept = await api.client.ws_connect("/api/agent/ws", headers=other)
    board = await api.ws("/api/wallboard/ws", "sup")
    for ws in (*mine, kept, board):
        assert await still_open(ws)

    out = await api.client.post("/api/logout", headers={"Authorization": f"Bearer {first}"})
    assert out.status == 200
    for ws in mine:
        await until_closed(ws, timeout=2.0)
    assert await still_open(kept) and await still_open(board)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.client.ws_connect("/api/agent/ws", headers=api.auth("a05"))
    assert refused.value.status == 401
    for ws in (kept, board):
        await ws.close()


async def test_an_expired_session_closes_its_sockets(api: Api) -> None:
    ttl = 1.5
    api.client.app[CTX].settings.session_ttl = ttl  # type: ignore[index]
    started = time.monotonic()
    await api.login("a06")
    desk = await api.ws("/api/agent/ws", "a06")
    board = await api.ws("/api/wallboard/ws", "sup")
    await frame(desk, "snapshot")
    assert await still_open(desk)  # the session holds
    await until_closed(desk, timeout=ttl + 2 * WATCH_EVERY + 1.0)
    assert time.monotonic() - started >= ttl - 0.1
    status, _ = await api.call("GET", "/api/me", "a06")
    assert status == 401
    await board.close()


async def test_a_password_set_ends_the_users_sessions_at_once(api: Api) -> None:
    """As ``contactcenter user set`` does from another process: only the store knows."""
    _, customer, desk = await in_conversation(api, "a06")
    board = await api.ws("/api/wallboard/ws", "sup")
    await api.store.set_user("a06", "a new password!", "agent", "a06")
    started = time.monotonic()
    # the old token is refused on the very next request
    status, body = await api.call("GET", "/api/me", "a06")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    # the desktop is closed by the next look of the watch
    await until_closed(desk, timeout=5.0)
    assert time.monotonic() - started < WATCH_EVERY + 0.75  # the next look, with slack for load
    assert await still_open(board)  # another user's session goes on
    api.tokens.pop("a06")
    await api.login("a06", "a new password!")
    await customer.close()
    await board.close()
