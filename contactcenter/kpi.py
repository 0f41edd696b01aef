"""KPI definitions shared by the live engine and the planner, computed from domain events.

* **offered** (to a queue): contacts that entered it (arrival, overflow or transfer in) and did
  not leave it for another queue. A contact that overflows counts in the queue that finally
  answers, abandons or removes it, so summing over queues counts every contact once.
* **answered within T**: ``ContactAnswered.wait_seconds <= T`` (T = the queue's answer
  threshold); the wait counts from the original arrival.
* **service level** (two definitions, both reported):
  ``sl_offered = answered within T / offered`` and
  ``sl_excl_short = answered within T / (offered - abandoned within the short-abandon time)``.
* **ASA**: mean wait of answered contacts. **Abandon rate**: abandoned / offered.
* **AHT** (average handle time): (conversation + after-contact work) / segments handled, per
  queue the segment was in; a segment is handled when its conversation ends (a hang-up or a
  hand-off), its wrap-up counts once it ends (as the metrics' ``handle_time_seconds`` and
  ``wrap_up_time_seconds`` do).
* **CSAT** (customer satisfaction): over the survey answers (scores 1-5) given for contacts
  an agent handled, the mean score and the share satisfied (4 or 5); counted under the queue
  and agent of the contact's last segment an agent answered (``Csat``).
* **FCR** (first-contact resolution): see ``first_contacts``; the same rule for the live
  store (``store/fcr.py``) and the planner (``sim/statistics.py``).
* **Transfers** (an agent hands a contact on): counted as ``handed_off`` in the queue it left
  and ``transferred_in`` in the queue it went to. The contact's later segments are not offered,
  answered or abandoned again (they count as ``transfers_answered`` / ``transfers_abandoned``),
  so summing over queues still counts every contact and every answer once.

Per agent (``AgentWork``; the supervisors' assessment, ``store/assessment.py``):

* **handled**, **AHT**: the agent's segments handled, as above, and their AHT; **talk**: their
  mean conversation time; **ACW** (after-contact work): the mean of their wrap-ups.
* **Transfers** (made): the agent's segments handed on to another queue or agent.
* **No-answers**: offers to the agent that ended unanswered because of the agent (``NO_ANSWERS``:
  declined, rang out, its phone unreachable); a customer who left or a contact moved away while
  it rang is none.
* **Occupancy**: time ``OCCUPIED`` (ringing, busy, wrap-up) / time occupied or ``IDLE``
  (available, holding nothing); away and offline count in neither (as the agent model's own
  and the metrics' occupancy).

A tally saves as its counts alone (``Tally.to_dict``: numbers per queue, no contact, agent or
customer ids), so today's figures can outlive a restart; the thresholds it is loaded with are
the config's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, astuple, dataclass, field, fields

from contactcenter.events import (
    AgentActivity,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    RejectReason,
    WrapUpEnded,
)


@dataclass
class QueueTally:
    """Running counts for one queue (or one queue and interval)."""

    threshold: float
    short_abandon: float
    entered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    removed: int = 0
    transferred_out: int = 0
    wait_answered_sum: float = 0.0
    wait_abandoned_sum: float = 0.0
    handed_off: int = 0
    transferred_in: int = 0
    transfers_answered: int = 0
    transfers_abandoned: int = 0
    handled: int = 0
    handle_seconds_sum: float = 0.0
    wrap_up_seconds_sum: float = 0.0

    @property
    def offered(self) -> int:
        return self.entered - self.transferred_out

    def sl_offered(self) -> float | None:
        return self.answered_within / self.offered if self.offered else None

    def sl_excl_short(self) -> float | None:
        base = self.offered - self.abandoned_short
        return self.answered_within / base if base > 0 else None

    def asa(self) -> float | None:
        return self.wait_answered_sum / self.answered if self.answered else None

    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    def aht(self) -> float | None:
        return average_handle_time(self.handled, self.handle_seconds_sum, self.wrap_up_seconds_sum)

    def counts(self) -> dict[str, float]:
        """The running counts (what a saved tally holds; the thresholds are config)."""
        return {k: v for k, v in asdict(self).items() if k in _COUNTS}

    @classmethod
    def from_counts(
        cls, threshold: float, short_abandon: float, counts: Mapping[str, object]
    ) -> QueueTally:
        """The tally ``counts`` saved; ValueError names what is wrong with them."""
        unknown = sorted(set(counts) - set(_COUNTS))
        if unknown:
            raise ValueError(f"not a count: {', '.join(unknown)}")
        tally = cls(threshold, short_abandon)
        for name, value in counts.items():
            kind = _COUNTS[name]
            # (an int is a fine float; a bool is an int to Python, never a count)
            fits = isinstance(value, int | float) if kind is float else isinstance(value, int)
            if isinstance(value, bool) or not fits:
                raise ValueError(f"{name} is {value!r}, not {_KIND_NAMES[kind]}")
            setattr(tally, name, kind(value))
        return tally


_COUNTS: dict[str, type] = {
    f.name: int if f.type == "int" else float
    for f in fields(QueueTally)
    if f.name not in ("threshold", "short_abandon")
}
"""Each count of ``QueueTally`` and its type."""
_KIND_NAMES = {int: "a whole number", float: "a number"}


@dataclass
class Tally:
    """Per-queue tallies from a stream of domain events."""

    thresholds: Mapping[str, float]
    short_abandon: float
    queues: dict[str, QueueTally] = field(default_factory=dict)

    def queue(self, queue: str) -> QueueTally:
        tally = self.queues.get(queue)
        if tally is None:
            tally = QueueTally(self.thresholds[queue], self.short_abandon)
            self.queues[queue] = tally
        return tally

    def observe(self, e: Event) -> None:
        if isinstance(e, ContactQueued):
            if e.segment == 1:
                self.queue(e.queue).entered += 1
        elif isinstance(e, ContactTransferred):
            if e.segment == 1:
                self.queue(e.from_queue).transferred_out += 1
        elif isinstance(e, ContactAnswered):
            t = self.queue(e.queue)
            if e.segment != 1:
                t.transfers_answered += 1
                return
            t.answered += 1
            t.wait_answered_sum += e.wait_seconds
            if e.wait_seconds <= t.threshold:
                t.answered_within += 1
        elif isinstance(e, ContactAbandoned):
            t = self.queue(e.queue)
            if e.segment != 1:
                t.transfers_abandoned += 1
                return
            t.abandoned += 1
            t.wait_abandoned_sum += e.wait_seconds
            if e.wait_seconds <= t.short_abandon:
                t.abandoned_short += 1
        elif isinstance(e, ContactRemoved):
            if e.segment == 1:
                self.queue(e.queue).removed += 1
        elif isinstance(e, ContactCompleted):
            t = self.queue(e.queue)
            t.handled += 1
            t.handle_seconds_sum += e.handle_seconds
        elif isinstance(e, ContactHandedOff):
            t = self.queue(e.queue)
            t.handled += 1
            t.handle_seconds_sum += e.handle_seconds
            if e.to_queue is not None:
                # (without a queue it left routing to come back later: not a transfer)
                t.handed_off += 1
                self.queue(e.to_queue).transferred_in += 1
        elif isinstance(e, WrapUpEnded):
            self.queue(e.queue).wrap_up_seconds_sum += e.wrap_up_seconds

    def observe_all(self, events: Iterable[Event]) -> None:
        for e in events:
            self.observe(e)

    def to_dict(self) -> dict[str, dict[str, dict[str, float]]]:
        """The counts per queue, JSON-ready: ``{"queues": {queue: {count: value}}}``."""
        return {"queues": {q: t.counts() for q, t in self.queues.items()}}

    @classmethod
    def from_dict(
        cls, thresholds: Mapping[str, float], short_abandon: float, saved: object
    ) -> Tally:
        """The tally ``to_dict`` gave, under these thresholds; a queue no longer in them is
        dropped. ValueError names what is wrong with ``saved``."""
        queues = saved.get("queues") if isinstance(saved, dict) else None
        if not isinstance(queues, dict):
            raise ValueError("not a saved tally: no queues")
        tally = cls(thresholds, short_abandon)
        for queue, counts in queues.items():
            if not isinstance(counts, dict):
                raise ValueError(f"queue {queue!r}: not a set of counts")
            if queue in thresholds:
                try:
                    tally.queues[queue] = QueueTally.from_counts(
                        thresholds[queue], short_abandon, counts
                    )
                except ValueError as err:
                    raise ValueError(f"queue {queue!r}: {err}") from None
        return tally


def average_handle_time(handled: int, talk_seconds: float, wrap_up_seconds: float) -> float | None:
    """AHT: (conversation + after-contact work) / segments handled; None before any."""
    return (talk_seconds + wrap_up_seconds) / handled if handled else None


OCCUPIED: tuple[AgentActivity, ...] = (
    AgentActivity.RINGING,
    AgentActivity.BUSY,
    AgentActivity.WRAP_UP,
)
"""Activities an agent is occupied in: an offer ringing, a contact, its wrap-up."""
IDLE = AgentActivity.AVAILABLE
"""The activity of an agent ready for a contact and holding none."""
NO_ANSWERS: tuple[RejectReason, ...] = ("declined", "timeout", "unreachable")
"""Why an offer ended unanswered when the agent did not take it (a no-answer)."""


def occupancy(occupied_seconds: float, idle_seconds: float) -> float | None:
    """Occupied / (occupied + idle); None while the agent was neither."""
    present = occupied_seconds + idle_seconds
    return occupied_seconds / present if present > 0 else None


@dataclass(frozen=True)
class AgentWork:
    """An agent's work of a period summed: segments handled with their conversation time,
    the wrap-ups among them, transfers made, no-answers, and seconds occupied or idle."""

    handled: int = 0
    talk_seconds: float = 0.0
    wrap_ups: int = 0
    wrap_up_seconds: float = 0.0
    transfers: int = 0
    no_answers: int = 0
    occupied_seconds: float = 0.0
    idle_seconds: float = 0.0

    def __add__(self, other: AgentWork) -> AgentWork:
        return AgentWork(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def aht(self) -> float | None:
        return average_handle_time(self.handled, self.talk_seconds, self.wrap_up_seconds)

    def average_talk(self) -> float | None:
        return self.talk_seconds / self.handled if self.handled else None

    def acw(self) -> float | None:
        return self.wrap_up_seconds / self.wrap_ups if self.wrap_ups else None

    def occupancy(self) -> float | None:
        return occupancy(self.occupied_seconds, self.idle_seconds)


SATISFIED = 4
"""A CSAT score at or above this (4, 5) counts as satisfied."""


@dataclass(frozen=True)
class Csat:
    """Survey answers summed: how many, the sum of their scores, how many satisfied; and the
    surveys asked that got no score (``unanswered``: never in the answers or the average)."""

    answers: int = 0
    score_sum: int = 0
    satisfied: int = 0
    unanswered: int = 0

    def __add__(self, other: Csat) -> Csat:
        return Csat(
            self.answers + other.answers,
            self.score_sum + other.score_sum,
            self.satisfied + other.satisfied,
            self.unanswered + other.unanswered,
        )

    def average(self) -> float | None:
        return self.score_sum / self.answers if self.answers else None

    def satisfied_share(self) -> float | None:
        return self.satisfied / self.answers if self.answers else None


FCR_WINDOW_DAYS = 7.0
"""A customer's next contact about the same queue within this many days after a contact makes
it a repeat (the default of ``fcr.window_days`` in center.yaml)."""


@dataclass(frozen=True)
class CustomerContact:
    """A contact as first-contact resolution sees it: whose (an identified customer: only a
    verified identity in the live engine; anonymous contacts are not counted either way), about
    which queue (the one the customer reached first), when it arrived (seconds, any clock), and
    the agent who handled it (None: no agent answered)."""

    customer: str
    queue: str
    arrived: float
    agent: str | None


@dataclass(frozen=True)
class FirstContact:
    contact: CustomerContact
    resolved: bool


def first_contacts(contacts: Iterable[CustomerContact], window: float) -> list[FirstContact]:
    """The rule. Per customer and queue in arrival order, a contact arriving within ``window``
    seconds after the one before it is a *repeat* (the same matter again); any other is a
    *first contact*. A first contact is *resolved first time* when an agent handled it and
    the customer's next contact about that queue is not a repeat of it (none within
    ``window``). FCR = resolved first contacts / first contacts: a first contact nobody
    answered is not resolved, and repeats are counted in neither."""
    by_matter: dict[tuple[str, str], list[CustomerContact]] = defaultdict(list)
    for c in contacts:
        by_matter[(c.customer, c.queue)].append(c)
    out: list[FirstContact] = []
    for matter in by_matter.values():
        matter.sort(key=lambda c: c.arrived)
        for i, c in enumerate(matter):
            if i > 0 and c.arrived - matter[i - 1].arrived <= window:
                continue  # a repeat
            repeated = i + 1 < len(matter) and matter[i + 1].arrived - c.arrived <= window
            out.append(FirstContact(c, c.agent is not None and not repeated))
    return out


@dataclass(frozen=True)
class Fcr:
    """First contacts and how many of them were resolved first time."""

    first_contacts: int = 0
    resolved: int = 0

    def __add__(self, other: Fcr) -> Fcr:
        return Fcr(self.first_contacts + other.first_contacts, self.resolved + other.resolved)

    def rate(self) -> float | None:
        return self.resolved / self.first_contacts if self.first_contacts else None

    @classmethod
    def of(cls, first: FirstContact) -> Fcr:
        return cls(1, int(first.resolved))
