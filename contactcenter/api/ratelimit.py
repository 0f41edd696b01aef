"""What one client may use of the engine: every limit on anonymous traffic (``Limits``), and
the sliding-window counter (``Limiter``) that enforces those measured over time."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits on what a client (above all an anonymous chat customer) may use, in one
    place (``Settings.limits``). The defaults suit a real contact center: a customer may type
    fast, paste a few lines or keep two tabs open, but not flood.

    A client address is an IPv4 address or an IPv6 /64 (what one subscriber gets). Behind a
    reverse proxy, name it in ``trusted_proxies``: limits then count the clients it names.
    """

    chat_lines: int = 20
    """Lines a chat's customer may send in any ``chat_lines_window`` seconds (a burst of 20,
    two a second sustained)."""
    chat_lines_window: float = 10.0
    address_lines: int = 600
    """Customers' lines from one client address (all its chats) per ``address_window``."""
    address_bytes: int = 512 * 1024
    """Bytes of customers' lines from one client address per ``address_window``."""
    address_window: float = 60.0
    line_bytes: int = 4096
    """Largest customer line in UTF-8 bytes (besides the 2,000 characters of the schema)."""
    transcript_bytes: int = 1_000_000
    """Bytes a chat's customer may store in its transcript, all lines together."""
    chat_sockets: int = 4
    """Open customer WebSockets per chat (tabs of one customer)."""
    address_connections: int = 1000
    """Open TCP connections per client address (an office behind one NAT address holds
    every agent's desktop)."""
    connections: int = 10_000
    """Open TCP connections in all (never more than the process may open files, less a
    reserve for the database and the voice edge)."""
    idle_timeout: float = 30.0
    """Seconds a connection may go without sending a whole request header, from its opening
    or its last answer: silent sockets, trickled headers and idle keep-alives are closed."""
    body_timeout: float = 30.0
    """Seconds a request body may take to arrive (408, and the connection is closed)."""
    heartbeat: float = 25.0
    """WebSocket ping interval; a peer that has not answered within half of it is dropped."""
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies in front of the engine (addresses or networks): clients are then the
    ones these name in ``X-Forwarded-For``, and only these may send requests (``proxies.py``)."""


class Limiter:
    """At most ``limit`` hits per ``window`` seconds for each key; a hit may weigh more than
    one (``amount``: e.g. the bytes of a line).

    ``retry_after(key, amount)`` is None while the key may go on, else the seconds until it may.
    At most ``max_keys`` keys are remembered; the least recently hit are forgotten first.
    """

    def __init__(
        self,
        limit: float,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: OrderedDict[str, _Hits] = OrderedDict()

    def _recent(self, key: str) -> _Hits | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        horizon = self._clock() - self.window
        while hits.times and hits.times[0][0] <= horizon:
            hits.total -= hits.times.popleft()[1]
        if not hits.times:
            del self._hits[key]
            return None
        return hits

    def retry_after(self, key: str, amount: float = 1) -> float | None:
        hits = self._recent(key)
        if hits is None or hits.total + amount <= self.limit:
            return None
        left = hits.total
        for at, weight in hits.times:  # the oldest hits leave the window first
            left -= weight
            if left + amount <= self.limit:
                return max(0.0, at + self.window - self._clock())
        return self.window  # more than the limit at once: never fits

    def hit(self, key: str, amount: float = 1) -> None:
        hits = self._recent(key)
        if hits is None:
            hits = self._hits[key] = _Hits()
        hits.times.append((self._clock(), amount))
        hits.total += amount
        self._hits.move_to_end(key)
        while len(self._hits) > self._max_keys:
            self._hits.popitem(last=False)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


@dataclass(slots=True)
class _Hits:
    times: deque[tuple[float, float]] = field(default_factory=deque)
    """(when, amount), oldest first."""
    total: float = 0.0


def client_address(remote: str | None) -> str:
    """The key a client's limits are counted under: its IPv4 address, or its IPv6 /64 (one
    subscriber's share, all of which one attacker may use)."""
    try:
        ip = ipaddress.ip_address(remote or "")
    except ValueError:
        return remote or "?"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a line may not be sent now: ``reason`` for the metrics, ``code`` and ``message`` for
    the customer, and when to try again (None: not by waiting)."""

    reason: str
    code: str
    message: str
    retry_after: float | None = None


class LineAllowance:
    """The rate and size limits on customers' chat lines: per chat, and per client address
    over all its chats (lines and bytes). Only lines let through count."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._per_chat = Limiter(limits.chat_lines, limits.chat_lines_window, clock=clock)
        self._lines = Limiter(limits.address_lines, limits.address_window, clock=clock)
        self._bytes = Limiter(limits.address_bytes, limits.address_window, clock=clock)

    def take(self, chat: str, address: str, text: str) -> Refusal | None:
        """Count ``text`` against its chat and address, or say why it may not be sent."""
        size = len(text.encode())
        if size > self.limits.line_bytes:
            return Refusal(
                "line_size",
                "line_too_long",
                f"a message may hold at most {self.limits.line_bytes} bytes: split it",
            )
        checks = (
            (self._per_chat, chat, 1, "chat_lines"),
            (self._lines, address, 1, "address_lines"),
            (self._bytes, address, size, "address_bytes"),
        )
        for limiter, key, amount, reason in checks:
            wait = limiter.retry_after(key, amount)
            if wait is not None:
                return Refusal(
                    reason,
                    "too_fast",
                    f"too many messages too fast: try again in {math.ceil(wait)} s",
                    wait,
                )
        for limiter, key, amount, _ in checks:
            limiter.hit(key, amount)
        return None
