"""Request and response bodies of the HTTP API (pydantic): validation and OpenAPI in one place.

Request bodies refuse unknown fields and do not coerce types (``"5"`` is not a number).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

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


class MoveBody(Body):
    queue: Ident


class TierBody(Body):
    tier: Ident


class StartChatBody(Body):
    name: Name
    topic: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: Ident | None = None
    email: (
        Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


class CustomerMessageFrame(Body):
    type: Literal["message"]
    text: Text


class CustomerEndFrame(Body):
    type: Literal["end"]


class PingFrame(Body):
    type: Literal["ping"]


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
    away_reasons: list[str]
    dispositions: list[str]
    center: str


class LoginResult(Me):
    token: str = Field(description="Session token for `Authorization: Bearer`; also set as cookie")
    expires_in: int


class AgentState(BaseModel):
    agent_id: str
    state: str
    presence: str
    reason: str | None


class HeldContact(BaseModel):
    contact_id: str
    channel: str
    state: str
    queue: str | None = None
    customer_name: str | None = None


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
    customer_id: str | None
    name: str | None
    tier: str
    email: str | None = None
    phone: str | None = None
    last_contacts: list[dict[str, Any]]


class TranscriptLine(BaseModel):
    sender: str
    text: str
    at: float


class ScreenPop(BaseModel):
    contact_id: str
    queue: str
    channel: str
    state: str
    topic: str | None
    wait_seconds: float
    customer: CustomerCard
    transcript: list[TranscriptLine]


class QueueRow(Out):
    queue: str
    name: str
    channel: str
    waiting: int
    oldest_wait_seconds: float
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    service_level_goal: float
    answer_threshold_seconds: float
    asa_seconds: float | None


class AgentRow(Out):
    agent: str
    name: str
    state: str
    reason: str | None
    since: float
    contacts: list[dict[str, Any]]
    handled: int
    occupancy: float


class Explain(BaseModel):
    contact_id: str
    queue: str
    state: str
    step: int
    wait_seconds: float
    agent: str | None
    candidates: list[dict[str, Any]]


class ChatStarted(BaseModel):
    contact_id: str
    token: str = Field(description="Pass as `?token=` to the chat WebSocket")


class Topics(BaseModel):
    topics: list[str]


class Health(BaseModel):
    status: Literal["ok", "starting"]


class CustomerFrame(
    RootModel[
        Annotated[CustomerMessageFrame | CustomerEndFrame | PingFrame, Field(discriminator="type")]
    ]
):
    """A frame the customer's chat socket accepts."""
