"""Whatever a client sends, the answer is a 4xx JSON error and the server goes on serving."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from contactcenter.api import build_app
from contactcenter.api.app import all_routes
from contactcenter.api.openapi import Route
from tests.api.conftest import Api, frame

RAW = object()

CASES: list[tuple[str, str, str | None, Any, int, str]] = [
    # (method, path, user, body (bytes: sent raw), status, error code)
    ("POST", "/api/login", None, b'{"username": ', 400, "malformed_json"),
    ("POST", "/api/login", None, b"", 400, "missing_body"),
    ("POST", "/api/login", None, b"[1, 2]", 422, "invalid_body"),
    ("POST", "/api/login", None, {"username": "a", "password": "b", "admin": True}, 422,
     "invalid_body"),
    ("POST", "/api/login", None, {"username": 5, "password": "b"}, 422, "invalid_body"),
    ("POST", "/api/chat", None, b'{"name": "' + b"x" * 100_000 + b'"}', 413, "body_too_large"),
    ("POST", "/api/chat", None, {"name": "Jo", "topic": "weather"}, 422, "unknown_topic"),
    ("POST", "/api/chat", None, {"name": "J" * 101, "topic": "sales"}, 422, "invalid_body"),
    ("POST", "/api/chat", None, {"name": "Jo", "topic": "sales", "email": "nope"}, 422,
     "invalid_body"),
    ("POST", "/api/chat", None, {"name": "Jo", "topic": "sales", "customer_id": ["C1"]}, 422,
     "invalid_body"),
    ("POST", "/api/agent/contacts/nope/accept", "a05", None, 404, "unknown_contact"),
    ("POST", "/api/agent/contacts/nope/hangup", "a05", None, 404, "unknown_contact"),
    ("GET", "/api/agent/contacts/nope", "a05", None, 404, "unknown_contact"),
    ("POST", "/api/agent/contacts/nope/messages", "a05", {"text": "x" * 2001}, 422,
     "invalid_body"),
    ("POST", "/api/agent/contacts/nope/messages", "a05", {"text": ""}, 422, "invalid_body"),
    ("POST", "/api/agent/contacts/nope/messages", "a05", {"text": "hi"}, 404, "unknown_contact"),
    ("POST", "/api/agent/contacts/nope/wrapup", "a05", {"disposition": 5}, 422, "invalid_body"),
    ("POST", "/api/agent/contacts/nope/wrapup", "a05", {"disposition": "whatever"}, 422,
     "invalid_disposition"),
    ("PUT", "/api/agent/state", "a05", {"state": "sleeping"}, 422, "invalid_body"),
    ("PUT", "/api/agent/state", "a05", {"state": "away"}, 422, "invalid_reason"),
    ("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "nap"}, 422,
     "invalid_reason"),
    ("POST", "/api/agent/logout", "a05", None, 200, ""),
    ("GET", "/api/supervisor/contacts/nope/explain", "sup", None, 404, "unknown_contact"),
    ("POST", "/api/supervisor/contacts/nope/move", "sup", {"queue": "sales_chat"}, 404,
     "unknown_contact"),
    ("POST", "/api/supervisor/contacts/nope/move", "sup", {"queue": "x y"}, 422, "invalid_body"),
    ("PUT", "/api/supervisor/agents/zz/state", "sup", {"state": "available"}, 404,
     "unknown_agent"),
    ("PUT", "/api/supervisor/customers/NOPE/tier", "sup", {"tier": "gold"}, 404,
     "unknown_customer"),
    ("PUT", "/api/supervisor/customers/C1001/tier", "sup", {"tier": "platinum"}, 422,
     "unknown_tier"),
    ("GET", "/api/nothing-here", None, None, 404, "not_found"),
    ("DELETE", "/api/me", None, None, 405, "method_not_allowed"),
    ("GET", "/static/..%2Fapp.py", None, None, 404, "not_found"),
    ("GET", "/api/chat/nope/ws?token=bad", None, None, 403, "bad_token"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "user", "body", "status", "code"), CASES)
async def test_bad_requests(
    api: Api, method: str, path: str, user: str | None, body: Any, status: int, code: str
) -> None:
    if isinstance(body, bytes):
        got, data = await api.call(
            method, path, user, data=body, headers={"Content-Type": "application/json"}
        )
    else:
        got, data = await api.call(method, path, user, body)
    assert got == status, data
    if status >= 400:
        assert set(data) == {"error"} and data["error"]["code"] == code, data
        assert isinstance(data["error"]["message"], str)
    assert (await api.call("GET", "/healthz"))[0] == 200


async def test_unknown_chat_with_a_valid_token(api: Api) -> None:
    from contactcenter.api.customers import chat_token

    status, data = await api.call("GET", f"/api/chat/nope/ws?token={chat_token(b's' * 32, 'nope')}")
    assert status == 404 and data["error"]["code"] == "unknown_contact"


async def test_accepting_twice_is_a_conflict(api: Api) -> None:
    await api.ok("POST", "/api/agent/login", "a05")
    cid, _ = await api.start_chat()
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    status, data = await api.call("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    assert status == 409 and data["error"]["code"] == "conflict"
    status, data = await api.call("POST", "/api/agent/logout", "a05")
    assert status == 409  # still holding a contact


async def test_bad_chat_frames_keep_the_socket(api: Api) -> None:
    cid, token = await api.start_chat()
    ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(ws, "status")
    bad = [
        "not json",
        "[]",
        "42",
        json.dumps({"type": "dance"}),
        json.dumps({"type": "message"}),
        json.dumps({"type": "message", "text": 5}),
        json.dumps({"type": "message", "text": ""}),
        json.dumps({"type": "message", "text": "x" * 2001}),
        json.dumps({"type": "message", "text": "hi", "extra": 1}),
    ]
    for data in bad:
        await ws.send_str(data)
        err = await frame(ws, "error")
        assert err["error"]["code"] in ("malformed_json", "invalid_frame"), (data, err)
    await ws.send_bytes(b"\x00\x01")
    assert (await frame(ws, "error"))["error"]["code"] == "binary_frame"
    await ws.send_json({"type": "ping"})
    await frame(ws, "pong")
    await ws.send_json({"type": "message", "text": "still here"})
    line = await frame(ws, "message")
    assert line["text"] == "still here" and line["sender"] == "customer"
    await ws.close()


async def test_oversized_frame_closes_only_that_socket(api: Api) -> None:
    cid, token = await api.start_chat()
    ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(ws, "status")
    await ws.send_str("x" * 100_000)
    msg = await ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert (await api.call("GET", "/healthz"))[0] == 200
    again = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    assert (await frame(again, "status"))["state"] == "waiting"
    await again.close()


async def test_bad_agent_frames(api: Api) -> None:
    ws = await api.ws("/api/agent/ws", "a05")
    await frame(ws, "snapshot")
    await ws.send_str("{{")
    assert (await frame(ws, "error"))["error"]["code"] == "malformed_json"
    await ws.send_json({"type": "ping"})
    await frame(ws, "pong")
    await ws.close()


async def test_an_unexpected_error_is_a_500_not_a_crash(api: Api) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    routes = [*all_routes(), Route("GET", "/boom", boom, "a bug", "test")]
    app = build_app(api.site, api.store, None, routes=routes, manage_engine=False)
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/boom")
        assert resp.status == 500
        assert (await resp.json())["error"]["code"] == "internal"
        assert (await client.get("/healthz")).status == 200


async def test_healthz_names_what_keeps_an_edge_from_serving(api: Api) -> None:
    """An edge that cannot serve (the voice edge's media threads dead, or unregistered) makes
    ``/healthz`` 503 with its problems, until it recovers."""

    class Edge:
        trouble: list[str] = ["voice: media threads not running"]

        async def start(self) -> None: ...

        async def stop(self) -> None: ...

        def problems(self) -> list[str]:
            return list(self.trouble)

    edge = Edge()
    api.site.edges.append(edge)
    status, body = await api.call("GET", "/healthz")
    assert (status, body) == (503, {"status": "degraded", "problems": edge.trouble})
    edge.trouble = []
    assert await api.call("GET", "/healthz") == (200, {"status": "ok"})
