"""Deeply nested JSON (1,000 levels gave a 500 with a RecursionError in the log) is a 400
``malformed_json`` on every route with a body and on every WebSocket, and nothing is logged as
an error."""

from __future__ import annotations

import logging

import pytest

from contactcenter.api.app import all_routes
from tests.api.conftest import Api, frame

ROLE_USER = {"public": None, "agent": "a05", "supervisor": "sup", "user": "sup", "admin": "root"}


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    "body", [nested(1000), b"[" * 60_000], ids=["1000-levels", "60000-unclosed"]
)
async def test_deeply_nested_json_is_a_400_on_every_route_with_a_body(
    api: Api, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    routes = [r for r in all_routes() if r.body is not None]
    assert len(routes) > 10
    caplog.set_level(logging.WARNING)
    parsed = 0
    for r in routes:
        path = r.path.replace("{id}", "nope")
        user = ROLE_USER[r.access]
        json_type = {"Content-Type": "application/json"}
        status, data = await api.call(r.method, path, user, data=body, headers=json_type)
        if status != 400:  # only a route that refuses the path before reading any body
            assert (status, data) == await api.call(r.method, path, user, data=b"{}",
                                                    headers=json_type), r.path  # fmt: skip
            continue
        assert data["error"]["code"] == "malformed_json", data
        parsed += 1
    assert parsed >= len(routes) - 2
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert "RecursionError" not in caplog.text


async def test_deeply_nested_frames_are_refused_and_the_socket_stays(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    cid, token = await api.start_chat()
    sockets = [
        (await api.ws(f"/api/chat/{cid}/ws?token={token}"), "status"),
        (await api.ws("/api/agent/ws", "a05"), "snapshot"),
        (await api.ws("/api/wallboard/ws", "sup"), "snapshot"),
    ]
    caplog.set_level(logging.WARNING)
    for ws, first in sockets:
        if first is not None:
            await frame(ws, first)
        await ws.send_str(nested(1000).decode())
        assert (await frame(ws, "error"))["error"]["code"] == "malformed_json"
        await ws.send_json({"type": "ping"})
        await frame(ws, "pong")
        await ws.close()
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
