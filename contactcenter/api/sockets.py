"""WebSocket plumbing shared by the agent, wallboard and customer sockets.

A socket runs two things at once: a *pump* that pushes notices out, and a reader that hands
each incoming text frame to ``on_frame``. A bad frame is answered with an error frame and the
socket stays open; when either side ends, the other is stopped and the socket closed. A peer
that stops answering pings is dropped (``Limits.heartbeat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from contactcenter.api.context import CTX
from contactcenter.api.errors import ApiError, classify
from contactcenter.runtime.background import cancel_and_wait

log = logging.getLogger(__name__)

MAX_FRAME = 16 * 1024
"""Largest incoming frame in bytes; aiohttp closes the socket (1009) beyond it."""

SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


def error_frame(code: str, message: str, retry_after: float | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if retry_after is not None:  # rounded up: waiting that long is enough
        err["retry_after_seconds"] = math.ceil(retry_after * 100) / 100
    return {"type": "error", "error": err}


async def open_socket(request: web.Request) -> web.WebSocketResponse:
    """Accept the WebSocket; it is pinged every ``Limits.heartbeat`` seconds and dropped when
    its peer does not answer in half of that (a peer gone without closing)."""
    heartbeat = request.app[CTX].settings.limits.heartbeat
    ws = web.WebSocketResponse(heartbeat=heartbeat, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    request.app[CTX].session_sockets.opened(request, ws)  # closed when its session ends
    return ws


async def send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> bool:
    """Send a JSON frame; False when the socket is gone."""
    if ws.closed:
        return False
    try:
        await ws.send_json(frame)
    except (ConnectionError, RuntimeError):
        return False
    return True


async def run_socket(
    request: web.Request,
    ws: web.WebSocketResponse,
    pump: Callable[[], Awaitable[None]],
    on_frame: Callable[[str], Awaitable[bool | None]],
) -> None:
    """Serve ``ws`` until it closes: ``pump`` pushes, ``on_frame`` handles each text frame
    (returning True ends the socket). Never raises for what a client sends."""

    async def pumping() -> None:
        try:
            await pump()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("WebSocket push failed on %s", request.path)
        if not ws.closed:
            await ws.close()

    pump_task = asyncio.create_task(pumping())
    try:
        async for msg in ws:
            if pump_task.done():
                break
            if msg.type is WSMsgType.TEXT:
                try:
                    if await on_frame(msg.data):
                        break
                except Exception as exc:
                    api = classify(exc)
                    if api is None:
                        log.exception("WebSocket frame handler failed on %s", request.path)
                        api = ApiError(500, "internal", "internal error")
                    await send(ws, error_frame(api.code, api.message, api.retry_after))
            elif msg.type is WSMsgType.BINARY:
                await send(ws, error_frame("binary_frame", "send JSON text frames"))
            elif msg.type is WSMsgType.ERROR:
                break
        if isinstance(ws.exception(), TimeoutError):  # no pong in time: the peer is gone
            metrics = request.app[CTX].metrics
            if metrics is not None:
                metrics.connection_cut("heartbeat")
    finally:
        await cancel_and_wait(pump_task)
        request.app[SOCKETS].discard(ws)
        await ws.close()


async def close_all(app: web.Application) -> None:
    """On shutdown: close every open socket (going away)."""
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):
        with contextlib.suppress(Exception):
            await ws.close(code=1001, message=b"server shutdown")
