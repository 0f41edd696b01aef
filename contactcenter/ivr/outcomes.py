"""How a caller's time in the IVR ended, as IVR reports count it (containment, self-service,
abandons in the menu by node, transfers out, calls handed to queues).

One ``IvrVisit`` per call that was answered (and per web chat that entered the chat's menu),
written when it leaves the menu, so a customer who leaves inside it is on record too (with the
node they were at).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IvrOutcome(StrEnum):
    QUEUED = "queued"
    """Handed to a queue (the contact record takes over from there)."""
    CONTAINED = "contained"
    """Ended by the menu itself at a hang-up node (closed, opening hours, information)."""
    SELF_SERVED = "self_served"
    """An automatic reply answered the customer: a hang-up node with reason ``self-served``
    (resolved without an agent)."""
    CALLBACK = "callback"
    """A call back was booked in the menu."""
    TRANSFERRED = "transferred"
    """Sent on to a number outside the center."""
    ABANDONED = "abandoned"
    """The caller hung up in the menu (or never confirmed the answer)."""
    INPUT_FAILED = "input_failed"
    """No or wrong keys until the menu gave up."""
    FAILED = "failed"
    """The engine could not run the menu (no flow for the number, an error)."""


_GAVE_UP = frozenset({"no-input", "invalid-input", "no-callback-number"})
"""The interpreter's own hang-up reasons when the caller's input never worked."""

SELF_SERVED_REASON = "self-served"
"""The hang-up reason a flow gives where an automatic reply has resolved the question."""


def outcome_of_hang_up(reason: str, *, callback_booked: bool) -> IvrOutcome:
    """The outcome of a menu that ended the call itself with ``reason``."""
    if callback_booked:
        return IvrOutcome.CALLBACK
    if reason in _GAVE_UP:
        return IvrOutcome.INPUT_FAILED
    if reason == SELF_SERVED_REASON:
        return IvrOutcome.SELF_SERVED
    return IvrOutcome.CONTAINED


@dataclass(frozen=True, slots=True)
class IvrVisit:
    """One call's time in the menu. ``call`` is the edge's leg id (never the caller's number);
    ``node`` the node the caller was at when it ended; ``contact_id`` the contact it became
    (queued) or booked (call back)."""

    call: str
    flow: str
    started_wall: float
    ended_wall: float
    outcome: IvrOutcome
    node: str | None = None
    reason: str | None = None
    contact_id: str | None = None
    customer_id: str | None = None
