"""Whether the database takes writes, as the runtime's writers find it.

A database that cannot be written (disk full, file made read-only, I/O errors) fails every
write until someone fixes the machine. The writers that hold work back meanwhile (the engine's
events, chat lines, the sign of life) report here, so the outage is said once in the log when
it starts and once when it ends (not a traceback per write), counted for ``/metrics``, and
named by ``/healthz``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

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
