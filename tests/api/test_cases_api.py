"""Complaint cases on the real app: an agent opens one from a verified chat it handles; the
owner, an agent handling the customer, and supervisors read and work it (each route checks the
role, each read and change is in the audit log, each change in the case's history); refusals
are 4xx with a message; a later contact of the customer shows the open case on the screen-pop;
the case gauges count per category and severity."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from contactcenter.api.cases import ROUTES
from contactcenter.cases import CaseStatus
from contactcenter.routing import ContactState
from contactcenter.store.cases import open_case
from tests.api.conftest import Api
from tests.api.signing import signed
from tests.scrape import by_label

JAN = "C1008"  # Jan Novak in config/customers.yaml
COMPLAINT = {"category": "billing", "severity": "high", "description": "Charged twice in May"}


async def chat_with(api: Api, agent: str, **body: Any) -> str:
    """A chat started with ``body``, offered to and accepted by ``agent`` (alone logged in)."""
    cid, _ = await api.start_chat(**body)
    await api.ok("POST", "/api/agent/login", agent)
    async with asyncio.timeout(5):
        while api.engine.router.contact(cid).state is not ContactState.OFFERED:
            await asyncio.sleep(0.02)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)
    return cid


async def opened(api: Api) -> tuple[str, dict[str, Any]]:
    cid = await chat_with(api, "a05", name="Jan", identity=signed(api, JAN))
    case = await api.ok("POST", f"/api/agent/contacts/{cid}/cases", "a05", COMPLAINT)
    return cid, case


async def entries(api: Api, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.actor, e.target, e.detail) for e in await api.store.audit_log(action=action)]


async def test_an_agent_opens_a_case_from_a_verified_chat(api: Api) -> None:
    cid, case = await opened(api)
    assert {k: case[k] for k in ("customer_id", "contact_id", "category", "category_name",
                                 "severity", "status", "owner", "description", "overdue")} == {
        "customer_id": JAN, "contact_id": cid, "category": "billing",
        "category_name": "Billing dispute", "severity": "high", "status": "open",
        "owner": "a05", "description": "Charged twice in May", "overdue": False,
    }  # fmt: skip
    assert case["acknowledge_by"] == pytest.approx(case["opened"] + 3600)
    assert case["resolve_by"] == pytest.approx(case["opened"] + 24 * 3600)
    assert [h["action"] for h in case["history"]] == ["opened"]
    assert await entries(api, "open_case") == [("a05", str(case["id"]), {"customer": JAN})]
    got = await api.ok("GET", f"/api/cases/{case['id']}", "a05")
    assert got["description"] == "Charged twice in May"
    assert await entries(api, "read_case") == [("a05", str(case["id"]), {"customer": JAN})]


async def test_opening_refusals_say_why(api: Api) -> None:
    anonymous = await chat_with(api, "a05", name="Jan")
    path = f"/api/agent/contacts/{anonymous}/cases"
    for body, status, code in (
        (COMPLAINT, 422, "customer_not_verified"),
        ({**COMPLAINT, "category": "weather"}, 422, "unknown_category"),
        ({**COMPLAINT, "severity": "urgent"}, 422, "unknown_severity"),
        ({**COMPLAINT, "description": "   "}, 422, "empty_description"),
        ({"category": "billing"}, 422, "invalid_body"),
    ):
        got, data = await api.call("POST", path, "a05", body)
        assert (got, data["error"]["code"]) == (status, code), data
        assert data["error"]["message"]
    _, data = await api.call("POST", path, "a05", {**COMPLAINT, "category": "weather"})
    assert data["error"]["message"] == (
        "category must be one of: billing, service, contract, conduct"
    )
    assert (await api.call("POST", path, "a06", COMPLAINT))[0] == 403  # not a06's contact
    assert (await api.call("POST", path, "sup", COMPLAINT))[0] == 403  # agents only
    assert (await api.call("POST", path, None, COMPLAINT))[0] == 401
    assert (await api.call("POST", "/api/agent/contacts/chat-nope/cases", "a05", COMPLAINT))[
        0
    ] == 404
    assert await api.store.audit_log(action="open_case") == []


async def test_working_a_case_through_to_closed(api: Api) -> None:
    _, case = await opened(api)
    base = f"/api/cases/{case['id']}"
    moved = await api.ok("POST", f"{base}/escalate", "a05")
    assert moved["status"] == "escalated" and moved["acknowledged"] is not None
    status, data = await api.call("PUT", f"{base}/status", "a05", {"status": "with_department"})
    assert (status, data["error"]["code"]) == (422, "department_required")
    status, data = await api.call("POST", f"{base}/department", "sup", {"department": "moon"})
    assert (status, data["error"]["code"]) == (422, "unknown_department")
    moved = await api.ok("POST", f"{base}/department", "sup", {"department": "billing_office"})
    assert (moved["status"], moved["department"]) == ("with_department", "billing_office")
    noted = await api.ok("POST", f"{base}/notes", "sup", {"text": "refund approved"})
    assert [(n["author"], n["text"]) for n in noted["notes"]] == [("sup", "refund approved")]
    status, data = await api.call("POST", f"{base}/tasks", "a05", {"title": "call Jan"})
    assert (status, data["error"]["code"]) == (422, "invalid_body")  # no due time
    before = time.time()
    tasked = await api.ok("POST", f"{base}/tasks", "a05", {"title": "call Jan",
                                                          "due_in_hours": 2})  # fmt: skip
    [task] = tasked["tasks"]
    assert task["due"] == pytest.approx(before + 7200, abs=5) and task["done"] is None
    done = await api.ok("POST", f"{base}/tasks/{task['id']}/done", "a05")
    assert done["tasks"][0]["done_by"] == "a05"
    status, data = await api.call("POST", f"{base}/tasks/{task['id']}/done", "a05")
    assert (status, data["error"]["code"]) == (409, "case_refused")
    status, data = await api.call("PUT", f"{base}/status", "a05", {"status": "closed"})
    assert status == 409 and "cannot move to closed" in data["error"]["message"]
    await api.ok("PUT", f"{base}/status", "a05", {"status": "resolved"})
    closed = await api.ok("PUT", f"{base}/status", "a05", {"status": "closed"})
    assert closed["status"] == "closed"
    status, data = await api.call("POST", f"{base}/notes", "a05", {"text": "late"})
    assert (status, data["error"]["code"]) == (409, "case_refused")
    assert [(h["actor"], h["action"], h["status"]) for h in closed["history"]] == [
        ("a05", "opened", "open"), ("a05", "moved", "escalated"),
        ("sup", "moved", "with_department"), ("sup", "note_added", "with_department"),
        ("a05", "task_added", "with_department"), ("a05", "task_done", "with_department"),
        ("a05", "moved", "resolved"), ("a05", "moved", "closed"),
    ]  # fmt: skip
    log = [(e.actor, e.action) for e in reversed(await api.store.audit_log(limit=50))
           if e.target == str(case["id"])]  # fmt: skip
    assert log == [
        ("a05", "open_case"), ("a05", "escalate_case"), ("sup", "case_to_department"),
        ("sup", "case_note"), ("a05", "case_task"), ("a05", "case_task_done"),
        ("a05", "case_status"), ("a05", "case_status"),
    ]  # fmt: skip


async def test_who_may_see_a_case(api: Api) -> None:
    cid, case = await opened(api)
    path = f"/api/cases/{case['id']}"
    assert (await api.call("GET", path, "a06"))[0] == 403  # neither owner nor handling Jan
    assert (await api.call("POST", f"{path}/escalate", "a06"))[0] == 403
    assert (await api.call("GET", f"/api/customers/{JAN}/cases", "a06"))[0] == 403
    assert (await api.call("GET", path, None))[0] == 401
    assert (await api.call("GET", "/api/cases/999", "sup"))[0] == 404
    assert (await api.call("GET", "/api/cases/abc", "sup"))[0] == 404
    assert (await api.ok("GET", path, "sup"))["id"] == case["id"]
    assert (await api.ok("GET", path, "root"))["id"] == case["id"]
    listed = await api.ok("GET", f"/api/customers/{JAN}/cases", "a05")  # handling Jan now
    assert [c["id"] for c in listed] == [case["id"]]
    assert await entries(api, "read_customer_cases") == [("a05", JAN, {"shown": [case["id"]]})]
    assert (await api.call("GET", "/api/supervisor/cases", "a05"))[0] == 403
    # the owner keeps seeing it after the contact is over
    await api.ok("POST", f"/api/agent/contacts/{cid}/hangup", "a05")
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})
    assert (await api.ok("GET", path, "a05"))["id"] == case["id"]


async def test_a_later_chat_shows_the_open_case_on_the_screen_pop(api: Api) -> None:
    first, case = await opened(api)
    await api.ok("POST", f"/api/agent/contacts/{first}/hangup", "a05")
    await api.ok("POST", f"/api/agent/contacts/{first}/wrapup", "a05",
                 {"disposition": "follow-up"})  # fmt: skip
    await api.ok("POST", "/api/agent/logout", "a05")
    later = await chat_with(api, "a06", name="Jan", identity=signed(api, JAN))
    pop = await api.ok("GET", f"/api/agent/contacts/{later}", "a06")
    assert [(c["id"], c["category_name"], c["status"], c["description"])
            for c in pop["open_cases"]] == [
        (case["id"], "Billing dispute", "open", "Charged twice in May")
    ]  # fmt: skip
    [entry] = [e for e in await api.store.audit_log(action="read_screen_pop") if e.target == later]
    assert "cases" in entry.detail["parts"]
    # a06 handles Jan now, so may work the case
    await api.ok("POST", f"/api/cases/{case['id']}/notes", "a06", {"text": "Jan called again"})
    await api.ok("PUT", f"/api/cases/{case['id']}/status", "a06", {"status": "resolved"})
    pop = await api.ok("GET", f"/api/agent/contacts/{later}", "a06")
    assert pop["open_cases"] == []


async def test_supervisors_see_open_overdue_and_escalated_per_category(api: Api) -> None:
    _, case = await opened(api)
    await api.ok("POST", f"/api/cases/{case['id']}/escalate", "a05")
    wall = api.engine.wall()
    late = await open_case(  # a high case opened 2 h ago, never acknowledged: overdue
        api.store, customer_id="C1001", contact_id="old-chat", category="service",
        severity="high", description="no signal", owner="a12", wall_time=wall - 7200,
    )  # fmt: skip
    rows = {r["category"]: r for r in await api.ok("GET", "/api/supervisor/cases", "sup")}
    assert list(rows) == ["billing", "service", "contract", "conduct"]
    assert {k: (r["open"], r["overdue"], r["escalated"]) for k, r in rows.items()} == {
        "billing": (1, 0, 1), "service": (1, 1, 0), "contract": (0, 0, 0), "conduct": (0, 0, 0),
    }  # fmt: skip
    assert [c["id"] for c in rows["service"]["cases"]] == [late]
    [entry] = await api.store.audit_log(action="read_cases")
    assert (entry.actor, entry.detail) == ("sup", {"shown": [case["id"], late]})
    # the gauges, once the cases are counted again (after any change, and every minute)
    await api.ok("POST", f"/api/cases/{case['id']}/notes", "sup", {"text": "on it"})
    resp = await api.client.get("/metrics")
    text = await resp.text()
    open_ = {k: v for k, v in by_label(text, "contactcenter_cases_open", "category").items()}
    assert open_["billing"] == 1 and open_["contract"] == 0
    assert "C1001" not in text and JAN not in text
    high = [line for line in text.splitlines()
            if line.startswith("contactcenter_cases_overdue{")
            and 'category="service"' in line and 'severity="high"' in line]  # fmt: skip
    assert [float(h.rsplit(" ", 1)[1]) for h in high] == [1.0]


def test_every_case_route_checks_a_role_and_is_audited() -> None:
    for route in ROUTES:
        assert route.access != "public", route.path
        if route.path in ("/api/cases/policy", "/api/supervisor/cases/summary"):
            continue  # config, and counts: no customer's data
        assert route.audited is not None, route.path
        assert route.audited.reads == (route.method == "GET"), route.path
    assert {s.value for s in CaseStatus} == {
        "open", "escalated", "with_department", "waiting_for_customer", "resolved", "closed",
    }  # fmt: skip


async def test_the_desktop_gets_the_case_policy(api: Api) -> None:
    policy = await api.ok("GET", "/api/cases/policy", "a05")
    assert [c["id"] for c in policy["categories"]] == ["billing", "service", "contract", "conduct"]
    assert {s["id"]: (s["acknowledge_within_hours"], s["resolve_within_hours"])
            for s in policy["severities"]} == {"low": (24, 120), "normal": (4, 48),
                                               "high": (1, 24)}  # fmt: skip
    assert policy["departments"][0] == {"id": "billing_office", "name": "Billing back office"}
    assert (await api.call("GET", "/api/cases/policy"))[0] == 401
