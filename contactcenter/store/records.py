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
    ``callback`` / ``disconnect`` (removed by the center), or ``ended`` (``mark_ended``).
    ``offers`` counts offers, ``rejections`` offers that ended unanswered (any reason).
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
    """A scheduled call back; ``done`` once made (``done_wall``: when, if the caller said)."""

    id: int
    contact_id: str
    queue: str
    customer_id: str | None
    phone: str | None
    due_wall: float
    done: bool = False
    done_wall: float | None = None


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """A customer's after-contact survey answer (score 1-5)."""

    id: int
    contact_id: str
    score: int
    comment: str | None
    wall_time: float


@dataclass(frozen=True, slots=True)
class AgentStateRecord:
    """One ``AgentStateChanged``, with the wall time it was recorded at."""

    id: int
    agent_id: str
    previous: str
    state: str
    reason: str | None
    wall_time: float
