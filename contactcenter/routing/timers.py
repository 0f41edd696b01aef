"""The core's own deadlines: escalation steps, answer-target breaches, max wait, ring timeouts,
wrap-up ends (also of handed-off segments), re-offer delays and consult ring timeouts. The driver
asks ``next_deadline()`` and calls back then."""

from __future__ import annotations

import heapq
from collections import deque
from enum import IntEnum


class TimerKind(IntEnum):
    STEP = 1
    BREACH = 2
    MAX_WAIT = 3
    RING = 4
    WRAP_UP = 5
    REOFFER = 6
    HANDOFF_WRAP = 7
    """The wrap-up of a segment handed off (stamped with the wrap-up's own number)."""
    CONSULT_RING = 8


Timer = tuple[float, int, TimerKind, str, int, "Lane | None"]
"""(due, seq, kind, contact_id, epoch-or-version at scheduling time, its lane or None)."""

Lane = deque[Timer]
"""The timers of one (kind, delay) still to come, in the order they come due."""


class Timers:
    """All timers, popped in (due, seq) order.

    Almost every timer is set a constant delay (per kind and queue) after a time that only
    grows: ring timeouts and wrap-ups after ``now``, steps, breaches and max waits after the
    arrival. Timers of one (kind, delay) therefore come due in the order they are set, so each
    such lane is a FIFO and only its head sits in the heap; a timer that would break its lane's
    order (a restored arrival, a move to another queue) goes into the heap itself. The heap
    stays a few dozen entries long whatever the backlog, and the order is exactly that of one
    heap of all timers (``seq`` is unique, so the lane in a tuple is never compared).

    Lanes also make the commonest stale timers cheap: a ring timeout or wrap-up end set just
    before the offer was accepted or the wrap-up ended is still its lane's last, and goes; so
    do the step, breach and max-wait timers of a contact answered as it arrived.
    """

    __slots__ = ("_lanes", "_seq", "heap")

    def __init__(self) -> None:
        self.heap: list[Timer] = []
        """Read-only outside this class: ``heap[0]`` is the next timer (inlined checks)."""
        self._lanes: dict[tuple[TimerKind, float], Lane] = {}
        self._seq = 0

    def lane(self, kind: TimerKind, delay: float) -> Lane:
        """The lane of the timers of ``kind`` set ``delay`` after the time they count from."""
        lane = self._lanes.get((kind, delay))
        if lane is None:
            lane = self._lanes[kind, delay] = deque()
        return lane

    def add(self, lane: Lane, due: float, kind: TimerKind, contact_id: str, stamp: int) -> None:
        """Set a timer of ``lane`` (of ``kind``) due at ``due``."""
        self._seq += 1
        if not lane:
            timer = (due, self._seq, kind, contact_id, stamp, lane)
            lane.append(timer)
            heapq.heappush(self.heap, timer)
        elif due >= lane[-1][0]:
            lane.append((due, self._seq, kind, contact_id, stamp, lane))
        else:
            heapq.heappush(self.heap, (due, self._seq, kind, contact_id, stamp, None))

    def cancel(self, lane: Lane, contact_id: str, stamp: int) -> None:
        """Forget the timer for ``contact_id`` and ``stamp`` if it is the lane's last timer
        (and not its first, which the heap holds). Only for timers already stale: it saves
        popping them later, nothing else."""
        if len(lane) > 1:
            last = lane[-1]
            if last[4] == stamp and last[3] == contact_id:
                lane.pop()

    def peek(self) -> Timer | None:
        return self.heap[0] if self.heap else None

    def pop(self) -> Timer:
        heap = self.heap
        top = heap[0]
        lane = top[5]
        if lane is not None:
            lane.popleft()
            if lane:
                heapq.heapreplace(heap, lane[0])  # the lane's next timer takes its place
                return top
        heapq.heappop(heap)
        return top

    def __len__(self) -> int:
        return len(self.heap) + sum(len(lane) - 1 for lane in self._lanes.values() if lane)
