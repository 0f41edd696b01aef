"""A whole chat over HTTP and WebSockets: customer, agent, wrap-up, and what the store kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from contactcenter.api import Settings, build_app
from contactcenter.config import Center
from contactcenter.runtime import Site
from contactcenter.store import Store
from tests.api.conftest import Api, frame
from tests.api.signing import signed


async def test_full_chat_flow(api: Api) -> None:
    # the customer starts a chat (a known customer, verified: the site signed the id) and waits
    cid, token = await api.start_chat(name="Jan Novak", identity=signed(api, "C1008"))
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    status = await frame(customer, "status")
    assert status["state"] == "waiting" and status["position"] == 1

    # an agent logs in, opens the desktop socket and goes available: the offer is pushed
    await api.login("a05")
    agent = await api.ws("/api/agent/ws", "a05")
    snap = await frame(agent, "snapshot")
    assert snap["state"]["state"] == "offline" and snap["offer"] is None
    state = await api.ok("POST", "/api/agent/login", "a05")
    assert state["state"] in ("available", "ringing")
    offer = await frame(agent, "offer", contact_id=cid)
    assert offer["queue"] == "sales_chat" and offer["customer_name"] == "Jan Novak"
    assert 0 < offer["ring_seconds_left"] <= offer["ring_seconds"]

    # screen-pop while it rings: the customer card from the CRM
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a05")
    assert pop["customer"]["customer_id"] == "C1008"
    assert pop["customer"]["name"] == "Jan Novak" and pop["customer"]["tier"] == "standard"

    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    joined = await frame(customer, "agent_joined")
    assert joined["name"] == "Elif"
    await frame(agent, "answered", contact_id=cid)

    # messages both ways
    await customer.send_json({"type": "message", "text": "Hello, I want a faster plan"})
    line = await frame(agent, "message", contact_id=cid)
    assert line["sender"] == "customer" and line["text"] == "Hello, I want a faster plan"
    await api.ok("POST", f"/api/agent/contacts/{cid}/messages", "a05", {"text": "Sure, one sec"})
    reply = await frame(customer, "message", sender="agent")
    assert reply["text"] == "Sure, one sec"

    listing = await api.ok("GET", "/api/agent/contacts", "a05")
    assert [c["contact_id"] for c in listing["contacts"]] == [cid]
    assert listing["contacts"][0]["state"] == "active"

    # the customer ends the chat; the agent wraps up
    await customer.send_json({"type": "end"})
    ended = await frame(customer, "ended")
    assert ended["by"] == "customer"
    await frame(agent, "completed", contact_id=cid)
    closed = await frame(agent, "chat_closed", contact_id=cid)
    assert closed["by"] == "customer"
    await customer.close()
    await api.ok(
        "POST",
        f"/api/agent/contacts/{cid}/wrapup",
        "a05",
        {"disposition": "sale", "notes": "upgraded to 500 Mbit"},
    )
    done = await frame(agent, "wrapup_ended", contact_id=cid)
    assert done["disposition"] == "sale"
    await agent.close()

    # the contact record: wait, talk, disposition; the transcript
    await api.site.chat.transcripts.flush()
    rec = await api.store.contact_record(cid)
    assert rec is not None
    assert rec.outcome == "completed" and rec.agent_id == "a05"
    assert rec.wait_seconds is not None and rec.wait_seconds >= 0
    assert rec.talk_seconds is not None and rec.talk_seconds >= 0
    assert rec.disposition == "sale" and rec.disposition_notes == "upgraded to 500 Mbit"
    lines = await api.store.transcript(cid)
    assert [(m.sender, m.text) for m in lines] == [
        ("customer", "Hello, I want a faster plan"),
        ("agent", "Sure, one sec"),
    ]
    queues = {q["queue"]: q for q in await api.ok("GET", "/api/supervisor/queues", "sup")}
    assert queues["sales_chat"]["answered"] == 1


async def test_agent_hangs_up_first(api: Api) -> None:
    await api.login("a05")
    await api.ok("POST", "/api/agent/login", "a05")
    cid, token = await api.start_chat()
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    await frame(customer, "agent_joined")
    await api.ok("POST", f"/api/agent/contacts/{cid}/hangup", "a05")
    ended = await frame(customer, "ended")
    assert ended["by"] == "agent"
    await customer.close()
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})
    rec = await api.store.contact_record(cid)
    assert rec is not None and rec.disposition == "resolved"


async def test_leaving_while_waiting_is_an_abandon(api: Api) -> None:
    cid, token = await api.start_chat()
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    await customer.close()  # gone, and does not come back within the grace period
    for _ in range(40):
        rec = await api.store.contact_record(cid)
        if rec is not None and rec.outcome == "abandoned":
            break
        await asyncio.sleep(0.05)
    assert rec is not None and rec.outcome == "abandoned"
    assert cid not in api.engine.router.contacts


async def test_reconnect_within_grace_keeps_the_chat(api: Api) -> None:
    cid, token = await api.start_chat()
    first = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await first.send_json({"type": "message", "text": "anyone there?"})
    await asyncio.sleep(0.1)
    await first.close()
    second = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(second, "status")
    history = await frame(second, "history")
    assert [m["text"] for m in history["messages"]] == ["anyone there?"]
    await asyncio.sleep(0.5)  # past the grace period: still waiting
    assert cid in api.engine.router.contacts
    await second.close()


async def test_a_waiting_chat_survives_a_restart(tmp_path: Path, center: Center) -> None:
    db = tmp_path / "cc.sqlite3"
    secret = b"k" * 32

    async def start() -> tuple[Store, Site, TestClient[web.Request, web.Application]]:
        store = await Store.open(db)
        site = Site(center, store)
        app = build_app(site, store, None, chat_secret=secret, settings=Settings(chat_grace=0.3))
        client = TestClient(TestServer(app))
        await client.start_server()
        return store, site, client

    store, site, client = await start()
    resp = await client.post("/api/chat", json={"name": "Ann", "topic": "billing"})
    chat = await resp.json()
    ws = await client.ws_connect(f"/api/chat/{chat['contact_id']}/ws?token={chat['token']}")
    await ws.send_json({"type": "message", "text": "before the restart"})
    await frame(ws, "message")
    await client.close()  # the server goes away; the customer has not left
    await store.close()

    store, site, client = await start()
    try:
        assert site.engine.router.contact(chat["contact_id"]).state == "waiting"
        ws = await client.ws_connect(f"/api/chat/{chat['contact_id']}/ws?token={chat['token']}")
        status = await frame(ws, "status")
        assert status["state"] == "waiting" and status["position"] == 1
        history = await frame(ws, "history")
        assert [m["text"] for m in history["messages"]] == ["before the restart"]
        await asyncio.sleep(0.5)  # reconnected within the grace period: still waiting
        assert chat["contact_id"] in site.engine.router.contacts
        await ws.close()
    finally:
        await client.close()
        await store.close()
