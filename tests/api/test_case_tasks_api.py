"""Follow-up tasks as routed work on the real app: a task due now is offered to the case's
owner on the desktop socket (channel ``task``), its card shows the case and what to do, Done
marks it done in the store and ends the contact with wrap-up; escalation makes a supervisor
the owner, an owner hands a case on, and supervisors see the counts per category."""

from __future__ import annotations

import asyncio
import datetime as dt

from contactcenter.events import CaseEvent
from contactcenter.routing import ContactState
from contactcenter.store.cases import case as stored_case
from tests.api.conftest import Api, frame
from tests.api.signing import signed
from tests.api.test_cases_api import chat_with, opened

JAN = "C1008"


async def test_a_due_task_rings_its_owner_and_done_ends_it_with_wrap_up(api: Api) -> None:
    chat, case = await opened(api)  # a05 owns it, and is in the chat with Jan
    await api.ok("POST", f"/api/agent/contacts/{chat}/hangup", "a05")
    await api.ok("POST", f"/api/agent/contacts/{chat}/wrapup", "a05", {"disposition": "resolved"})
    ws = await api.ws("/api/agent/ws", "a05")
    now = dt.datetime.now(dt.UTC).isoformat()
    await api.ok("POST", f"/api/cases/{case['id']}/tasks", "a05", {"title": "refund Jan",
                                                                   "due_at": now})  # fmt: skip
    offer = await frame(ws, "offer", channel="task")
    cid = offer["contact_id"]
    assert (offer["queue"], offer["queue_name"]) == ("case_tasks", "Case follow-ups")
    card = await api.ok("GET", f"/api/agent/contacts/{cid}/task", "a05")
    assert {k: card[k] for k in ("case_id", "title", "category_name", "status", "owner")} == {
        "case_id": case["id"], "title": "refund Jan", "category_name": "Billing dispute",
        "status": "open", "owner": "a05",
    }  # fmt: skip
    assert (await api.call("GET", f"/api/agent/contacts/{cid}/task", "a06"))[0] == 403
    status, data = await api.call("POST", f"/api/agent/contacts/{cid}/task/done", "a05")
    assert (status, data["error"]["code"]) == (409, "conflict")  # accept it first
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    status, data = await api.call("POST", f"/api/agent/contacts/{cid}/hangup", "a05")
    assert (status, data["error"]["code"]) == (409, "task_ends_with_done")
    got = await api.ok("GET", f"/api/cases/{case['id']}", "a05")
    assert got["tasks"][0]["done"] is None
    assert (await api.ok("POST", f"/api/agent/contacts/{cid}/task/done", "a05"))["case_id"] == (
        case["id"]
    )
    await frame(ws, "completed", contact_id=cid)  # wrap-up starts
    rec = await stored_case(api.store, case["id"])
    assert (rec.tasks[0].done_by, rec.tasks[0].contact_id) == ("a05", cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})
    await frame(ws, "wrapup_ended", contact_id=cid)
    contact = await api.store.contact(cid)
    assert contact is not None and (contact.channel, contact.disposition) == ("task", "resolved")
    await ws.close()


async def test_escalation_makes_a_supervisor_the_owner_and_supervisors_see_counts(
    api: Api,
) -> None:
    seen: list[CaseEvent] = []
    api.site.case_tasks.listen(seen.append)
    _, case = await opened(api)
    base = f"/api/cases/{case['id']}"
    status, data = await api.call("POST", f"{base}/escalate", "a05", {"to": "a06"})
    assert (status, data["error"]["code"]) == (422, "not_a_supervisor")
    moved = await api.ok("POST", f"{base}/escalate", "a05", {"to": "sup"})
    assert (moved["status"], moved["owner"]) == ("escalated", "sup")
    assert [(h["action"], h.get("from"), h.get("to")) for h in moved["history"][1:]] == [
        ("owner_changed", "a05", "sup"), ("moved", "open", None),
    ]  # fmt: skip
    summary = await api.ok("GET", "/api/supervisor/cases/summary", "sup")
    billing = next(row for row in summary if row["category"] == "billing")
    assert billing == {"category": "billing", "name": "Billing dispute", "open": 1,
                       "overdue": 0, "escalated": 1}  # fmt: skip
    assert (await api.call("GET", "/api/supervisor/cases/summary", "a05"))[0] == 403
    # the supervisor hands it back to an agent; the former owner may no longer do so
    handed = await api.ok("PUT", f"{base}/owner", "sup", {"owner": "a06"})
    assert handed["owner"] == "a06"
    status, data = await api.call("PUT", f"{base}/owner", "sup", {"owner": "a06"})
    assert (status, data["error"]["code"]) == (409, "same_owner")
    status, data = await api.call("PUT", f"{base}/owner", "sup", {"owner": "nobody"})
    assert (status, data["error"]["code"]) == (422, "unknown_user")
    assert (await api.call("PUT", f"{base}/owner", "a12", {"owner": "a12"}))[0] == 403
    assert [(type(e).__name__, getattr(e, "owner", None)) for e in seen] == [
        ("CaseOpened", "a05"), ("CaseOwnerChanged", "sup"), ("CaseEscalated", "sup"),
        ("CaseOwnerChanged", "a06"),
    ]  # fmt: skip


async def test_a_task_whose_owner_is_no_agent_goes_to_the_team_at_once(api: Api) -> None:
    chat = await chat_with(api, "a05", name="Jan", identity=signed(api, JAN))
    body = {"category": "billing", "severity": "low", "description": "late fee"}
    case = await api.ok("POST", f"/api/agent/contacts/{chat}/cases", "a05", body)
    await api.ok("PUT", f"/api/cases/{case['id']}/owner", "sup", {"owner": "sup"})  # no agent
    now = dt.datetime.now(dt.UTC).isoformat()
    await api.ok("POST", f"/api/cases/{case['id']}/tasks", "sup", {"title": "x", "due_at": now})
    router = api.engine.router
    async with asyncio.timeout(5):
        while not [c for c in router.contacts.values() if c.channel == "task"]:
            await asyncio.sleep(0.02)
    [task] = [c for c in router.contacts.values() if c.channel == "task"]
    view = router.contact(task.id)
    assert (view.state, view.step, task.preferred_agent) == (ContactState.WAITING, 1, None)
