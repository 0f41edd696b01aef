"""Customers' web chat (public, no login): start a chat, then talk over a WebSocket.

``POST /api/chat`` takes the chat in, with the identity the site's backend signed, if any
(``api/chat_identity.py``): through the chat's menu where the center has one
(``runtime/chat_front_door.py``: hours, menu, automatic replies, then the queue), else
straight to its topic's queue (in the store before the answer). It returns the contact id with
a token: an HMAC of the id under the server's secret, so only the customer who
started the chat can open its socket, also after a restart. A waiting customer whose socket
stays closed for the grace period has left (an abandon); one who ends the chat while talking
ends the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from contactcenter.api.callbacks import parse_time
from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError, parse_frame, read_body
from contactcenter.api.openapi import Param, Route
from contactcenter.api.ratelimit import client_address
from contactcenter.api.schemas import (
    ChatStarted,
    CustomerCallbackFrame,
    CustomerEndFrame,
    CustomerFrame,
    CustomerMessageFrame,
    StartChatBody,
    Topics,
)
from contactcenter.api.sockets import open_socket, run_socket, send
from contactcenter.events import (
    CallbackOffered,
    ConsultEnded,
    ConsultOffered,
    ContactAnswered,
    ContactHandedOff,
    ContactResumed,
    ContactTransferred,
)
from contactcenter.identity import SignedIdentity
from contactcenter.routing import ContactState, RoutingError, UnknownContact
from contactcenter.runtime import ChatClosed
from contactcenter.runtime.errors import Refused
from contactcenter.runtime.hub import Lagged
from contactcenter.runtime.transcripts import ChatLine
from contactcenter.runtime.waiting import position

log = logging.getLogger(__name__)


def chat_token(secret: bytes, contact_id: str) -> str:
    return hmac.new(secret, contact_id.encode(), hashlib.sha256).hexdigest()


def agent_display_name(ctx: Ctx, agent_id: str | None) -> str:
    cfg = ctx.engine.center.agents.get(agent_id or "")
    if cfg is None or not cfg.name:
        return "An agent"
    return cfg.name.split()[0]


async def topics(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    chat_topics = list(ctx.engine.center.settings.chat_topics)
    return web.json_response({"topics": chat_topics, "menu": ctx.site.front_door.runs})


async def start_chat(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    ip = client_address(request.remote)
    wait = ctx.chat_limiter.retry_after(ip)
    if wait is not None:
        raise ApiError(
            429, "too_many_chats", "too many new chats from this address", retry_after=wait
        )
    body = await read_body(request, StartChatBody)
    topics = ctx.engine.center.settings.chat_topics
    door = ctx.site.front_door
    if body.topic is None and not door.runs:
        raise ApiError(422, "topic_required", f"topic must be one of: {', '.join(topics)}")
    if body.topic is not None and body.topic not in topics:
        raise ApiError(422, "unknown_topic", f"topic must be one of: {', '.join(topics)}")
    ctx.chat_limiter.hit(ip)  # failed identities count too
    token = body.identity
    identity = ctx.chat_identity.admit(
        SignedIdentity(token.customer_id, token.expires, token.kid, token.signature)
        if token is not None
        else None,
        body.customer_id,
        ip,
    )
    if door.runs:
        opened = await door.open(name=body.name, topic=body.topic, identity=identity)
        cid, state, lines = opened.contact_id, opened.state, list(opened.lines)
    else:
        assert body.topic is not None
        cid = await ctx.site.chat.start_chat(name=body.name, topic=body.topic, identity=identity)
        state, lines = "queued", []
    if state != "ended":
        _watch_absence(ctx, cid)
    return web.json_response(
        {"contact_id": cid, "token": chat_token(ctx.chat_secret, cid), "state": state,
         "lines": lines},
        status=201,
    )  # fmt: skip


# -- presence of the customer -----------------------------------------------------------------


def watch_restored(ctx: Ctx) -> int:
    """After a restart, the customers of open chats have the grace period to reconnect."""
    chats = [c.id for c in ctx.engine.router.contacts.values() if c.channel == "chat"]
    chats += list(ctx.site.chat.resumable)
    for cid in chats:
        if ctx.customer_sockets.get(cid, 0) == 0:
            _watch_absence(ctx, cid)
    return len(chats)


def _watch_absence(ctx: Ctx, cid: str) -> None:
    """Unless a socket of the chat opens within the grace period, the customer has left."""
    tasks = ctx.absence
    old = tasks.pop(cid, None)
    if old is not None:
        old.cancel()

    async def later() -> None:
        await asyncio.sleep(ctx.settings.chat_grace)
        tasks.pop(cid, None)
        if ctx.customer_sockets.get(cid, 0) == 0:
            await _customer_gone(ctx, cid)

    tasks[cid] = ctx.spawn(later(), name=f"chat-grace-{cid}")


def _stop_watching(ctx: Ctx, cid: str) -> None:
    task = ctx.absence.pop(cid, None)
    if task is not None:
        task.cancel()


async def _customer_gone(ctx: Ctx, cid: str) -> None:
    if ctx.site.front_door.in_menu(cid):
        await ctx.site.front_door.customer_left(cid)
        return
    try:
        c = ctx.engine.router.contacts.get(cid)
        if ctx.site.chat.is_open(cid) and (c is None or c.state is not ContactState.WRAP_UP):
            await ctx.site.chat.customer_left(cid)
    except RoutingError:
        pass  # already over
    except Exception:
        log.exception("closing chat %s after the customer left failed", cid)


# -- the customer's socket --------------------------------------------------------------------


def _status(ctx: Ctx, cid: str) -> dict[str, Any]:
    if ctx.site.front_door.in_menu(cid):
        return {"type": "status", "state": "menu", "position": None,
                "expected_wait_seconds": None}  # fmt: skip
    resumable = ctx.site.chat.resumable.get(cid)
    if resumable is not None:  # its agent is expected back after a restart
        return {"type": "status", "state": "resuming", "position": 0,
                "expected_wait_seconds": None,
                "agent": agent_display_name(ctx, resumable.agent_id)}  # fmt: skip
    try:
        view = ctx.engine.router.contact(cid)
    except UnknownContact:
        return {"type": "ended", "by": "center"}
    place, expected = position(ctx.engine, cid)
    frame: dict[str, Any] = {
        "type": "status",
        "state": str(view.state),
        "position": place,
        "expected_wait_seconds": round(expected) if expected is not None else None,
    }
    if view.state in (ContactState.ACTIVE, ContactState.WRAP_UP):
        frame["agent"] = agent_display_name(ctx, view.agent)
    return frame


async def chat_ws(request: web.Request) -> web.StreamResponse:
    """Frames in: ``{"type": "message", "text"}``, ``{"type": "end"}``, ``{"type":
    "callback", "number", "at"?}`` (call me back instead, keeping my place; ``at``: not
    before this ISO 8601 time), ``{"type": "ping"}``.
    While the chat is in its menu (``status`` state ``menu``), a message answers the menu and
    its lines come as messages of sender ``system``.
    Frames out: ``status`` (state, position, expected wait), ``history``, ``agent_joined``
    (name), ``message`` (sender, text), ``callback_offer`` (the queue offers a call back),
    ``transferred`` (to another queue or agent: ``status`` and ``agent_joined`` follow),
    ``hold`` / ``resume`` (the agent consults a colleague),
    ``ended`` (by: customer, agent, center, callback: the call back is booked, or menu: the
    chat's menu ended it, closed or answered by an automatic reply),
    ``error`` (a bad frame, or a message over a limit: ``too_fast`` with
    ``retry_after_seconds``, ``line_too_long``, ``transcript_full``; the socket stays open).
    A chat has a few sockets at most (429 ``too_many_sockets``)."""
    ctx = request.app[CTX]
    engine = ctx.engine
    limits = ctx.settings.limits
    cid = request.match_info["id"]
    token = request.query.get("token", "")
    if not hmac.compare_digest(token.encode(), chat_token(ctx.chat_secret, cid).encode()):
        raise ApiError(403, "bad_token", "this chat's token is missing or wrong")
    door = ctx.site.front_door
    known = ctx.site.chat.is_open(cid) or door.in_menu(cid)
    if not known and await ctx.store.contact(cid) is None:
        raise ApiError(404, "unknown_contact", "unknown chat")

    def waiting_in() -> str | None:
        mine = engine.router.contacts.get(cid)
        return mine.queue if mine is not None and mine.state is ContactState.WAITING else None

    watched = waiting_in()

    def wanted(n: object) -> bool:
        # Every change of this contact's state comes with a notice about it, so this is where
        # the socket starts or stops watching its queue: while it waits, another contact of
        # its queue moving may change its position; once offered or talking, the queue's
        # traffic is none of its business.
        nonlocal watched
        queue = waiting_in()
        if queue != watched:
            if watched is not None:
                sub.unwatch(("queue", watched))
            if queue is not None:
                sub.watch(("queue", queue))
            watched = queue
        if getattr(n, "contact_id", None) == cid:
            return True
        return queue is not None and getattr(n, "queue", None) == queue

    if ctx.customer_sockets.get(cid, 0) >= limits.chat_sockets:
        _count(ctx, "chat_sockets", connection=True)
        raise ApiError(
            429, "too_many_sockets", f"this chat has {limits.chat_sockets} sockets open already"
        )
    address = client_address(request.remote)
    keys = [("contact", cid)] + ([("queue", watched)] if watched is not None else [])
    sub = engine.hub.subscribe(wanted, size=200, keys=keys)
    ctx.customer_sockets[cid] = ctx.customer_sockets.get(cid, 0) + 1  # before any await: a cap
    try:
        ws = await open_socket(request)
    except BaseException:
        sub.close()
        _socket_closed(ctx, cid)
        raise
    _stop_watching(ctx, cid)
    ended = False

    async def pump() -> None:
        nonlocal ended
        status = _status(ctx, cid)
        await send(ws, status)
        if status["type"] == "ended":
            ended = True
            return
        with contextlib.suppress(Exception):
            await ctx.site.chat.transcripts.flush()
        lines = door.lines(cid) or await ctx.store.transcript(cid)
        if lines:
            await send(
                ws,
                {
                    "type": "history",
                    "messages": [
                        {"sender": ln.sender, "text": ln.text, "at": ln.wall_time} for ln in lines
                    ],
                },
            )
        last_place = (status.get("position"), status.get("expected_wait_seconds"))
        async for n in sub:
            if isinstance(n, ChatLine):
                out: dict[str, Any] | None = {
                    "type": "message",
                    "sender": n.sender,
                    "text": n.text,
                    "at": n.wall_time,
                }
            elif isinstance(n, ChatClosed):
                ended = True
                await send(ws, {"type": "ended", "by": n.by})
                return
            elif isinstance(n, ContactAnswered | ContactResumed) and n.contact_id == cid:
                out = {"type": "agent_joined", "name": agent_display_name(ctx, n.agent_id)}
            elif isinstance(n, CallbackOffered) and n.contact_id == cid:
                out = {"type": "callback_offer"}
            elif isinstance(n, ContactHandedOff) and n.contact_id == cid:
                out = {"type": "transferred"}  # the status that follows says where it waits
            elif isinstance(n, ConsultOffered | ConsultEnded) and n.contact_id == cid:
                hold = isinstance(n, ConsultOffered)
                out = {"type": "hold" if hold else "resume"}
            elif isinstance(n, Lagged | ContactTransferred) or hasattr(n, "queue"):
                if cid not in engine.router.contacts:
                    continue  # ChatClosed (or nothing more) follows
                status = _status(ctx, cid)
                place = (status.get("position"), status.get("expected_wait_seconds"))
                if place == last_place:
                    continue
                last_place = place
                out = status
            else:
                out = None
            if out is not None and not await send(ws, out):
                return

    async def on_frame(data: str) -> bool:
        nonlocal ended
        frame = parse_frame(data, CustomerFrame).root
        if isinstance(frame, CustomerMessageFrame):
            in_menu = door.in_menu(cid)
            if not in_menu and not ctx.site.chat.is_open(cid):
                raise ApiError(409, "chat_over", "this chat has ended")
            refused = ctx.lines.take(cid, address, frame.text)
            if refused is not None:
                _count(ctx, refused.reason)
                raise ApiError(429, refused.code, refused.message, retry_after=refused.retry_after)
            if in_menu:
                await door.reply(cid, frame.text)
                return False
            try:
                await ctx.site.chat.customer_says(cid, frame.text, quota=limits.transcript_bytes)
            except Refused as exc:
                if exc.code == "transcript_full":
                    _count(ctx, "transcript_quota")
                raise
            return False
        if isinstance(frame, CustomerCallbackFrame):
            due = parse_time(frame.at) if frame.at is not None else None
            await ctx.site.chat.request_callback(cid, frame.number, due)
            return False  # the chat closes (by "callback") once the call back is stored
        if isinstance(frame, CustomerEndFrame):
            ended = True
            if door.in_menu(cid):
                await door.customer_left(cid)
                await send(ws, {"type": "ended", "by": "customer"})
                return True
            with contextlib.suppress(RoutingError):
                view = engine.router.contacts.get(cid)
                if view is None or view.state is not ContactState.WRAP_UP:
                    await ctx.site.chat.customer_left(cid)
            await send(ws, {"type": "ended", "by": "customer"})
            return True
        await send(ws, {"type": "pong"})
        return False

    try:
        await run_socket(request, ws, pump, on_frame)
    finally:
        sub.close()
        alone = _socket_closed(ctx, cid) == 0
        going_on = ctx.site.chat.is_open(cid) or door.in_menu(cid)
        if alone and not ended and ctx.ready and going_on:
            _watch_absence(ctx, cid)
    return ws


def _socket_closed(ctx: Ctx, cid: str) -> int:
    """One socket of the chat fewer; the sockets left."""
    left = ctx.customer_sockets.get(cid, 1) - 1
    if left > 0:
        ctx.customer_sockets[cid] = left
    else:
        ctx.customer_sockets.pop(cid, None)
    return left


def _count(ctx: Ctx, reason: str, *, connection: bool = False) -> None:
    """A refused line (or, ``connection``, a refused socket) in the metrics, by reason."""
    if ctx.metrics is None:
        return
    if connection:
        ctx.metrics.connection_refused(reason)
    else:
        ctx.metrics.line_refused(reason)


ROUTES = [
    Route("GET", "/api/chat/topics", topics, "What a customer may ask about", "chat",
          response=Topics),
    Route("POST", "/api/chat", start_chat, "Start a web chat; returns its id and socket token",
          "chat", body=StartChatBody, response=ChatStarted, status=201,
          errors=((401, "identity_invalid: the signed identity fails (details: reason); "
                        "identity_required: the site admits signed-in customers only"),
                  (429, "Too many new chats from this address")),
          description="Limited per client address (429 with Retry-After). Only a signed "
                      "`identity` is verified (README: chat identity)."),
    Route("GET", "/api/chat/{id}/ws", chat_ws, "Customer chat WebSocket", "chat",
          kind="websocket", query=(Param("token", "the token POST /api/chat returned"),),
          errors=((403, "Missing or wrong token"),
                  (429, "The chat has as many sockets open as it may")),
          description=chat_ws.__doc__ or ""),
]  # fmt: skip
