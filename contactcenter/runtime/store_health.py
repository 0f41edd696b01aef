"""Whether the database takes writes, as the runtime's writers find it.

A database that cannot be written (disk full, file made read-only, I/O errors) fails every
write until someone fixes the machine. The writers that hold work back meanwhile (the engine's
events, chat lines, the sign of life) report here, so the outage is said once in the log when
it starts and once when it ends (not a traceback per write), counted for ``/metrics``, and
named by ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)


class StoreHealth:
    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self.wall = wall
        self.on_failure = on_failure
        """Called for every failed write (a metric counts them)."""
        self.down_since: float | None = None
        """Wall time of the first failed write of the current outage (None: writes work)."""
        self.reason = ""
        self.failures = 0
        self.held: dict[str, int] = {}
        """What each writer holds back until writes work again, e.g. ``{"events": 12}``."""

    def failed(self, err: StoreUnavailable) -> None:
        """A write was refused; the first of an outage is logged."""
        self.failures += 1
        if self.on_failure is not None:
            self.on_failure()
        if self.down_since is None:
            self.down_since = self.wall()
            self.reason = str(err)
            log.error("%s; holding back what must be written and retrying", err)

    def wrote(self) -> None:
        """A write went through; the end of an outage is logged."""
        if self.down_since is not None and not any(self.held.values()):
            log.warning(
                "the database takes writes again after %.1f s", self.wall() - self.down_since
            )
            self.down_since = None
            self.reason = ""

    def holding(self, what: str, count: int) -> None:
        """``what`` (e.g. ``events``, ``chat lines``) now holds ``count`` writes back."""
        self.held[what] = count

    def problem(self) -> str | None:
        """For ``/healthz``: what is wrong, since when, what is held back (None: fine)."""
        if self.down_since is None:
            return None
        since = time.strftime("%H:%M:%S UTC", time.gmtime(self.down_since))
        held = ", ".join(f"{n} {what}" for what, n in sorted(self.held.items()) if n)
        return f"{self.reason} since {since}" + (f"; held back: {held}" if held else "")


RETRY_SECONDS = (0.25, 0.5, 1.0, 2.0)
"""Waits between attempts to write what is held back (the last one repeats)."""


class HeldWrites:
    """Writes that must happen but need not be waited for (an audit entry of a change already
    made): tried at once; while the database refuses, held in order and retried, oldest first,
    by one background task. ``what`` names them for ``StoreHealth`` (e.g. ``audit entries``)."""

    def __init__(self, health: StoreHealth, what: str) -> None:
        self.health = health
        self.what = what
        self._held: deque[Callable[[], Awaitable[None]]] = deque()
        self._task: asyncio.Task[None] | None = None

    async def write(self, write: Callable[[], Awaitable[None]]) -> None:
        if not self._held:
            try:
                await write()
                return
            except StoreUnavailable as err:
                self.health.failed(err)
        self._held.append(write)
        self.health.holding(self.what, len(self._held))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._catch_up(), name=f"held {self.what}")

    async def _catch_up(self) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            while self._held:
                try:
                    await self._held[0]()
                except StoreUnavailable as err:
                    self.health.failed(err)
                    break
                self._held.popleft()
                self.health.holding(self.what, len(self._held))
            if not self._held:
                self.health.wrote()
                return

    async def stop(self) -> None:
        """A last try for what is held; what still cannot be written is logged as lost."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._held:
            try:
                await self._held[0]()
            except StoreUnavailable:
                log.error("stopping with %d %s the database never took", len(self._held),
                          self.what)  # fmt: skip
                return
            self._held.popleft()
