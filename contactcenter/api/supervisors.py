"""Supervisors: queues and agents at a glance, why a contact waits (a read of the contact,
audited), and interventions (set an agent's state, move a contact, change a customer's tier),
each audited by the runtime's ``Supervision`` when it changes something; plus the
wallboard WebSocket, which pushes a snapshot on connect and on changes (at most twice a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from aiohttp import web

from contactcenter.agents import Presence
from contactcenter.api.agents import check_reason, contact_id
from contactcenter.api.auth import principal
from contactcenter.api.context import CTX
from contactcenter.api.errors import ApiError, parse_frame, read_body
from contactcenter.api.openapi import Audit, Route
from contactcenter.api.schemas import (
    AgentRow,
    AgentState,
    Explain,
    MoveBody,
    Ok,
    PingFrame,
    PriorityBody,
    QueueRow,
    SupervisorStateBody,
    TierBody,
    WaitingRow,
)
from contactcenter.api.sockets import open_socket, run_socket, send


async def queues(request: web.Request) -> web.Response:
    return web.json_response(request.app[CTX].site.wallboard.queues())


async def agents(request: web.Request) -> web.Response:
    return web.json_response(request.app[CTX].site.wallboard.agents())


async def explain(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    cid = contact_id(request)
    # The core explains at the time of its last input; bring it to now first (firing any
    # timer due), or a quiet center would report the wait and the step as of that input.
    await ctx.engine.advance()
    ex = ctx.engine.router.explain(cid)
    agents = ctx.engine.center.agents
    return web.json_response(
        {
            "contact_id": ex.contact_id,
            "queue": ex.queue,
            "state": str(ex.state),
            "step": ex.step,
            "steps": len(ctx.engine.center.queues[ex.queue].escalation),
            "wait_seconds": round(ex.wait_seconds, 1),
            "agent": ex.agent,
            "candidates": [
                {**dataclasses.asdict(c), "name": agents[c.agent_id].name} for c in ex.candidates
            ],
        }
    )


async def set_agent_state(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    aid = request.match_info["id"]
    body = await read_body(request, SupervisorStateBody)
    check_reason(ctx, body.state, body.reason)
    agent = ctx.engine.router.agent(aid)  # unknown -> 404
    presence = Presence(body.state)
    if agent.presence is not presence or agent.away_reason != body.reason:
        await ctx.site.supervision.set_presence(
            principal(request).username, aid, presence, body.reason
        )
    a = ctx.engine.router.agent(aid)
    return web.json_response(
        {
            "agent_id": aid,
            "state": str(a.activity),
            "presence": str(a.presence),
            "reason": a.away_reason,
        }
    )


async def move_contact(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    cid = contact_id(request)
    body = await read_body(request, MoveBody)
    await ctx.site.supervision.move_contact(principal(request).username, cid, body.queue)
    return web.json_response({"ok": True})


async def set_priority(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    cid = contact_id(request)
    body = await read_body(request, PriorityBody)
    await ctx.site.supervision.set_priority(principal(request).username, cid, body.priority)
    return web.json_response({"ok": True, "priority": ctx.engine.router.contact(cid).priority})


async def waiting(request: web.Request) -> web.Response:
    """The contacts waiting (or ringing) in each queue, in the order they will be served."""
    return web.json_response(request.app[CTX].site.wallboard.waiting())


async def set_tier(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    customer_id = request.match_info["id"]
    body = await read_body(request, TierBody)
    if body.tier not in ctx.engine.center.tiers:
        raise ApiError(
            422, "unknown_tier", f"tier must be one of: {', '.join(ctx.engine.center.tiers)}"
        )
    if len(customer_id) > 64 or await ctx.store.customer(customer_id) is None:
        raise ApiError(404, "unknown_customer", f"unknown customer {customer_id!r}")
    await ctx.site.supervision.set_customer_tier(
        principal(request).username, customer_id, body.tier
    )
    return web.json_response({"ok": True})


# -- wallboard --------------------------------------------------------------------------------


async def wallboard_ws(request: web.Request) -> web.StreamResponse:
    """Pushes ``snapshot`` frames: on connect, after routing changes (at most two a second)
    and every few seconds so waiting times count up. Accepts ``{"type": "ping"}``."""
    ctx = request.app[CTX]
    changed = asyncio.Event()

    def wanted(n: object) -> bool:
        changed.set()
        return False  # nothing is queued: the pump reads a fresh snapshot

    sub = ctx.engine.hub.subscribe(wanted, size=1)
    ws = await open_socket(request)
    s = ctx.settings

    async def pump() -> None:
        loop = asyncio.get_running_loop()
        while True:
            sent_at = loop.time()
            changed.clear()
            if not await send(ws, ctx.site.wallboard.snapshot()):
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(s.wallboard_refresh):
                    await changed.wait()
            await asyncio.sleep(max(0.0, sent_at + s.wallboard_min_interval - loop.time()))

    async def on_frame(data: str) -> None:
        parse_frame(data, PingFrame)
        await send(ws, {"type": "pong"})

    try:
        await run_socket(request, ws, pump, on_frame)
    finally:
        sub.close()
    return ws


ROUTES = [
    Route("GET", "/api/supervisor/queues", queues, "Per queue: agents by state, waiting, oldest "
          "wait, today's service level, ASA, AHT, abandons, call backs", "supervisor",
          access="supervisor", response=QueueRow, many=True),
    Route("GET", "/api/supervisor/agents", agents, "Every agent's state, contacts and "
          "occupancy", "supervisor", access="supervisor", response=AgentRow, many=True),
    Route("GET", "/api/supervisor/contacts/{id}/explain", explain, "Why a contact is (not) "
          "offered to each agent (audited)", "supervisor", access="supervisor",
          response=Explain, audit=Audit("read_explain", reads=True)),
    Route("PUT", "/api/supervisor/agents/{id}/state", set_agent_state, "Set an agent "
          "available, away or offline (audited)", "supervisor", access="supervisor",
          body=SupervisorStateBody, response=AgentState,
          audit=Audit("agent_state", by="handler")),
    Route("POST", "/api/supervisor/contacts/{id}/move", move_contact, "Move a waiting contact "
          "to another queue of its channel (audited)", "supervisor", access="supervisor",
          body=MoveBody, response=Ok, audit=Audit("move_contact", by="handler")),
    Route("PUT", "/api/supervisor/contacts/{id}/priority", set_priority, "Change a waiting "
          "contact's priority (audited)", "supervisor", access="supervisor", body=PriorityBody,
          response=Ok, audit=Audit("contact_priority", by="handler")),
    Route("GET", "/api/supervisor/waiting", waiting, "Waiting contacts per queue in serving "
          "order (no customer data)", "supervisor", access="supervisor", response=WaitingRow,
          many=True),
    Route("PUT", "/api/supervisor/customers/{id}/tier", set_tier, "Change a customer's tier; "
          "their waiting contacts are re-prioritised (audited)", "supervisor",
          access="supervisor", body=TierBody, response=Ok,
          audit=Audit("customer_tier", by="handler")),
    Route("GET", "/api/wallboard/ws", wallboard_ws, "Wallboard WebSocket: live queue and "
          "agent snapshots", "supervisor", access="supervisor", kind="websocket",
          description=wallboard_ws.__doc__ or ""),
]  # fmt: skip
