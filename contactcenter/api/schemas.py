"""Request and response bodies of the HTTP API (pydantic): validation and OpenAPI in one place.

Request bodies refuse unknown fields and do not coerce types (``"5"`` is not a number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from contactcenter.config import Center

MAX_TEXT = 2000
"""Longest chat message, in characters."""

Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Role = Literal["agent", "supervisor", "admin"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- requests ---------------------------------------------------------------------------------


class LoginBody(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class AgentStateBody(Body):
    state: Literal["available", "away"]
    reason: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class SupervisorStateBody(Body):
    state: Literal["available", "away", "offline"]
    reason: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class WrapUpBody(Body):
    disposition: Annotated[str, Field(min_length=1, max_length=64)]
    notes: Annotated[str, Field(max_length=MAX_TEXT)] | None = None


class MessageBody(Body):
    text: Text


class NoteBody(Body):
    """A private note on a contact: for agents only, never shown to the customer."""

    text: Text


class MoveBody(Body):
    queue: Ident


class TierBody(Body):
    tier: Ident


class PriorityBody(Body):
    priority: Annotated[int, Field(ge=0, le=10_000)]


class TransferBody(Body):
    """Blind to a queue (``to_queue``) or an agent (``to_agent``), or warm (``warm``: consult
    ``to_agent`` first); ``note`` is shown to the next agent."""

    to_queue: Ident | None = None
    to_agent: Ident | None = None
    warm: bool = False
    note: Annotated[str, Field(max_length=MAX_TEXT)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TransferBody:
        if (self.to_queue is None) == (self.to_agent is None):
            raise ValueError("give exactly one of to_queue and to_agent")
        if self.warm and self.to_agent is None:
            raise ValueError("a warm transfer consults an agent: give to_agent")
        return self


class ChatIdentityBody(Body):
    """A logged-in customer's id as the site's backend signed it: ``signature`` is the
    lowercase hex HMAC-SHA256 of ``v1|<widget>|<customer_id>|<expires>`` under key ``kid``."""

    customer_id: Ident
    expires: Annotated[int, Field(ge=0, le=10**11, description="Unix seconds")]
    kid: Ident
    signature: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class StartChatBody(Body):
    """``identity``: signed by the site (verified: tier, dedicated agent, CRM card).
    ``customer_id``: who the customer says they are, unsigned (the agent sees it marked as
    not verified; it never routes). ``topic``: required unless the center runs a chat menu
    (``Topics.menu``): then it is the menu's variable ``topic`` (the example skips the menu)."""

    name: Name
    topic: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    customer_id: Ident | None = None
    identity: ChatIdentityBody | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> StartChatBody:
        if self.customer_id is not None and self.identity is not None:
            raise ValueError("give identity (signed) or customer_id (a claim), not both")
        return self


PhoneNumber = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^\+?[0-9]{3,31}$")]
"""A number the center can dial: digits, optionally after a +."""
IsoTime = Annotated[
    str,
    Field(
        min_length=10,
        max_length=40,
        description="ISO 8601 date and time with its UTC offset, e.g. 2026-12-03T15:00:00+01:00",
    ),
]
AttemptOutcomeName = Literal["answered", "no_answer", "busy", "failed"]


class BookCallbackBody(Body):
    queue: Ident
    number: PhoneNumber
    name: Name | None = None
    customer_id: Ident | None = None
    due_at: IsoTime | None = None
    """Not before this time (default: as soon as an agent is free)."""
    contact_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """The contact the agent books it from (its place in the queue is kept)."""


class RescheduleBody(Body):
    due_at: IsoTime


class CallbackResultBody(Body):
    outcome: AttemptOutcomeName


class CustomerMessageFrame(Body):
    type: Literal["message"]
    text: Text


class CustomerEndFrame(Body):
    type: Literal["end"]


class PingFrame(Body):
    type: Literal["ping"]


class CustomerCallbackFrame(Body):
    """The customer asks to be called back instead of waiting (keeping their place)."""

    type: Literal["callback"]
    number: PhoneNumber
    at: IsoTime | None = None


# -- responses --------------------------------------------------------------------------------


class Error(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: Error


class Ok(BaseModel):
    ok: bool = True


class Me(BaseModel):
    username: str
    role: Role
    agent_id: str | None
    agent_name: str | None
    extension: str | None = Field(default=None, description="The agent's phone (calls ring it)")
    away_reasons: list[str]
    away_reason_labels: dict[str, str] = Field(
        default_factory=dict, description="What to show for a reason (else its code)"
    )
    dispositions: list[str] = Field(
        description="The center's wrap-up dispositions (a queue may list its own: the "
        "screen-pop's `dispositions`)"
    )
    center: str


class LoginResult(Me):
    token: str = Field(description="Session token for `Authorization: Bearer`; also set as cookie")
    expires_in: int


class AgentState(BaseModel):
    agent_id: str
    state: str
    presence: str
    reason: str | None
    since_seconds: float = Field(description="Time in this state (and reason) so far")


class WrapUpOut(BaseModel):
    """After-contact work the agent owes a contact."""

    queue: str
    seconds: float = Field(description="The queue's wrap-up time")
    seconds_left: float = Field(description="Until wrap-up ends by itself")
    dispositions: list[str] = Field(description="The queue's dispositions: one is required")


class ContactNoteOut(BaseModel):
    id: int | None = None
    agent_id: str
    agent_name: str | None
    text: str
    at: float


class HeldContact(BaseModel):
    contact_id: str
    channel: str
    state: str
    queue: str | None = None
    queue_name: str | None = None
    customer_name: str | None = None
    wrap_up: WrapUpOut | None = None


class OfferOut(BaseModel):
    contact_id: str
    queue: str
    channel: str
    ring_seconds_left: float
    customer_name: str | None = None


class AgentContacts(BaseModel):
    state: AgentState
    contacts: list[HeldContact]
    offer: OfferOut | None


class CustomerCard(BaseModel):
    customer_id: str | None = Field(description="The customer, when the identity is verified")
    verified: bool
    claimed_customer_id: str | None = Field(
        default=None, description="Who the customer says they are (not verified: no card)"
    )
    name: str | None
    tier: str
    email: str | None = None
    phone: str | None = None
    last_contacts: list[dict[str, Any]]


class TranscriptLine(BaseModel):
    sender: str
    text: str
    at: float


class ContactTranscript(BaseModel):
    contact_id: str
    transcript: list[TranscriptLine]


class ScreenPop(BaseModel):
    contact_id: str
    queue: str
    channel: str
    state: str
    topic: str | None
    wait_seconds: float
    customer: CustomerCard
    callback: dict[str, Any] | None = Field(
        default=None,
        description="For a call back: its number, status, attempt, and who dials (the "
        "center, or the agent by hand, who then reports the result)",
    )
    open_cases: list[dict[str, Any]] = Field(
        default_factory=list,
        description="A verified customer's complaint cases still being worked on",
    )
    queue_name: str | None = None
    private_notes: list[ContactNoteOut] = Field(
        default_factory=list, description="Agents' private notes on this contact"
    )
    dispositions: list[str] = Field(
        default_factory=list, description="What its wrap-up takes (its queue's list)"
    )
    wrap_up: WrapUpOut | None = None
    transcript: list[TranscriptLine]


class QueueRow(Out):
    queue: str
    name: str
    channel: str
    agents_staffed: int = Field(description="Logged-in agents who can serve the queue")
    agents_available: int
    agents_on_contact: int = Field(description="Ringing or in conversation")
    agents_after_contact_work: int
    agents_away: int
    waiting: int
    oldest_wait_seconds: float
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    service_level_goal: float
    answer_threshold_seconds: float
    asa_seconds: float | None
    aht_seconds: float | None = Field(
        description="Average handle time: talk plus after-contact work per segment handled"
    )
    abandon_rate: float | None
    transfers_in: int
    transfers_out: int
    callbacks_scheduled: int
    callbacks_due: int
    callbacks_in_progress: int
    callbacks_oldest_seconds: float


class AgentRow(Out):
    agent: str
    name: str
    state: str
    reason: str | None
    since: float
    contacts: list[dict[str, Any]]
    handled: int
    occupancy: float


class WaitingRow(BaseModel):
    contact_id: str
    queue: str
    channel: str
    place: int
    priority: int
    tier: str
    wait_seconds: float
    segment: int
    state: str = Field(description="waiting, or offered (being rung at `agent`)")
    agent: str | None


class Explain(BaseModel):
    contact_id: str
    queue: str
    state: str
    step: int
    steps: int = Field(description="The queue's escalation steps")
    wait_seconds: float
    agent: str | None
    candidates: list[dict[str, Any]]


class ChatStarted(BaseModel):
    contact_id: str
    token: str = Field(description="Pass as `?token=` to the chat WebSocket")
    state: Literal["menu", "queued", "ended"] = Field(
        description="`menu`: the chat's menu waits for the customer (answer on the socket); "
        "`queued`: in a queue; `ended`: the menu ended it at once (e.g. closed: `lines` say "
        "why, nothing was queued)"
    )
    lines: list[str] = Field(description="What the chat's menu said first")


class Topics(BaseModel):
    topics: list[str]
    menu: bool = Field(description="The center runs a chat menu: a chat may start without a topic")


class Attempt(BaseModel):
    attempt: int
    agent_id: str | None
    started: float
    ended: float | None
    outcome: str | None


class Callback(BaseModel):
    id: int
    status: Literal[
        "scheduled", "queued", "dialing", "connected", "completed", "unreachable",
        "cancelled", "expired",
    ]  # fmt: skip
    queue: str
    number: str | None
    name: str | None
    customer_id: str | None
    source: str
    requested_by: str | None
    contact_id: str = Field(description="The contact it was booked from")
    callback_contact_id: str = Field(description="The contact that makes the call back")
    arrived: float = Field(description="When the customer first asked: its place in the queue")
    created: float
    due: float
    ended: float | None
    attempts: int
    outcome: str | None
    attempt_log: list[Attempt] | None = None


class AuditEntry(BaseModel):
    id: int
    actor: str = Field(description="The user (or the command) who read or changed it")
    action: str
    target: str = Field(description="The contact, customer, call back, agent or user")
    detail: dict[str, Any] = Field(description="Parts shown, ids of a list, what changed")
    at: float = Field(description="Wall-clock seconds since the epoch")
    time: str = Field(description="The same, ISO 8601 in UTC")


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null: this was the last"
    )


class Erased(BaseModel):
    marker: str = Field(description="Stands where the customer's id stood; not reversible")
    counts: dict[str, int] = Field(description="What was deleted or nulled, per kind")
    in_config: bool = Field(
        description="The center's config still names the customer: remove it there too"
    )


class QuickConnect(BaseModel):
    channel: str
    queues: list[dict[str, Any]]
    agents: list[dict[str, Any]] = Field(
        description="Other agents: state and can_take (a transfer to an agent needs it)"
    )


class Health(BaseModel):
    status: Literal["ok", "starting"]


class CustomerFrame(
    RootModel[
        Annotated[
            CustomerMessageFrame | CustomerEndFrame | CustomerCallbackFrame | PingFrame,
            Field(discriminator="type"),
        ]
    ]
):
    """A frame the customer's chat socket accepts."""


def vocabulary(center: Center, dispositions: Sequence[str]) -> dict[tuple[str, str], list[str]]:
    """What the server accepts in the bodies' open-ended fields, from the center's config: the
    OpenAPI document publishes them as enums (``build_openapi``)."""
    queues, agents = sorted(center.queues), sorted(center.agents)
    reasons = list(center.settings.away_reasons)
    return {
        ("StartChatBody", "topic"): list(center.settings.chat_topics),
        ("TierBody", "tier"): sorted(center.tiers),
        ("AgentStateBody", "reason"): reasons,
        ("SupervisorStateBody", "reason"): reasons,
        ("WrapUpBody", "disposition"): list(dispositions),
        ("MoveBody", "queue"): queues,
        ("BookCallbackBody", "queue"): queues,
        ("TransferBody", "to_queue"): queues,
        ("TransferBody", "to_agent"): agents,
    }
