"""Slowing down password guessing without locking the rightful user out.

Failed logins are counted per (user name, client address) pair. The first ``free`` failures
in a row cost nothing (people mistype); after that the pair must wait ``first_wait`` seconds,
doubling with each further failure up to ``max_wait``. A success clears the pair, and so does
``max_wait`` without a failure after its wait has ended. Counting per user name alone would
let anyone lock a supervisor out from anywhere; counting per pair slows only the guesser's
address.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Pair:
    failures: int
    """Failures in a row."""
    last: float
    """When the last one was (the clock's seconds)."""


class LoginThrottle:
    """Failures in a row and the wait they impose, per key (a user name and address)."""

    def __init__(
        self,
        free: int,
        first_wait: float,
        max_wait: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.free = free
        self.first_wait = first_wait
        self.max_wait = max_wait
        self._clock = clock
        self._max_keys = max_keys
        self._pairs: OrderedDict[str, _Pair] = OrderedDict()
        """Least recently failed first; beyond ``max_keys`` those are forgotten."""

    def _wait_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.first_wait * 2.0 ** (failures - self.free), self.max_wait)

    def _pair(self, key: str) -> _Pair | None:
        pair = self._pairs.get(key)
        if pair is not None:
            quiet = self._clock() - pair.last - self._wait_after(pair.failures)
            if quiet >= self.max_wait:
                del self._pairs[key]
                return None
        return pair

    def retry_after(self, key: str) -> float | None:
        """Seconds ``key`` must still wait before its next try; None: it may try now."""
        pair = self._pair(key)
        if pair is None:
            return None
        left = pair.last + self._wait_after(pair.failures) - self._clock()
        return left if left > 0 else None

    def failed(self, key: str) -> tuple[int, float]:
        """Count a failure: (failures in a row, seconds the key must now wait)."""
        pair = self._pair(key)
        if pair is None:
            pair = self._pairs[key] = _Pair(0, 0.0)
        pair.failures += 1
        pair.last = self._clock()
        self._pairs.move_to_end(key)
        while len(self._pairs) > self._max_keys:
            self._pairs.popitem(last=False)
        return pair.failures, self._wait_after(pair.failures)

    def succeeded(self, key: str) -> None:
        self._pairs.pop(key, None)
