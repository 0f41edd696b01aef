"""The domain events every layer speaks.

The routing core returns these; the runtime fans them out to the store, metrics, MQTT bus and
wallboard, and the planner computes its statistics from the very same stream. Each event is
stamped with ``at``: the driver's clock in seconds (monotonic live, ``env.now`` simulated).
Events that are also instructions to the driver say so (``ContactOffered``: ring the agent).

A contact is one customer's request; a **segment** is one agent's part of it. The first
segment starts at arrival; a hand-off (an agent's transfer, a call-back attempt that did not
reach the customer) ends the agent's segment and the contact goes on as segment 2, 3, ...
Events of later segments say so (``segment``), so that a transferred contact is not counted
as offered or answered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeVar, dataclass_transform

_E = TypeVar("_E")


@dataclass_transform(frozen_default=True)
def event(cls: type[_E]) -> type[_E]:
    """An event class: a slotted dataclass, equal and hashed by value, never changed.

    "Never changed" is the type checker's to enforce (``frozen_default``: mypy rejects any
    assignment to an event's field anywhere in the checked code) and is not checked again at
    run time. A frozen dataclass's ``__init__`` must go around its own ``__setattr__`` for every
    field: building the ~850,000 events of a planning day that way was 12.6 % of the day's
    instructions (8 % of its CPU time)."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


ChannelName = Literal["voice", "chat", "email", "task"]
"""``task``: a follow-up task of a complaint case, routed as work (nobody is on the line)."""
RejectReason = Literal["declined", "timeout", "unreachable", "agent_left", "contact_left", "moved"]
TransferReason = Literal["overflow", "max_wait", "no_agents", "supervisor"]
ConsultEndReason = Literal["declined", "timeout", "cancelled", "agent_left", "contact_left"]
RemoveReason = Literal["max_wait", "no_agents", "callback_accepted", "cancelled"]
RemoveOutcome = Literal["callback", "disconnect"]


class AgentActivity(StrEnum):
    """What an agent is doing, as supervisors and metrics see it."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"
    RINGING = "ringing"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


@event
class ContactQueued:
    """A contact entered a queue (on arrival, overflow or transfer). ``arrived_at`` is the
    original arrival, which answer-time targets are measured from."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    priority: int
    tier: str
    arrived_at: float
    segment: int


@event
class ContactOffered:
    """Action: ring ``agent_id`` (it is reserved) until ``ring_deadline``."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    ring_deadline: float
    step: int


@event
class OfferRejected:
    """The offer ended unanswered. After ``declined``, ``timeout`` or ``agent_left`` the contact
    is back in its place in the queue; after ``contact_left`` it is gone; after ``moved`` it
    is queued elsewhere."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    reason: RejectReason


@event
class ContactAnswered:
    """The agent accepted the offer (or took over in a consult). ``wait_seconds`` counts from
    the original arrival in segment 1, from the segment's queueing in later ones."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    wait_seconds: float
    segment: int


@event
class ContactEscalated:
    """The contact reached escalation ``step`` (index into the queue's steps)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    step: int


@event
class TargetBreached:
    """The contact has waited past its queue's answer threshold."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    threshold_seconds: float


@event
class CallbackOffered:
    """Action: offer the waiting customer a callback (an escalation step asked for it)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName


@event
class ContactAbandoned:
    """The customer left before being answered (also while an agent was being rung)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    wait_seconds: float
    segment: int


@event
class ContactTransferred:
    """The contact moved to another queue; a ContactQueued for ``to_queue`` follows."""

    at: float
    contact_id: str
    from_queue: str
    to_queue: str
    channel: ChannelName
    reason: TransferReason
    segment: int


@event
class ContactRemoved:
    """The center took the contact out of the queue unanswered.

    Action for ``outcome``: ``callback`` -> schedule a call back; ``disconnect`` -> say sorry
    and end the contact.
    """

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    reason: RemoveReason
    outcome: RemoveOutcome
    wait_seconds: float
    segment: int


@event
class ContactCompleted:
    """The conversation ended (hang-up); wrap-up starts."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    handle_seconds: float


@event
class ContactHandedOff:
    """An agent's segment ended but the contact goes on (a transfer, or it left routing to be
    brought back later: a call back to retry); the agent's wrap-up of the segment starts.

    ``to_queue``: the queue the next segment waits in (None: it left routing); ``to_agent``:
    the agent it is offered to at once (a transfer to an agent or a completed consult).
    """

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    handle_seconds: float
    segment: int
    to_queue: str | None
    to_agent: str | None


@event
class ContactResumed:
    """A contact an agent held when the engine stopped is with that agent again (after a
    restart): its next segment starts in conversation. Not a new answer."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    segment: int


@event
class ConsultOffered:
    """Action: ring ``agent_id`` (reserved) to consult with ``from_agent`` about the contact,
    whose customer waits on hold; until ``ring_deadline``."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    from_agent: str
    ring_deadline: float


@event
class ConsultAnswered:
    """The consulted agent took the consult: the two agents talk."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    from_agent: str


@event
class ConsultEnded:
    """The consult ended without a hand-off; the consulted agent is free again."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    from_agent: str
    reason: ConsultEndReason


@event
class WrapUpEnded:
    """After-contact work is done; the agent's slot is free. ``disposition`` None: timed out."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    disposition: str | None
    wrap_up_seconds: float


@event
class AgentStateChanged:
    at: float
    agent_id: str
    previous: AgentActivity
    state: AgentActivity
    reason: str | None


@event
class PriorityChanged:
    at: float
    contact_id: str
    queue: str
    previous: int
    priority: int
    reason: Literal["tier", "escalation", "supervisor"]


Event = (
    ContactQueued
    | ContactOffered
    | OfferRejected
    | ContactAnswered
    | ContactEscalated
    | TargetBreached
    | CallbackOffered
    | ContactAbandoned
    | ContactTransferred
    | ContactRemoved
    | ContactCompleted
    | ContactHandedOff
    | ContactResumed
    | ConsultOffered
    | ConsultAnswered
    | ConsultEnded
    | WrapUpEnded
    | AgentStateChanged
    | PriorityChanged
)


# -- complaint cases ----------------------------------------------------------------------------
# Not the routing core's: the runtime announces them (``runtime/case_tasks.py``) as a case moves.
# Ids and codes only: a case id (a number), category and severity (config), the users involved.

CaseTarget = Literal["acknowledge", "resolve"]


@event
class CaseOpened:
    at: float
    case_id: int
    category: str
    severity: str
    owner: str


@event
class CaseEscalated:
    """The case went to the supervisors; ``owner`` is whose it is now."""

    at: float
    case_id: int
    category: str
    severity: str
    owner: str
    by: str


@event
class CaseOwnerChanged:
    at: float
    case_id: int
    category: str
    severity: str
    previous_owner: str
    owner: str
    by: str


@event
class CaseResolved:
    at: float
    case_id: int
    category: str
    severity: str
    owner: str
    by: str


@event
class CaseSlaBreached:
    """The case passed its severity's ``target`` (counted from its opening); once per case and
    target."""

    at: float
    case_id: int
    category: str
    severity: str
    target: CaseTarget


CaseEvent = CaseOpened | CaseEscalated | CaseOwnerChanged | CaseResolved | CaseSlaBreached
