"""What a waiting customer is told: their place in the queue and the expected wait.

The expected wait is the time until the queue answers the customer's place at its current
pace (``contactcenter.expected_wait``); None when there is nothing to go on yet.
"""

from __future__ import annotations

import math

from contactcenter.routing import ContactState, InvalidInput
from contactcenter.runtime.engine import Engine


def position(engine: Engine, contact_id: str) -> tuple[int, float | None]:
    """(1-based place in its queue or 0 when no longer waiting, expected wait seconds; None
    when unknown, or endless: nobody who could serve it is logged in)."""
    view = engine.router.contact(contact_id)
    if view.state is not ContactState.WAITING:
        return 0, None
    place = engine.router.waiting(view.queue).index(contact_id) + 1
    expected = _expected(engine, view.queue, place)
    return place, expected if expected is not None and math.isfinite(expected) else None


def queue_status(engine: Engine, queue: str) -> tuple[int, float | None]:
    """(agents logged in who can serve ``queue``, expected wait of a newcomer in seconds;
    infinite when nobody who could serve it is logged in)."""
    qs = engine.router.queues.get(queue)
    if qs is None:
        raise InvalidInput(f"unknown queue {queue!r}")
    if qs.staffed == 0:
        return 0, float("inf")
    return qs.staffed, _expected(engine, queue, len(engine.router.waiting(queue)) + 1)


def _expected(engine: Engine, queue: str, place: int) -> float | None:
    staffed = engine.router.queues[queue].staffed
    return engine.expected_wait.seconds(queue, place, engine.now(), staffed)
