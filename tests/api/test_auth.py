"""Logins, sessions and roles: who may call what."""

from __future__ import annotations

import re

import pytest

from contactcenter.api.app import all_routes
from tests.api.conftest import PASSWORD, Api, frame


def concrete(path: str) -> str:
    return re.sub(r"{\w+}", "x", path)


async def test_every_protected_route_needs_a_login(api: Api) -> None:
    protected = [r for r in all_routes() if r.access != "public"]
    assert len(protected) > 15
    for r in protected:
        status, body = await api.call(r.method, concrete(r.path))
        assert status == 401, (r.method, r.path, status)
        assert body["error"]["code"] == "unauthorized"
    status, _ = await api.call("GET", "/api/me", headers={"Authorization": "Bearer not-a-token"})
    assert status == 401


async def test_login_cookie_and_bearer(api: Api) -> None:
    resp = await api.client.post("/api/login", json={"username": "a05", "password": PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    assert body["role"] == "agent" and body["agent_id"] == "a05" and body["token"]
    assert "resolved" in body["dispositions"] and "break" in body["away_reasons"]
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    token = body["token"]
    # the cookie alone works
    me = await api.client.get("/api/me", headers={"Cookie": f"cc_session={token}"})
    assert me.status == 200 and (await me.json())["username"] == "a05"
    # the token is not what the store keeps
    assert await api.store.session(token) is None
    # logging out ends the session
    out = await api.client.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status == 200
    again = await api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status == 401


async def test_wrong_password(api: Api) -> None:
    status, body = await api.call("POST", "/api/login", body={"username": "a05", "password": "no"})
    assert status == 401 and body["error"]["code"] == "bad_credentials"
    status, _ = await api.call("POST", "/api/login", body={"username": "ghost", "password": "no"})
    assert status == 401


async def test_login_rate_limit(api: Api) -> None:
    for _ in range(5):
        status, _ = await api.call(
            "POST", "/api/login", body={"username": "a06", "password": "wrong"}
        )
        assert status == 401
    resp = await api.client.post("/api/login", json={"username": "a06", "password": PASSWORD})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["error"]["code"] == "too_many_attempts"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/supervisor/queues", None),
        ("GET", "/api/supervisor/agents", None),
        ("GET", "/api/supervisor/contacts/x/explain", None),
        ("PUT", "/api/supervisor/agents/a06/state", {"state": "available"}),
        ("POST", "/api/supervisor/contacts/x/move", {"queue": "support_chat"}),
        ("PUT", "/api/supervisor/customers/C1001/tier", {"tier": "gold"}),
        ("GET", "/api/wallboard/ws", None),
        ("GET", "/api/audit", None),
    ],
)
async def test_agents_cannot_supervise(api: Api, method: str, path: str, body: object) -> None:
    status, data = await api.call(method, path, "a05", body)
    assert status == 403 and data["error"]["code"] == "forbidden"


async def test_supervisor_and_admin_roles(api: Api) -> None:
    for user in ("sup", "root"):
        assert len(await api.ok("GET", "/api/supervisor/queues", user)) == len(
            api.engine.center.queues
        )
    # a supervisor without an agent id has no agent desktop
    status, _ = await api.call("POST", "/api/agent/login", "sup")
    assert status == 403


async def test_agent_cannot_touch_another_agents_offer(api: Api) -> None:
    await api.ok("POST", "/api/agent/login", "a05")
    cid, _ = await api.start_chat()
    assert api.engine.router.contact(cid).agent == "a05"
    await api.ok("POST", "/api/agent/login", "a06")
    for action in ("accept", "decline", "hangup"):
        status, data = await api.call("POST", f"/api/agent/contacts/{cid}/{action}", "a06")
        assert status == 403, action
        assert data["error"]["code"] == "forbidden"
    status, _ = await api.call("GET", f"/api/agent/contacts/{cid}", "a06")
    assert status == 403
    status, _ = await api.call("POST", f"/api/agent/contacts/{cid}/messages", "a06", {"text": "hi"})
    assert status == 403
    # the agent's socket shows its own offer only
    ws6 = await api.ws("/api/agent/ws", "a06")
    snap = await frame(ws6, "snapshot")
    assert snap["offer"] is None
    await ws6.close()
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")


async def test_agent_state_changes(api: Api) -> None:
    status, data = await api.call("PUT", "/api/agent/state", "a05", {"state": "available"})
    assert status == 409 and data["error"]["code"] == "not_logged_in"
    await api.ok("POST", "/api/agent/login", "a05")
    await api.ok("POST", "/api/agent/login", "a05")  # idempotent
    away = await api.ok("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "lunch"})
    assert away["state"] == "away" and away["reason"] == "lunch"
    back = await api.ok("PUT", "/api/agent/state", "a05", {"state": "available"})
    assert back["state"] == "available"
    again = await api.ok("PUT", "/api/agent/state", "a05", {"state": "available"})
    assert again["state"] == "available"
    out = await api.ok("POST", "/api/agent/logout", "a05")
    assert out["state"] == "offline"


async def test_cookie_from_another_origin_is_refused(api: Api) -> None:
    token = await api.login("a05")
    cookie = {"Cookie": f"cc_session={token}"}
    status, data = await api.call(
        "POST", "/api/agent/login", headers={**cookie, "Origin": "http://evil.example"}
    )
    assert status == 403 and data["error"]["code"] == "cross_origin"
    host = f"http://{api.client.host}:{api.client.port}"
    status, _ = await api.call("POST", "/api/agent/login", headers={**cookie, "Origin": host})
    assert status == 200
