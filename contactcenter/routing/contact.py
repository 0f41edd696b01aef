"""A contact as the routing core tracks it, from arrival until its wrap-up ends."""

from __future__ import annotations

from enum import StrEnum

from mypy_extensions import mypyc_attr

from contactcenter.events import ChannelName


class ContactState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACTIVE = "active"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


_WAITING = ContactState.WAITING
"""(A global: the enum's own attribute lookup costs several times as much.)"""


# Compiled (mypyc), still copied and pickled as a Python class is (serializable alone leaves
# the attributes of instances made from Python unset: mypyc/mypyc#1172).
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Contact:
    """Mutable routing record of one contact; the router is its only writer.

    ``arrived_at`` is the original arrival (answer-time targets count from it, also after a
    requeue, overflow or transfer); ``queued_at`` is when it entered its current queue
    (escalation steps count from it). ``segment`` counts agents' parts of the contact (a
    hand-off starts the next); ``consult`` is the agent rung for, or talking in, a consult.
    ``nudge`` is a supervisor's change of its priority (kept across queues). A ``patient``
    contact has nobody waiting on the line (a call back). ``version``
    changes whenever its place in a waiting list changes, so stale heap entries can be
    recognised; ``epoch`` changes when it changes queue or leaves, so stale timers can be.
    """

    __slots__ = (
        "agent",
        "answered_at",
        "arrived_at",
        "boost",
        "breached",
        "channel",
        "completed_at",
        "consult",
        "consult_stamp",
        "customer_id",
        "epoch",
        "excluded",
        "id",
        "max_wait_due",
        "nudge",
        "overflow_due",
        "patient",
        "preferred_agent",
        "priority",
        "queue",
        "queued_at",
        "segment",
        "segment_stamp",
        "seq",
        "state",
        "step",
        "tier",
        "version",
    )

    def __init__(
        self,
        contact_id: str,
        queue: str,
        channel: ChannelName,
        tier: str,
        customer_id: str | None,
        preferred_agent: str | None,
        arrived_at: float,
        seq: int,
    ) -> None:
        self.id = contact_id
        self.queue = queue
        self.channel: ChannelName = channel
        self.tier = tier
        self.customer_id = customer_id
        self.preferred_agent = preferred_agent
        self.arrived_at = arrived_at
        self.queued_at = arrived_at
        self.seq = seq
        self.state = _WAITING
        self.step = 0
        self.priority = 0
        self.boost = 0
        # Both counters start at a base unique to this arrival (``seq``): timers are keyed by
        # contact id, and an id may be used again once its contact has ended, so the timers
        # still queued for the earlier contact must never match this one's stamps.
        self.version = seq << 32
        self.epoch = seq << 32
        self.breached = False
        self.agent: str | None = None
        self.answered_at: float | None = None
        self.completed_at: float | None = None
        self.excluded: dict[str, float] = {}
        self.overflow_due: str | None = None
        self.max_wait_due = False
        self.segment = 1
        self.segment_stamp = seq << 32
        """Changes with every segment; unique to this arrival (stamps its re-offer timers)."""
        self.nudge = 0
        self.patient = False
        self.consult: str | None = None
        self.consult_stamp = 0

    def wait(self, now: float) -> float:
        return now - self.arrived_at

    def is_excluded(self, agent_id: str, now: float) -> bool:
        until = self.excluded.get(agent_id)
        return until is not None and until > now
