"""The IVR interpreter: a sans-I/O state machine that walks one caller through one flow.

Everything that decides what a session does next lives in this module. It plays nothing,
reads no keys, looks nothing up and never reads a clock: a driver (the voice edge, the chat
edge, a test) feeds it **inputs** and carries out the **actions** each input returns.

Inputs (methods of ``Session``): ``start(now)``, ``digit(key)``, ``prompt_finished()``,
``timeout()``, ``lookup_result(customer)``, ``queue_state_result(state)``. Every input takes
an optional ``now`` (an aware ``datetime``), the time business-hours conditions are evaluated
at; ``start`` requires it.

Actions, and what the driver owes the session for each:

=====================  ==================================================================
``Play(prompt)``       play it; call ``prompt_finished()`` at its end (unless stopped)
``StopPlayback()``     stop the prompt playing now; no ``prompt_finished()`` for it
``CollectDigits(..)``  keys are wanted from now on (text channels show the choices)
``StartTimer(s)``      (re)start the session's one timer; call ``timeout()`` when it runs out
``CancelTimer()``      stop that timer; no ``timeout()`` for it
``Lookup(by, value)``  find the customer; answer ``lookup_result(CustomerInfo | None)``
``QueryQueueState(q)`` answer ``queue_state_result(QueueStatus)`` for queue ``q``
``Enqueue(..)``        final: hand the contact to the routing core
``RequestCallback(..)`` record a callback request (the session goes on)
``Transfer(number)``   final: transfer the call to an external number
``HangUp(reason)``     final: hang up
=====================  ==================================================================

Keys may be pressed at any time: while a menu, collect or survey prompt plays they interrupt it
(barge-in); while nothing asks for keys they are dropped. An input the current state does
not take (``timeout()`` with no timer running, ``prompt_finished()`` with nothing playing, any
input after a final action) raises ``InvalidInput`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from contactcenter.ivr.flow import (
    KEYS,
    SURVEY_VARIABLE,
    BranchNode,
    CallbackNode,
    CollectNode,
    Condition,
    EnqueueNode,
    Flow,
    HangUpNode,
    LookupKey,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    SurveyNode,
    TransferNode,
    conditions,
)
from contactcenter.ivr.hours import BusinessHours

MAX_STEPS = 200
"""Nodes a single input may pass through before the flow is declared a loop."""


# == errors =================================================================================


class IvrError(Exception):
    """Base of the interpreter's errors."""


class InvalidInput(IvrError):
    """The input does not fit the session's state; the session is unchanged."""


class SessionEnded(InvalidInput):
    """An input after the final action (enqueue, transfer, hang-up)."""


class InvalidKey(InvalidInput, ValueError):
    """``digit()`` with something that is not one DTMF key."""


class FlowError(IvrError):
    """The flow itself is broken (only flows not checked by ``load_flows`` can be)."""


class FlowLoop(FlowError):
    """The flow went round without ever waiting for the caller or the driver."""


# == inputs the driver answers with =========================================================


@dataclass(frozen=True)
class CustomerInfo:
    """What a customer lookup found."""

    id: str
    name: str
    tier: str
    dedicated_agent: str | None = None


@dataclass(frozen=True)
class QueueStatus:
    """A queue's state for branch conditions.

    ``expected_wait_seconds``: the driver's estimate (``inf`` when nobody can answer; None when
    unknown: ``expected_wait_above`` is then false). ``agents_logged_in``: agents logged in who
    can serve the queue.
    """

    queue: str
    agents_logged_in: int
    expected_wait_seconds: float | None = None


# == actions ================================================================================


@dataclass(frozen=True)
class Play:
    prompt: str


@dataclass(frozen=True)
class StopPlayback:
    pass


@dataclass(frozen=True)
class Choice:
    """A menu key and the label text channels show for it."""

    key: str
    label: str | None = None


@dataclass(frozen=True)
class CollectDigits:
    """Keys are wanted: a menu choice (``choices``) or ``min_digits``..``max_digits`` digits
    ended by ``terminator``. The timeout is the session's timer (``StartTimer``)."""

    min_digits: int
    max_digits: int
    terminator: str | None = None
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class StartTimer:
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class Lookup:
    by: LookupKey
    value: str


@dataclass(frozen=True)
class QueryQueueState:
    queue: str


@dataclass(frozen=True)
class Enqueue:
    """Final: queue the contact (``Router.contact_arrived(now, id, queue, tier=..., ...)``);
    ``survey``: the caller takes the post-call survey when the agent hangs up."""

    queue: str
    tier: str | None = None
    customer_id: str | None = None
    preferred_agent: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict, hash=False)
    survey: bool = False


@dataclass(frozen=True)
class RequestCallback:
    """The caller asked to be called back on ``number``; the runtime schedules it on ``queue``."""

    queue: str
    number: str
    tier: str | None = None
    customer_id: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Transfer:
    """Final: transfer the call to an external number."""

    number: str


@dataclass(frozen=True)
class HangUp:
    """Final: hang up. Reasons: a hang-up node's ``reason``, ``no-input``, ``invalid-input``,
    ``no-callback-number``."""

    reason: str


Action = (
    Play
    | StopPlayback
    | CollectDigits
    | StartTimer
    | CancelTimer
    | Lookup
    | QueryQueueState
    | Enqueue
    | RequestCallback
    | Transfer
    | HangUp
)
FinalAction = Enqueue | Transfer | HangUp


# == the state machine ======================================================================


class State(enum.Enum):
    IDLE = "idle"
    """Not started."""
    PLAYING = "playing"
    """A prompt of a play, transfer or hang-up node is playing; keys are dropped."""
    PROMPTING = "prompting"
    """A menu, collect or survey node's prompt is playing; a key interrupts it."""
    WAITING_FOR_KEYS = "waiting_for_keys"
    """A menu, collect or survey node waits for keys; the timer runs."""
    LOOKING_UP = "looking_up"
    """Waiting for ``lookup_result``."""
    QUERYING_QUEUE = "querying_queue"
    """Waiting for ``queue_state_result``."""
    ENDED = "ended"
    """A final action was returned."""


_ACCEPTS: dict[State, frozenset[str]] = {
    State.IDLE: frozenset({"start"}),
    State.PLAYING: frozenset({"prompt_finished", "digit"}),
    State.PROMPTING: frozenset({"prompt_finished", "digit"}),
    State.WAITING_FOR_KEYS: frozenset({"digit", "timeout"}),
    State.LOOKING_UP: frozenset({"lookup_result", "digit"}),
    State.QUERYING_QUEUE: frozenset({"queue_state_result", "digit"}),
    State.ENDED: frozenset(),
}
"""Which inputs each state takes; a key where none is wanted is taken and dropped."""


class _NeedQueueState(Exception):
    def __init__(self, queue: str) -> None:
        self.queue = queue


class Session:
    """One caller in one flow.

    ``variables`` are the starting variables (``caller``, ``dialled``, ...); ``hours`` is
    needed when the flow tests business hours.
    """

    def __init__(
        self,
        flow: Flow,
        variables: Mapping[str, str] | None = None,
        *,
        hours: BusinessHours | None = None,
    ) -> None:
        self.flow = flow
        self._variables: dict[str, str] = dict(variables or {})
        self._hours = hours
        for name in _schedules_used(flow):
            if hours is None or name not in hours.schedules:
                raise FlowError(f"flow {flow.id!r} uses schedule {name!r}, which is not given")
        self._state = State.IDLE
        self._node: str | None = None
        self._now: dt.datetime | None = None
        self._playlist: deque[str] = deque()
        self._timer = False
        self._attempts = 0
        self._keys = ""
        self._queue_states: dict[str, QueueStatus] = {}
        self._pending_queue: str | None = None
        self._outcome: FinalAction | None = None

    # -- read-only views ----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def node(self) -> str | None:
        """The current node's id (None before start)."""
        return self._node

    @property
    def variables(self) -> Mapping[str, str]:
        return dict(self._variables)

    @property
    def outcome(self) -> FinalAction | None:
        """The final action, once the session has ended."""
        return self._outcome

    @property
    def expecting(self) -> CollectDigits | None:
        """What keys the session wants now (None: keys would be dropped)."""
        if self._state not in (State.PROMPTING, State.WAITING_FOR_KEYS):
            return None
        return _collect_action(self._input_node())

    @property
    def timer_running(self) -> bool:
        return self._timer

    # -- inputs ---------------------------------------------------------------------------

    def start(self, now: dt.datetime) -> list[Action]:
        """Enter the flow's start node."""
        self._accept("start", now)
        out: list[Action] = []
        self._run(self.flow.start, out)
        return out

    def digit(self, key: str, *, now: dt.datetime | None = None) -> list[Action]:
        """The caller pressed ``key`` (one of ``0-9*#``)."""
        if len(key) != 1 or key not in KEYS:
            raise InvalidKey(f"{key!r} is not a DTMF key")
        self._accept("digit", now)
        out: list[Action] = []
        if self._state not in (State.PROMPTING, State.WAITING_FOR_KEYS):
            return out  # nothing asks for keys: dropped
        if self._state is State.PROMPTING:
            out.append(StopPlayback())
            self._playlist.clear()
            self._state = State.WAITING_FOR_KEYS
        node = self._input_node()
        if isinstance(node, SurveyNode):
            self._timer_off(out)
            self._surveyed(node, key == node.accept, out)
        elif isinstance(node, MenuNode):
            self._timer_off(out)
            option = node.options.get(key)
            if option is None:
                self._failed(node, "invalid-input", out)
            else:
                self._run(option.next, out)
        elif key == node.terminator:
            self._timer_off(out)
            if self._keys:
                self._collected(node, out)
            else:
                self._failed(node, "no-input", out)
        else:
            self._keys += key
            if len(self._keys) >= node.max_digits:
                self._timer_off(out)
                self._collected(node, out)
            else:
                out.append(StartTimer(node.timeout_seconds))
                self._timer = True
        return out

    def prompt_finished(self, *, now: dt.datetime | None = None) -> list[Action]:
        """The prompt of the last ``Play`` has been played to its end."""
        self._accept("prompt_finished", now)
        out: list[Action] = []
        if self._playlist:
            out.append(Play(self._playlist.popleft()))
            return out
        assert self._node is not None
        node = self.flow.nodes[self._node]
        if self._state is State.PROMPTING:
            assert isinstance(node, MenuNode | CollectNode | SurveyNode)
            self._state = State.WAITING_FOR_KEYS
            out.append(StartTimer(node.timeout_seconds))
            self._timer = True
        elif isinstance(node, PlayNode):
            self._run(node.next, out)
        elif isinstance(node, TransferNode):
            self._end(Transfer(node.number), out)
        else:
            assert isinstance(node, HangUpNode)
            self._end(HangUp(node.reason), out)
        return out

    def timeout(self, *, now: dt.datetime | None = None) -> list[Action]:
        """The timer of the last ``StartTimer`` ran out."""
        if self._state is State.WAITING_FOR_KEYS and not self._timer:
            raise InvalidInput("timeout() but no timer is running")
        self._accept("timeout", now)
        self._timer = False
        out: list[Action] = []
        node = self._input_node()
        if isinstance(node, SurveyNode):
            self._surveyed(node, False, out)
        elif isinstance(node, CollectNode) and self._keys:
            self._collected(node, out)
        else:
            self._failed(node, "no-input", out)
        return out

    def lookup_result(
        self, customer: CustomerInfo | None, *, now: dt.datetime | None = None
    ) -> list[Action]:
        """The answer to ``Lookup``: the customer found, or None."""
        self._accept("lookup_result", now)
        node = self._current()
        assert isinstance(node, LookupNode)
        out: list[Action] = []
        if customer is None:
            self._run(node.not_found, out)
            return out
        self._variables.update(
            customer_id=customer.id, customer_name=customer.name, tier=customer.tier
        )
        if customer.dedicated_agent is not None:
            self._variables["dedicated_agent"] = customer.dedicated_agent
        else:
            self._variables.pop("dedicated_agent", None)
        self._run(node.found, out)
        return out

    def queue_state_result(
        self, status: QueueStatus, *, now: dt.datetime | None = None
    ) -> list[Action]:
        """The answer to ``QueryQueueState``."""
        if self._state is State.QUERYING_QUEUE and status.queue != self._pending_queue:
            raise InvalidInput(
                f"state of queue {status.queue!r} given, {self._pending_queue!r} was asked for"
            )
        self._accept("queue_state_result", now)
        self._queue_states[status.queue] = status
        self._pending_queue = None
        node = self._current()
        assert isinstance(node, BranchNode)
        out: list[Action] = []
        target = self._branch(node, out)
        if target is not None:
            self._run(target, out)
        return out

    # -- the machinery ------------------------------------------------------------------

    def _accept(self, name: str, now: dt.datetime | None) -> None:
        if name not in _ACCEPTS[self._state]:
            if self._state is State.ENDED:
                raise SessionEnded(f"{name}(): the session has ended ({self._outcome})")
            raise InvalidInput(f"{name}() is not expected in state {self._state.value}")
        if now is not None:
            if now.tzinfo is None or now.utcoffset() is None:
                raise InvalidInput(f"now={now!r} has no time zone")
            self._now = now

    def _current(self) -> Node:
        assert self._node is not None
        return self.flow.nodes[self._node]

    def _input_node(self) -> MenuNode | CollectNode | SurveyNode:
        node = self._current()
        assert isinstance(node, MenuNode | CollectNode | SurveyNode)
        return node

    def _timer_off(self, out: list[Action]) -> None:
        if self._timer:
            out.append(CancelTimer())
            self._timer = False

    def _end(self, action: FinalAction, out: list[Action]) -> None:
        self._timer_off(out)
        self._playlist.clear()
        out.append(action)
        self._outcome = action
        self._state = State.ENDED

    def _play(self, prompts: tuple[str, ...], state: State, out: list[Action]) -> None:
        out.append(Play(prompts[0]))
        self._playlist = deque(prompts[1:])
        self._state = state

    def _run(self, node_id: str, out: list[Action]) -> None:
        """Enter ``node_id`` and go on through nodes that need no one until one does."""
        for _ in range(MAX_STEPS):
            node = self.flow.nodes.get(node_id)
            if node is None:
                raise FlowError(f"flow {self.flow.id!r}: no node {node_id!r}")
            self._node = node_id
            if isinstance(node, PlayNode):
                self._play(node.prompt, State.PLAYING, out)
                return
            if isinstance(node, MenuNode | CollectNode | SurveyNode):
                self._attempts = 0
                self._keys = ""
                self._play(node.prompt, State.PROMPTING, out)
                out.append(_collect_action(node))
                return
            if isinstance(node, LookupNode):
                value = self._variables.get(node.source, "")
                if not value:
                    node_id = node.not_found
                    continue
                out.append(Lookup(node.by, value))
                self._state = State.LOOKING_UP
                return
            if isinstance(node, BranchNode):
                self._queue_states = {}
                target = self._branch(node, out)
                if target is None:
                    return
                node_id = target
                continue
            if isinstance(node, CallbackNode):
                number = self._variables.get(node.number_variable, "")
                if number:
                    out.append(
                        RequestCallback(
                            node.queue,
                            number,
                            tier=self._variables.get("tier"),
                            customer_id=self._variables.get("customer_id"),
                            variables=dict(self._variables),
                        )
                    )
                    node_id = node.next
                elif node.no_number is not None:
                    node_id = node.no_number
                else:
                    self._end(HangUp("no-callback-number"), out)
                    return
                continue
            if isinstance(node, EnqueueNode):
                self._end(self._enqueue(node), out)
                return
            if isinstance(node, TransferNode | HangUpNode):
                if node.prompt is not None:
                    self._play(node.prompt, State.PLAYING, out)
                elif isinstance(node, TransferNode):
                    self._end(Transfer(node.number), out)
                else:
                    self._end(HangUp(node.reason), out)
                return
        raise FlowLoop(f"flow {self.flow.id!r} passed {MAX_STEPS} nodes without waiting")

    def _enqueue(self, node: EnqueueNode) -> Enqueue:
        v = self._variables
        return Enqueue(
            node.queue,
            tier=node.tier if node.tier is not None else v.get("tier"),
            customer_id=v.get("customer_id"),
            preferred_agent=v.get("dedicated_agent") if node.dedicated_agent else None,
            variables=dict(v),
            survey=node.survey or v.get(SURVEY_VARIABLE) == "yes",
        )

    def _surveyed(self, node: SurveyNode, accepted: bool, out: list[Action]) -> None:
        """The caller's answer to the survey question (a no when they said nothing)."""
        self._variables[SURVEY_VARIABLE] = "yes" if accepted else "no"
        self._run(node.next, out)

    def _failed(self, node: MenuNode | CollectNode, reason: str, out: list[Action]) -> None:
        """No input or invalid input: ask again, or fail over once the retries are used."""
        self._timer_off(out)
        self._keys = ""
        self._attempts += 1
        if self._attempts > node.retries:
            if node.on_failure is None:
                self._end(HangUp(reason), out)
            else:
                self._run(node.on_failure, out)
            return
        sorry = node.invalid_prompt if reason == "invalid-input" else node.no_input_prompt
        self._play((*(sorry or ()), *node.prompt), State.PROMPTING, out)

    def _collected(self, node: CollectNode, out: list[Action]) -> None:
        value = self._keys
        valid = node.min_digits <= len(value) <= node.max_digits and (
            node.pattern is None or re.fullmatch(node.pattern, value) is not None
        )
        if not valid:
            self._failed(node, "invalid-input", out)
            return
        self._variables[node.variable] = value
        self._keys = ""
        self._run(node.next, out)

    def _branch(self, node: BranchNode, out: list[Action]) -> str | None:
        """The branch's target, or None after asking the driver for a queue's state."""
        try:
            for rule in node.rules:
                if self._holds(rule.when):
                    return rule.next
        except _NeedQueueState as need:
            out.append(QueryQueueState(need.queue))
            self._pending_queue = need.queue
            self._state = State.QUERYING_QUEUE
            return None
        return node.otherwise

    def _holds(self, c: Condition) -> bool:
        form = c.form
        if form == "variable":
            assert c.variable is not None
            value = self._variables.get(c.variable)
            if c.equals is not None:
                return value == c.equals
            if c.one_of is not None:
                return value in c.one_of
            return bool(value) == c.is_set
        if form in ("open", "holiday"):
            assert self._hours is not None and self._now is not None
            if form == "open":
                assert c.open is not None
                return self._hours.is_open(c.open, self._now)
            assert c.holiday is not None
            return self._hours.is_holiday(c.holiday, self._now)
        if form == "queue":
            assert c.queue is not None
            status = self._queue_states.get(c.queue)
            if status is None:
                raise _NeedQueueState(c.queue)
            if c.no_agents is not None:
                return (status.agents_logged_in == 0) == c.no_agents
            assert c.expected_wait_above is not None
            wait = status.expected_wait_seconds
            return wait is not None and wait > c.expected_wait_above
        if form == "all":
            return all(self._holds(inner) for inner in c.all or ())
        if form == "any":
            return any(self._holds(inner) for inner in c.any or ())
        assert c.not_ is not None
        return not self._holds(c.not_)


def _collect_action(node: MenuNode | CollectNode | SurveyNode) -> CollectDigits:
    if isinstance(node, SurveyNode):
        return CollectDigits(1, 1, None, (Choice(node.accept),))
    if isinstance(node, MenuNode):
        choices = tuple(Choice(key, opt.label) for key, opt in node.options.items())
        return CollectDigits(1, 1, None, choices)
    return CollectDigits(node.min_digits, node.max_digits, node.terminator)


def _schedules_used(flow: Flow) -> set[str]:
    names: set[str] = set()
    for node in flow.nodes.values():
        if isinstance(node, BranchNode):
            for rule in node.rules:
                for _, c in conditions(rule.when):
                    names.update(n for n in (c.open, c.holiday) if n is not None)
    return names
