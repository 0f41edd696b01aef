"""The core's own deadlines: escalation steps, answer-target breaches, max wait, ring timeouts,
wrap-up ends and re-offer delays. The driver asks ``next_deadline()`` and calls back then."""

from __future__ import annotations

import heapq
from enum import IntEnum


class TimerKind(IntEnum):
    STEP = 1
    BREACH = 2
    MAX_WAIT = 3
    RING = 4
    WRAP_UP = 5
    REOFFER = 6


Timer = tuple[float, int, TimerKind, str, int]
"""(due, seq, kind, contact_id, epoch-or-version at scheduling time)."""


class Timers:
    __slots__ = ("_seq", "heap")

    def __init__(self) -> None:
        self.heap: list[Timer] = []
        """Read-only outside this class: ``heap[0][0]`` is the next due time (inlined checks)."""
        self._seq = 0

    def add(self, due: float, kind: TimerKind, contact_id: str, stamp: int) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (due, self._seq, kind, contact_id, stamp))

    def peek(self) -> Timer | None:
        return self.heap[0] if self.heap else None

    def pop(self) -> Timer:
        return heapq.heappop(self.heap)

    def __len__(self) -> int:
        return len(self.heap)
