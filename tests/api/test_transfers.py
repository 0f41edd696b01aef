"""Transfers of chats over HTTP and WebSockets: blind to a queue (with a note), blind to an
agent, warm (consult, then complete or cancel), refusals; and the supervisor's priority."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, frame


async def answered_chat(api: Api, agent: str = "a05", **chat: Any) -> tuple[str, Any, Any]:
    """A sales chat answered by ``agent``: (contact id, customer socket, agent socket)."""
    cid, token = await api.start_chat(**chat)
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    desk = await api.ws("/api/agent/ws", agent)
    await frame(desk, "snapshot")
    await api.ok("POST", "/api/agent/login", agent)
    await frame(desk, "offer", contact_id=cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)
    await frame(customer, "agent_joined")
    return cid, customer, desk


async def test_blind_transfer_to_a_queue_with_a_note(api: Api) -> None:
    cid, customer, a05 = await answered_chat(api)
    await customer.send_json({"type": "message", "text": "my router blinks red"})
    await frame(a05, "message", contact_id=cid)
    quick = await api.ok("GET", "/api/agent/quick-connect?channel=chat", "a05")
    assert "support_chat" in {q["queue"] for q in quick["queues"]}
    assert {a["agent"] for a in quick["agents"]} >= {"a06", "a12"} and "a05" not in {
        a["agent"] for a in quick["agents"]
    }
    await api.ok(
        "POST", f"/api/agent/contacts/{cid}/transfer", "a05",
        {"to_queue": "support_chat", "note": "router fault, customer verified"},
    )  # fmt: skip
    handed = await frame(a05, "handed_off", contact_id=cid)
    assert handed["to_queue"] == "support_chat"
    await frame(customer, "transferred")
    status = await frame(customer, "status")
    assert status["state"] == "waiting"
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "escalated"})

    a12 = await api.ws("/api/agent/ws", "a12")
    await frame(a12, "snapshot")
    await api.ok("POST", "/api/agent/login", "a12")
    await frame(a12, "offer", contact_id=cid)
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a12")
    assert pop["segment"] == 2 and pop["queue"] == "support_chat"
    (earlier,) = pop["earlier_segments"]
    assert (earlier["agent_id"], earlier["end"], earlier["to_queue"], earlier["note"]) == (
        "a05", "transferred", "support_chat", "router fault, customer verified",
    )  # fmt: skip
    assert [ln["text"] for ln in pop["transcript"]] == ["my router blinks red"]
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a12")
    joined = await frame(customer, "agent_joined")
    assert joined["name"] == "Lars"
    await api.ok("POST", f"/api/agent/contacts/{cid}/messages", "a12", {"text": "Hi, support here"})
    line = await frame(customer, "message", sender="agent")
    assert line["text"] == "Hi, support here"

    segs = await api.store.segments(cid)
    assert [(s.segment, s.queue, s.agent_id, s.end_reason, s.disposition) for s in segs] == [
        (1, "sales_chat", "a05", "transferred", "escalated"),
        (2, "support_chat", "a12", None, None),
    ]
    today = api.engine.today
    assert (today.queue("sales_chat").answered, today.queue("sales_chat").handed_off) == (1, 1)
    assert (today.queue("support_chat").offered, today.queue("support_chat").answered) == (0, 0)
    assert today.queue("support_chat").transfers_answered == 1
    text = await (await api.client.get("/metrics")).text()
    assert (
        'contactcenter_contacts_handed_off_total{channel="chat",queue="sales_chat",'
        'to_queue="support_chat"} 1.0'
    ) in text
    for ws in (customer, a05, a12):
        await ws.close()


async def test_warm_transfer_consult_then_complete(api: Api) -> None:
    cid, customer, a05 = await answered_chat(api)
    a06 = await api.ws("/api/agent/ws", "a06")
    await frame(a06, "snapshot")
    await api.ok("POST", "/api/agent/login", "a06")
    await api.ok(
        "POST", f"/api/agent/contacts/{cid}/transfer", "a05",
        {"to_agent": "a06", "warm": True, "note": "wants the 1 Gbit plan"},
    )  # fmt: skip
    offer = await frame(a06, "consult_offer", contact_id=cid)
    assert (offer["from_agent"], offer["channel"]) == ("a05", "chat")
    await frame(a05, "consult_ringing", contact_id=cid)
    await frame(customer, "hold")
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a06")  # the colleague may look
    assert pop["consult"] == "a06" and pop["earlier_segments"] == []
    status, _ = await api.call("POST", f"/api/agent/contacts/{cid}/messages", "a06", {"text": "hi"})
    assert status == 403  # not theirs yet
    await api.ok("POST", f"/api/agent/contacts/{cid}/consult/accept", "a06")
    await frame(a05, "consult_answered", contact_id=cid)
    await frame(a06, "consult_answered", contact_id=cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/consult/complete", "a05")
    await frame(a05, "handed_off", contact_id=cid)
    await frame(a06, "answered", contact_id=cid)
    joined = await frame(customer, "agent_joined")
    assert joined["name"] == "Farid"
    await api.ok("POST", f"/api/agent/contacts/{cid}/messages", "a06", {"text": "Farid here"})
    assert (await frame(customer, "message", sender="agent"))["text"] == "Farid here"
    segs = await api.store.segments(cid)
    assert [(s.agent_id, s.end_reason, s.to_agent, s.note) for s in segs] == [
        ("a05", "transferred", "a06", "wants the 1 Gbit plan"),
        ("a06", None, None, None),
    ]
    for ws in (customer, a05, a06):
        await ws.close()


async def test_a_consult_called_off_or_declined_leaves_the_first_agent_talking(api: Api) -> None:
    cid, customer, a05 = await answered_chat(api)
    a06 = await api.ws("/api/agent/ws", "a06")
    await frame(a06, "snapshot")
    await api.ok("POST", "/api/agent/login", "a06")
    body = {"to_agent": "a06", "warm": True}
    await api.ok("POST", f"/api/agent/contacts/{cid}/transfer", "a05", body)
    await frame(a06, "consult_offer", contact_id=cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/consult/decline", "a06")
    ended = await frame(a05, "consult_ended", contact_id=cid)
    assert ended["reason"] == "declined"
    await frame(customer, "resume")
    await api.ok("POST", f"/api/agent/contacts/{cid}/transfer", "a05", body)
    await api.ok("POST", f"/api/agent/contacts/{cid}/consult/accept", "a06")
    await api.ok("POST", f"/api/agent/contacts/{cid}/consult/cancel", "a05")
    await frame(a06, "consult_ended", contact_id=cid, reason="cancelled")
    await api.ok("POST", f"/api/agent/contacts/{cid}/messages", "a05", {"text": "still me"})
    assert (await frame(customer, "message", sender="agent"))["text"] == "still me"
    assert len(await api.store.segments(cid)) == 1
    for ws in (customer, a05, a06):
        await ws.close()


async def test_transfer_refusals(api: Api) -> None:
    cid, customer, a05 = await answered_chat(api)
    cases = [
        ({"to_agent": "a06"}, 409, "agent_unavailable"),  # a06 is not logged in
        ({"to_queue": "sales", "to_agent": "a06"}, 422, "invalid_body"),
        ({"warm": True, "to_queue": "support_chat"}, 422, "invalid_body"),
        ({"to_queue": "sales"}, 409, "conflict"),  # a voice queue
        ({"to_queue": "nowhere"}, 409, "conflict"),
    ]
    for body, status, code in cases:
        got, data = await api.call("POST", f"/api/agent/contacts/{cid}/transfer", "a05", body)
        assert (got, data["error"]["code"]) == (status, code), (body, data)
    got, _ = await api.call(
        "POST", f"/api/agent/contacts/{cid}/transfer", "a06", {"to_queue": "support_chat"}
    )
    assert got == 403
    got, data = await api.call("POST", f"/api/agent/contacts/{cid}/consult/complete", "a05")
    assert (got, data["error"]["code"]) == (409, "no_consult")
    for ws in (customer, a05):
        await ws.close()


async def test_a_supervisor_changes_a_waiting_contacts_priority(api: Api) -> None:
    first, _ = await api.start_chat(name="First")
    second, _ = await api.start_chat(name="Second")
    order = [r["contact_id"] for r in await api.ok("GET", "/api/supervisor/waiting", "sup")]
    assert order == [first, second]
    done = await api.ok(
        "PUT", f"/api/supervisor/contacts/{second}/priority", "sup", {"priority": 500}
    )
    assert done["priority"] == 500
    rows = await api.ok("GET", "/api/supervisor/waiting", "sup")
    assert [(r["contact_id"], r["place"]) for r in rows] == [(second, 1), (first, 2)]
    assert all("name" not in r for r in rows)  # no customer data
    status, _ = await api.call(
        "PUT", f"/api/supervisor/contacts/{second}/priority", "a05", {"priority": 1}
    )
    assert status == 403
    (entry, *_) = [e for e in await api.store.audit_log() if e.action != "login"]
    assert (entry.actor, entry.action, entry.target, entry.detail) == (
        "sup", "contact_priority", second, {"priority": 500},
    )  # fmt: skip
