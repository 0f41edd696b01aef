"""What the store hands back: frozen dataclasses, one per kind of row.

All ``*_wall`` fields and ``wall_time`` are wall-clock seconds since the epoch (``time.time()``
as the runtime passed them in); durations (``*_seconds``) come from the domain events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Sender = Literal["customer", "agent", "system"]
Role = Literal["agent", "supervisor", "admin"]

SENDERS: tuple[Sender, ...] = ("customer", "agent", "system")
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")


@dataclass(frozen=True, slots=True)
class CustomerNote:
    """A free-text note on a customer (append-only)."""

    id: int
    text: str
    wall_time: float
    author: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A CRM customer. ``notes`` are read-only here: add them with ``add_customer_note``."""

    id: str
    name: str
    tier: str = "standard"
    dedicated_agent: str | None = None
    phone: str | None = None
    email: str | None = None
    account_number: str | None = None
    notes: tuple[CustomerNote, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact from arrival to its end, as the domain events left it.

    ``queue`` is the queue it is (or was last) in, ``first_queue`` the one it arrived in.
    ``agent_id`` is the agent ringing it or talking with it; a rejected offer clears it.
    ``outcome``: None while waiting, then ``answered`` -> ``completed``, or ``abandoned``,
    ``callback`` / ``disconnect`` (removed by the center), ``interrupted`` (a crash cut it),
    or ``ended`` (``mark_ended``).
    ``offers`` counts offers, ``rejections`` offers that ended unanswered (any reason).
    ``verified``: ``customer_id`` is a verified identity (it may drive routing).
    ``kind``: ``inbound`` or ``callback`` (then ``previous_contact_id`` is the contact it was
    booked from, if any). ``segment``: the current (last) segment; each agent's part is a
    ``SegmentRecord``. ``talk_seconds`` and ``hold_seconds`` add up the segments.
    """

    contact_id: str
    channel: str
    queue: str
    first_queue: str
    tier: str
    customer_id: str | None
    customer_name: str | None
    topic: str | None
    arrived_wall: float
    queued_wall: float | None = None
    offered_wall: float | None = None
    answered_wall: float | None = None
    abandoned_wall: float | None = None
    removed_wall: float | None = None
    completed_wall: float | None = None
    ended_wall: float | None = None
    agent_id: str | None = None
    offers: int = 0
    rejections: int = 0
    transfers: int = 0
    transferred_from: str | None = None
    transferred_to: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    wrap_up_seconds: float | None = None
    disposition: str | None = None
    disposition_notes: str | None = None
    breached: bool = False
    removed_reason: str | None = None
    end_reason: str | None = None
    outcome: str | None = None
    verified: bool = False
    kind: str = "inbound"
    previous_contact_id: str | None = None
    segment: int = 1
    hold_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """One agent's part of a contact: from queueing (or taking over in a consult) to the end
    of its wrap-up. ``end_reason``: ``completed``, ``transferred`` (then ``to_queue`` /
    ``to_agent``), ``retry`` (a call back's attempt that did not reach the customer),
    ``abandoned``, ``removed`` or ``interrupted``; ``note`` is the handing agent's note."""

    contact_id: str
    segment: int
    queue: str
    queued_wall: float | None = None
    offered_wall: float | None = None
    offers: int = 0
    agent_id: str | None = None
    answered_wall: float | None = None
    wait_seconds: float | None = None
    ended_wall: float | None = None
    talk_seconds: float | None = None
    hold_seconds: float = 0.0
    end_reason: str | None = None
    to_queue: str | None = None
    to_agent: str | None = None
    note: str | None = None
    wrap_ended_wall: float | None = None
    wrap_up_seconds: float | None = None
    disposition: str | None = None


@dataclass(frozen=True, slots=True)
class OpenContact:
    """A contact not over yet, as a restart finds it: waiting (``agent_id`` None) or with an
    agent in its current segment (``answered``: talking; else ringing). ``segment_ended``: its
    current segment is over (handed on, or cut by an earlier stop): it goes on as the next."""

    contact_id: str
    channel: str
    kind: str
    queue: str
    tier: str
    customer_id: str | None
    verified: bool
    arrived_wall: float
    segment: int
    agent_id: str | None
    answered: bool
    segment_ended: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One chat line of a transcript."""

    id: int
    contact_id: str
    sender: Sender
    text: str
    wall_time: float
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A login (never with its password)."""

    username: str
    role: Role
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A login session, found by the hash of its token (the token itself is never stored)."""

    token_hash: str
    username: str
    expires_wall: float
    role: Role
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who did what to what, when; ``detail`` as it was given (through JSON)."""

    id: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0


@dataclass(frozen=True, slots=True)
class CallbackRecord:
    """A call back promised to a customer; ``callback_contact_id`` is the contact that calls
    (its record carries the outcome of each attempt as segments). ``contact_id`` is the contact
    it was booked from (its own contact when booked without one). ``arrived_wall`` is the
    original arrival: its place in the queue. ``status`` is the callback state machine's
    (``runtime/callbacks.py``); ``outcome`` says how it ended."""

    id: int
    contact_id: str
    callback_contact_id: str
    queue: str
    customer_id: str | None
    verified: bool
    phone: str | None
    name: str | None
    tier: str | None
    status: str
    source: str
    requested_by: str | None
    arrived_wall: float
    created_wall: float
    due_wall: float
    ended_wall: float | None = None
    attempts: int = 0
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    """One call to the customer of a call back, made for ``agent_id``; ``outcome``:
    ``answered``, ``no_answer``, ``busy``, ``failed``, ``interrupted``."""

    callback_id: int
    attempt: int
    agent_id: str | None
    started_wall: float
    ended_wall: float | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """A customer's after-contact survey answer (score 1-5), with the queue and agent of the
    contact's last segment an agent answered and its channel (None: the contact is unknown to
    the store, or the answer is older than these columns)."""

    id: int
    contact_id: str
    score: int
    comment: str | None
    wall_time: float
    queue: str | None = None
    channel: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStateRecord:
    """One ``AgentStateChanged``, with the wall time it was recorded at."""

    id: int
    agent_id: str
    previous: str
    state: str
    reason: str | None
    wall_time: float
