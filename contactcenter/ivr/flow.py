"""IVR flows as data: the node types a flow is made of, validated when the config is loaded.

Vocabulary (one meaning each):

* **flow**: a graph of **nodes** a caller (or chatter) walks through before being queued; one
  YAML file ``config/ivr/<flow id>.yaml`` with a ``start`` node and its ``nodes``.
* **entry point**: what selects a flow: a dialled number (voice) or a chat entry name
  (``config/ivr/entries.yaml``).
* **prompt**: a recorded announcement, named by id: ``config/prompts/<id>.wav`` for voice, its
  text in ``config/prompts/prompts.yaml`` for the text channels.
* **key**: one DTMF key, ``0``-``9``, ``*`` or ``#``.
* **variable**: a named string a session carries: set by the driver at start (``caller``: the
  caller's number, ``dialled``: the number dialled), by collect nodes and by customer lookups
  (``customer_id``, ``customer_name``, ``tier``, ``dedicated_agent``).
* **retries**: how many more times an input node asks after its first attempt failed (no
  input or invalid input); then the node fails over to ``on_failure`` (or hangs up).
* **schedule**: weekly opening hours plus holidays (``config/ivr/hours.yaml``), evaluated in
  the center's time zone.
* **post-call survey**: a caller who opted in (a ``survey`` node's yes, or an enqueue node
  with ``survey: true``) stays on the line when the agent hangs up and scores the call 1-5 by
  key (the voice edge asks: ``contactcenter/voice/survey.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

KEYS = "0123456789*#"
"""The DTMF keys."""

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=IDENTIFIER)]
NodeId = Identifier
PromptId = Identifier
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
VariableName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z_][a-z0-9_]*$")]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9*#]{1,32}$")]
LookupKey = Literal["phone", "account_number", "customer_id"]


def _non_empty(value: Any) -> Any:
    """Collections that need an item (a ``min_length`` would repeat every item's error)."""
    if not value:
        raise _issue("needs at least one entry")
    return value


NonEmpty = AfterValidator(_non_empty)


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Prompts = Annotated[tuple[PromptId, ...], BeforeValidator(_one_or_many), NonEmpty]
"""One prompt id, or a list played one after the other."""


def _issue(message: str) -> PydanticCustomError:
    """A validation error whose message is reported as is (no "Value error, " prefix)."""
    return PydanticCustomError("ivr", message)


class _Model(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _string_keys(value: Any) -> Any:
    """YAML reads ``1000: main`` with an integer key; keys and dialled numbers are strings."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) else k: v for k, v in value.items()}
    return value


# -- nodes ----------------------------------------------------------------------------------


class MenuOption(_Model):
    """Where a key of a menu leads; ``label`` names the choice on text channels."""

    next: NodeId
    label: str | None = Field(default=None, min_length=1, max_length=80)


def _option_shorthand(value: Any) -> Any:
    return {"next": value} if isinstance(value, str) else value


Option = Annotated[MenuOption, BeforeValidator(_option_shorthand)]


class _InputNode(_Model):
    """What menus and digit collection share: a prompt, a timeout, retries, failure prompts.

    ``timeout_seconds`` runs from the end of the prompt (and, when collecting, again after
    every key). ``invalid_prompt`` / ``no_input_prompt`` are played before the prompt is
    repeated; once ``retries`` are used up the session goes to ``on_failure`` (None: hang up
    with reason ``invalid-input`` or ``no-input``).
    """

    prompt: Prompts
    timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)
    invalid_prompt: Prompts | None = None
    no_input_prompt: Prompts | None = None
    on_failure: NodeId | None = None


class MenuNode(_InputNode):
    """Play a prompt and branch on one key; keys may be pressed while the prompt plays."""

    type: Literal["menu"]
    options: Annotated[dict[Key, Option], BeforeValidator(_string_keys), NonEmpty]


class CollectNode(_InputNode):
    """Collect ``min_digits``..``max_digits`` keys into ``variable``.

    Entry ends at ``terminator`` (not stored), at ``max_digits`` keys, or at the timeout when
    at least one key was pressed; ``pattern`` (a regular expression) must then match the
    whole entry. The terminator alone counts as no input.
    """

    type: Literal["collect"]
    variable: VariableName
    min_digits: int = Field(default=1, ge=1, le=32)
    max_digits: int = Field(default=16, ge=1, le=32)
    terminator: Literal["#", "*"] | None = "#"
    pattern: str | None = None
    next: NodeId

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as err:
                raise _issue(f"invalid regular expression: {err}") from None
        return pattern

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_digits > self.max_digits:
            raise _issue(f"min_digits {self.min_digits} is above max_digits {self.max_digits}")
        return self


class LookupNode(_Model):
    """Look the customer up by the value of ``variable`` (default: ``caller`` for ``phone``,
    else the variable named like ``by``).

    Found: sets ``customer_id``, ``customer_name``, ``tier`` and ``dedicated_agent`` (when the
    customer has one) and goes to ``found``. Not found, or the variable is empty: goes to
    ``not_found`` (a missing value is not looked up at all).
    """

    type: Literal["lookup"]
    by: LookupKey
    variable: VariableName | None = None
    found: NodeId
    not_found: NodeId

    @property
    def source(self) -> str:
        """The variable whose value is looked up."""
        if self.variable is not None:
            return self.variable
        return "caller" if self.by == "phone" else self.by


class Condition(_Model):
    """One test; exactly one of these forms:

    * ``{variable: tier, equals: vip}``, ``{variable: tier, one_of: [vip, gold]}``,
      ``{variable: account_number, is_set: true}``
    * ``{open: main}``: the schedule ``main`` is open now (holidays included);
      ``{holiday: main}``: today is one of its holidays
    * ``{queue: support, expected_wait_above: 300}`` (seconds),
      ``{queue: support, no_agents: true}`` (no agent who can serve it is logged in);
      the driver answers these with the queue's state
    * ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    variable: VariableName | None = None
    equals: str | None = None
    one_of: tuple[str, ...] | None = None
    is_set: bool | None = None
    open: Identifier | None = None
    holiday: Identifier | None = None
    queue: Identifier | None = None
    expected_wait_above: float | None = Field(default=None, ge=0)
    no_agents: bool | None = None
    all: Annotated[tuple[Condition, ...], NonEmpty] | None = None
    any: Annotated[tuple[Condition, ...], NonEmpty] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = {
            "variable": self.variable,
            "open": self.open,
            "holiday": self.holiday,
            "queue": self.queue,
            "all": self.all,
            "any": self.any,
            "not": self.not_,
        }
        given = [k for k, v in forms.items() if v is not None]
        if len(given) != 1:
            raise _issue(
                "a condition needs exactly one of: variable, open, holiday, queue, all, any, "
                f"not (got {', '.join(given) or 'none'})"
            )
        tests = {
            "equals": self.equals,
            "one_of": self.one_of,
            "is_set": self.is_set,
            "expected_wait_above": self.expected_wait_above,
            "no_agents": self.no_agents,
        }
        used = [k for k, v in tests.items() if v is not None]
        allowed = {
            "variable": ("equals", "one_of", "is_set"),
            "queue": ("expected_wait_above", "no_agents"),
        }.get(given[0], ())
        wrong = [k for k in used if k not in allowed]
        if wrong:
            raise _issue(f"{', '.join(wrong)} does not go with {given[0]}")
        if allowed and len(used) != 1:
            raise _issue(f"{given[0]} needs exactly one of: {', '.join(allowed)}")
        return self

    @property
    def form(self) -> str:
        """Which form this is: ``variable``, ``open``, ``holiday``, ``queue``, ``all``, ..."""
        for name in ("variable", "open", "holiday", "queue", "all", "any"):
            if getattr(self, name) is not None:
                return name
        return "not"


class Rule(_Model):
    when: Condition
    next: NodeId


class BranchNode(_Model):
    """Go to the ``next`` of the first rule whose condition holds, else to ``otherwise``."""

    type: Literal["branch"]
    rules: Annotated[tuple[Rule, ...], NonEmpty]
    otherwise: NodeId


class PlayNode(_Model):
    """Play a prompt to its end (keys pressed meanwhile are dropped), then go on."""

    type: Literal["play"]
    prompt: Prompts
    next: NodeId


SURVEY_VARIABLE = "survey"
"""The variable a survey node sets: ``yes`` (the caller takes the post-call survey) or ``no``."""


class SurveyNode(_Model):
    """Ask the caller whether they take a short survey after the call, then go on to ``next``
    whatever the answer.

    ``accept`` is the key that says yes; any other key, or none within ``timeout_seconds`` of
    the prompt's end, is a no (nobody is asked twice). A key may be pressed while the prompt
    plays. The answer is the ``survey`` variable (``yes`` / ``no``), which the enqueue node
    reached later reads.
    """

    type: Literal["survey"]
    prompt: Prompts
    accept: Key = "1"
    timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    next: NodeId


class EnqueueNode(_Model):
    """Hand the contact to the routing core: the session ends here.

    The tier is ``tier`` if given, else the looked-up ``tier`` variable (else the center's
    default); with ``dedicated_agent`` the looked-up dedicated agent is offered it first.
    The queue implies the skills required. The caller takes the post-call survey if they said
    yes at a survey node, or unasked with ``survey`` (the flow opts everyone queued here in).
    """

    type: Literal["enqueue"]
    queue: Identifier
    tier: Identifier | None = None
    dedicated_agent: bool = True
    survey: bool = False


class CallbackNode(_Model):
    """Ask for a callback on ``queue`` to the number in ``number_variable``, then go on.

    Without a number the session goes to ``no_number`` (None: hang up, ``no-callback-number``).
    """

    type: Literal["callback"]
    queue: Identifier
    number_variable: VariableName = "caller"
    next: NodeId
    no_number: NodeId | None = None


class TransferNode(_Model):
    """Play ``prompt`` (if any), then transfer the call to an external number: it ends."""

    type: Literal["transfer"]
    number: PhoneNumber
    prompt: Prompts | None = None


class HangUpNode(_Model):
    """Play ``prompt`` (if any), then hang up with ``reason``: the session ends."""

    type: Literal["hangup"]
    prompt: Prompts | None = None
    reason: Identifier = "completed"


Node = Annotated[
    MenuNode
    | CollectNode
    | LookupNode
    | BranchNode
    | PlayNode
    | EnqueueNode
    | CallbackNode
    | TransferNode
    | HangUpNode
    | SurveyNode,
    Field(discriminator="type"),
]

NODE_TYPES: dict[str, type[_Model]] = {
    "menu": MenuNode,
    "collect": CollectNode,
    "lookup": LookupNode,
    "branch": BranchNode,
    "play": PlayNode,
    "enqueue": EnqueueNode,
    "callback": CallbackNode,
    "transfer": TransferNode,
    "hangup": HangUpNode,
    "survey": SurveyNode,
}


class Flow(_Model):
    """One flow: its id (the file name without ``.yaml``), a start node and the nodes."""

    id: Identifier
    name: str = ""
    start: NodeId
    nodes: Annotated[dict[NodeId, Node], NonEmpty]


def successors(node: Node) -> list[tuple[str, str]]:
    """The nodes ``node`` can lead to, as (key path inside the node, node id)."""
    out: list[tuple[str, str]] = []
    if isinstance(node, MenuNode):
        out += [(f"options.{key}.next", opt.next) for key, opt in node.options.items()]
    if isinstance(node, MenuNode | CollectNode) and node.on_failure is not None:
        out.append(("on_failure", node.on_failure))
    if isinstance(node, CollectNode | PlayNode | CallbackNode | SurveyNode):
        out.append(("next", node.next))
    if isinstance(node, LookupNode):
        out += [("found", node.found), ("not_found", node.not_found)]
    if isinstance(node, BranchNode):
        out += [(f"rules[{i}].next", rule.next) for i, rule in enumerate(node.rules)]
        out.append(("otherwise", node.otherwise))
    if isinstance(node, CallbackNode) and node.no_number is not None:
        out.append(("no_number", node.no_number))
    return out


def node_prompts(node: Node) -> list[tuple[str, str]]:
    """The prompts ``node`` plays, as (key path inside the node, prompt id)."""
    fields: list[tuple[str, tuple[str, ...] | None]] = []
    if isinstance(node, MenuNode | CollectNode):
        fields += [
            ("prompt", node.prompt),
            ("invalid_prompt", node.invalid_prompt),
            ("no_input_prompt", node.no_input_prompt),
        ]
    elif isinstance(node, PlayNode | TransferNode | HangUpNode | SurveyNode):
        fields.append(("prompt", node.prompt))
    out: list[tuple[str, str]] = []
    for name, ids in fields:
        if ids is not None:
            out += [(name if len(ids) == 1 else f"{name}[{i}]", p) for i, p in enumerate(ids)]
    return out


def conditions(condition: Condition, path: str = "when") -> list[tuple[str, Condition]]:
    """``condition`` and every condition nested in it, with key paths."""
    out = [(path, condition)]
    for name, group in (("all", condition.all), ("any", condition.any)):
        for i, inner in enumerate(group or ()):
            out += conditions(inner, f"{path}.{name}[{i}]")
    if condition.not_ is not None:
        out += conditions(condition.not_, f"{path}.not")
    return out


# -- entry points -------------------------------------------------------------------------


class Entries(_Model):
    """``voice``: dialled number -> flow id; ``chat``: chat entry name -> flow id."""

    voice: Annotated[dict[PhoneNumber, Identifier], BeforeValidator(_string_keys)] = Field(
        default_factory=dict
    )
    chat: dict[Identifier, Identifier] = Field(default_factory=dict)


# -- business hours -----------------------------------------------------------------------

TimeRange = Annotated[
    str,
    Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"),
]
"""``"08:00-20:00"``, local time; ``24:00`` ends at midnight."""


def minutes(time_range: str) -> tuple[int, int]:
    """``"08:30-20:00"`` -> (510, 1200): minutes after midnight, end exclusive."""
    start, end = time_range.split("-")
    h1, m1 = start.split(":")
    h2, m2 = end.split(":")
    return int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)


def _check_ranges(ranges: tuple[str, ...]) -> tuple[str, ...]:
    for r in ranges:
        start, end = minutes(r)
        if end <= start:
            raise _issue(f"{r!r} ends before it starts (split ranges over midnight in two)")
    return ranges


DayHours = Annotated[tuple[TimeRange, ...], AfterValidator(_check_ranges)]


class Weekly(_Model):
    """Opening hours per weekday; a day left out is closed."""

    mon: DayHours = ()
    tue: DayHours = ()
    wed: DayHours = ()
    thu: DayHours = ()
    fri: DayHours = ()
    sat: DayHours = ()
    sun: DayHours = ()

    def on(self, weekday: int) -> tuple[str, ...]:
        """Hours of ``weekday`` (0 = Monday, as ``date.weekday()``)."""
        days = (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)
        return days[weekday]


class Holiday(_Model):
    """A date the weekly hours do not apply: closed, or open only for ``hours``."""

    date: dt.date
    name: str = ""
    hours: DayHours = ()


class Schedule(_Model):
    weekly: Weekly
    holidays: tuple[Holiday, ...] = ()

    @model_validator(mode="after")
    def _unique_dates(self) -> Schedule:
        seen: set[dt.date] = set()
        for holiday in self.holidays:
            if holiday.date in seen:
                raise _issue(f"holiday {holiday.date.isoformat()} is listed twice")
            seen.add(holiday.date)
        return self


class HoursFile(_Model):
    """``config/ivr/hours.yaml``: named schedules (the time zone is the center's)."""

    schedules: Annotated[dict[Identifier, Schedule], NonEmpty]


# -- prompt texts -------------------------------------------------------------------------


class PromptText(_Model):
    """A prompt's words; ``voice`` is the espeak-ng voice ``scripts/make-prompts`` uses.

    ``audio`` False: a text-only prompt (chat), no recording is made.
    """

    text: str = Field(min_length=1, max_length=500)
    voice: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_+-]{1,32}$")
    audio: bool = True


def _text_shorthand(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class PromptCatalog(_Model):
    """``config/prompts/prompts.yaml``: prompt id -> text (and voice)."""

    voice: str = Field(default="en-us", pattern=r"^[A-Za-z0-9_+-]{1,32}$")
    speed: int = Field(default=160, ge=80, le=400)
    """espeak-ng words per minute."""
    prompts: dict[PromptId, Annotated[PromptText, BeforeValidator(_text_shorthand)]] = Field(
        default_factory=dict
    )
