"""The WebSockets each login session has open, so that ending the session closes them.

A session ends when its user logs out, when it expires, or when the user's password is set
(``contactcenter user set``, often from another process, ends all of that user's sessions).
Logging out closes the session's sockets before the answer goes out. Expiry and a password set
elsewhere are found by a watch that asks the store every ``WATCH_EVERY`` seconds whether the
sessions with open sockets still hold; it runs only while there are such sockets. Either way
every socket of the session is closed with ``SESSION_ENDED`` and is sent nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Coroutine
from typing import Any, Protocol

from aiohttp import web

from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

SESSION = web.RequestKey("session", str)
"""The token hash of the session a request came with (set by the role check)."""
SESSION_ENDED = 4401
"""WebSocket close code (private range): the login session ended; log in again."""
WATCH_EVERY = 0.25
"""Seconds between the watch's questions to the store."""


class SessionSource(Protocol):
    async def live_sessions(self, token_hashes: Collection[str], now_wall: float) -> set[str]: ...


Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class SessionSockets:
    """Open sockets by session token hash; ``end`` closes a session's sockets."""

    def __init__(self, sessions: SessionSource, spawn: Spawn) -> None:
        self._sessions = sessions
        self._spawn = spawn
        self._open: dict[str, set[web.WebSocketResponse]] = {}
        self._watch: asyncio.Task[None] | None = None

    def opened(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        """Remember ``ws`` under the session of ``request`` (a customer's socket has none)."""
        token_hash = request.get(SESSION)
        if token_hash is None:
            return
        self._open.setdefault(token_hash, set()).add(ws)
        if self._watch is None or self._watch.done():
            self._watch = self._spawn(self._watching(), "session-watch")

    async def end(self, token_hash: str) -> int:
        """Close every socket of that session; returns how many. When this returns, each has
        begun to close: nothing more is sent on it."""
        sockets = [ws for ws in self._open.pop(token_hash, ()) if not ws.closed]
        for ws in sockets:
            self._spawn(_close(ws), "session-ended")
        await asyncio.sleep(0)  # the closes start (their first step marks each socket closed)
        return len(sockets)

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            self._forget_closed()
            if not self._open:
                return
            try:
                live = await self._sessions.live_sessions(list(self._open), time.time())
            except StoreUnavailable:  # (the outage is said once, elsewhere) sockets stay
                continue
            except Exception:
                log.exception("checking the sessions of open sockets failed")
                continue
            for token_hash in [h for h in self._open if h not in live]:
                await self.end(token_hash)

    def _forget_closed(self) -> None:
        for token_hash, sockets in list(self._open.items()):
            sockets.difference_update([ws for ws in sockets if ws.closed])
            if not sockets:
                del self._open[token_hash]


async def _close(ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code=SESSION_ENDED, message=b"session ended")
