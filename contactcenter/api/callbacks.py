"""Call backs over HTTP: agents book them (for the customer they are talking with, or anyone)
and report how a call they dialled by hand went; supervisors list, cancel and reschedule them
(audited). Listing and showing them is a read of customers' numbers (audited: the ids
shown). Each call back says its status, where it was asked for, its place in the queue
(``arrived``) and, on request, every attempt."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from contactcenter.api.audit import nothing_shown, shown
from contactcenter.api.auth import agent_of, principal
from contactcenter.api.context import CTX
from contactcenter.api.errors import ApiError, read_body
from contactcenter.api.openapi import Audit, Param, Route
from contactcenter.api.schemas import (
    BookCallbackBody,
    Callback,
    CallbackResultBody,
    Ok,
    RescheduleBody,
)
from contactcenter.store.errors import UnknownCallback
from contactcenter.store.records import CallbackAttempt, CallbackRecord


def parse_time(text: str) -> float:
    """An ISO 8601 time with its UTC offset, as wall-clock seconds (422 otherwise)."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid_time", f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        raise ApiError(422, "invalid_time", "give the time with its UTC offset (+01:00, Z)")
    return when.timestamp()


def callback_json(
    rec: CallbackRecord, attempts: list[CallbackAttempt] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rec.id,
        "status": rec.status,
        "queue": rec.queue,
        "number": rec.phone,
        "name": rec.name,
        "customer_id": rec.customer_id,
        "source": rec.source,
        "requested_by": rec.requested_by,
        "contact_id": rec.contact_id,
        "callback_contact_id": rec.callback_contact_id,
        "arrived": rec.arrived_wall,
        "created": rec.created_wall,
        "due": rec.due_wall,
        "ended": rec.ended_wall,
        "attempts": rec.attempts,
        "outcome": rec.outcome,
    }
    if attempts is not None:
        out["attempt_log"] = [
            {
                "attempt": a.attempt,
                "agent_id": a.agent_id,
                "started": a.started_wall,
                "ended": a.ended_wall,
                "outcome": a.outcome,
            }
            for a in attempts
        ]
    return out


def _callback_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "unknown_callback", "unknown call back")
    return int(raw)


async def list_callbacks(request: web.Request) -> web.Response:
    """Open call backs (in their order in the queue); ``?all=1`` adds the latest ended ones.
    An agent sees those of the queues it is a member of."""
    ctx = request.app[CTX]
    p = principal(request)
    records = await ctx.store.open_callbacks()
    if request.query.get("all") == "1":
        ended = [r for r in await ctx.store.callbacks(limit=200) if r.ended_wall is not None]
        records = [*records, *ended]
    if p.role == "agent":
        agent = ctx.site.center.agents.get(p.agent_id or "")
        queues = set(agent.queues) if agent is not None else set()
        records = [r for r in records if r.queue in queues]
    ids = [str(r.id) for r in records if r.phone is not None or r.name is not None]
    if ids:
        shown(request, target="callbacks", shown=ids)
    else:
        nothing_shown(request)
    return web.json_response([callback_json(r) for r in records])


async def get_callback(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    cb_id = _callback_id(request)
    try:
        rec = await ctx.store.callback(cb_id)
    except UnknownCallback:
        raise ApiError(404, "unknown_callback", "unknown call back") from None
    shown(request, parts=[p for p, v in (("number", rec.phone), ("name", rec.name)) if v])
    return web.json_response(callback_json(rec, await ctx.store.attempts(cb_id)))


async def book_callback(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    body = await read_body(request, BookCallbackBody)
    p = principal(request)
    center = ctx.site.center
    if body.queue not in center.queues:
        raise ApiError(422, "unknown_queue", f"queue must be one of: {', '.join(center.queues)}")
    customer = None
    if body.customer_id is not None:
        customer = await ctx.store.customer(body.customer_id)
        if customer is None:
            raise ApiError(404, "unknown_customer", f"unknown customer {body.customer_id!r}")
    arrived = None
    if body.contact_id is not None:
        rec = await ctx.store.contact(body.contact_id)
        if rec is None:
            raise ApiError(404, "unknown_contact", "unknown contact")
        arrived = rec.arrived_wall
    booked = await ctx.site.callbacks.book(
        body.queue,
        body.number,
        source="api",
        tier=customer.tier if customer is not None else None,
        customer_id=customer.id if customer is not None else None,
        verified=customer is not None,  # staff named the customer
        name=body.name or (customer.name if customer is not None else None),
        requested_by=p.username,
        contact_id=body.contact_id,
        arrived_wall=arrived,
        due_wall=parse_time(body.due_at) if body.due_at is not None else None,
    )
    shown(request, target=str(booked.id), queue=booked.queue)
    return web.json_response(callback_json(booked), status=201)


async def cancel_callback(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    rec = await ctx.site.callbacks.cancel(_callback_id(request), principal(request).username)
    return web.json_response(callback_json(rec))


async def reschedule_callback(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    body = await read_body(request, RescheduleBody)
    rec = await ctx.site.callbacks.reschedule(
        _callback_id(request), parse_time(body.due_at), principal(request).username
    )
    return web.json_response(callback_json(rec))


async def callback_result(request: web.Request) -> web.Response:
    """The agent dialled the customer by hand (a site without a voice edge) and says how it
    went: answered -> talking; otherwise the call back is retried or unreachable."""
    ctx = request.app[CTX]
    aid, cid = agent_of(request), request.match_info["id"]
    ctx.site.agents.held_by(aid, cid)
    body = await read_body(request, CallbackResultBody)
    status = await ctx.site.callbacks.attempt_result(cid, body.outcome)
    shown(request, outcome=body.outcome)
    return web.json_response({"ok": True, "status": str(status)})


ROUTES = [
    Route("GET", "/api/callbacks", list_callbacks, "Open call backs in queue order (agents: "
          "those of their queues; audited)", "callbacks", access="user", response=Callback,
          many=True, query=(Param("all", "1: also the latest ended ones", required=False),),
          audit=Audit("read_callbacks", reads=True)),
    Route("POST", "/api/callbacks", book_callback, "Book a call back (audited); the same "
          "number and queue pending is returned as is", "callbacks", access="user",
          body=BookCallbackBody, response=Callback, status=201,
          errors=((404, "The customer or the contact named does not exist"),
                  (409, "Too far ahead, or the queue cannot call back")),
          audit=Audit("callback_book")),
    Route("GET", "/api/callbacks/{id}", get_callback, "A call back with every attempt "
          "(audited)", "callbacks", access="supervisor", response=Callback,
          audit=Audit("read_callback", reads=True)),
    Route("POST", "/api/callbacks/{id}/cancel", cancel_callback, "Cancel a call back that is "
          "not being made (audited)", "callbacks", access="supervisor", response=Callback,
          errors=((409, "Being made now, or over"),),
          audit=Audit("callback_cancel", by="handler")),
    Route("POST", "/api/callbacks/{id}/reschedule", reschedule_callback, "Make a call back at "
          "another time (audited)", "callbacks", access="supervisor", body=RescheduleBody,
          response=Callback, errors=((409, "Being made now, over, or too far ahead"),),
          audit=Audit("callback_reschedule", by="handler")),
    Route("POST", "/api/agent/contacts/{id}/callback-result", callback_result, "How the call "
          "to a call back's customer went (when the agent dialled by hand)", "agent",
          access="agent", body=CallbackResultBody, response=Ok,
          errors=((409, "Not a call back being dialled"),),
          audit=Audit("callback_result")),
]  # fmt: skip
