"""How the API listens (``listen``, as ``contactcenter serve`` runs it): connections capped per
client address and in all, and timeouts for clients that send too slowly (``Limits``).

aiohttp closes a connection whose request header is not whole ``keepalive_timeout`` seconds
after the connection opened or after its last answer; that one timer, ``Limits.idle_timeout``,
covers silent sockets, trickled headers and idle keep-alives alike. Bodies are timed by the
app (``app.body_in_time``), WebSockets by their heartbeat (``sockets.py``).

aiohttp has no connection caps, so each connection meets a ``Gate`` before aiohttp sees it:
one over a cap is answered 503 (with Retry-After), given a moment to read that, and closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Callable

from aiohttp import web
from yarl import URL

from contactcenter.api.context import CTX
from contactcenter.api.errors import error_body
from contactcenter.api.proxies import Network, is_proxy, networks
from contactcenter.api.ratelimit import Limits, client_address

log = logging.getLogger(__name__)

RESERVED_FILES = 128
"""Open files kept for the rest of the process (database, logs, the voice edge's sockets):
the connection cap in all is at most the process's file limit less these."""
REFUSAL_LINGER = 1.0
"""Seconds a refused connection may take to read its 503 before it is closed."""
MAX_LINGERING = 256
"""Refused connections reading their 503 at once; beyond, refusals are closed at once."""

_BODY = json.dumps(error_body("too_many_connections", "too many connections: try again later"))
REFUSAL = (
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
    f"Connection: close\r\nContent-Length: {len(_BODY)}\r\n\r\n{_BODY}"
).encode()


class Gate:
    """Counts open connections per client address and in all, and admits a new one only
    under both caps."""

    def __init__(self, per_address: int, total: int, proxies: tuple[Network, ...] = ()) -> None:
        self.per_address = per_address
        self.total = total
        self.proxies = proxies
        """Reverse proxies: all their clients come from their addresses, so only the cap in
        all applies to them."""
        self.open = 0
        self.lingering = 0
        """Refused connections still being told so."""
        self._by_address: dict[str, int] = {}

    def admit(self, address: str) -> str | None:
        """Count the connection in; or the cap that refuses it (``address_cap``,
        ``global_cap``)."""
        if self.open >= self.total:
            return "global_cap"
        held = self._by_address.get(address, 0)
        if held >= self.per_address and not is_proxy(address, self.proxies):
            return "address_cap"
        self._by_address[address] = held + 1
        self.open += 1
        return None

    def release(self, address: str) -> None:
        self.open -= 1
        left = self._by_address[address] - 1
        if left:
            self._by_address[address] = left
        else:
            del self._by_address[address]


class _GatedConnection(asyncio.Protocol):
    """One connection: handed to aiohttp's protocol when the gate admits it; else answered 503
    and closed once the client has read it (or after ``REFUSAL_LINGER``)."""

    def __init__(
        self,
        gate: Gate,
        make: Callable[[], asyncio.Protocol],
        refused: Callable[[str], None],
    ) -> None:
        self._gate = gate
        self._make = make
        self._refused = refused
        self._inner: asyncio.Protocol | None = None
        self._address = ""
        self._linger: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        self._address = client_address(peer[0] if peer else None)
        reason = self._gate.admit(self._address)
        if reason is None:
            self._inner = self._make()
            self._inner.connection_made(transport)
            return
        self._refused(reason)
        if self._gate.lingering >= MAX_LINGERING:
            transport.abort()
            return
        self._gate.lingering += 1
        transport.write(REFUSAL)
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = asyncio.get_running_loop().call_later(REFUSAL_LINGER, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)
        # a refused client's request is read and dropped, so closing sends no reset

    def eof_received(self) -> bool | None:
        if self._inner is not None:
            return self._inner.eof_received()
        return None  # refused: the client is done, close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._gate.release(self._address)
            self._inner.connection_lost(exc)
        elif self._linger is not None:
            self._linger.cancel()
            self._gate.lingering -= 1

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class _GatedSite(web.BaseSite):
    """A TCP site whose connections pass a ``Gate`` first."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        gate: Gate,
        refused: Callable[[str], None],
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._gate = gate
        self._refused = refused

    @property
    def name(self) -> str:
        return str(URL.build(scheme="http", host=self._host, port=self._port))

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        gate, refused = self._gate, self._refused
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _GatedConnection(gate, server, refused), self._host, self._port
        )


def connection_cap(limits: Limits) -> int:
    """The cap on connections in all: ``limits.connections``, but never more than the process
    may open files (less ``RESERVED_FILES``), so a full server refuses instead of failing."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.connections
    return max(1, min(limits.connections, soft - RESERVED_FILES))


async def listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start ``app`` (its startup runs here) and serve it on ``host``:``port`` (0: any free
    port; ``runner.addresses`` tells) with the connection caps and timeouts of its
    ``Settings.limits``. ``runner.cleanup()`` stops it."""
    ctx = app[CTX]
    limits = ctx.settings.limits
    metrics = ctx.metrics

    def refused(reason: str) -> None:
        if metrics is not None:
            metrics.connection_refused(reason)

    gate = Gate(
        limits.address_connections, connection_cap(limits), networks(limits.trusted_proxies)
    )
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, keepalive_timeout=limits.idle_timeout
    )
    await runner.setup()
    try:
        await _GatedSite(runner, host, port, gate, refused).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info(
        "connections capped at %d per client address and %d in all",
        gate.per_address,
        gate.total,
    )
    return runner
