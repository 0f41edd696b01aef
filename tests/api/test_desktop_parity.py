"""The agent desktop's API on par with the tools agents know: a queue's own wrap-up
dispositions (required, checked against that queue's list), the wrap-up's countdown, time in
the current state from the server's clock, one display name and queue names, and agents'
private notes on a contact shown on the customer's later contacts (with the agent, the
disposition, the CSAT score and a link to the transcript)."""

from __future__ import annotations

import asyncio
from typing import Any

from contactcenter.agents import SlotState
from contactcenter.routing import ContactState
from tests.api.conftest import PASSWORD, Api, frame
from tests.api.signing import signed
from tests.polling import until

BILLING = ["payment-arranged", "refund-issued", "invoice-explained", "resolved", "no-resolution"]
JAN = "C1008"  # Jan Novak in config/customers.yaml


async def offered_and_accepted(api: Api, agent: str, cid: str) -> None:
    assert await until(lambda: api.engine.router.contact(cid).state is ContactState.OFFERED)
    assert api.engine.router.contact(cid).agent == agent
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)


async def test_a_billing_chat_takes_only_its_queues_dispositions(api: Api) -> None:
    await api.store.set_user("a20", PASSWORD, "agent", "a20")  # billing_chat's first tier
    cid, _ = await api.start_chat(topic="billing")
    desk = await api.ws("/api/agent/ws", "a20")
    await frame(desk, "snapshot")
    await api.ok("POST", "/api/agent/login", "a20")
    offer = await frame(desk, "offer", contact_id=cid)
    assert (offer["queue"], offer["queue_name"]) == ("billing_chat", "Billing chat")
    await offered_and_accepted(api, "a20", cid)
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a20")
    assert pop["queue_name"] == "Billing chat"
    assert pop["dispositions"] == BILLING
    assert pop["wrap_up"] is None  # still talking

    await api.ok("POST", f"/api/agent/contacts/{cid}/hangup", "a20")
    done = await frame(desk, "completed", contact_id=cid)
    wrap = done["wrap_up"]
    assert (wrap["queue"], wrap["seconds"], wrap["dispositions"]) == ("billing_chat", 15, BILLING)
    assert 10 < wrap["seconds_left"] <= 15
    await asyncio.sleep(1.1)
    view = await api.ok("GET", "/api/agent/contacts", "a20")
    (held,) = view["contacts"]
    assert held["wrap_up"]["seconds_left"] <= wrap["seconds_left"] - 1  # it counts down

    path = f"/api/agent/contacts/{cid}/wrapup"
    status, body = await api.call("POST", path, "a20", {"disposition": "escalated"})
    assert status == 422, body  # the center's list has it; billing_chat's does not
    assert body["error"]["code"] == "invalid_disposition"
    assert body["error"]["message"] == (
        "disposition must be one of queue billing_chat's: " + ", ".join(BILLING)
    )
    status, body = await api.call("POST", path, "a20", {})
    assert status == 422 and body["error"]["code"] == "invalid_body", body
    status, body = await api.call("POST", path, "a20", {"disposition": "whatever"})
    assert status == 422 and body["error"]["code"] == "invalid_disposition", body
    assert api.engine.router.agent("a20").slot(cid) is SlotState.WRAP_UP  # nothing lost

    await api.ok("POST", path, "a20", {"disposition": "refund-issued"})
    ended = await frame(desk, "wrapup_ended", contact_id=cid)
    assert ended["disposition"] == "refund-issued"
    assert await until(lambda: _disposition(api, cid), timeout=3)
    rec = await api.store.contact(cid)
    assert rec is not None and rec.disposition == "refund-issued"
    await desk.close()


async def _disposition(api: Api, cid: str) -> bool:
    rec = await api.store.contact(cid)
    return rec is not None and rec.disposition is not None


async def test_a_queue_without_a_list_takes_the_centers(api: Api) -> None:
    cid, _ = await api.start_chat(topic="sales")
    await api.ok("POST", "/api/agent/login", "a05")
    await offered_and_accepted(api, "a05", cid)
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a05")
    assert pop["dispositions"] == list(api.engine.center.settings.dispositions)
    await api.ok("POST", f"/api/agent/contacts/{cid}/hangup", "a05")
    status, body = await api.call(
        "POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "refund-issued"}
    )
    assert status == 422 and "queue sales_chat's: resolved, follow-up" in body["error"]["message"]
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "sale"})


async def test_time_in_state_comes_from_the_server(api: Api) -> None:
    me = await api.ok("GET", "/api/me", "a05")
    assert me["away_reason_labels"]["meeting"] == "Team meeting"
    assert "no-answer" not in me["away_reason_labels"]
    state = await api.ok("POST", "/api/agent/login", "a05")
    assert state["state"] == "available" and 0 <= state["since_seconds"] < 1
    await asyncio.sleep(1.2)
    view = await api.ok("GET", "/api/agent/contacts", "a05")
    assert view["state"]["since_seconds"] >= 1.2
    # a new desktop (a reload) is told the same: not since it connected
    desk = await api.ws("/api/agent/ws", "a05")
    snap = await frame(desk, "snapshot")
    assert snap["state"]["since_seconds"] >= 1.2
    away = await api.ok("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "lunch"})
    assert away["since_seconds"] < 1
    pushed = await frame(desk, "state")
    assert pushed["reason"] == "lunch" and pushed["since_seconds"] < 1
    await asyncio.sleep(0.6)
    again = await api.ok("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "break"})
    assert again["since_seconds"] < 0.5  # another reason is another state
    await desk.close()


async def handled(api: Api, agent: str, **body: Any) -> str:
    cid, _ = await api.start_chat(**body)
    await api.ok("POST", "/api/agent/login", agent)
    await offered_and_accepted(api, agent, cid)
    return cid


async def test_private_notes_show_on_the_customers_next_contact(api: Api) -> None:
    first = await handled(api, "a05", name="Jan", identity=signed(api, JAN))
    await api.ok("POST", f"/api/agent/contacts/{first}/messages", "a05", {"text": "Hello Jan"})
    note = await api.ok(
        "POST", f"/api/agent/contacts/{first}/notes", "a05", {"text": "Wants fibre in June"}
    )
    assert (note["agent_id"], note["agent_name"], note["text"]) == (
        "a05", "Elif Fischer", "Wants fibre in June",
    )  # fmt: skip
    pop = await api.ok("GET", f"/api/agent/contacts/{first}", "a05")
    assert [n["text"] for n in pop["private_notes"]] == ["Wants fibre in June"]
    assert all(line["text"] != "Wants fibre in June" for line in pop["transcript"])  # not sent
    # not someone else's to write on, and not empty
    status, _ = await api.call("POST", f"/api/agent/contacts/{first}/notes", "a06", {"text": "x"})
    assert status == 403
    status, body = await api.call("POST", f"/api/agent/contacts/{first}/notes", "a05", {"text": ""})
    assert status == 422 and body["error"]["code"] == "invalid_body"
    await api.ok("POST", f"/api/agent/contacts/{first}/hangup", "a05")
    # still its note to write in wrap-up
    await api.ok("POST", f"/api/agent/contacts/{first}/notes", "a05", {"text": "Sent the offer"})
    await api.ok(
        "POST", f"/api/agent/contacts/{first}/wrapup", "a05",
        {"disposition": "follow-up", "notes": "Call back next week"},
    )  # fmt: skip
    await api.store.add_survey(first, 4, None, api.engine.wall())  # as the widget stores it
    await api.ok("POST", "/api/agent/logout", "a05")
    assert await until(lambda: _disposition(api, first), timeout=3)

    later = await handled(api, "a06", name="Jan N.", identity=signed(api, JAN))
    pop = await api.ok("GET", f"/api/agent/contacts/{later}", "a06")
    assert pop["customer"]["name"] == "Jan Novak" and pop["customer"]["verified"] is True
    (line,) = pop["customer"]["last_contacts"]
    assert {k: line[k] for k in ("contact_id", "queue", "queue_name", "agent_id", "agent_name",
                                 "disposition", "wrap_up_notes", "csat", "transcript")} == {
        "contact_id": first, "queue": "sales_chat", "queue_name": "Sales chat",
        "agent_id": "a05", "agent_name": "Elif Fischer", "disposition": "follow-up",
        "wrap_up_notes": "Call back next week", "csat": 4, "transcript": True,
    }  # fmt: skip
    assert [(n["agent_name"], n["text"]) for n in line["private_notes"]] == [
        ("Elif Fischer", "Wants fibre in June"), ("Elif Fischer", "Sent the offer"),
    ]  # fmt: skip
    # the offer, the tab and the card name Jan the same: the CRM's name, not what was typed
    view = await api.ok("GET", "/api/agent/contacts", "a06")
    assert [c["customer_name"] for c in view["contacts"]] == ["Jan Novak"]

    link = f"/api/agent/contacts/{first}/transcript"  # the history line's link
    past = await api.ok("GET", link, "a06")
    assert [(t["sender"], t["text"]) for t in past["transcript"]] == [("agent", "Hello Jan")]
    assert (await api.call("GET", link, "a05"))[0] == 403  # a05 does not have Jan now
    assert (await api.call("GET", "/api/agent/contacts/nope/transcript", "a06"))[0] == 404
    reads = await api.store.audit_log(action="read_transcript")
    assert [(e.actor, e.target, e.detail) for e in reads] == [
        ("a06", first, {"customer": JAN, "parts": ["transcript"]})
    ]
    writes = await api.store.audit_log(action="add_contact_note")
    assert sorted(e.actor for e in writes) == ["a05", "a05"]


async def test_an_unverified_customers_history_is_not_shown(api: Api) -> None:
    first = await handled(api, "a05", name="Jan", identity=signed(api, JAN))
    await api.ok("POST", f"/api/agent/contacts/{first}/notes", "a05", {"text": "Private"})
    await api.ok("POST", f"/api/agent/contacts/{first}/hangup", "a05")
    await api.ok("POST", f"/api/agent/contacts/{first}/wrapup", "a05", {"disposition": "sale"})
    await api.ok("POST", "/api/agent/logout", "a05")
    claim = await handled(api, "a06", name="Jan", customer_id=JAN)  # typed, not signed
    pop = await api.ok("GET", f"/api/agent/contacts/{claim}", "a06")
    assert pop["customer"]["verified"] is False
    assert pop["customer"]["last_contacts"] == []
    status, _ = await api.call("GET", f"/api/agent/contacts/{first}/transcript", "a06")
    assert status == 403  # a claim is not Jan
