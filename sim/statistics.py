"""Planner statistics, computed only from the domain events the routing core returns.

The KPI definitions are those of ``contactcenter.kpi`` (the live metrics use the same), per
interval of *arrival* and per queue:

* **offered**: contacts that entered the queue and did not leave it for another queue
  (overflow, transfer): a contact counts once, in the queue that answered, abandoned or
  removed it (``ContactQueued`` minus ``ContactTransferred`` out).
* **answered within T**: ``ContactAnswered.wait_seconds <= T``, T the queue's answer threshold
  (or the scenario's); waits count from the original arrival.
* **service level**, both reported:
  ``sl_offered = answered within T / offered`` and
  ``sl_excl_short = answered within T / (offered - abandoned within short_abandon_seconds)``.
* **ASA**: mean wait of answered contacts. **abandon rate**: abandoned / offered.
* **P(wait)**: the share of offered contacts not answered at once (answered after waiting,
  abandoned or removed), as Erlang C's probability of waiting.
* **callbacks**: contacts that left the queue to be called back (``ContactRemoved`` with
  outcome ``callback``: an accepted callback offer, or max wait with action ``callback``);
  they count in offered, and neither as answered nor as abandoned.
* **fresh** and **retrials**: calls placed in the interval, a customer's first and their
  later ones (a retrial is a new contact of the same customer); blocked calls included, so
  ``fresh + retrials - blocked`` entered the center. **blocked**: calls that found every
  trunk line taken (busy signal: never offered to the core); **blocking rate**: blocked /
  (fresh + retrials).
* **attempts** (``attempts_1``, ``attempts_2``, ``attempts_3plus``): the share of customers
  whose first call came in the interval who made 1, 2, 3 or more calls in all, counted when
  their last call ends (answered, abandoned or blocked without calling again, removed).
* **FCR** (first-contact resolution, ``contactcenter.kpi.first_contacts``, as the live store):
  per queue and interval of arrival, first contacts and those resolved first time, a customer
  being the driver's (attempt ``n`` of customer ``c`` is contact ``c/n``): a retrial within
  the center's ``fcr.window_days`` of the customer's call before it is a repeat, so a
  customer's first call is resolved when it was answered (an answered customer does not call
  again) and only calls after a gap of more than the window are first contacts again.
  Calls blocked before the core are not contacts of the center (it never saw them), as live.
* **offered work** (``offered_work``): the handle seconds the forecast brought in, summed over
  the customers' first calls arriving in the interval (drawn, not served: retrials and what
  happens to the calls do not change it). Its expectation is known (contacts x AHT), so the
  staffing search uses it as a control variate (``controlled_ratio``).
* **occupancy** (per agent group): busy time / (busy + available idle time): busy is
  ringing, busy or wrap-up (the agent holds a contact), idle is available with nothing held;
  away and offline time count in neither. It is what the core's agents accrue (their
  ``accrued``, which least-occupied routing reads too), looked at every interval boundary and
  when the run stops (``look``): the same sums as the ``AgentStateChanged`` events add up to,
  without handling each of them (that was 4 % of a planning day). Time is cut at interval
  boundaries and at the end of the last interval.

Contacts that arrive in the warm-up (before the first interval) count nowhere, and agents'
time in it neither. Everything comes from the core's events, except occupancy (the core's
agents, ``look``) and what only the driver knows: which call is a retrial, calls blocked
before the core, a customer's last call (``call_placed``, ``call_blocked``,
``customer_done``).

Across replications every KPI is computed per replication (a ratio of that replication's
sums), then averaged; the confidence interval is Student's t over the replication values.
The staffing search judges with ``pooled_ratio`` instead: the ratio of the sums over all
replications, whose small-sample bias vanishes as replications are added (an average of
per-replication ratios keeps its bias however many there are).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from mypy_extensions import mypyc_attr
from scipy import stats as scipy_stats

from contactcenter.agents.state import Agent
from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
)
from contactcenter.kpi import FCR_WINDOW_DAYS, CustomerContact, first_contacts

FIELDS = (
    "entered",
    "transferred_out",
    "answered",
    "answered_within",
    "abandoned",
    "abandoned_short",
    "removed",
    "callbacks",
    "wait_answered",
    "wait_abandoned",
    "answered_at_once",
    "fresh",
    "retrials",
    "blocked",
    "customers_1",
    "customers_2",
    "customers_3plus",
    "first_contacts",
    "resolved_first",
    "offered_work",
)
(
    ENTERED,
    TRANSFERRED_OUT,
    ANSWERED,
    ANSWERED_WITHIN,
    ABANDONED,
    ABANDONED_SHORT,
    REMOVED,
    CALLBACKS,
    WAIT_ANSWERED,
    WAIT_ABANDONED,
    ANSWERED_AT_ONCE,
    FRESH,
    RETRIALS,
    BLOCKED,
    CUSTOMERS_1,
    CUSTOMERS_2,
    CUSTOMERS_3PLUS,
    FIRST_CONTACTS,
    RESOLVED_FIRST,
    OFFERED_WORK,
) = range(len(FIELDS))

FROM_EVENTS = slice(0, FRESH)
"""The fields counted from the core's events: a replay of a recorded day reproduces these
(a recording does not say which calls were retrials, so a replay counts every call fresh)."""

KPIS = (
    "offered",
    "answered",
    "abandoned",
    "sl_offered",
    "sl_excl_short",
    "asa",
    "abandon_rate",
    "callbacks",
    "prob_wait",
    "fresh",
    "retrials",
    "blocked",
    "blocking_rate",
    "attempts_1",
    "attempts_2",
    "attempts_3plus",
    "fcr",
)

SHARES = frozenset(
    {
        "sl_offered",
        "sl_excl_short",
        "abandon_rate",
        "prob_wait",
        "blocking_rate",
        "attempts_1",
        "attempts_2",
        "attempts_3plus",
        "fcr",
    }
)
SHARE = (0.0, 1.0)

_BUSY = 0
_IDLE = 1


# Plain Python classes even when compiled: replications send them between processes, and a
# compiled frozen dataclass cannot be unpickled (its state is set by assignment).
@mypyc_attr(native_class=False)
@dataclass(frozen=True)
class Tallies:
    """One replication's sums: ``counts[interval, queue, field]`` (fields: ``FIELDS``),
    ``busy``/``idle`` seconds ``[interval, group]``, optional ``tiers[interval, tier, field]``."""

    counts: np.ndarray
    busy: np.ndarray
    idle: np.ndarray
    tiers: np.ndarray | None
    contacts: int
    """Arrivals simulated (retrials included)."""
    end: float
    """Simulated time at which the run stopped."""


class Collector:
    """Turns the event stream of one run into ``Tallies``.

    ``handlers`` maps event types to the bound method that records them, so the driver
    dispatches each event with one dictionary lookup.
    """

    def __init__(
        self,
        *,
        queues: Sequence[str],
        thresholds: Sequence[float],
        short_abandon: float,
        start: float,
        interval_seconds: float,
        intervals: int,
        agent_groups: Mapping[str, int],
        groups: int,
        tiers: Sequence[str] | None = None,
        no_wait: float = 0.0,
        fcr_window: float = FCR_WINDOW_DAYS * 86_400,
    ) -> None:
        """``no_wait``: an answered contact that waited at most this long was answered at
        once (the ring delay: it was offered the moment it arrived). ``fcr_window``: seconds
        within which a customer's next call about a queue is a repeat."""
        self._fcr_window = fcr_window
        self._reached: dict[str, tuple[str, float]] = {}
        """Contact -> the queue it reached first and its arrival (warm-up ones too: a call
        after the warm-up may repeat one in it)."""
        self._handled_by: dict[str, str] = {}
        """Contact -> the agent who answered it last."""
        self._no_wait = no_wait
        self._q = {q: i for i, q in enumerate(queues)}
        self._thr = list(thresholds)
        self._short = short_abandon
        self._start = start
        self._len = interval_seconds
        self._k = intervals
        self._end = start + intervals * interval_seconds
        nf = len(FIELDS)
        self._counts = [[[0.0] * nf for _ in queues] for _ in range(intervals)]
        self._occ = [[[0.0] * intervals for _ in range(groups)] for _ in (_BUSY, _IDLE)]
        self._groups = groups
        self._group_of = dict(agent_groups)
        self._looked: dict[str, tuple[float, float]] = {}
        """Agent id -> (busy, idle) seconds it had accrued at the last look."""
        self._looked_at: float | None = None
        self._moving: dict[str, str] = {}
        self._tier_index = {t: i for i, t in enumerate(tiers)} if tiers is not None else None
        self._tier_of: dict[str, int] = {}
        self._tier_counts = (
            [[[0.0] * nf for _ in tiers] for _ in range(intervals)] if tiers is not None else None
        )
        self._warm: set[str] = set()
        """Contacts that arrived before ``start`` (the warm-up): none of theirs is counted."""
        self.contacts = 0
        self.handlers: dict[type, Callable[[Event], None]] = {
            ContactQueued: self._queued,  # type: ignore[dict-item]
            ContactTransferred: self._transferred,  # type: ignore[dict-item]
            ContactAnswered: self._answered,  # type: ignore[dict-item]
            ContactAbandoned: self._abandoned,  # type: ignore[dict-item]
            ContactRemoved: self._removed,  # type: ignore[dict-item]
        }

    def observe(self, e: Event) -> None:
        handler = self.handlers.get(type(e))
        if handler is not None:
            handler(e)

    def _interval(self, t: float) -> int:
        k = int((t - self._start) // self._len)
        return 0 if k < 0 else (k if k < self._k else self._k - 1)

    # -- contacts --------------------------------------------------------------------------

    def _queued(self, e: ContactQueued) -> None:
        if e.contact_id not in self._reached:
            self._reached[e.contact_id] = (e.queue, e.arrived_at)
        if e.arrived_at < self._start:
            self._warm.add(e.contact_id)
            self._moving.pop(e.contact_id, None)
            return
        k = self._interval(e.arrived_at)
        row = self._counts[k]
        row[self._q[e.queue]][ENTERED] += 1
        if self._moving:
            origin = self._moving.pop(e.contact_id, None)
            if origin is not None:
                row[self._q[origin]][TRANSFERRED_OUT] += 1
                return
        if self._tier_counts is not None and self._tier_index is not None:
            t = self._tier_index[e.tier]
            self._tier_of[e.contact_id] = t
            self._tier_counts[k][t][ENTERED] += 1

    def _transferred(self, e: ContactTransferred) -> None:
        self._moving[e.contact_id] = e.from_queue

    def _answered(self, e: ContactAnswered) -> None:
        self._handled_by[e.contact_id] = e.agent_id
        if self._warm and e.contact_id in self._warm:
            return
        w = e.wait_seconds
        k = self._interval(e.at - w)
        q = self._q[e.queue]
        within = w <= self._thr[q]
        row = self._counts[k][q]
        at_once = w <= self._no_wait
        row[ANSWERED] += 1
        row[WAIT_ANSWERED] += w
        if within:
            row[ANSWERED_WITHIN] += 1
        if at_once:
            row[ANSWERED_AT_ONCE] += 1
        if self._tier_counts is not None:
            trow = self._tier_counts[k][self._tier_of.pop(e.contact_id)]
            trow[ANSWERED] += 1
            trow[WAIT_ANSWERED] += w
            if within:
                trow[ANSWERED_WITHIN] += 1
            if at_once:
                trow[ANSWERED_AT_ONCE] += 1

    def _abandoned(self, e: ContactAbandoned) -> None:
        if self._warm and self._warm_left(e.contact_id):
            return
        w = e.wait_seconds
        k = self._interval(e.at - w)
        row = self._counts[k][self._q[e.queue]]
        row[ABANDONED] += 1
        row[WAIT_ABANDONED] += w
        short = w <= self._short
        if short:
            row[ABANDONED_SHORT] += 1
        if self._tier_counts is not None:
            trow = self._tier_counts[k][self._tier_of.pop(e.contact_id)]
            trow[ABANDONED] += 1
            trow[WAIT_ABANDONED] += w
            if short:
                trow[ABANDONED_SHORT] += 1

    def _removed(self, e: ContactRemoved) -> None:
        if self._warm and self._warm_left(e.contact_id):
            return
        k = self._interval(e.at - e.wait_seconds)
        row = self._counts[k][self._q[e.queue]]
        row[REMOVED] += 1
        callback = e.outcome == "callback"
        if callback:
            row[CALLBACKS] += 1
        if self._tier_counts is not None:
            trow = self._tier_counts[k][self._tier_of.pop(e.contact_id)]
            trow[REMOVED] += 1
            if callback:
                trow[CALLBACKS] += 1

    # -- what only the driver knows --------------------------------------------------------

    def call_placed(self, queue: str, tier: str, at: float, retrial: bool) -> None:
        """A customer's call (``retrial``: not their first) reached the center at ``at``."""
        self._add(queue, tier, at, RETRIALS if retrial else FRESH)

    def call_blocked(self, queue: str, tier: str, at: float) -> None:
        """A call placed at ``at`` found every trunk line taken."""
        self._add(queue, tier, at, BLOCKED)

    def customer_done(self, queue: str, tier: str, first_at: float, attempts: int) -> None:
        """A customer whose first call came at ``first_at`` made their last, ``attempts``-th."""
        self._add(queue, tier, first_at, CUSTOMERS_1 + min(attempts, 3) - 1)

    def work_offered(self, queue: str, at: float, seconds: float) -> None:
        """First calls arriving in the interval of ``at`` brought ``seconds`` of handle time
        to ``queue`` (none counted in the warm-up)."""
        if at >= self._start:
            self._counts[self._interval(at)][self._q[queue]][OFFERED_WORK] += seconds

    def _add(self, queue: str, tier: str, at: float, f: int) -> None:
        if at < self._start:
            return
        k = self._interval(at)
        self._counts[k][self._q[queue]][f] += 1
        if self._tier_counts is not None and self._tier_index is not None:
            self._tier_counts[k][self._tier_index[tier]][f] += 1

    def _warm_left(self, contact_id: str) -> bool:
        """Whether a contact that leaves for good arrived in the warm-up (and forget it)."""
        if contact_id in self._warm:
            self._warm.discard(contact_id)
            return True
        return False

    # -- agents ----------------------------------------------------------------------------

    def look(self, now: float, agents: Mapping[str, Agent]) -> None:
        """Add each group's busy and idle seconds since the last look to the interval they
        fell in. The driver looks at every interval boundary from the first interval's start
        (the warm-up before it counts nowhere) and when the run stops, so the time between
        two looks lies in one interval."""
        now = min(now, self._end)
        last = self._looked_at
        if now < self._start or (last is not None and now <= last):
            return
        self._looked_at = now
        looked = self._looked
        # (the first look only notes where each agent stands; a boundary's time may be off
        # by a rounding, hence the middle of the span names its interval)
        k = self._interval((last + now) / 2) if last is not None else None
        busy, idle = self._occ
        for aid, g in self._group_of.items():
            b, i = agents[aid].accrued(now)
            if k is not None:
                b0, i0 = looked[aid]
                busy[g][k] += b - b0
                idle[g][k] += i - i0
            looked[aid] = (b, i)

    def _first_contacts(self) -> None:
        """Count each first contact that arrived after the warm-up, and whether it was resolved
        first time, in its interval and first queue (``contactcenter.kpi.first_contacts``).

        Most customers call once. The rule makes a customer's only contact a first contact,
        resolved when an agent handled it; only the calls of customers who called again go
        through the rule itself (building every contact for it was ~7 % of a planning day)."""
        reached, handled, start = self._reached, self._handled_by, self._start
        again = {customer_of(cid) for cid in reached if "/" in cid}
        repeating: list[CustomerContact] = []
        for cid, (queue, at) in reached.items():
            if again and (customer := customer_of(cid)) in again:
                repeating.append(CustomerContact(customer, queue, at, handled.get(cid)))
            elif at >= start:
                self._count_first(queue, at, cid in handled)
        for first in first_contacts(repeating, self._fcr_window):
            c = first.contact
            if c.arrived >= start:
                self._count_first(c.queue, c.arrived, first.resolved)

    def _count_first(self, queue: str, at: float, resolved: bool) -> None:
        row = self._counts[self._interval(at)][self._q[queue]]
        row[FIRST_CONTACTS] += 1
        row[RESOLVED_FIRST] += resolved

    def finish(self, now: float) -> Tallies:
        """Count first contacts, return the sums (after the last ``look``)."""
        self._first_contacts()
        occ = np.asarray(self._occ, dtype=float)
        tiers = np.asarray(self._tier_counts) if self._tier_counts is not None else None
        if occ.size == 0:
            occ = np.zeros((2, 0, self._k))
        return Tallies(
            counts=np.asarray(self._counts, dtype=float),
            busy=occ[_BUSY].T.copy(),
            idle=occ[_IDLE].T.copy(),
            tiers=tiers,
            contacts=self.contacts,
            end=now,
        )


def customer_of(contact_id: str) -> str:
    """The driver's customer of a contact: attempt ``n`` of customer ``c`` is ``c/n`` (the
    first is ``c``)."""
    return contact_id.partition("/")[0]


# == KPIs =====================================================================================


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def kpis(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The KPIs of ``counts[..., field]`` (any leading axes), NaN where undefined."""
    c = np.asarray(counts, dtype=float)
    offered = c[..., ENTERED] - c[..., TRANSFERRED_OUT]
    within = c[..., ANSWERED_WITHIN]
    calls = c[..., FRESH] + c[..., RETRIALS]
    customers = c[..., CUSTOMERS_1] + c[..., CUSTOMERS_2] + c[..., CUSTOMERS_3PLUS]
    return {
        "offered": offered,
        "answered": c[..., ANSWERED],
        "abandoned": c[..., ABANDONED],
        "sl_offered": _ratio(within, offered),
        "sl_excl_short": _ratio(within, offered - c[..., ABANDONED_SHORT]),
        "asa": _ratio(c[..., WAIT_ANSWERED], c[..., ANSWERED]),
        "abandon_rate": _ratio(c[..., ABANDONED], offered),
        "callbacks": c[..., CALLBACKS],
        "prob_wait": _ratio(offered - c[..., ANSWERED_AT_ONCE], offered),
        "fresh": c[..., FRESH],
        "retrials": c[..., RETRIALS],
        "blocked": c[..., BLOCKED],
        "blocking_rate": _ratio(c[..., BLOCKED], calls),
        "attempts_1": _ratio(c[..., CUSTOMERS_1], customers),
        "attempts_2": _ratio(c[..., CUSTOMERS_2], customers),
        "attempts_3plus": _ratio(c[..., CUSTOMERS_3PLUS], customers),
        "fcr": _ratio(c[..., RESOLVED_FIRST], c[..., FIRST_CONTACTS]),
    }


def pooled_ratio(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum(num) / sum(den)`` over axis 0 (replications) and its standard error by the delta
    method (``sqrt(sum((num - R den)^2) / (n (n - 1))) / mean(den)``); NaN where ``den`` sums
    to 0 or fewer than two replications."""
    x = np.asarray(num, dtype=float)
    y = np.asarray(den, dtype=float)
    n = x.shape[0]
    ratio = _ratio(x.sum(axis=0), y.sum(axis=0))
    resid = x - np.nan_to_num(ratio) * y
    if n < 2:
        return ratio, np.full(ratio.shape, np.nan)
    se = _ratio(np.sqrt((resid * resid).sum(axis=0) / (n * (n - 1))), y.mean(axis=0))
    return ratio, se


def controlled_ratio(
    num: np.ndarray, den: np.ndarray, control: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``pooled_ratio`` with a control variate: ``control`` (per replication, like ``num``) has
    expectation 0, and ``num`` is corrected by ``beta x control``, ``beta`` the least-squares
    slope of the pooled ratio's residuals on the control. A replication that drew more work
    than expected tends to answer fewer contacts in time; the correction takes that luck out,
    so the standard error (delta method, one degree of freedom spent on ``beta``) shrinks by
    the correlation. Without variation in the control the ratio is ``pooled_ratio``'s (its
    error still on ``n - 2`` degrees of freedom); under three replications it is
    ``pooled_ratio``."""
    x = np.asarray(num, dtype=float)
    y = np.asarray(den, dtype=float)
    z = np.asarray(control, dtype=float)
    n = x.shape[0]
    df = controlled_degrees_of_freedom(n)
    if df == n - 1:
        return pooled_ratio(x, y)
    ratio = np.nan_to_num(_ratio(x.sum(axis=0), y.sum(axis=0)))
    resid = x - ratio * y
    zc = z - z.mean(axis=0)
    spread = (zc * zc).sum(axis=0)
    beta = np.zeros(spread.shape)
    np.divide((resid * zc).sum(axis=0), spread, out=beta, where=spread > 0)
    corrected = x - beta * z
    ratio = _ratio(corrected.sum(axis=0), y.sum(axis=0))
    e = corrected - np.nan_to_num(ratio) * y
    se = _ratio(np.sqrt((e * e).sum(axis=0) / (n * df)), y.mean(axis=0))
    return ratio, se


def controlled_degrees_of_freedom(n: int) -> int:
    """The degrees of freedom of ``controlled_ratio``'s error with ``n`` replications: one
    goes to the slope from three replications on (below, it is ``pooled_ratio``'s)."""
    return n - 2 if n >= 3 else n - 1


def occupancy(busy: np.ndarray, idle: np.ndarray) -> np.ndarray:
    """busy / (busy + idle), NaN where the group was never available or busy."""
    return _ratio(np.asarray(busy, dtype=float), np.asarray(busy, dtype=float) + idle)


@mypyc_attr(native_class=False)
@dataclass(frozen=True)
class Estimate:
    """Mean over replications with a two-sided confidence interval (NaN: undefined)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray
    """Replications in which the value was defined."""

    @property
    def half_width(self) -> np.ndarray:
        return np.asarray((self.high - self.low) / 2.0)


def estimate(
    values: np.ndarray, confidence: float, bounds: tuple[float, float] = (0.0, np.inf)
) -> Estimate:
    """Student-t interval over axis 0 (replications), ignoring NaN replications; the bounds
    are clipped to the KPI's range (a share cannot exceed 1, nor a wait fall below 0)."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    n = ok.sum(axis=0)
    total = np.where(ok, v, 0.0).sum(axis=0)
    mean = _ratio(total, n.astype(float))
    dev = np.where(ok, v - mean, 0.0)
    var = _ratio((dev * dev).sum(axis=0), (n - 1).astype(float))
    t = scipy_stats.t.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1))
    half = np.where(n >= 2, t * np.sqrt(var / np.maximum(n, 1)), np.nan)
    low, high = np.clip(mean - half, *bounds), np.clip(mean + half, *bounds)
    return Estimate(mean, low, high, n)


@mypyc_attr(native_class=False)
@dataclass(frozen=True)
class Summary:
    """KPIs of R replications: per interval and queue, per queue over all intervals, and for
    the whole center, each an ``Estimate``; occupancy per interval and group, and per group."""

    queues: tuple[str, ...]
    groups: tuple[str, ...]
    confidence: float
    replications: int
    by_interval: dict[str, Estimate]
    by_queue: dict[str, Estimate]
    total: dict[str, Estimate]
    occupancy: Estimate
    occupancy_by_group: Estimate
    contacts: int
    tiers: tuple[str, ...] = ()
    by_tier: dict[str, Estimate] = field(default_factory=dict)
    """KPI -> per customer tier over the counted intervals (runs made ``by_tier`` only)."""


def summarize(
    tallies: Sequence[Tallies],
    *,
    queues: Sequence[str],
    groups: Sequence[str],
    confidence: float,
    intervals: slice = slice(None),
    tiers: Sequence[str] = (),
) -> Summary:
    """Combine replications; ``intervals`` selects the intervals counted in the totals;
    ``tiers`` names the tiers of runs made ``by_tier``."""
    counts = np.stack([t.counts for t in tallies])  # [R, K, Q, F]
    busy = np.stack([t.busy for t in tallies])  # [R, K, G]
    idle = np.stack([t.idle for t in tallies])
    window = counts[:, intervals]
    per = kpis(counts)
    per_queue = kpis(window.sum(axis=1))
    whole = kpis(window.sum(axis=(1, 2)))

    def est(name: str, values: np.ndarray) -> Estimate:
        return estimate(values, confidence, SHARE if name in SHARES else (0.0, np.inf))

    by_tier: dict[str, Estimate] = {}
    if tiers and all(t.tiers is not None for t in tallies):
        per_tier = np.stack([np.asarray(t.tiers)[intervals].sum(axis=0) for t in tallies])
        by_tier = {k: est(k, v) for k, v in kpis(per_tier).items()}  # [T]

    return Summary(
        queues=tuple(queues),
        groups=tuple(groups),
        confidence=confidence,
        replications=len(tallies),
        by_interval={k: est(k, v) for k, v in per.items()},
        by_queue={k: est(k, v) for k, v in per_queue.items()},
        total={k: est(k, v) for k, v in whole.items()},
        occupancy=estimate(occupancy(busy, idle), confidence, SHARE),
        occupancy_by_group=estimate(
            occupancy(busy[:, intervals].sum(axis=1), idle[:, intervals].sum(axis=1)),
            confidence,
            SHARE,
        ),
        contacts=sum(t.contacts for t in tallies),
        tiers=tuple(tiers) if by_tier else (),
        by_tier=by_tier,
    )
