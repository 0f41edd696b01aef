"""Call backs over HTTP: roles, booking (also from a chat), listing, cancel and reschedule, the
agent's result of a call dialled by hand, and bad input."""

from __future__ import annotations

import datetime as dt

from contactcenter.routing import ContactState
from tests.api.conftest import Api, frame
from tests.polling import until


def iso(seconds_from_now: float) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)
    return when.isoformat()


async def test_roles_and_the_life_of_a_booked_call_back(api: Api) -> None:
    # an agent books one for later; a supervisor sees it, moves it, cancels it
    booked = await api.ok(
        "POST", "/api/callbacks", "a05",
        {"queue": "sales", "number": "+4930555010123", "name": "Jan", "due_at": iso(3600)},
    )  # fmt: skip
    assert (booked["status"], booked["queue"], booked["source"], booked["requested_by"]) == (
        "scheduled", "sales", "api", "a05",
    )  # fmt: skip
    assert booked["due"] > booked["created"] + 3500
    listed = await api.ok("GET", "/api/callbacks", "a05")  # a05 is in sales
    assert [c["id"] for c in listed] == [booked["id"]]
    assert await api.ok("GET", "/api/callbacks", "sup") == listed
    status, _ = await api.call("POST", f"/api/callbacks/{booked['id']}/cancel", "a05")
    assert status == 403  # supervisors only
    moved = await api.ok(
        "POST", f"/api/callbacks/{booked['id']}/reschedule", "sup", {"due_at": iso(7200)}
    )
    assert moved["due"] > booked["due"] + 3000
    detail = await api.ok("GET", f"/api/callbacks/{booked['id']}", "sup")
    assert detail["attempt_log"] == []
    gone = await api.ok("POST", f"/api/callbacks/{booked['id']}/cancel", "sup")
    assert (gone["status"], gone["outcome"]) == ("cancelled", "cancelled")
    status, body = await api.call("POST", f"/api/callbacks/{booked['id']}/cancel", "sup")
    assert (status, body["error"]["code"]) == (409, "callback_closed")
    assert await api.ok("GET", "/api/callbacks", "sup") == []
    ended = await api.ok("GET", "/api/callbacks?all=1", "sup")
    assert [c["status"] for c in ended] == ["cancelled"]
    actions = [e.action for e in await api.store.audit_log(limit=20)]
    changes = [a for a in actions if not a.startswith("read_") and a != "login"]
    assert changes[:3] == ["callback_cancel", "callback_reschedule", "callback_book"]
    assert actions.count("read_callbacks") == 3  # the lists that showed it; the empty one not


async def test_bad_call_back_requests(api: Api) -> None:
    cases = [
        ({"queue": "sales", "number": "call me"}, 422),
        ({"queue": "sales", "number": "+4930555"}, 201),
        ({"queue": "nowhere", "number": "+4930555"}, 422),
        ({"queue": "sales_chat", "number": "+4930555"}, 409),  # no call-back queue
        ({"queue": "sales", "number": "+4930556", "due_at": "tomorrow"}, 422),
        ({"queue": "sales", "number": "+4930556", "due_at": "2030-01-01T10:00:00"}, 422),
        ({"queue": "sales", "number": "+4930556", "due_at": iso(90 * 86400)}, 409),
        ({"queue": "sales", "number": "+4930556", "customer_id": "C404"}, 404),
    ]
    for body, expected in cases:
        status, data = await api.call("POST", "/api/callbacks", "sup", body)
        assert status == expected, (body, status, data)
    status, _ = await api.call("POST", "/api/callbacks", None, {"queue": "sales", "number": "1234"})
    assert status == 401
    status, _ = await api.call("GET", "/api/callbacks/abc", "sup")
    assert status == 404


async def test_an_agent_dials_by_hand_and_reports_the_result(api: Api) -> None:
    """No voice edge on this site: the agent takes the call back on the desktop."""
    booked = await api.ok("POST", "/api/callbacks", "sup", {"queue": "sales", "number": "+49301"})
    cid = booked["callback_contact_id"]
    router = api.engine.router
    await api.ok("POST", "/api/agent/login", "a05")
    assert await until(lambda: cid in router.contacts and router.contact(cid).agent == "a05")
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a05")
    assert pop["callback"]["number"] == "+49301" and pop["callback"]["attempt"] == 1
    status, data = await api.call(
        "POST", f"/api/agent/contacts/{cid}/callback-result", "a06", {"outcome": "answered"}
    )
    assert status == 403, data  # not a06's contact
    done = await api.ok(
        "POST", f"/api/agent/contacts/{cid}/callback-result", "a05", {"outcome": "answered"}
    )
    assert done["status"] == "connected"
    await api.ok("POST", f"/api/agent/contacts/{cid}/hangup", "a05")
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})
    detail = await api.ok("GET", f"/api/callbacks/{booked['id']}", "sup")
    assert (detail["status"], detail["attempts"]) == ("completed", 1)
    assert [a["outcome"] for a in detail["attempt_log"]] == ["answered"]


async def test_a_waiting_chat_customer_asks_to_be_called_back(api: Api) -> None:
    cid, token = await api.start_chat(topic="support")
    ws = await api.client.ws_connect(f"/api/chat/{cid}/ws?token={token}")
    await frame(ws, "status")
    await ws.send_json({"type": "callback", "number": "not a number"})
    err = await frame(ws, "error")
    assert err["error"]["code"] == "invalid_frame"
    await ws.send_json({"type": "callback", "number": "+4930555010124", "at": iso(1800)})
    ended = await frame(ws, "ended")
    assert ended["by"] == "callback"
    (booked,) = await api.store.open_callbacks()
    assert (booked.queue, booked.phone, booked.source, booked.contact_id) == (
        "support", "+4930555010124", "chat", cid,
    )  # fmt: skip
    assert booked.due_wall > booked.created_wall + 1700
    rec = await api.store.contact(cid)
    assert rec is not None and (rec.outcome, rec.removed_reason) == (
        "callback",
        "callback_accepted",
    )
    assert booked.arrived_wall == rec.arrived_wall
    await ws.close()


async def test_a_chat_with_an_agent_cannot_turn_into_a_call_back(api: Api) -> None:
    cid, token = await api.start_chat(topic="sales")
    await api.ok("POST", "/api/agent/login", "a05")
    router = api.engine.router
    assert await until(lambda: router.contact(cid).state is ContactState.OFFERED)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    ws = await api.client.ws_connect(f"/api/chat/{cid}/ws?token={token}")
    await ws.send_json({"type": "callback", "number": "+4930555010125"})
    err = await frame(ws, "error")
    assert err["error"]["code"] == "with_agent"
    await ws.close()
