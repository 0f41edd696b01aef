"""Supervisors: snapshots, explain, interventions (audited) and the wallboard socket."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Api, frame


async def test_snapshots_and_explain(api: Api) -> None:
    cid, _ = await api.start_chat(topic="billing")
    queues = {q["queue"]: q for q in await api.ok("GET", "/api/supervisor/queues", "sup")}
    assert queues["billing_chat"]["waiting"] == 1
    assert queues["billing_chat"]["service_level_goal"] > 0
    agents = await api.ok("GET", "/api/supervisor/agents", "sup")
    assert {a["agent"] for a in agents} == set(api.engine.center.agents)
    ex = await api.ok("GET", f"/api/supervisor/contacts/{cid}/explain", "sup")
    assert ex["contact_id"] == cid and ex["queue"] == "billing_chat" and ex["state"] == "waiting"
    assert ex["candidates"] and {"agent_id", "eligible", "reason", "detail"} <= set(
        ex["candidates"][0]
    )


async def test_interventions_are_audited(api: Api) -> None:
    cid, _ = await api.start_chat(topic="billing")
    await api.ok("POST", f"/api/supervisor/contacts/{cid}/move", "sup", {"queue": "support_chat"})
    assert api.engine.router.contact(cid).queue == "support_chat"
    status, _ = await api.call(
        "POST", f"/api/supervisor/contacts/{cid}/move", "sup", {"queue": "sales"}
    )
    assert status == 409  # a voice queue

    state = await api.ok(
        "PUT", "/api/supervisor/agents/a06/state", "sup", {"state": "away", "reason": "coaching"}
    )
    assert state["state"] == "away" and state["reason"] == "coaching"
    state = await api.ok("PUT", "/api/supervisor/agents/a06/state", "root", {"state": "offline"})
    assert state["state"] == "offline"

    await api.ok("PUT", "/api/supervisor/customers/C1010/tier", "sup", {"tier": "gold"})
    customer = await api.store.customer("C1010")
    assert customer is not None and customer.tier == "gold"

    log = await api.store.audit_log()
    actions = [(e.actor, e.action, e.target) for e in reversed(log) if e.action != "login"]
    assert actions == [
        ("sup", "move_contact", cid),
        ("sup", "agent_state", "a06"),
        ("root", "agent_state", "a06"),
        ("sup", "customer_tier", "C1010"),
    ]


async def test_wallboard_pushes_on_connect_and_on_change(api: Api) -> None:
    ws = await api.ws("/api/wallboard/ws", "sup")
    first = await frame(ws, "snapshot")
    board = {q["queue"]: q for q in first["queues"]}
    assert board["sales_chat"]["waiting"] == 0
    assert first["agents_by_state"]["offline"] == len(api.engine.center.agents)
    await api.start_chat()
    async with asyncio.timeout(3):
        while True:
            snap = await frame(ws, "snapshot")
            if {q["queue"]: q for q in snap["queues"]}["sales_chat"]["waiting"] == 1:
                break
    await api.ok("POST", "/api/agent/login", "a05")
    async with asyncio.timeout(3):
        while True:
            snap = await frame(ws, "snapshot")
            if snap["agents_by_state"]["ringing"] == 1:
                break
    assert [a["agent"] for a in snap["agents"]] == ["a05"]
    await ws.close()


async def test_wallboard_is_throttled(api: Api) -> None:
    ws = await api.ws("/api/wallboard/ws", "sup")
    await frame(ws, "snapshot")
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(20):
        await api.start_chat()
    pushes = 0
    with_timeout = start + 0.6
    while loop.time() < with_timeout:
        try:
            await frame(ws, "snapshot", timeout=max(0.01, with_timeout - loop.time()))
            pushes += 1
        except TimeoutError:
            break
    elapsed = loop.time() - start
    assert pushes <= elapsed / 0.05 + 2
    await ws.close()


async def test_time_in_state_counts_from_the_last_state_change(api: Api) -> None:
    """An agent's time in the state shown (the wallboard's "For") starts at the last change of
    that state, not at the log-in."""
    await api.ok("POST", "/api/agent/login", "a05")
    await asyncio.sleep(0.8)  # available for 0.8 s ...
    cid, token = await api.start_chat()  # ... then rung at once
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")  # (the customer stays)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    await asyncio.sleep(0.3)  # busy for 0.3 s
    agents = {a["agent"]: a for a in await api.ok("GET", "/api/supervisor/agents", "sup")}
    assert agents["a05"]["state"] == "busy"
    assert 0.3 <= agents["a05"]["since"] < 0.7
    ws = await api.ws("/api/wallboard/ws", "sup")
    snap = await frame(ws, "snapshot")
    (shown,) = [a for a in snap["agents"] if a["agent"] == "a05"]
    assert shown["state"] == "busy" and 0.3 <= shown["since"] < 0.7
    await ws.close()
    await customer.close()
