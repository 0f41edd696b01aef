"""Admins read the audit log through ``GET /api/audit``: filters, paging, refusals, roles, the
OpenAPI document; and reading it is itself in the log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contactcenter.api.app import all_routes
from tests.api.conftest import Api

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


async def seeded(api: Api) -> None:
    """Five entries an hour apart: a05 and sup reading and changing things."""
    rows = [
        ("a05", "read_screen_pop", "chat-1", {"parts": ["card"]}),
        ("sup", "read_callbacks", "callbacks", {"shown": ["7", "8"]}),
        ("a05", "wrap_up", "chat-1", {"disposition": "resolved"}),
        ("sup", "customer_tier", "C1010", {"tier": "gold"}),
        ("a05", "read_screen_pop", "chat-2", {"parts": ["transcript"]}),
    ]
    for i, (actor, action, target, detail) in enumerate(rows):
        await api.store.audit(actor, action, target, detail, T0 + 3600 * i)


async def page(api: Api, query: str = "") -> list[tuple[str, str, str]]:
    data = await api.ok("GET", f"/api/audit{query}", "root")
    return [(e["actor"], e["action"], e["target"]) for e in data["entries"]]


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


async def test_filters(api: Api) -> None:
    await seeded(api)
    assert await page(api, "?actor=a05&action=read_screen_pop") == [
        ("a05", "read_screen_pop", "chat-2"),
        ("a05", "read_screen_pop", "chat-1"),
    ]
    assert await page(api, "?target=chat-1") == [
        ("a05", "wrap_up", "chat-1"),
        ("a05", "read_screen_pop", "chat-1"),
    ]
    # a list read names what it showed: the call back 8 was read in that list
    assert await page(api, "?target=8") == [("sup", "read_callbacks", "callbacks")]
    # time as ISO 8601 with its offset, or epoch seconds; both ends inclusive
    hour = f"?since={iso(T0 + 3600)}&until={T0 + 3 * 3600:.0f}&actor=sup"
    assert await page(api, hour) == [
        ("sup", "customer_tier", "C1010"),
        ("sup", "read_callbacks", "callbacks"),
    ]
    since = (dt.datetime.fromtimestamp(T0 + 4 * 3600, dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    assert await page(api, f"?since={since.replace('+', '%2B')}&actor=a05") == [
        ("a05", "read_screen_pop", "chat-2"),  # 04:00+01:00 is 03:00Z
    ]
    data = await api.ok("GET", "/api/audit?target=C1010", "root")
    (entry,) = data["entries"]
    assert entry["detail"] == {"tier": "gold"} and entry["at"] == T0 + 3 * 3600
    assert entry["time"] == "2026-01-01T03:00:00Z"


async def test_paging_by_id(api: Api) -> None:
    await seeded(api)
    seen: list[int] = []
    before = ""
    while True:
        data = await api.ok("GET", f"/api/audit?actor=a05&limit=2{before}", "root")
        seen += [e["id"] for e in data["entries"]]
        if data["next_before"] is None:
            break
        before = f"&before={data['next_before']}"
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)
    # one page past the last: empty, and no further page
    data = await api.ok("GET", f"/api/audit?actor=a05&before={min(seen)}", "root")
    assert data == {"entries": [], "next_before": None}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?action=delete_everything", "invalid_action"),
        ("?since=yesterday", "invalid_time"),
        ("?since=2026-01-01T00:00:00+01:00", "invalid_time"),  # + unescaped: a space
        ("?until=2026-01-01T00:00:00", "invalid_time"),  # no offset
        ("?since=nan", "invalid_time"),
        ("?limit=0", "invalid_limit"),
        ("?limit=1001", "invalid_limit"),
        ("?limit=-5", "invalid_limit"),
        ("?before=abc", "invalid_before"),
        (f"?actor={'x' * 201}", "invalid_actor"),
    ],
)
async def test_bad_filters_are_a_422(api: Api, query: str, code: str) -> None:
    status, data = await api.call("GET", f"/api/audit{query}", "root")
    assert (status, data["error"]["code"]) == (422, code), data


async def test_reading_the_log_is_in_the_log(api: Api) -> None:
    await seeded(api)
    await page(api, "?actor=a05&limit=2")
    (entry,) = await api.store.audit_log(limit=1)
    assert (entry.actor, entry.action, entry.target) == ("root", "read_audit", "audit_log")
    assert entry.detail == {"filters": {"actor": "a05"}, "entries": 2}


async def test_logins_are_in_the_log_with_their_address(api: Api) -> None:
    await api.login("sup")
    await api.login("a05")
    logins = [(e.actor, e.target, e.detail) for e in await api.store.audit_log(limit=10)
              if e.action == "login"]  # fmt: skip
    assert logins == [
        ("a05", "a05", {"address": "127.0.0.1"}),
        ("sup", "sup", {"address": "127.0.0.1"}),
    ]


def admin_routes() -> list[Any]:
    return [r for r in all_routes() if r.access == "admin"]


@pytest.mark.parametrize("user", ["a05", "a06", "sup"])
async def test_only_admins_reach_admin_routes(api: Api, user: str) -> None:
    routes = admin_routes()
    assert {r.path for r in routes} >= {"/api/audit"}
    for r in routes:
        status, data = await api.call(r.method, r.path.replace("{id}", "C1001"), user)
        assert (status, data["error"]["code"]) == (403, "forbidden"), r.path
    assert await api.store.customer("C1001") is not None  # nothing was done


async def test_the_openapi_document_describes_the_log(api: Api) -> None:
    doc = await api.ok("GET", "/openapi.json")
    op = doc["paths"]["/api/audit"]["get"]
    assert op["x-access"] == "admin" and op["x-audit"]["action"] == "read_audit"
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {"actor", "action", "target", "since", "until", "before", "limit"}
    actions = params["action"]["schema"]["enum"]
    assert {"read_screen_pop", "read_offer", "wrap_up", "customer_tier", "retention"} <= set(
        actions
    )
    entry = doc["components"]["schemas"]["AuditEntry"]
    assert entry["properties"]["action"]["enum"] == actions
    assert set(op["responses"]) >= {"200", "401", "403", "422"}
    screen_pop = doc["paths"]["/api/agent/contacts/{id}"]["get"]
    assert screen_pop["x-audit"] == {"action": "read_screen_pop", "reads": True, "by": "route"}
