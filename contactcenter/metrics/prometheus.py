"""Prometheus metrics of one center, computed from the domain events.

``Metrics.observe(event)`` updates counters and histograms; a custom collector adds, at scrape
time, what is a state rather than a history (contacts waiting, oldest waiting age, agents per
activity, per queue the agents who can serve it by activity, which queues are open by their
business hours, in-progress agent-state time) plus the config values the recording rules need
(``config/prometheus/rules.yml``).

Labels are ``queue`` and ``channel`` (and ``state``, ``reason``, ``outcome``, ``to_queue``,
``step``), all bounded by the config and the event vocabulary. Contact, customer and agent ids,
phone numbers and dispositions (free text) never become label values; a queue id that is not
in the config is counted as ``queue="_unknown"``. Every series a rule or dashboard divides by
or takes ``increase()`` of is created at zero up front (``increase()`` cannot see the first
increment of a series that appears with value 1): also hand-offs and supervisor moves between
every two queues of a channel.

KPI definitions are those of ``contactcenter.kpi`` (wallboard and planner alike):

* offered (to a queue) = ``contacts_queued_total`` - ``contacts_transferred_out_total``;
* answered within T = the ``answer_wait_seconds`` bucket at ``le`` = the queue's answer
  threshold (every queue's threshold is a bucket edge; ``queue_answer_threshold_seconds``
  carries that edge's ``le`` string as label ``bucket_le``, so one rule serves all queues);
* abandoned within the short-abandon time = the ``abandon_wait_seconds`` bucket at the
  ``bucket_le`` of ``short_abandon_threshold_seconds``;
* a contact an agent hands on (a transfer) counts in ``contacts_handed_off_total`` from its
  queue to ``to_queue``; its later segments are not queued, answered, abandoned or removed
  again (they count in ``transfers_answered_total`` / ``transfers_abandoned_total``).

Call backs: booked by source, attempts by outcome, call backs ended by outcome, and at scrape
time those pending per queue and state with the age of the oldest, and how long the one due
longest has been due with nobody calling yet (``bind_callbacks``; the overdue alert).

Open hours: ``queue_open`` is 1 while a queue's business hours (the schedules the IVR flows test
before they queue to it, ``metrics/hours.py``) are open, on the ``wall`` clock; queues without
hours (no flow queues to them, or the center has no IVR loaded) have no series.

Complaint cases: those being worked on and those overdue, per category and severity (labels
from ``config/cases.yaml``; never a case or customer id), recounted from the store by the API
(``api/cases.py``) after each change and every minute; case events counted per event and
category as the runtime announces them (``runtime/case_tasks.py``).

Abuse: customers' chat lines refused and connections refused or cut, by the limit that
stopped them (``reason`` only: never a chat, customer or address).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from contactcenter.cases import CasePolicy
from contactcenter.config import CHANNELS, Center
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactEscalated,
    ContactHandedOff,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    OfferRejected,
    RejectReason,
    TargetBreached,
    TransferReason,
    WrapUpEnded,
)
from contactcenter.ivr.loader import flows_of
from contactcenter.ivr.outcomes import IvrOutcome
from contactcenter.metrics.hours import opening
from contactcenter.metrics.live import LiveState, QueueLoad, StateSource, router_state
from contactcenter.routing import Router

log = logging.getLogger(__name__)

PREFIX = "contactcenter_"
GC_PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LOGIN_OUTCOMES = ("ok", "bad_password", "unknown_user", "throttled")
UNKNOWN_QUEUE = "_unknown"

WAIT_SPREAD: tuple[float, ...] = (
    1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1200, 1800,
    3600, 7200, 14400, 28800, 86400, 172800,
)  # fmt: skip
"""Wait-time bucket edges (seconds) besides the configured thresholds: sub-minute detail for
voice and chat, hours and days for e-mail."""
HANDLE_BUCKETS: tuple[float, ...] = (
    15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 7200,
)  # fmt: skip
WRAP_UP_SPREAD: tuple[float, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800)
"""Wrap-up edges besides each queue's ``wrap_up_seconds`` (a wrap-up that timed out lands
exactly on its queue's edge)."""
SURVEY_BUCKETS: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 5.0)
"""CSAT scores are 1-5 (``runtime/surveys.py``): a bucket per score."""

AGENT_STATES: tuple[AgentActivity, ...] = tuple(AgentActivity)
REJECT_REASONS: tuple[RejectReason, ...] = (
    "declined", "timeout", "unreachable", "agent_left", "contact_left", "moved",
)  # fmt: skip
TRANSFER_REASONS: tuple[TransferReason, ...] = ("overflow", "max_wait", "no_agents", "supervisor")
REMOVALS: tuple[tuple[str, str], ...] = (
    ("max_wait", "callback"),
    ("max_wait", "disconnect"),
    ("no_agents", "disconnect"),
    ("callback_accepted", "callback"),
    ("cancelled", "disconnect"),
)
"""(reason, outcome) pairs the router emits; pre-created so rates exist before the first one."""
CALLBACK_SOURCES = ("ivr", "queue_offer", "max_wait", "chat", "api")
CASE_EVENTS = ("opened", "escalated", "owner_changed", "resolved", "sla_breached")
CALLBACK_ATTEMPTS = ("answered", "no_answer", "busy", "failed", "abandoned", "interrupted")
CALLBACK_ENDS = ("completed", "unreachable", "cancelled", "expired", "no_number", "interrupted")
CALLBACK_STATES = ("scheduled", "queued", "in_progress")
LINE_REFUSALS = ("chat_lines", "address_lines", "address_bytes", "line_size", "transcript_quota")
CONNECTION_REFUSALS = ("address_cap", "global_cap", "chat_sockets")
CONNECTION_CUTS = ("body_timeout", "heartbeat")
PendingCallbacks = Callable[[], "dict[str, dict[str, float | int]]"]
"""Per queue: call backs ``scheduled``, ``queued``, ``in_progress``, the ``oldest`` age and
``oldest_due`` (seconds the one due longest, not yet being made, has been due)."""


def config_flows(center: Center) -> set[tuple[str, str, str]]:
    """(from queue, to queue, reason) moves the config itself can cause (supervisor moves
    are any pair of queues of a channel, so they are not listed)."""
    flows: set[tuple[str, str, str]] = set()
    queues = center.queues
    for qid, q in queues.items():
        for step in q.escalation:
            if step.overflow_to is not None:
                flows.add((qid, step.overflow_to, "overflow"))
        if q.max_wait is not None and q.max_wait.overflow_to is not None:
            flows.add((qid, q.max_wait.overflow_to, "max_wait"))
        seen = {qid}
        target = q.no_agents_overflow_to
        while target is not None and target not in seen and target in queues:
            flows.add((qid, target, "no_agents"))
            seen.add(target)
            target = queues[target].no_agents_overflow_to
    return flows


def wait_buckets(center: Center, spread: Iterable[float] = WAIT_SPREAD) -> tuple[float, ...]:
    """Bucket edges for answer and abandon waits: ``spread`` plus every queue's answer
    threshold plus the short-abandon threshold."""
    edges = {float(x) for x in spread}
    edges.add(float(center.settings.routing.short_abandon_seconds))
    for q in center.queues.values():
        if q.answer_target.threshold_seconds is not None:
            edges.add(float(q.answer_target.threshold_seconds))
    return tuple(sorted(edges))


def wrap_up_buckets(center: Center, spread: Iterable[float] = WRAP_UP_SPREAD) -> tuple[float, ...]:
    edges = {float(x) for x in spread}
    edges.update(float(q.wrap_up_seconds) for q in center.queues.values() if q.wrap_up_seconds > 0)
    return tuple(sorted(edges))


def le_label(seconds: float) -> str:
    """The ``le`` label value a histogram bucket at ``seconds`` is exposed with."""
    label: str = floatToGoString(seconds)  # type: ignore[no-untyped-call]
    return label


@dataclass(slots=True)
class _Unanswered:
    queue: str
    arrived_at: float
    ringing: bool = False


class _QueueSeries:
    """The children of one queue's label set, looked up once."""

    __slots__ = (
        "abandon_wait",
        "abandoned",
        "answer_wait",
        "answered",
        "breached",
        "callbacks",
        "channel",
        "handle",
        "offers",
        "queue",
        "queued",
        "survey",
        "transfers_abandoned",
        "transfers_answered",
        "wrap_timeouts",
        "wrap_up",
    )

    def __init__(self, m: Metrics, queue: str, channel: str) -> None:
        self.queue = queue
        self.channel = channel
        self.queued = m.queued.labels(queue, channel)
        self.offers = m.offers.labels(queue, channel)
        self.answered = m.answered.labels(queue, channel)
        self.abandoned = m.abandoned.labels(queue, channel)
        self.breached = m.breached.labels(queue, channel)
        self.callbacks = m.callbacks_offered.labels(queue, channel)
        self.wrap_timeouts = m.wrap_up_timeouts.labels(queue, channel)
        self.answer_wait = m.answer_wait.labels(queue, channel)
        self.abandon_wait = m.abandon_wait.labels(queue, channel)
        self.handle = m.handle_time.labels(queue, channel)
        self.wrap_up = m.wrap_up_time.labels(queue, channel)
        self.survey = m.survey_score.labels(queue, channel)
        self.transfers_answered = m.transfers_answered.labels(queue, channel)
        self.transfers_abandoned = m.transfers_abandoned.labels(queue, channel)
        for rejected in REJECT_REASONS:
            m.offers_rejected.labels(queue, channel, rejected)
        for removed, outcome in REMOVALS:
            m.removed.labels(queue, channel, removed, outcome)
        for moved in TRANSFER_REASONS:
            m.transferred_out.labels(queue, channel, moved)
        cfg = m.center.queues.get(queue)
        for step in range(1, len(cfg.escalation) if cfg is not None else 0):
            m.escalated.labels(queue, channel, str(step))
        if cfg is not None:
            for target, t in m.center.queues.items():
                if t.channel == channel:
                    m.handed_off.labels(queue, target, channel)
                    if target != queue:
                        m.transferred.labels(queue, target, channel, "supervisor")
        if channel == "voice" and cfg is not None:
            for source in CALLBACK_SOURCES:
                m.callbacks_booked.labels(queue, source)
            for outcome in CALLBACK_ATTEMPTS:
                m.callback_attempts.labels(queue, outcome)
            for outcome in CALLBACK_ENDS:
                m.callbacks_ended.labels(queue, outcome)


class Metrics:
    """Prometheus metrics of ``center`` fed by its domain events.

    ``registry``: where to register (default: a new ``CollectorRegistry``, so several
    instances, e.g. in tests or simulation replications, never clash; pass
    ``prometheus_client.REGISTRY`` to share the process-wide one).

    Live state comes from ``bind_router``/``bind_source``; until one is bound it is derived from
    the events seen, stamped ``clock()`` when given, else the last event's ``at``. ``wall``
    (Unix seconds) is the clock the business hours are read on.
    """

    def __init__(
        self,
        center: Center,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], float] = time.time,
        wait_spread: Iterable[float] = WAIT_SPREAD,
        survey_buckets: Sequence[float] = SURVEY_BUCKETS,
    ) -> None:
        self.center = center
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        self._source: StateSource | None = None
        self._open_queues = opening(flows_of(center), wall)
        self.wait_buckets = wait_buckets(center, wait_spread)
        reg = self.registry
        qc = ("queue", "channel")

        def counter(name: str, doc: str, labels: Sequence[str] = qc) -> Counter:
            return Counter(PREFIX + name, doc, labels, registry=reg)

        def histogram(name: str, doc: str, buckets: Sequence[float]) -> Histogram:
            return Histogram(PREFIX + name, doc, qc, buckets=buckets, registry=reg)

        self.queued = counter(
            "contacts_queued_total",
            "Contacts that entered a queue (arrival, overflow or transfer in).",
        )
        self.offers = counter(
            "offers_total", "Offers of a contact to an agent (the agent was rung)."
        )
        self.offers_rejected = counter(
            "offers_rejected_total",
            "Offers that ended unanswered, by reason.",
            (*qc, "reason"),
        )
        self.answered = counter("contacts_answered_total", "Contacts answered by an agent.")
        self.abandoned = counter(
            "contacts_abandoned_total", "Contacts whose customer left before being answered."
        )
        self.transferred_out = counter(
            "contacts_transferred_out_total",
            "Contacts moved out of the queue to another (overflow, max wait, no agents, "
            "supervisor); offered = queued - transferred out.",
            (*qc, "reason"),
        )
        self.transferred = counter(
            "contacts_transferred_total",
            "Contacts moved from `queue` to `to_queue`, by reason (overflow, max wait, no "
            "agents, supervisor).",
            ("queue", "to_queue", "channel", "reason"),
        )
        self.removed = counter(
            "contacts_removed_total",
            "Contacts the center took out of the queue unanswered, by reason and outcome.",
            (*qc, "reason", "outcome"),
        )
        self.breached = counter(
            "target_breaches_total",
            "Contacts that waited past their queue's answer threshold (counted once each).",
        )
        self.escalated = counter(
            "contacts_escalated_total",
            "Contacts that reached an escalation step (index into the queue's steps).",
            (*qc, "step"),
        )
        self.callbacks_offered = counter(
            "callbacks_offered_total", "Callback offers made to waiting customers."
        )
        self.wrap_up_timeouts = counter(
            "wrap_up_timeouts_total", "Wrap-ups that ended by timeout (no disposition)."
        )
        self.answer_wait = histogram(
            "answer_wait_seconds",
            "Wait from original arrival to answer, of answered contacts.",
            self.wait_buckets,
        )
        self.abandon_wait = histogram(
            "abandon_wait_seconds",
            "Wait from original arrival to abandon, of abandoned contacts.",
            self.wait_buckets,
        )
        self.handle_time = histogram(
            "handle_time_seconds", "Conversation time from answer to hang-up.", HANDLE_BUCKETS
        )
        self.wrap_up_time = histogram(
            "wrap_up_time_seconds",
            "After-contact work time from hang-up to the end of wrap-up.",
            wrap_up_buckets(center),
        )
        self.survey_score = histogram(
            "survey_score", "Customer survey (CSAT) scores, 1-5.", survey_buckets
        )
        self.handed_off = counter(
            "contacts_handed_off_total",
            "Contacts an agent handed on (transferred) from `queue` to `to_queue` (an agent's "
            "transfer, blind or warm); the contact is not queued or answered again.",
            ("queue", "to_queue", "channel"),
        )
        self.transfers_answered = counter(
            "transfers_answered_total", "Transferred contacts answered by the next agent."
        )
        self.transfers_abandoned = counter(
            "transfers_abandoned_total", "Transferred contacts whose customer left unanswered."
        )
        self.callbacks_booked = counter(
            "callbacks_booked_total",
            "Call backs booked, by the queue that makes them and where they were asked for.",
            ("queue", "source"),
        )
        self.callback_attempts = counter(
            "callback_attempts_total",
            "Calls to customers of call backs, by outcome.",
            ("queue", "outcome"),
        )
        self.callbacks_ended = counter(
            "callbacks_ended_total",
            "Call backs that ended, by outcome (`no_number`: promised but no number known).",
            ("queue", "outcome"),
        )
        self.lines_refused = counter(
            "chat_lines_refused_total",
            "Customers' chat lines refused, by the limit they hit (rate per chat or address, "
            "bytes per address, line size, transcript quota).",
            ("reason",),
        )
        self.connections_refused = counter(
            "connections_refused_total",
            "Connections refused over a cap (per client address, in all, a chat's sockets).",
            ("reason",),
        )
        self.connections_cut = counter(
            "connections_cut_total",
            "Connections the server cut: a request body too slow, a WebSocket peer that did "
            "not answer a ping.",
            ("reason",),
        )
        for family, reasons in (
            (self.lines_refused, LINE_REFUSALS),
            (self.connections_refused, CONNECTION_REFUSALS),
            (self.connections_cut, CONNECTION_CUTS),
        ):
            for reason in reasons:
                family.labels(reason)
        self._pending_callbacks: PendingCallbacks | None = None
        self.gc_pauses = Histogram(
            PREFIX + "gc_pause_seconds",
            "Pauses of the engine process's garbage collector (the event loop stands still).",
            ("generation",),
            buckets=GC_PAUSE_BUCKETS,
            registry=reg,
        )
        self.login_attempts = counter(
            "login_attempts_total",
            "Logins to the web API by outcome (`throttled`: refused with 429 unchecked).",
            ("outcome",),
        )
        for outcome in LOGIN_OUTCOMES:
            self.login_attempts.labels(outcome)
        self.chat_menu_outcomes = counter(
            "chat_menu_outcomes_total",
            "Web chats that left the chat's menu (the IVR flow of its entry), by outcome: "
            "`self_served` (an automatic reply answered), `queued`, `contained` (e.g. closed), "
            "`input_failed`, `abandoned`, `failed`.",
            ("outcome",),
        )
        for menu_outcome in IvrOutcome:
            self.chat_menu_outcomes.labels(str(menu_outcome))
        self.store_write_failures = Counter(
            PREFIX + "store_write_failures_total",
            "Writes the database refused (disk full, read-only, I/O error); what they carried "
            "is held back and written when it takes writes again.",
            registry=reg,
        )
        self.store_held_events = Gauge(
            PREFIX + "store_held_events",
            "Domain events the engine holds back because the database refused them.",
            registry=reg,
        )
        self.cases_open = Gauge(
            PREFIX + "cases_open",
            "Complaint cases still being worked on (not resolved or closed).",
            ("category", "severity"),
            registry=reg,
        )
        self.cases_overdue = Gauge(
            PREFIX + "cases_overdue",
            "Complaint cases past their severity's acknowledge or resolve target.",
            ("category", "severity"),
            registry=reg,
        )
        self.case_events = Counter(
            PREFIX + "case_events",
            "Complaint case events (opened, escalated, owner_changed, resolved, sla_breached).",
            ("event", "category"),
            registry=reg,
        )

        self._queues: dict[str, _QueueSeries] = {
            qid: _QueueSeries(self, qid, q.channel) for qid, q in center.queues.items()
        }
        for src, dst, reason in sorted(config_flows(center)):
            self.transferred.labels(src, dst, center.queues[src].channel, reason)
        self._unknown: dict[str, _QueueSeries] = {}
        self._unanswered: dict[str, _Unanswered] = {}
        self._agents: dict[str, tuple[AgentActivity, float]] = {}
        """Agent id -> (activity, since), from AgentStateChanged."""
        self._state_seconds: dict[AgentActivity, float] = dict.fromkeys(AGENT_STATES, 0.0)
        """Closed intervals: seconds agents spent in each activity."""
        self._state_emitted: dict[AgentActivity, float] = dict.fromkeys(AGENT_STATES, 0.0)
        self._last_at: float | None = None
        self._handlers: dict[type, Callable[[Event], None]] = {
            ContactQueued: self._on_queued,  # type: ignore[dict-item]
            ContactOffered: self._on_offered,  # type: ignore[dict-item]
            OfferRejected: self._on_rejected,  # type: ignore[dict-item]
            ContactAnswered: self._on_answered,  # type: ignore[dict-item]
            ContactAbandoned: self._on_abandoned,  # type: ignore[dict-item]
            ContactTransferred: self._on_transferred,  # type: ignore[dict-item]
            ContactRemoved: self._on_removed,  # type: ignore[dict-item]
            TargetBreached: self._on_breached,  # type: ignore[dict-item]
            ContactEscalated: self._on_escalated,  # type: ignore[dict-item]
            CallbackOffered: self._on_callback_offered,  # type: ignore[dict-item]
            ContactCompleted: self._on_completed,  # type: ignore[dict-item]
            ContactHandedOff: self._on_handed_off,  # type: ignore[dict-item]
            WrapUpEnded: self._on_wrap_up_ended,  # type: ignore[dict-item]
            AgentStateChanged: self._on_agent_state,  # type: ignore[dict-item]
        }
        reg.register(_LiveCollector(self))

    # == inputs ==============================================================================

    def observe(self, event: Event) -> None:
        """Count one domain event (events the metrics do not use are ignored)."""
        at = event.at
        if self._last_at is None or at > self._last_at:
            self._last_at = at
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def observe_all(self, events: Iterable[Event]) -> None:
        for e in events:
            self.observe(e)

    def observe_survey(self, queue: str, channel: str, score: float) -> None:
        """A customer's survey answer for a contact of ``queue``."""
        if queue not in self._queues:
            raise ValueError(f"unknown queue {queue!r}")
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        if not math.isfinite(score):
            raise ValueError(f"survey score must be a finite number, got {score!r}")
        series = self._queues[queue]
        if channel == series.channel:
            series.survey.observe(score)
        else:
            self.survey_score.labels(queue, channel).observe(score)

    def bind_source(self, source: StateSource | None) -> None:
        """Read live state from ``source`` at every scrape (None: back to event-derived)."""
        self._source = source

    def bind_router(self, router: Router, now: Callable[[], float]) -> None:
        """Read waiting contacts and agent activities from ``router`` at scrape time;
        ``now`` is the driver's clock (the one the events are stamped with)."""
        self._clock = now
        self._source = router_state(router, now)

    def bind_callbacks(self, pending: PendingCallbacks) -> None:
        """Read the call backs pending per queue from ``pending`` at scrape time."""
        self._pending_callbacks = pending

    def callback_booked(self, queue: str, source: str) -> None:
        self.callbacks_booked.labels(
            self._queue_label(queue), _known(source, CALLBACK_SOURCES)
        ).inc()

    def callback_attempt(self, queue: str, outcome: str) -> None:
        self.callback_attempts.labels(
            self._queue_label(queue), _known(outcome, CALLBACK_ATTEMPTS)
        ).inc()

    def callback_ended(self, queue: str, outcome: str) -> None:
        self.callbacks_ended.labels(self._queue_label(queue), _known(outcome, CALLBACK_ENDS)).inc()

    def cases_counted(
        self,
        policy: CasePolicy,
        working: Mapping[tuple[str, str], int],
        overdue: Mapping[tuple[str, str], int],
    ) -> None:
        """Set the case gauges: (category, severity) -> cases being worked on, and overdue.
        Every pair of the policy has a series (zero too); ids no longer in the policy count as
        ``other``."""
        cells: dict[tuple[str, str], tuple[int, int]] = {
            (c, s): (0, 0) for c in policy.categories for s in policy.severities
        }
        for (category, severity), n in working.items():
            key = (_known(category, tuple(policy.categories)),
                   _known(severity, tuple(policy.severities)))  # fmt: skip
            open_, late = cells.get(key, (0, 0))
            cells[key] = (open_ + n, late + overdue.get((category, severity), 0))
        for (category, severity), (open_, late) in cells.items():
            self.cases_open.labels(category, severity).set(open_)
            self.cases_overdue.labels(category, severity).set(late)

    def case_event(self, event: str, category: str) -> None:
        """A case event (``runtime/case_tasks.py``); ``category`` is the policy's or ``other``."""
        self.case_events.labels(_known(event, CASE_EVENTS), category).inc()

    def line_refused(self, reason: str) -> None:
        self.lines_refused.labels(_known(reason, LINE_REFUSALS)).inc()

    def connection_refused(self, reason: str) -> None:
        self.connections_refused.labels(_known(reason, CONNECTION_REFUSALS)).inc()

    def connection_cut(self, reason: str) -> None:
        self.connections_cut.labels(_known(reason, CONNECTION_CUTS)).inc()

    def gc_paused(self, generation: int, seconds: float) -> None:
        self.gc_pauses.labels(str(generation)).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition (format 0.0.4) of this registry."""
        from contactcenter.metrics.exposition import render

        return render(self.registry)

    def chat_menu_ended(self, outcome: str) -> None:
        self.chat_menu_outcomes.labels(_known(outcome, tuple(map(str, IvrOutcome)))).inc()

    def login_attempt(self, outcome: str) -> None:
        self.login_attempts.labels(_known(outcome, LOGIN_OUTCOMES)).inc()

    def store_write_failed(self) -> None:
        self.store_write_failures.inc()

    def store_events_held(self, count: int) -> None:
        self.store_held_events.set(count)

    # == live state ===========================================================================

    def live_state(self) -> LiveState:
        """What the collector reports: from the bound source, else from the events seen."""
        if self._source is not None:
            return self._source()
        return self._event_state()

    def _event_state(self) -> LiveState:
        now = self._clock() if self._clock is not None else (self._last_at or 0.0)
        loads: dict[str, QueueLoad] = {}
        for w in self._unanswered.values():
            load = loads.get(w.queue)
            if load is None:
                load = loads[w.queue] = QueueLoad()
            if w.ringing:
                load.ringing += 1
            else:
                load.waiting += 1
                if load.oldest_arrived_at is None or w.arrived_at < load.oldest_arrived_at:
                    load.oldest_arrived_at = w.arrived_at
        agents: dict[AgentActivity, int] = {}
        for activity, _ in self._agents.values():
            agents[activity] = agents.get(activity, 0) + 1
        unseen = sum(1 for a in self.center.agents if a not in self._agents)
        if unseen:
            agents[AgentActivity.OFFLINE] = agents.get(AgentActivity.OFFLINE, 0) + unseen
        return LiveState(now, loads, agents)

    def agent_state_seconds(self, now: float | None) -> dict[AgentActivity, float]:
        """Seconds agents spent per activity: closed intervals plus, when ``now`` is given,
        the time each agent has been in its current activity. Never decreases between calls
        (a clock slightly behind the last event cannot make the counter go back)."""
        totals = dict(self._state_seconds)
        if now is not None:
            for activity, since in self._agents.values():
                if now > since:
                    totals[activity] += now - since
        emitted = self._state_emitted
        for state, value in totals.items():
            if value < emitted[state]:
                totals[state] = emitted[state]
            else:
                emitted[state] = value
        return totals

    # == event handlers ======================================================================

    def _series(self, queue: str, channel: str) -> _QueueSeries:
        series = self._queues.get(queue)
        if series is not None:
            return series
        series = self._unknown.get(channel)
        if series is None:
            log.warning(
                "metrics: event for a queue not in the config; counted as %s", UNKNOWN_QUEUE
            )
            series = self._unknown[channel] = _QueueSeries(self, UNKNOWN_QUEUE, channel)
        return series

    def _queue_label(self, queue: str) -> str:
        return queue if queue in self._queues else UNKNOWN_QUEUE

    def _on_queued(self, e: ContactQueued) -> None:
        if e.segment == 1:
            self._series(e.queue, e.channel).queued.inc()
        self._unanswered[e.contact_id] = _Unanswered(e.queue, e.arrived_at)

    def _on_offered(self, e: ContactOffered) -> None:
        self._series(e.queue, e.channel).offers.inc()
        w = self._unanswered.get(e.contact_id)
        if w is not None:
            w.ringing = True

    def _on_rejected(self, e: OfferRejected) -> None:
        self.offers_rejected.labels(self._queue_label(e.queue), e.channel, e.reason).inc()
        w = self._unanswered.get(e.contact_id)
        if w is not None:
            w.ringing = False

    def _on_answered(self, e: ContactAnswered) -> None:
        s = self._series(e.queue, e.channel)
        if e.segment == 1:
            s.answered.inc()
            s.answer_wait.observe(e.wait_seconds)
        else:
            s.transfers_answered.inc()
        self._unanswered.pop(e.contact_id, None)

    def _on_abandoned(self, e: ContactAbandoned) -> None:
        s = self._series(e.queue, e.channel)
        if e.segment == 1:
            s.abandoned.inc()
            s.abandon_wait.observe(e.wait_seconds)
        else:
            s.transfers_abandoned.inc()
        self._unanswered.pop(e.contact_id, None)

    def _on_transferred(self, e: ContactTransferred) -> None:
        source = self._queue_label(e.from_queue)
        if e.segment == 1:
            self.transferred_out.labels(source, e.channel, e.reason).inc()
        self.transferred.labels(source, self._queue_label(e.to_queue), e.channel, e.reason).inc()
        self._unanswered.pop(e.contact_id, None)  # the ContactQueued that follows re-adds it

    def _on_removed(self, e: ContactRemoved) -> None:
        if e.segment == 1:
            self.removed.labels(self._queue_label(e.queue), e.channel, e.reason, e.outcome).inc()
        self._unanswered.pop(e.contact_id, None)

    def _on_handed_off(self, e: ContactHandedOff) -> None:
        if e.to_queue is not None:  # (else it left routing to come back: not a transfer)
            source, target = self._queue_label(e.queue), self._queue_label(e.to_queue)
            self.handed_off.labels(source, target, e.channel).inc()
        self._series(e.queue, e.channel).handle.observe(e.handle_seconds)

    def _on_breached(self, e: TargetBreached) -> None:
        self._series(e.queue, e.channel).breached.inc()

    def _on_escalated(self, e: ContactEscalated) -> None:
        self.escalated.labels(self._queue_label(e.queue), e.channel, str(e.step)).inc()

    def _on_callback_offered(self, e: CallbackOffered) -> None:
        self._series(e.queue, e.channel).callbacks.inc()

    def _on_completed(self, e: ContactCompleted) -> None:
        self._series(e.queue, e.channel).handle.observe(e.handle_seconds)

    def _on_wrap_up_ended(self, e: WrapUpEnded) -> None:
        s = self._series(e.queue, e.channel)
        s.wrap_up.observe(e.wrap_up_seconds)
        if e.disposition is None:
            s.wrap_timeouts.inc()

    def _on_agent_state(self, e: AgentStateChanged) -> None:
        known = self._agents.get(e.agent_id)
        if known is not None:
            activity, since = known
            if e.at > since:
                self._state_seconds[activity] += e.at - since
        self._agents[e.agent_id] = (e.state, e.at)


def _known(value: str, known: tuple[str, ...]) -> str:
    """A label value from a fixed vocabulary (anything else is ``other``)."""
    return value if value in known else "other"


class _LiveCollector:
    """Scrape-time gauges (and the agent-state-seconds counter) of one ``Metrics``."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self.m.live_state())

    def _families(self, live: LiveState | None) -> Iterator[Metric]:
        m = self.m
        center = m.center
        qc = ["queue", "channel"]
        waiting = GaugeMetricFamily(
            PREFIX + "contacts_waiting",
            "Contacts waiting in the queue, not being offered (as the wallboard counts them).",
            labels=qc,
        )
        ringing = GaugeMetricFamily(
            PREFIX + "contacts_ringing",
            "Contacts of the queue being offered to an agent right now.",
            labels=qc,
        )
        oldest = GaugeMetricFamily(
            PREFIX + "oldest_waiting_age_seconds",
            "Wait so far (from original arrival) of the longest-waiting contact; 0 if none.",
            labels=qc,
        )
        agents = GaugeMetricFamily(PREFIX + "agents", "Agents by activity.", labels=["state"])
        queue_agents = GaugeMetricFamily(
            PREFIX + "queue_agents",
            "Agents who can serve the queue (eligible at some escalation step), by activity; an "
            "agent counts in every queue it can serve.",
            labels=[*qc, "state"],
        )
        queue_open = GaugeMetricFamily(
            PREFIX + "queue_open",
            "1 while the queue's business hours (as the IVR tests them before queueing to it) "
            "are open, else 0; queues without hours have no series.",
            labels=qc,
        )
        state_seconds = CounterMetricFamily(
            PREFIX + "agent_state_seconds_total",
            "Seconds agents spent in each activity, summed over agents (from state changes; "
            "includes the current stretch).",
            labels=["state"],
        )
        threshold = GaugeMetricFamily(
            PREFIX + "queue_answer_threshold_seconds",
            "The queue's answer threshold (config); `bucket_le` is the `le` of that edge of the "
            "wait histograms.",
            labels=[*qc, "bucket_le"],
        )
        goal = GaugeMetricFamily(
            PREFIX + "queue_service_level_goal_ratio",
            "The queue's service level goal as a ratio (config).",
            labels=qc,
        )
        short = GaugeMetricFamily(
            PREFIX + "short_abandon_threshold_seconds",
            "Abandons within this are short abandons (config); `bucket_le` is the `le` of that "
            "edge of the abandon-wait histogram.",
            labels=["bucket_le"],
        )
        if live is not None:
            for qid, q in center.queues.items():
                load = live.queues.get(qid) or QueueLoad()
                labels = [qid, q.channel]
                waiting.add_metric(labels, load.waiting)
                ringing.add_metric(labels, load.ringing)
                age = 0.0
                if load.oldest_arrived_at is not None:
                    age = max(0.0, live.now - load.oldest_arrived_at)
                oldest.add_metric(labels, age)
                t = (
                    q.answer_target.threshold_seconds
                    or center.channel(q.channel).answer_threshold_seconds
                )
                g = q.answer_target.goal_percent or center.channel(q.channel).answer_goal_percent
                threshold.add_metric([*labels, le_label(t)], t)
                goal.add_metric(labels, g / 100.0)
            for state in AGENT_STATES:
                agents.add_metric([state.value], live.agents.get(state, 0))
            for qid, counts in live.queue_agents.items():
                channel = center.queues[qid].channel
                for state in AGENT_STATES:
                    queue_agents.add_metric([qid, channel, state.value], counts.get(state, 0))
            if m._open_queues is not None:
                for qid, is_open in m._open_queues().items():
                    if qid in center.queues:
                        queue_open.add_metric([qid, center.queues[qid].channel], int(is_open))
            for state, seconds in m.agent_state_seconds(live.now).items():
                state_seconds.add_metric([state.value], seconds)
            s = center.settings.routing.short_abandon_seconds
            short.add_metric([le_label(s)], s)
        pending = GaugeMetricFamily(
            PREFIX + "callbacks_pending",
            "Call backs not made yet, per queue: scheduled (not due), queued (due: offered to "
            "agents), in_progress (an agent is calling).",
            labels=["queue", "state"],
        )
        pending_oldest = GaugeMetricFamily(
            PREFIX + "callbacks_oldest_age_seconds",
            "How long the oldest call back not yet made has waited (from the customer's "
            "original arrival); 0 if none.",
            labels=["queue"],
        )
        pending_due = GaugeMetricFamily(
            PREFIX + "callbacks_oldest_due_seconds",
            "How long the call back due longest (in its queue, no agent calling yet) has been "
            "due; 0 if none.",
            labels=["queue"],
        )
        if live is not None and m._pending_callbacks is not None:
            rows = m._pending_callbacks()
            for qid, q in center.queues.items():
                if q.channel != "voice":
                    continue
                row = rows.get(qid, {})
                for pending_state in CALLBACK_STATES:
                    pending.add_metric([qid, pending_state], row.get(pending_state, 0))
                pending_oldest.add_metric([qid], row.get("oldest", 0.0))
                pending_due.add_metric([qid], row.get("oldest_due", 0.0))
        yield from (waiting, ringing, oldest, agents, queue_agents, queue_open, state_seconds)
        yield from (threshold, goal, short, pending, pending_oldest, pending_due)
