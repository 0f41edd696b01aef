"""The events waiting for the broker: bounded, in order, with an explicit overflow policy.

Routing never waits for the broker: the engine's listener only numbers the event and appends
it here (O(1), no await). When ``limit`` events wait (the broker has been away that long),
each new one pushes the **oldest** out: what is kept is the most recent stretch, the retained
state topics cover the present anyway, and a consumer sees the loss as a gap in ``seq``.
Every drop is counted (``dropped``); the first of a run is logged, and the run's seq range
when the broker takes events again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from contactcenter.events import CaseEvent, Event

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    ts_ms: int
    event: Event | CaseEvent


class Outbox:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: deque[Entry] = deque()
        self.taken = 0
        """Events handed to the bus since start (the last ``seq``)."""
        self.dropped = 0
        """Events pushed out by the overflow policy since start."""
        self._lost: tuple[int, int] | None = None
        """First and last seq of the current run of drops."""

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, event: Event | CaseEvent, ts_ms: int) -> None:
        """Number ``event`` and keep it (the engine's listener: O(1), never waits)."""
        self.taken += 1
        self._entries.append(Entry(self.taken, ts_ms, event))
        if len(self._entries) > self.limit:
            self._drop_oldest()

    def take(self, n: int) -> list[Entry]:
        """Up to ``n`` of the oldest entries, removed (``put_back`` what was not delivered)."""
        entries = self._entries
        return [entries.popleft() for _ in range(min(n, len(entries)))]

    def put_back(self, entries: Sequence[Entry]) -> None:
        """Return undelivered entries (older than all kept) to the front, as far as the limit
        allows: beyond it the oldest of them are the ones dropped."""
        for entry in reversed(entries):
            self._entries.appendleft(entry)
        while len(self._entries) > self.limit:
            self._drop_oldest()

    def delivered(self) -> None:
        """The broker took events again: report the run of drops that ended, if any."""
        if self._lost is not None:
            first, last = self._lost
            log.warning(
                "bus: events seq %d-%d (%d) were dropped: the broker was away while more "
                "than %d events waited", first, last, last - first + 1, self.limit
            )  # fmt: skip
            self._lost = None

    def _drop_oldest(self) -> None:
        gone = self._entries.popleft()
        self.dropped += 1
        if self._lost is None:
            log.warning(
                "bus: %d events wait for the broker: dropping the oldest from now on "
                "(counted in contactcenter_bus_events_dropped_total)", self.limit
            )  # fmt: skip
            self._lost = (gone.seq, gone.seq)
        else:
            self._lost = (min(self._lost[0], gone.seq), max(self._lost[1], gone.seq))
