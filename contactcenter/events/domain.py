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

from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from typing import Any, Literal, get_args

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ContactOffered:
    """Action: ring ``agent_id`` (it is reserved) until ``ring_deadline``."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    ring_deadline: float
    step: int


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ContactEscalated:
    """The contact reached escalation ``step`` (index into the queue's steps)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    step: int


@dataclass(frozen=True, slots=True)
class TargetBreached:
    """The contact has waited past its queue's answer threshold."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    threshold_seconds: float


@dataclass(frozen=True, slots=True)
class CallbackOffered:
    """Action: offer the waiting customer a callback (an escalation step asked for it)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    """The customer left before being answered (also while an agent was being rung)."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    wait_seconds: float
    segment: int


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """The contact moved to another queue; a ContactQueued for ``to_queue`` follows."""

    at: float
    contact_id: str
    from_queue: str
    to_queue: str
    channel: ChannelName
    reason: TransferReason
    segment: int


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ContactCompleted:
    """The conversation ended (hang-up); wrap-up starts."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    handle_seconds: float


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ContactResumed:
    """A contact an agent held when the engine stopped is with that agent again (after a
    restart): its next segment starts in conversation. Not a new answer."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    segment: int


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ConsultAnswered:
    """The consulted agent took the consult: the two agents talk."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    from_agent: str


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    """The consult ended without a hand-off; the consulted agent is free again."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    from_agent: str
    reason: ConsultEndReason


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    """After-contact work is done; the agent's slot is free. ``disposition`` None: timed out."""

    at: float
    contact_id: str
    queue: str
    channel: ChannelName
    agent_id: str
    disposition: str | None
    wrap_up_seconds: float


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    at: float
    agent_id: str
    previous: AgentActivity
    state: AgentActivity
    reason: str | None


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class CaseOpened:
    at: float
    case_id: int
    category: str
    severity: str
    owner: str


@dataclass(frozen=True, slots=True)
class CaseEscalated:
    """The case went to the supervisors; ``owner`` is whose it is now."""

    at: float
    case_id: int
    category: str
    severity: str
    owner: str
    by: str


@dataclass(frozen=True, slots=True)
class CaseOwnerChanged:
    at: float
    case_id: int
    category: str
    severity: str
    previous_owner: str
    owner: str
    by: str


@dataclass(frozen=True, slots=True)
class CaseResolved:
    at: float
    case_id: int
    category: str
    severity: str
    owner: str
    by: str


@dataclass(frozen=True, slots=True)
class CaseSlaBreached:
    """The case passed its severity's ``target`` (counted from its opening); once per case and
    target."""

    at: float
    case_id: int
    category: str
    severity: str
    target: CaseTarget


CaseEvent = CaseOpened | CaseEscalated | CaseOwnerChanged | CaseResolved | CaseSlaBreached


def _store_through_slots(cls: type[Any]) -> None:
    """Give the frozen, slotted event ``cls`` a cheaper ``__init__`` of the same signature.

    The generated one stores each field with ``object.__setattr__`` (frozen classes must go
    around their own ``__setattr__``); storing through the slot descriptors' ``__set__`` does
    the same thing at about half the cost, and the router builds ~10 events per contact. The
    class stays a frozen dataclass: assignment still raises ``FrozenInstanceError``.
    """
    names = [f.name for f in fields(cls)]
    assert all(f.default is MISSING and f.default_factory is MISSING for f in fields(cls))
    scope: dict[str, Any] = {f"_set_{n}": cls.__dict__[n].__set__ for n in names}
    body = "".join(f"    _set_{n}(self, {n})\n" for n in names)
    exec(f"def __init__(self, {', '.join(names)}):\n{body}", scope)
    init = scope["__init__"]
    generated = cls.__init__
    init.__qualname__ = generated.__qualname__
    init.__annotations__ = generated.__annotations__
    init.__doc__ = generated.__doc__
    init.__module__ = cls.__module__
    cls.__init__ = init


for _cls in (*get_args(Event), *get_args(CaseEvent)):
    _store_through_slots(_cls)
del _cls  # (not an event of the module)
