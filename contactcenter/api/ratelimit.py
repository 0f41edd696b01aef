"""A sliding-window counter of failures (or attempts) per key, bounded in memory."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Limiter:
    """At most ``limit`` hits per ``window`` seconds for each key.

    ``retry_after(key)`` is None while the key may go on, else the seconds until it may.
    At most ``max_keys`` keys are remembered; the least recently hit are forgotten first.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        horizon = self._clock() - self.window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def retry_after(self, key: str) -> float | None:
        hits = self._recent(key)
        if hits is None or len(hits) < self.limit:
            return None
        return max(0.0, hits[0] + self.window - self._clock())

    def hit(self, key: str) -> None:
        hits = self._recent(key)
        if hits is None:
            hits = self._hits[key] = deque()
        hits.append(self._clock())
        self._hits.move_to_end(key)
        while len(self._hits) > self._max_keys:
            self._hits.popitem(last=False)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
