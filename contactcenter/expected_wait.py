"""The wait a queued customer is told: how long until the ``place`` contacts ahead of them
(and they) are answered, at the pace the queue is being answered now.

Today's ASA times the place (what was told before) is the wrong quantity: ASA is how long
answered customers waited, not how fast the line moves (the caller in place 18 was told 6 s
and waited 29 s). Here the pace is the queue's recent answer rate: the last ``window`` answers
within ``horizon`` seconds, counted up to now (so a line that stopped moving slows the
estimate down). Until a queue has answered ``min_answers`` times, the pace is the agents who
can serve it over the center's mean handle time (the plain staffing view). With neither,
nothing is said.

Pure: fed the domain events, asked with the engine's clock. The live engine and the planner can
use it alike.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from contactcenter.events import ContactAnswered, ContactCompleted, Event


class ExpectedWait:
    def __init__(self, *, window: int = 20, horizon: float = 900.0, min_answers: int = 3) -> None:
        self._window = window
        self._horizon = horizon
        self._min = min_answers
        self._answers: dict[str, collections.deque[float]] = {}
        self._handled = 0
        self._handle_sum = 0.0

    def observe(self, e: Event) -> None:
        if isinstance(e, ContactAnswered):
            times = self._answers.get(e.queue)
            if times is None:
                times = self._answers[e.queue] = collections.deque(maxlen=self._window)
            times.append(e.at)
        elif isinstance(e, ContactCompleted):
            self._handled += 1
            self._handle_sum += e.handle_seconds

    def observe_all(self, events: Iterable[Event]) -> None:
        for e in events:
            self.observe(e)

    def pace(self, queue: str, now: float, serving: int) -> float | None:
        """Answers per second the queue can be expected to get; None if unknown."""
        times = self._answers.get(queue)
        if times:
            recent = [t for t in times if t >= now - self._horizon]
            if len(recent) >= self._min:
                return len(recent) / max(now - recent[0], 1.0)
        if serving > 0 and self._handled:
            return serving / (self._handle_sum / self._handled)
        return None

    def seconds(self, queue: str, place: int, now: float, serving: int) -> float | None:
        """Expected seconds until the contact at ``place`` (1-based) is answered; infinite
        when nobody can serve the queue; None when there is nothing to go on."""
        if serving <= 0:
            return float("inf")
        rate = self.pace(queue, now, serving)
        return place / rate if rate else None
