"""Typed configuration of a contact center.

Vocabulary (one meaning each):

* **skill**: something an agent can do (``billing``, ``spanish``), with a proficiency 1-5.
* **tier** (customer tier): how much a customer matters to routing (``vip``, ``gold``,
  ``standard``); it gives a waiting contact its base priority and its weight when an agent
  chooses between queues.
* **tier level** (of an agent in a queue): 1 is the queue's primary team, 2 the backup, ...
  Escalation steps widen a contact's eligible agents by tier level and proficiency.
* **answer target**: a contact should be answered within ``threshold_seconds``;
  ``goal_percent`` of contacts should meet that (the service level goal).
* **escalation step**: from ``after_seconds`` of waiting in the queue on, who may be offered
  the contact, and what else happens (priority raise, overflow, callback offer).
* **wrap-up**: after-contact work; the agent's slot stays taken until it ends.
* **queue rank** (of a queue, for an agent): which of its queues an agent who becomes ready
  serves first (strict queue priority); agents without ranks take the contact most at risk
  of its answer target.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from contactcenter.kpi import FCR_WINDOW_DAYS

Channel = Literal["voice", "chat", "email", "task"]
CHANNELS: tuple[Channel, ...] = ("voice", "chat", "email", "task")
Strategy = Literal["longest_idle", "least_occupied", "most_skilled", "round_robin", "random"]

Proficiency = Annotated[int, Field(ge=1, le=5)]
TierLevel = Annotated[int, Field(ge=1, le=9)]
QueueRank = Annotated[int, Field(ge=1, le=99)]
Capacity = Annotated[int, Field(ge=0, le=50)]
Identifier = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LANGUAGE = r"^[a-z]{2,3}(-[A-Z]{2})?$"
Language = Annotated[str, Field(pattern=LANGUAGE)]
"""A language a contact is served in: an ISO 639 code (``en``, ``de``), with a region
(``pt-BR``) if need be."""


def _distinct(codes: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return codes


Dispositions = Annotated[
    tuple[
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")], ...
    ],
    Field(min_length=1, max_length=50),
    AfterValidator(_distinct),
]
"""What an agent records as a contact's result in wrap-up: lower-case codes, each once."""
DISPOSITIONS: tuple[str, ...] = ("resolved", "follow-up", "escalated", "sale", "no-resolution")


class _Model(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Skill(_Model):
    id: str = Identifier
    name: str = ""


class Tier(_Model):
    """A customer tier; ``priority`` orders contacts inside a queue (higher first)."""

    id: str = Identifier
    priority: int = Field(ge=0, le=1000)
    weight: float = Field(default=1.0, gt=0, le=1000)


class ChannelSettings(_Model):
    """Per-channel defaults; ``blocks`` lists channels a contact of this channel shuts out."""

    capacity: int = Field(ge=1, le=50)
    blocks: tuple[Channel, ...] = ()
    answer_threshold_seconds: float = Field(gt=0)
    answer_goal_percent: float = Field(default=80.0, gt=0, le=100)


def _default_channels() -> dict[Channel, ChannelSettings]:
    return {
        "voice": ChannelSettings(
            capacity=1, blocks=("chat", "email", "task"), answer_threshold_seconds=30
        ),
        "chat": ChannelSettings(capacity=3, blocks=("voice",), answer_threshold_seconds=10),
        "email": ChannelSettings(capacity=2, blocks=(), answer_threshold_seconds=86_400),
        # a case's follow-up task: blocks nothing (a call still reaches the agent)
        "task": ChannelSettings(capacity=1, blocks=(), answer_threshold_seconds=3_600),
    }


class RoutingSettings(_Model):
    """Center-wide routing rules."""

    no_answer_limit: int = Field(default=2, ge=1, le=100)
    """Consecutive ring timeouts after which the agent is set away with reason ``no-answer``."""
    reoffer_delay_seconds: float = Field(default=10.0, gt=0)
    """How long a contact is not offered again to an agent who declined or missed it."""
    short_abandon_seconds: float = Field(default=5.0, ge=0)
    """Abandons faster than this are not held against the service level (one SL definition)."""


class CallbackSettings(_Model):
    """How call backs are made (the Amazon Connect queued-callback model, agent first: the
    call back is offered to an agent, then the customer is dialled)."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    """Calls to the customer at most (the first and the retries); then it is unreachable."""
    retry_delay_seconds: float = Field(default=300.0, ge=1, le=259_200)
    """At least this long between an unanswered call and the next attempt."""
    ring_seconds: float = Field(default=30.0, ge=5, le=120)
    """How long the customer's phone rings before an attempt counts as not answered."""
    expire_after_hours: float = Field(default=72.0, gt=0, le=720)
    """A call back still not made this long after it was booked expires (visibly)."""
    schedule_ahead_days: float = Field(default=14.0, gt=0, le=60)
    """How far ahead a customer may ask to be called."""


class ChatIdentitySettings(_Model):
    """How the chat widget knows who a customer is (``contactcenter/identity.py``): the site's
    backend signs the logged-in customer's id for widget ``widget``. ``policy``: ``optional``
    lets unsigned visitors chat as not verified; ``verified_only`` refuses them.
    ``embed_origins``: the sites whose pages may show ``/chat`` in an iframe (besides the
    engine's own origin), e.g. ``https://www.example.com``."""

    widget: str = Field(
        default="web", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )
    policy: Literal["optional", "verified_only"] = "optional"
    embed_origins: tuple[
        Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")], ...
    ] = ()


Days = Annotated[float, Field(gt=0, le=36_500)]


class RetentionSettings(_Model):
    """How long customers' personal data is kept, in days from the end of its contact (None:
    for ever); ``contactcenter retention`` deletes or anonymises what is older, and contact
    records stay for statistics. ``transcripts_days``: chat lines. ``notes_days``: free text
    (wrap-up and transfer notes, survey comments, CRM notes). ``callbacks_days``: a finished
    call back's number and name. ``contacts_days``: the customer's name on contact records."""

    transcripts_days: Days | None = None
    notes_days: Days | None = None
    callbacks_days: Days | None = None
    contacts_days: Days | None = None


class CsatSettings(_Model):
    """Customer satisfaction (CSAT) surveys: after a contact an agent handled, its customer
    may score it 1-5 once, with an optional comment (personal data: sealed, retained as notes).
    ``channels``: where the survey is asked (chat: the widget asks when the chat ends).
    ``window_hours``: how long after the contact ended an answer is taken. ``question``:
    what the customer is asked."""

    channels: tuple[Channel, ...] = ("chat",)
    window_hours: float = Field(default=24.0, gt=0, le=720)
    question: str = Field(
        default="How satisfied are you with the help you got?", min_length=1, max_length=200
    )


class FcrSettings(_Model):
    """First-contact resolution (``contactcenter.kpi.first_contacts``): a customer's next
    contact about the same queue within ``window_days`` of a contact makes it a repeat."""

    window_days: float = Field(default=FCR_WINDOW_DAYS, ge=1, le=90)


class CenterSettings(_Model):
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    language: Language = "en"
    """What contacts are served in, unless their queue says otherwise (standard answers)."""
    skills: tuple[Skill, ...]
    tiers: tuple[Tier, ...]
    default_tier: str = "standard"
    away_reasons: tuple[str, ...] = ("break", "lunch", "training", "meeting", "no-answer")
    away_reason_labels: dict[str, Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=dict
    )
    """Away reason -> what the desktop shows for it (a reason without one shows its code)."""
    dispositions: Dispositions = DISPOSITIONS
    """The wrap-up dispositions of every queue that lists none of its own."""
    channels: dict[Channel, ChannelSettings] = Field(default_factory=_default_channels)
    routing: RoutingSettings = RoutingSettings()
    chat_topics: dict[str, str] = Field(default_factory=dict)
    """What a customer picks when starting a chat -> the chat queue it goes to."""
    callbacks: CallbackSettings = CallbackSettings()
    retention: RetentionSettings = RetentionSettings()
    chat_identity: ChatIdentitySettings = ChatIdentitySettings()
    csat: CsatSettings = CsatSettings()
    fcr: FcrSettings = FcrSettings()
    interval_minutes: Literal[15, 30] = 30
    """The center's interval (the planner's ``interval_minutes``): supervisors read each
    agent's day per interval of this length."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        """Midnight ("today") and opening hours are in this zone: a typo fails here."""
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {zone!r} (an IANA name, e.g. Europe/Berlin)"
            ) from None
        return zone

    @model_validator(mode="after")
    def _labels_of_reasons(self) -> CenterSettings:
        unknown = sorted(set(self.away_reason_labels) - set(self.away_reasons))
        if unknown:
            raise ValueError(f"away_reason_labels: not an away reason: {', '.join(unknown)}")
        return self

    @field_validator("channels", mode="after")
    @classmethod
    def _fill_channels(
        cls, given: dict[Channel, ChannelSettings]
    ) -> dict[Channel, ChannelSettings]:
        """Channels not configured keep their defaults, so every channel is always present."""
        return {**_default_channels(), **given}


class AnswerTarget(_Model):
    """``threshold_seconds`` None means the channel default (voice 30 s, chat 10 s, email 24 h)."""

    threshold_seconds: float | None = Field(default=None, gt=0)
    goal_percent: float | None = Field(default=None, gt=0, le=100)


class EscalationStep(_Model):
    """Who may take the contact from ``after_seconds`` of waiting on; steps only ever widen.

    ``dedicated_only``: only the customer's dedicated agent (skipped when there is none).
    ``max_tier``: agents whose tier level in the queue is at most this (None: every level).
    ``min_proficiency``: overrides the queue's minimum proficiency for this step.
    ``any_agent``: agents with the skills may take it even if not members of the queue.
    """

    after_seconds: float = Field(ge=0)
    dedicated_only: bool = False
    max_tier: int | None = Field(default=None, ge=1, le=9)
    min_proficiency: int | None = Field(default=None, ge=1, le=5)
    any_agent: bool = False
    raise_priority: int = Field(default=0, ge=0, le=1000)
    overflow_to: str | None = None
    offer_callback: bool = False


class MaxWait(_Model):
    """What happens to a contact that has waited ``seconds`` in the queue."""

    seconds: float = Field(gt=0)
    action: Literal["overflow", "callback", "disconnect"] = "disconnect"
    overflow_to: str | None = None


class QueueConfig(_Model):
    id: str = Identifier
    name: str = ""
    channel: Channel
    skills: dict[str, Proficiency] = Field(min_length=1)
    """Required skill -> minimum proficiency (1-5)."""
    priority: int = Field(default=0, ge=0, le=1000)
    """Added to the priority of every contact in this queue (with its tier's priority and
    the escalation raises): it orders contacts inside the queue and goes with a contact that
    overflows here. It does not rank queues for an agent who serves several: that is the
    SLA-risk rule, or the agent's ``queue_rank``."""
    answer_target: AnswerTarget = AnswerTarget()
    escalation: tuple[EscalationStep, ...] = ()
    ring_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    wrap_up_seconds: float = Field(default=30.0, ge=0, le=3600)
    max_wait: MaxWait | None = None
    selection: Strategy = "longest_idle"
    when_no_agents: Literal["wait", "overflow", "disconnect"] = "wait"
    no_agents_overflow_to: str | None = None
    callback_queue: str | None = None
    """The voice queue that calls back customers who asked for it in this queue (default:
    this queue, if it is a voice queue)."""
    language: Language | None = None
    """The language its contacts are served in (None: the center's ``language``)."""
    dispositions: Dispositions | None = None
    """The wrap-up dispositions its agents choose from (None: the center's ``dispositions``)."""


class AgentConfig(_Model):
    id: str = Identifier
    name: str = ""
    extension: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_.+-]{1,32}$")
    skills: dict[str, Proficiency] = Field(default_factory=dict)
    """Skill -> proficiency 1-5."""
    queues: dict[str, TierLevel] = Field(default_factory=dict)
    """Queue -> tier level (1 = primary team)."""
    capacity: dict[Channel, Capacity] = Field(default_factory=dict)
    """Channel -> how many at once; channels not named take the center default."""
    dedicated_customers: tuple[str, ...] = ()
    queue_rank: dict[str, QueueRank] = Field(default_factory=dict)
    """Queue -> rank (1 first): strict queue priority when the agent becomes ready, as
    Amazon Connect's routing-profile priority. Empty (default): the agent takes the waiting
    contact most at risk of its target (tier weight x wait / answer threshold) among all its
    queues. Given: the best-ranked queue with a contact the agent may take first, the
    SLA-risk rule among equal ranks, queues left out after every ranked one. The agent's
    dedicated customers come first either way."""


class Customer(_Model):
    """A seed customer record for the CRM (the store owns customers at run time)."""

    id: str = Identifier
    name: str = Field(min_length=1)
    tier: str = "standard"
    phone: str | None = None
    email: str | None = None
    account_number: str | None = Field(default=None, pattern=r"^[0-9]{4,16}$")
