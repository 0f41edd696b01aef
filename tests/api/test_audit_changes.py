"""Every change made through the API is in the audit log: who, when, what, on what.

One shift drives every change route of the route table (the test fails when a new one is not
driven here): each successful call must leave exactly one entry with the real user, the
declared action and the target, except a change another record keeps (a chat line: the
transcript) which leaves none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from contactcenter.api.app import all_routes
from contactcenter.api.openapi import Route
from contactcenter.routing import ContactState
from tests.api.conftest import Api
from tests.api.signing import signed

NOTES = "customer prefers e-mail, lives at Hafenstrasse 3"

MAIL_EDGE_ROUTES = {("POST", "/api/agent/contacts/{id}/mail/answer")}
"""Need a site with the mail edge: driven, and their entries checked, by
tests/mail/test_serve_mail.py."""


def change_routes() -> dict[tuple[str, str], Route]:
    return {
        (r.method, r.path): r
        for r in all_routes()
        if r.method != "GET" and r.access != "public" and r.kind == "json"
    }


class Shift:
    """Calls change routes and checks the entry each one leaves."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.routes = change_routes()
        self.driven: set[tuple[str, str]] = set()

    async def change(
        self, method: str, template: str, user: str, body: Any = None, *,
        target: str | Callable[[Any], str], **ids: str,
    ) -> Any:  # fmt: skip
        route = self.routes[(method, template)]
        audit = route.audited
        assert audit is not None, template
        path = template.replace("{id}", ids.get("id", "")).replace("{task}", ids.get("task", ""))
        log = await self.api.store.audit_log(limit=1)
        last = log[0].id if log else 0
        data = await self.api.ok(method, path, user, body)
        after = [  # (the user's first call logs them in: its own entry)
            e for e in await self.api.store.audit_log(limit=50)
            if e.id > last and e.action != "login"
        ]  # fmt: skip
        self.driven.add((method, template))
        if audit.by == "record":
            assert after == [], (template, after)
            return data
        expected = target(data) if callable(target) else target
        got = [(e.actor, e.action, e.target) for e in after]
        assert got == [(user, audit.action, expected)], template
        assert abs(after[0].wall_time - time.time()) < 5
        assert NOTES not in json.dumps(after[0].detail)
        return data


async def offered(api: Api, cid: str) -> str:
    """The agent the contact rings at."""
    router = api.engine.router
    async with asyncio.timeout(5):
        while cid not in router.contacts or router.contact(cid).state is not ContactState.OFFERED:
            await asyncio.sleep(0.02)
    agent = router.contact(cid).agent
    assert agent is not None
    return agent


async def ended(api: Api, cid: str) -> None:
    async with asyncio.timeout(5):
        while (rec := await api.store.contact(cid)) is None or rec.ended_wall is None:
            await asyncio.sleep(0.02)


async def test_every_change_route_leaves_an_entry(api: Api) -> None:
    s = Shift(api)
    contact = "/api/agent/contacts/{id}"
    # agents log into routing, take a break and come back
    await s.change("POST", "/api/agent/login", "a05", target="a05")
    await s.change("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "break"},
                   target="a05")  # fmt: skip
    await s.change("PUT", "/api/agent/state", "a05", {"state": "available"}, target="a05")
    # a chat: declined by a05, taken by a06, who writes, then hands it to a05 after a consult
    first, token = await api.start_chat(name="Jan Novak", topic="sales")
    customer = await api.ws(f"/api/chat/{first}/ws?token={token}")
    assert await offered(api, first) == "a05"
    await s.change("POST", f"{contact}/decline", "a05", target=first, id=first)
    await s.change("POST", "/api/agent/login", "a06", target="a06")
    assert await offered(api, first) == "a06"
    await s.change("POST", f"{contact}/accept", "a06", target=first, id=first)
    await s.change("POST", f"{contact}/messages", "a06", {"text": "Hello Jan"}, id=first,
                   target=first)  # fmt: skip
    consult = {"to_agent": "a05", "warm": True, "note": NOTES}
    await s.change("POST", f"{contact}/transfer", "a06", consult, target=first, id=first)
    await s.change("POST", f"{contact}/consult/cancel", "a06", target=first, id=first)
    await s.change("POST", f"{contact}/transfer", "a06", consult, target=first, id=first)
    await s.change("POST", f"{contact}/consult/decline", "a05", target=first, id=first)
    await s.change("POST", f"{contact}/transfer", "a06", consult, target=first, id=first)
    await s.change("POST", f"{contact}/consult/accept", "a05", target=first, id=first)
    await s.change("POST", f"{contact}/consult/complete", "a06", target=first, id=first)
    await s.change("POST", f"{contact}/wrapup", "a06", {"disposition": "escalated"},
                   target=first, id=first)  # fmt: skip
    await s.change("POST", f"{contact}/hangup", "a05", target=first, id=first)
    wrap = {"disposition": "resolved", "notes": NOTES}
    await s.change("POST", f"{contact}/wrapup", "a05", wrap, target=first, id=first)
    (entry,) = await api.store.audit_log(limit=1)
    assert entry.detail == {"disposition": "resolved", "notes": True}
    await customer.close()
    await ended(api, first)
    # call backs: booked, moved, cancelled; one made by hand by the agent it rings at
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    body = {"queue": "sales", "number": "+4930555010008", "due_at": later}
    booked = await s.change("POST", "/api/callbacks", "sup", body,
                            target=lambda data: str(data["id"]))  # fmt: skip
    cb = str(booked["id"])
    sooner = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    await s.change("POST", "/api/callbacks/{id}/reschedule", "sup", {"due_at": sooner},
                   target=cb, id=cb)  # fmt: skip
    await s.change("POST", "/api/callbacks/{id}/cancel", "sup", target=cb, id=cb)
    now = await api.ok("POST", "/api/callbacks", "sup", {"queue": "sales", "number": "+4930599"})
    call = now["callback_contact_id"]
    agent = await offered(api, call)
    await s.change("POST", f"{contact}/accept", agent, target=call, id=call)
    await s.change("POST", f"{contact}/callback-result", agent, {"outcome": "answered"},
                   target=call, id=call)  # fmt: skip
    await s.change("POST", f"{contact}/hangup", agent, target=call, id=call)
    await s.change("POST", f"{contact}/wrapup", agent, {"disposition": "resolved"},
                   target=call, id=call)  # fmt: skip
    # a verified customer's complaint: a case opened from the chat, worked, escalated, handed on
    jan, _ = await api.start_chat(name="Jan", topic="sales", identity=signed(api, "C1008"))
    agent = await offered(api, jan)
    await s.change("POST", f"{contact}/accept", agent, target=jan, id=jan)
    complaint = {"category": "billing", "severity": "high", "description": NOTES}
    case = await s.change("POST", f"{contact}/cases", agent, complaint, id=jan,
                          target=lambda data: str(data["id"]))  # fmt: skip
    cid = str(case["id"])
    await s.change("POST", "/api/cases/{id}/notes", agent, {"text": NOTES}, target=cid, id=cid)
    await s.change("POST", f"{contact}/notes", agent, {"text": NOTES}, target=jan, id=jan)
    task = await s.change("POST", "/api/cases/{id}/tasks", agent,
                          {"title": NOTES, "due_in_hours": 4}, target=cid, id=cid)  # fmt: skip
    await s.change("POST", "/api/cases/{id}/tasks/{task}/done", agent, target=cid, id=cid,
                   task=str(task["tasks"][0]["id"]))  # fmt: skip
    await s.change("POST", "/api/cases/{id}/escalate", agent, target=cid, id=cid)
    await s.change("PUT", "/api/cases/{id}/owner", "sup", {"owner": "a06"}, target=cid, id=cid)
    # a task due now is routed to its owner a06: Done marks it done and ends it
    now = dt.datetime.now(dt.UTC).isoformat()
    await s.change("POST", "/api/cases/{id}/tasks", "a06", {"title": NOTES, "due_at": now},
                   target=cid, id=cid)  # fmt: skip
    router = api.engine.router
    async with asyncio.timeout(5):
        while not (tasks := [c.id for c in router.contacts.values() if c.channel == "task"]):
            await asyncio.sleep(0.02)
    assert await offered(api, tasks[0]) == "a06"
    await s.change("POST", f"{contact}/accept", "a06", target=tasks[0], id=tasks[0])
    await s.change("POST", f"{contact}/task/done", "a06", target=tasks[0], id=tasks[0])
    await s.change("POST", f"{contact}/wrapup", "a06", {"disposition": "resolved"},
                   target=tasks[0], id=tasks[0])  # fmt: skip
    await s.change("POST", "/api/cases/{id}/department", "sup", {"department": "legal"},
                   target=cid, id=cid)  # fmt: skip
    await s.change("PUT", "/api/cases/{id}/status", "sup", {"status": "resolved"}, target=cid,
                   id=cid)  # fmt: skip
    await s.change("POST", f"{contact}/hangup", agent, target=jan, id=jan)
    await s.change("POST", f"{contact}/wrapup", agent, {"disposition": "resolved"},
                   target=jan, id=jan)  # fmt: skip
    # supervisors' interventions on a waiting chat, an agent and a customer
    waiting, token = await api.start_chat(name="Ola", topic="billing")
    other = await api.ws(f"/api/chat/{waiting}/ws?token={token}")
    await s.change("POST", "/api/supervisor/contacts/{id}/move", "sup",
                   {"queue": "support_chat"}, target=waiting, id=waiting)  # fmt: skip
    await s.change("PUT", "/api/supervisor/contacts/{id}/priority", "sup", {"priority": 90},
                   target=waiting, id=waiting)  # fmt: skip
    await s.change("PUT", "/api/supervisor/agents/{id}/state", "sup",
                   {"state": "away", "reason": "break"}, target="a12", id="a12")  # fmt: skip
    await s.change("PUT", "/api/supervisor/customers/{id}/tier", "sup", {"tier": "gold"},
                   target="C1010", id="C1010")  # fmt: skip
    await other.close()
    # an admin erases a customer (the entry names the marker that replaced the id)
    erased = await s.change("POST", "/api/admin/customers/{id}/erase", "root", id="C1010",
                            target=lambda data: data["marker"])  # fmt: skip
    assert [e.target for e in await api.store.audit_log(action="customer_tier")] == [
        erased["marker"]
    ]
    # agents leave routing; a user logs out
    await s.change("POST", "/api/agent/logout", "a05", target="a05")
    await s.change("POST", "/api/logout", "sup", target="sup")
    missing = set(s.routes) - s.driven - MAIL_EDGE_ROUTES
    assert not missing, f"change routes not driven (and so not shown audited): {missing}"
