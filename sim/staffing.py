"""Staffing search: the fewest agents per interval (and agent group) that meet the targets.

Each interval is judged on its own, stationary (the usual "stationary independent period by
period" approach of workforce planning): the interval's arrival rates and AHT held constant,
the candidate staffing logged in all along, a warm-up of exactly ``search.warmup_minutes``
discarded, then ``measure_intervals`` interval lengths measured per replication. A staffing
*meets* the targets when, for every queue with traffic, the service level (the scenario's
definition) reaches the goal and the abandon rate stays under its cap.

**How a simulated staffing is judged** (``decision: sequential``, the default). Service level
and abandon rate are pooled ratios over the replications (sums of all replications, so no
small-sample bias) with a delta-method standard error, each corrected by a control variate
(``statistics.controlled_ratio``): the handle time the first calls to the queue's group
brought in beyond its expectation (contacts x AHT, known from the forecast), which takes
that replication's luck out of its service level. Replications are added in batches
(``search.replications``, doubling up to ``search.max_replications``); after each batch a
queue's verdict is

* *misses* when the upper bound ``estimate + q se`` is below the goal (above the cap's
  lower side for abandonment: ``estimate - q se`` over the cap),
* *meets* when the lower bound ``estimate - q se`` reaches the goal less the tolerance
  ``h = search.tolerance_percent`` (the abandon upper bound stays under cap + h),
* open otherwise, and the staffing gets another batch while any queue is open.

``q`` is Student's t quantile at ``1 - alpha / (2 L)``, ``alpha = 1 - confidence`` and ``L``
the number of looks the schedule allows (Bonferroni over both sides and the looks), so each
verdict keeps its error whatever look it stops at: a staffing that reaches the goal is judged
to miss with probability at most alpha / 2, and one more than ``h`` under the goal is judged
to meet with probability at most alpha / 2. Between the goal and ``h`` under it either
verdict may come: no finite simulation tells a hair above the goal from a hair below, and a
minimum that meets its goal by a hair must still be found. A queue still open after
``max_replications`` is decided by its estimate against the middle of that zone and
reported as unresolved.

So the answer ``n`` of a single group is the exact minimum with probability at least
``confidence`` whenever ``n - 1`` misses the goal by more than ``h``: ``n`` is wrongly
rejected with at most alpha / 2, ``n - 1`` wrongly accepted with at most alpha / 2; fewer
agents than needed come with probability at most alpha / 2 (staffings two or more below the
minimum miss by a wide margin, their wrong acceptance is negligible). The legacy ``ci``
(lower bound of a fixed number of replications) and ``mean`` decisions remain for quick
looks.

The search starts from Erlang A (Erlang C without patience) per group, with the group's
queues pooled, grows the groups that answer for missing queues until the targets are met,
then shrinks all groups together, each judged by its own queues, and last one group at a
time while the targets still hold (``search_interval``). All candidates of an interval share
their random numbers (common random numbers: replication ``i`` of every candidate meets the
same customers), so neighbours differ by the staffing, not by luck. Scheduled agents cover
shrinkage: ``scheduled = ceil(required / (1 - shrinkage))``.

An ``AnalyticEvaluator`` judges with the Erlang formulas instead of simulation: a
deterministic check of the search itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from scipy import optimize as scipy_optimize
from scipy import stats as scipy_stats

from sim.erlang import (
    ErlangLevels,
    ErlangResult,
    erlang_a_levels,
    erlang_c_metrics,
    required_agents,
)
from sim.replications import Progress, Runner, seeds, summary_of
from sim.scenario import Forecast, Model, Staffing
from sim.statistics import (
    ABANDONED,
    ABANDONED_SHORT,
    ANSWERED_WITHIN,
    ENTERED,
    OFFERED_WORK,
    TRANSFERRED_OUT,
    Summary,
    Tallies,
    controlled_degrees_of_freedom,
    controlled_ratio,
)


@dataclass(frozen=True)
class Assessment:
    """How one staffing did in one interval."""

    meets: bool
    deficits: dict[str, float]
    """Queue -> how far its estimate misses its targets (> 0 below the goal or over the cap;
    the day refinement grows groups by it). Every judged queue (with traffic) is a key."""
    service_level: dict[str, float]
    """Queue -> the service-level estimate."""
    abandon_rate: dict[str, float]
    missed: frozenset[str] = frozenset()
    """Queues judged to miss their targets: what the search acts on."""
    replications: int = 0
    unresolved: frozenset[str] = frozenset()
    """Queues still open at ``max_replications`` (decided by their estimate)."""
    half_width: dict[str, float] = field(default_factory=dict)
    """Queue -> ``q x se`` of its service level at the last look (0 for Erlang)."""


class Evaluator(Protocol):
    """(interval, agents per group) -> assessment. ``focus``: the queues whose verdicts the
    caller acts on (None: all); a simulation stops adding replications once those are
    decided, and a later call with a wider focus extends the same replications."""

    def __call__(
        self, k: int, counts: tuple[int, ...], focus: frozenset[str] | None = None
    ) -> Assessment: ...


@dataclass(frozen=True)
class IntervalPlan:
    interval: int
    label: str
    erlang: tuple[int, ...]
    required: tuple[int, ...]
    scheduled: tuple[int, ...]
    assessment: Assessment
    evaluations: int
    below: tuple[Assessment | None, ...] = ()
    """Per group: how one agent fewer in that group (the others as required) did, when the
    search judged it: the evidence that ``required`` is the minimum."""


@dataclass(frozen=True)
class StaffingPlan:
    groups: tuple[str, ...]
    intervals: tuple[IntervalPlan, ...]
    shrinkage: float

    def staffing(self, forecast: Forecast, *, scheduled: bool = False) -> Staffing:
        """Net (or scheduled) agents as a staffing table over the whole forecast; intervals
        not planned get 0."""
        counts = np.zeros((forecast.intervals, len(self.groups)), dtype=np.int64)
        for p in self.intervals:
            counts[p.interval] = p.scheduled if scheduled else p.required
        return Staffing(self.groups, counts)


def scheduled_agents(required: int, shrinkage: float) -> int:
    """Agents to schedule so ``required`` remain after shrinkage."""
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be within [0, 1), got {shrinkage!r}")
    return math.ceil(required / (1.0 - shrinkage) - 1e-9)


# == targets ==================================================================================


def _goals(model: Model) -> dict[str, tuple[float, float | None]]:
    """Queue -> (service-level goal as a fraction, abandon cap as a fraction or None)."""
    t = model.targets
    cap = t.max_abandon_percent / 100.0 if t.max_abandon_percent is not None else None
    out = {}
    for qid, q in model.center.queues.items():
        own = q.answer_target.goal_percent
        assert own is not None
        goal = t.service_level_percent if t.service_level_percent is not None else own
        out[qid] = (goal / 100.0, cap)
    return out


def _threshold(model: Model, queue: str) -> float:
    own = model.center.queues[queue].answer_target.threshold_seconds
    assert own is not None
    return model.targets.threshold_seconds or own


def owners(model: Model) -> dict[str, int]:
    """Queue -> index of the agent group that answers for it (named first in a group's
    ``queues``, else the group with most members of the queue, else the first group)."""
    out: dict[str, int] = {}
    for qid in model.center.queues:
        for g, group in enumerate(model.groups):
            if qid in group.queues:
                out[qid] = g
                break
        else:
            members = [
                sum(1 for a in grp.agents if qid in model.center.agents[a].queues)
                for grp in model.groups
            ]
            out[qid] = int(np.argmax(members)) if members else 0
    return out


# == evaluators ===============================================================================


def stationary(model: Model, k: int, counts: Sequence[int]) -> Model:
    """Interval ``k`` held stationary with ``counts`` agents per group: the warm-up, then
    ``measure_intervals`` copies of the interval, all counted."""
    fc = model.forecast
    n = model.search.measure_intervals
    warmup = model.search.warmup_minutes * 60.0
    forecast = Forecast(
        # (simulated time starts at midnight: a warm-up needs room before the interval)
        start=max(fc.start + k * fc.interval_seconds, warmup),
        interval_seconds=fc.interval_seconds,
        queues=fc.queues,
        contacts=np.tile(fc.contacts[k], (n, 1)),
        aht=np.tile(fc.aht[k], (n, 1)),
    )
    groups = tuple(g.name for g in model.groups)
    staffing = Staffing(groups, np.tile(np.asarray(counts, dtype=np.int64), (n, 1)))
    return replace(
        model,
        forecast=forecast,
        staffing=staffing,
        roster=None,
        warmup_seconds=warmup,
    )


def looks(model: Model) -> list[int]:
    """Replications after each look: the first batch, doubling, up to the maximum (one look
    for the fixed-replication decisions)."""
    search = model.search
    if model.targets.decision != "sequential":
        return [search.replications]
    out = [search.replications]
    while out[-1] < search.max_replications:
        out.append(min(search.max_replications, 2 * out[-1]))
    return out


EvaluationLog = Callable[[int, tuple[int, ...], Assessment], None]
"""Called with (interval, agents per group, assessment) after each simulated staffing."""


class SimulationEvaluator:
    """Judges a staffing by simulating the interval stationary (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        runner: Runner,
        *,
        replications: Progress | None = None,
        evaluations: EvaluationLog | None = None,
    ) -> None:
        """``replications`` hears of every replication as it finishes, ``evaluations`` of
        every judged staffing."""
        self.model = model
        self.runner = runner
        self.goals = _goals(model)
        self.looks = looks(model)
        self.on_replication = replications
        self.on_evaluation = evaluations
        own = owners(model)
        group = [own[q] for q in model.center.queues]
        self._same_group = np.array([[float(a == b) for b in group] for a in group])
        """[Q, Q]: 1 where two queues are answered for by the same agent group."""
        self._interval = -1
        self._tallies: dict[tuple[int, ...], list[Tallies]] = {}
        """Replications so far of each staffing of the interval being searched."""

    def __call__(
        self, k: int, counts: tuple[int, ...], focus: frozenset[str] | None = None
    ) -> Assessment:
        model = self.model
        if k != self._interval:  # the search moved on: earlier staffings are not asked again
            self._interval, self._tallies = k, {}
        tallies = self._tallies.setdefault(counts, [])
        sim_model = stationary(model, k, counts)
        expected_work = self._expected_work(sim_model)
        assessment = None
        for look, total in enumerate(self.looks):
            if total < len(tallies):
                continue  # an earlier call with another focus got this far already
            if total > len(tallies):
                batch = seeds(model.seed, total - len(tallies), key=(k,), first=len(tallies))
                progress = self._progress(len(tallies), total)
                tallies += self.runner.run(sim_model, batch, progress=progress)
            assessment = self._judge(tallies, expected_work, last=look == len(self.looks) - 1)
            open_ = assessment.unresolved if focus is None else assessment.unresolved & focus
            if not open_:
                break
        assert assessment is not None
        if self.on_evaluation is not None:
            self.on_evaluation(k, counts, assessment)
        return assessment

    def _progress(self, done: int, total: int) -> Progress | None:
        """Replications of this batch, told as the evaluation's (done before + i of the
        replications this look reaches)."""
        report = self.on_replication
        if report is None:
            return None

        def told(i: int, _batch: int) -> None:
            report(done + i, total)

        return told

    def _quantile(self, n: int) -> float:
        """Student's t quantile of the decision with ``n`` replications, on the degrees of
        freedom of ``controlled_ratio``'s error."""
        decision = self.model.targets.decision
        confidence = self.model.confidence
        df = controlled_degrees_of_freedom(n)
        if decision == "mean":
            return 0.0
        if decision == "ci":
            return float(scipy_stats.t.ppf(0.5 + confidence / 2.0, df))
        alpha = (1.0 - confidence) / 2.0 / len(self.looks)  # per side and look
        return float(scipy_stats.t.ppf(1.0 - alpha, df))

    def _expected_work(self, sim_model: Model) -> np.ndarray:
        """Per center queue, the handle seconds the stationary model's first calls bring in
        on average over its counted intervals (contacts x AHT: every handle-time
        distribution is scaled to the forecast AHT as its mean)."""
        fc = sim_model.forecast
        per_queue = (fc.contacts * fc.aht).sum(axis=0)
        index = {q: j for j, q in enumerate(fc.queues)}
        return np.array(
            [float(per_queue[index[q]]) if q in index else 0.0 for q in self.model.center.queues]
        )

    def _judge(
        self, tallies: Sequence[Tallies], expected_work: np.ndarray, *, last: bool
    ) -> Assessment:
        model = self.model
        c = np.stack([t.counts.sum(axis=0) for t in tallies])  # [R, Q, F]
        offered = c[..., ENTERED] - c[..., TRANSFERRED_OUT]
        base = (
            offered
            if model.targets.sl_definition == "offered"
            else (offered - c[..., ABANDONED_SHORT])
        )
        # Control variate per queue: the work its group's queues drew beyond the expected.
        surplus = c[..., OFFERED_WORK] - expected_work
        control = surplus @ self._same_group
        sl, sl_se = controlled_ratio(c[..., ANSWERED_WITHIN], base, control)
        ab, ab_se = controlled_ratio(c[..., ABANDONED], offered, control)
        q = self._quantile(len(tallies))
        h = model.search.tolerance_percent / 100.0
        sequential = model.targets.decision == "sequential"
        levels, rates, deficits, widths = {}, {}, {}, {}
        missed, unresolved = set(), set()
        for j, qid in enumerate(model.center.queues):
            if not offered[:, j].sum() > 0 or math.isnan(sl[j]):
                continue
            goal, cap = self.goals[qid]
            level, level_w = float(sl[j]), q * float(np.nan_to_num(sl_se[j]))
            rate, rate_w = float(np.nan_to_num(ab[j])), q * float(np.nan_to_num(ab_se[j]))
            levels[qid], rates[qid], widths[qid] = level, rate, level_w
            deficits[qid] = max(goal - level, rate - cap if cap is not None else -math.inf)
            if not sequential:
                if level - level_w < goal or (cap is not None and rate + rate_w > cap):
                    missed.add(qid)
                continue
            misses = level + level_w < goal or (cap is not None and rate - rate_w > cap)
            meets = level - level_w >= goal - h and (cap is None or rate + rate_w <= cap + h)
            if misses:
                missed.add(qid)
            elif not meets:
                unresolved.add(qid)
                if last and (level < goal - h / 2 or (cap is not None and rate > cap + h / 2)):
                    missed.add(qid)
        return Assessment(
            meets=not missed,
            deficits=deficits,
            service_level=levels,
            abandon_rate=rates,
            missed=frozenset(missed),
            replications=len(tallies),
            unresolved=frozenset(unresolved),
            half_width=widths,
        )


def _wrap_up(model: Model, queue: str) -> float:
    """Mean wrap-up seconds after a contact of ``queue`` (the agent's slot stays taken)."""
    timer = model.center.queues[queue].wrap_up_seconds
    spec = model.wrap_up
    if spec.mode == "sampled" and spec.mean_seconds is not None and timer > 0:
        if spec.distribution == "deterministic":
            return min(spec.mean_seconds, timer)
        return spec.mean_seconds * -math.expm1(-timer / spec.mean_seconds)  # E[min(X, timer)]
    return timer


def handle_seconds(model: Model, queue: str) -> tuple[float, float]:
    """(AHT, mean wrap-up) of ``queue``: the forecast AHT weighted by contacts over the day
    (the conversation), and the wrap-up the routing core adds after it (``_wrap_up``)."""
    fc = model.forecast
    j = fc.queues.index(queue)
    contacts = fc.contacts[:, j]
    total = float(contacts.sum())
    aht = (
        float((contacts * fc.aht[:, j]).sum() / total) if total > 0 else float(fc.aht[:, j].mean())
    )
    return aht, _wrap_up(model, queue)


@dataclass(frozen=True)
class Overload:
    """An interval whose offered load (contacts x (AHT + wrap-up), chat and e-mail divided by
    the agents' capacity) is at least the agents a group has logged in: its queues grow all
    interval long whatever the routing does."""

    interval: int
    label: str
    group: str
    erlangs: float
    agents: int


def staffed(model: Model) -> np.ndarray:
    """Agents logged in per interval and group: the staffing table, or the roster's shifts
    under way at each interval's middle."""
    fc = model.forecast
    if model.staffing is not None:
        index = [model.staffing.groups.index(g.name) for g in model.groups]
        return np.asarray(model.staffing.counts[:, index])
    out = np.zeros((fc.intervals, len(model.groups)), dtype=np.int64)
    group_of = {a: g for g, grp in enumerate(model.groups) for a in grp.agents}
    for shift in model.roster or ():
        for k in range(fc.intervals):
            middle = fc.start + (k + 0.5) * fc.interval_seconds
            if shift.start <= middle < shift.end:
                out[k, group_of[shift.agent]] += 1
    return out


def overloads(model: Model) -> list[Overload]:
    """Every (interval, group) whose offered load reaches its staffed agents."""
    fc = model.forecast
    agents = staffed(model)
    out = []
    for k in range(fc.intervals):
        for g, t in enumerate(group_traffic(model, k)):
            erlangs = t.calls * t.aht / fc.interval_seconds
            if erlangs > 0 and erlangs >= agents[k, g]:
                out.append(
                    Overload(k, fc.label(k), model.groups[g].name, erlangs, int(agents[k, g]))
                )
    return out


@dataclass(frozen=True)
class GroupTraffic:
    """A group's queues pooled into one Erlang system for one interval."""

    calls: float
    aht: float
    threshold: float
    goal: float
    patience: float | None
    abandon_cap: float | None


def group_traffic(model: Model, k: int) -> list[GroupTraffic]:
    """Pool each group's queues: calls add up; AHT (handle plus wrap-up) is call-weighted, chat
    and e-mail work divided by the group's capacity for the channel; the strictest threshold
    and goal apply; patience is call-weighted (None when a queue has none)."""
    fc = model.forecast
    goals = _goals(model)
    own = owners(model)
    out = []
    for g, group in enumerate(model.groups):
        calls = work = patience_sum = 0.0
        thresholds, targets = [], []
        patient = True
        cap: float | None = None
        first = model.center.agents[group.agents[0]] if group.agents else None
        for j, qid in enumerate(fc.queues):
            if own.get(qid) != g or fc.contacts[k, j] <= 0:
                continue
            c = float(fc.contacts[k, j])
            q = model.center.queues[qid]
            per = 1
            if first is not None and q.channel != "voice":
                per = max(1, model.center.capacity(first, q.channel))
            calls += c
            work += c * (float(fc.aht[k, j]) + _wrap_up(model, qid)) / per
            thresholds.append(_threshold(model, qid))
            goal, cap = goals[qid]
            targets.append(goal)
            mean = model.behaviour[qid].patience_mean
            if mean is None:
                patient = False
            else:
                patience_sum += c * mean
        if calls <= 0:
            out.append(GroupTraffic(0.0, 1.0, 1.0, 0.0, None, None))
            continue
        out.append(
            GroupTraffic(
                calls=calls,
                aht=work / calls,
                threshold=min(thresholds),
                goal=max(targets),
                patience=patience_sum / calls if patient else None,
                abandon_cap=cap if patient else None,
            )
        )
    return out


def erlang_required(traffic: GroupTraffic, interval_seconds: float, limit: int) -> int:
    """Erlang A (or C) minimum for a pooled group; 0 without traffic."""
    if traffic.calls <= 0:
        return 0
    try:
        result = required_agents(
            traffic.calls,
            interval_seconds,
            traffic.aht,
            traffic.threshold,
            traffic.goal * 100.0,
            patience=traffic.patience,
            max_abandon=traffic.abandon_cap,
        )
    except ValueError:
        return limit
    return min(limit, result.agents)


def erlang_seed(model: Model, k: int) -> tuple[int, ...]:
    limit = model.search.max_agents
    step = model.forecast.interval_seconds
    return tuple(erlang_required(t, step, limit) for t in group_traffic(model, k))


def _erlang_measures(
    t: GroupTraffic, agents: int, interval_seconds: float
) -> ErlangResult | ErlangLevels:
    if t.patience is None:
        return erlang_c_metrics(t.calls, interval_seconds, t.aht, t.threshold, agents)
    traffic = t.calls * t.aht / interval_seconds
    return erlang_a_levels(agents, traffic, t.aht, t.patience, t.threshold)


class AnalyticEvaluator:
    """Judges a staffing with Erlang A/C per pooled group: deterministic, for checking the
    search and for instant estimates."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.own = owners(model)

    def __call__(
        self, k: int, counts: tuple[int, ...], focus: frozenset[str] | None = None
    ) -> Assessment:
        step = self.model.forecast.interval_seconds
        deficits, sl, ab = {}, {}, {}
        traffic = group_traffic(self.model, k)
        for qid, g in self.own.items():
            t = traffic[g]
            if t.calls <= 0:
                continue
            if counts[g] <= 0:
                level, rate = 0.0, 1.0
            else:
                r = _erlang_measures(t, counts[g], step)
                level, rate = r.service_level, r.prob_abandon or 0.0
            miss = t.goal - level
            if t.abandon_cap is not None:
                miss = max(miss, rate - t.abandon_cap)
            deficits[qid], sl[qid], ab[qid] = miss, level, rate
        missed = frozenset(q for q, d in deficits.items() if d > 0)
        return Assessment(not missed, deficits, sl, ab, missed)


def calibrated(model: Model, k: int) -> Proposal:
    """Interval ``k``'s ``Proposal``: per group, Erlang (A or C, the group's queues pooled)
    with the work per contact scaled so it predicts what was just measured for the group's
    worst queue (its service level, or its abandon rate when the abandon cap is what it misses
    most), asked for the fewest agents meeting that queue's goal and cap. The scale stands for
    what the pooled model leaves out (agents shared with other groups' queues, priorities, the
    handle-time distribution); the search checks every guess by simulation."""
    traffic = group_traffic(model, k)
    own = owners(model)
    goals = _goals(model)
    step = model.forecast.interval_seconds
    limit = model.search.max_agents

    def propose(counts: Sequence[int], a: Assessment) -> list[int | None]:
        out: list[int | None] = []
        for g, t in enumerate(traffic):
            queues = [q for q in a.deficits if own.get(q, 0) == g and q in a.service_level]
            if t.calls <= 0 or counts[g] <= 0 or not queues:
                out.append(None)
                continue
            worst = max(queues, key=lambda q: a.deficits[q])
            goal, cap = goals[worst]
            local = replace(t, threshold=_threshold(model, worst), goal=goal)
            level, rate = a.service_level[worst], a.abandon_rate.get(worst)
            measured = _level_measure(level)
            patient = t.patience is not None
            # (the abandon cap, where that is what the queue misses most)
            if patient and cap is not None and rate is not None and rate - cap >= goal - level:
                local = replace(local, abandon_cap=cap)
                measured = _abandon_measure(rate)
            out.append(_calibrated(local, counts[g], measured, step, limit))
        return out

    return propose


Measure = Callable[[ErlangResult | ErlangLevels | None], float]
"""What a scaled Erlang model predicts, less what was measured: 0 at the calibrated scale;
decreasing in the scale (None: the model saturates)."""


def _level_measure(level: float) -> Measure:
    level = min(max(level, 0.02), 0.98)  # 0 % and 100 % tell no scale
    return lambda r: -level if r is None else r.service_level - level


def _abandon_measure(rate: float) -> Measure:
    rate = min(max(rate, 0.001), 0.9)  # no abandonment tells no scale
    return lambda r: rate - 1.0 if r is None else rate - (r.prob_abandon or 0.0)


def _calibrated(
    t: GroupTraffic, agents: int, measured: Measure, interval_seconds: float, limit: int
) -> int | None:
    def gap(scale: float) -> float:
        try:
            r = _erlang_measures(replace(t, aht=t.aht * scale), agents, interval_seconds)
        except ValueError:  # Erlang C past saturation
            return measured(None)
        return measured(r)

    low, high = 0.25, 4.0
    if gap(low) < 0 or gap(high) > 0:
        return None
    scale = float(scipy_optimize.brentq(gap, low, high, xtol=1e-3))
    return erlang_required(replace(t, aht=t.aht * scale), interval_seconds, limit)


# == the search ===============================================================================


Proposal = Callable[[Sequence[int], Assessment], list[int | None]]
"""(a staffing, its assessment) -> per group, the count a model calibrated on that assessment
expects to be the group's minimum (None where it cannot tell)."""


def search_interval(
    evaluate: Evaluator,
    k: int,
    start: Sequence[int],
    owner: dict[str, int],
    *,
    limits: Sequence[int],
    propose: Proposal | None = None,
) -> tuple[tuple[int, ...], Assessment, int]:
    """Fewest agents per group meeting the targets, from ``start``; returns the staffing, its
    assessment and how many staffings were evaluated.

    Every evaluation simulates the whole center, so the groups move together where they can,
    and each evaluation decides only the queues the step at hand acts on (its focus):

    1. Up: every group answering for a missing queue grows, to the count ``propose`` expects
       (a model calibrated on what was just measured) or by a step doubling while it stays a
       culprit, until all queues meet their targets.
    2. Down, jointly: each group tries the count ``propose`` expects, then gallops down and
       bisects between its largest failing and smallest meeting count, all groups in the
       same evaluation, each judged by its own queues. Groups that do not interact reach
       their minima in a few evaluations instead of a few per group. If the joint result
       misses (groups do interact: overflow, shared members), the search goes back to the
       staffing of step 1.
    3. Down, one group at a time, the others fixed, judged by that group's queues, until no
       group can lose an agent: this is what makes the answer minimal per group; after step
       2 it usually costs one evaluation per group. With one group the result is the exact
       minimum of a monotone evaluation.
    4. The answer is judged on every queue; a queue a focused step let slip grows its group
       one agent at a time until it meets again.

    Queues whose group reaches its limit still missing are out of reach: the search goes on
    for the others and returns with ``meets`` False.
    """
    cache: dict[tuple[int, ...], tuple[Assessment, frozenset[str] | None]] = {}
    out_of_reach: set[str] = set()

    def judge(counts: Sequence[int], focus: frozenset[str] | None = None) -> Assessment:
        key = tuple(counts)
        known = cache.get(key)
        if known is not None:
            assessment, covered = known
            if covered is None or (focus is not None and focus <= covered):
                return assessment
            focus = None if focus is None else focus | covered
        assessment = evaluate(k, key, focus)
        cache[key] = (assessment, focus)
        return assessment

    def misses(a: Assessment) -> list[str]:
        return [q for q in a.missed if q not in out_of_reach]

    def ok(a: Assessment) -> bool:
        return not misses(a)

    def grow(n: list[int], a: Assessment, steps: list[int]) -> bool:
        """Step 1's move; False when no group can grow for a missing queue."""
        missing = misses(a)
        for q in missing:
            if n[owner.get(q, 0)] >= limits[owner.get(q, 0)]:
                out_of_reach.add(q)
        culprits = {owner.get(q, 0) for q in missing if q not in out_of_reach}
        if not culprits:
            return False
        guess = propose(n, a) if propose is not None else [None] * len(n)
        for g in range(len(n)):
            if g in culprits:
                n[g] = min(limits[g], max(n[g] + steps[g], guess[g] or 0))
                steps[g] *= 2
            else:
                steps[g] = 1
        return True

    n = [max(0, min(limit, int(s))) for s, limit in zip(start, limits, strict=True)]
    result = judge(n)
    queues = set(owner) | set(result.deficits)
    own = [frozenset(q for q in queues if owner.get(q, 0) == g) for g in range(len(n))]
    steps = [1] * len(n)
    while misses(result) and grow(n, result, steps):
        result = judge(n)
    fixed = {owner.get(q, 0) for q in out_of_reach}

    guess = propose(n, result) if propose is not None else None
    joint = _joint_descent(judge, n, own, fixed, out_of_reach, guess)
    if ok(judge(joint)):
        n = joint

    def with_count(g: int, m: int) -> list[int]:
        trial = list(n)
        trial[g] = m
        return trial

    changed = True
    while changed:
        changed = False
        for g in range(len(n)):
            if g in fixed:
                continue
            # the largest count known to fail with the other groups as they are now
            failing = max(
                (
                    key[g]
                    for key, (a, _) in cache.items()
                    if not ok(a) and list(key) == with_count(g, key[g])
                ),
                default=-1,
            )
            good = n[g]
            step = 1
            while good - failing > 1:  # gallop down
                m = max(failing + 1, good - step)
                if ok(judge(with_count(g, m), own[g])):
                    good, step = m, step * 2
                else:
                    failing = m
                    break
            while good - failing > 1:  # bisect
                m = (good + failing) // 2
                if ok(judge(with_count(g, m), own[g])):
                    good = m
                else:
                    failing = m
            if good != n[g]:
                n = with_count(g, good)
                changed = True

    result = judge(n)
    # one agent at a time: the staffing was minimal a step ago
    while misses(result) and grow(n, result, [1] * len(n)):
        result = judge(n)
    return tuple(n), result, len(cache)


def _joint_descent(
    judge: Callable[[Sequence[int], frozenset[str] | None], Assessment],
    start: Sequence[int],
    own: Sequence[frozenset[str]],
    fixed: set[int],
    out_of_reach: set[str],
    guess: Sequence[int | None] | None,
) -> list[int]:
    """Step 2 of ``search_interval``: all groups gallop down and bisect in the same
    evaluations, each judged by the queues it answers for (``own``), the first try of each
    at its ``guess`` when that is below ``start``; a trial that makes a queue of a group that
    did not move miss counts as failing for every group it moved. Returns the smallest
    meeting count per group (``start`` for groups that answer for no judged queue)."""
    judged = {g for g, queues in enumerate(own) for q in judge(start, None).deficits if q in queues}
    active = [g for g in range(len(start)) if g in judged and g not in fixed]
    good, failing = list(start), [-1] * len(start)
    step = [1] * len(start)
    galloping = [True] * len(start)
    guessed = [
        g in active and guess is not None and (guess[g] or good[g]) < good[g]
        for g in range(len(start))
    ]
    while True:
        trial = list(good)
        moved = [g for g in active if good[g] - failing[g] > 1]
        if not moved:
            return good
        for g in moved:
            if guessed[g]:
                assert guess is not None
                trial[g] = max(failing[g] + 1, guess[g] or 0)
            elif galloping[g]:
                trial[g] = max(failing[g] + 1, good[g] - step[g])
            else:
                trial[g] = (good[g] + failing[g]) // 2
        focus = frozenset(q for g in moved for q in own[g] if q not in out_of_reach)
        a = judge(trial, focus)
        # A queue of a group that did not move now misses: the moves reached it through the
        # groups' interaction (shared agents), so no move of this trial is trusted.
        spilled = any(q not in focus and q not in out_of_reach for q in a.missed)
        for g in moved:
            if not spilled and not any(q in own[g] and q not in out_of_reach for q in a.missed):
                good[g] = trial[g]
                if not guessed[g]:
                    step[g] *= 2
            else:
                failing[g] = trial[g]
                galloping[g] = False
            guessed[g] = False


DAY_RUNS = 12
"""Whole-day runs of ``refine_day`` at most: the example day met every interval after 10."""

MIN_GROWTH = 0.02
"""Whole-day refinement grows a group missing its targets by at least this share per run."""


def assess_day(model: Model, summary: Summary) -> list[Assessment]:
    """Per interval of a whole-day run: does every queue meet its targets (scenario decision)?

    Whole-day runs have no sequential test: ``ci`` and ``sequential`` judge by the bounds at
    the scenario's confidence, ``sequential`` with its indifference zone as the interval search
    has it (a lower bound within ``search.tolerance_percent`` of the goal, an upper bound within
    it of the cap, passes), ``mean`` by the estimates. A deficit is how far the bound misses."""
    goals = _goals(model)
    ci = model.targets.decision != "mean"  # (whole-day runs: the bounds, as "ci")
    h = model.search.tolerance_percent / 100.0 if model.targets.decision == "sequential" else 0.0
    name = "sl_offered" if model.targets.sl_definition == "offered" else "sl_excl_short"
    sl_est, ab_est = summary.by_interval[name], summary.by_interval["abandon_rate"]
    offered = summary.by_interval["offered"].mean
    out = []
    for k in range(model.forecast.intervals):
        sl, ab, deficits = {}, {}, {}
        for j, qid in enumerate(summary.queues):
            if not offered[k, j] > 0:
                continue
            goal, cap = goals[qid]
            level = float(sl_est.low[k, j] if ci else sl_est.mean[k, j])
            rate = float(ab_est.high[k, j] if ci else ab_est.mean[k, j])
            level = float(sl_est.mean[k, j]) if math.isnan(level) else level
            rate = float(ab_est.mean[k, j]) if math.isnan(rate) else rate
            miss = goal - h - level
            if cap is not None:
                miss = max(miss, rate - cap - h)
            sl[qid], ab[qid], deficits[qid] = level, rate, miss
        missed = frozenset(q for q, d in deficits.items() if d > 0)
        out.append(Assessment(not missed, deficits, sl, ab, missed))
    return out


def refine_day(
    model: Model,
    runner: Runner,
    *,
    start: Staffing | None = None,
    iterations: int = DAY_RUNS,
    progress: Progress | None = None,
) -> StaffingPlan:
    """A feasible staffing table from whole-day runs, cheap enough for big multi-group centers.

    From the Erlang table (or ``start``), simulate the whole day (``search.replications``
    replications, so backlogs carry over between intervals as they would; ``assess_day``
    judges them) and, in every interval where a queue misses its targets, grow the group
    answering for it to the count ``calibrated`` proposes, or by ``ceil(max(deficit, 2%) x
    agents)`` (at least one) when that is more; repeat until every interval meets its targets
    or ``iterations`` runs are done. Each interval reports the last run's staffing and what
    that run measured (not the growth it then proposed, which no run simulated). Upward only:
    the result carries the day but is not proven minimal (``plan_staffing`` is the
    per-interval minimum).
    """
    fc = model.forecast
    own = owners(model)
    groups = tuple(g.name for g in model.groups)
    limits = np.array([len(g.agents) for g in model.groups])
    erlang = plan_staffing(model, analytic=True)  # the start, unless given; every plan's column
    if start is None:
        start = erlang.staffing(fc)
    counts = np.minimum(start.counts.copy(), limits)
    seed_list = seeds(model.seed, model.search.replications, key=(1 << 20,))
    assessments: list[Assessment] = []
    simulated = counts.copy()  # the staffing ``assessments`` were measured on
    for done in range(1, iterations + 1):
        simulated = counts.copy()
        day = model.with_staffing(Staffing(groups, simulated))
        summary = summary_of(day, runner.run(day, seed_list))
        assessments = assess_day(day, summary)
        if progress is not None:
            progress(done, iterations)
        grown = False
        for k, a in enumerate(assessments):
            worst: dict[int, float] = {}  # group -> its queues' largest miss
            for q, miss in a.deficits.items():
                g = own.get(q, 0)
                worst[g] = max(miss, worst.get(g, -math.inf))
            short = [g for g, miss in worst.items() if miss > 0 and counts[k, g] < limits[g]]
            if not short:
                continue
            guess = calibrated(model, k)([int(n) for n in counts[k]], a)
            for g in short:
                add = max(1, math.ceil(max(worst[g], MIN_GROWTH) * counts[k, g]))
                counts[k, g] = min(limits[g], max(counts[k, g] + add, guess[g] or 0))
                grown = True
        if not grown:
            break
    plans = []
    for k, a in enumerate(assessments):
        required = tuple(int(x) for x in simulated[k])
        plans.append(
            IntervalPlan(
                k,
                fc.label(k),
                erlang.intervals[k].erlang,
                required,
                tuple(scheduled_agents(r, model.shrinkage) for r in required),
                a,
                done,
            )
        )
    return StaffingPlan(groups, tuple(plans), model.shrinkage)


def plan_staffing(
    model: Model,
    *,
    runner: Runner | None = None,
    analytic: bool = False,
    intervals: Sequence[int] | None = None,
    progress: Progress | None = None,
    replications: Progress | None = None,
    evaluations: EvaluationLog | None = None,
) -> StaffingPlan:
    """Required and scheduled agents per interval and group (see the module docstring).

    ``progress`` hears of every interval planned; ``replications`` and ``evaluations`` of every
    replication and every judged staffing of the simulation search, as they finish."""
    if not model.groups:
        raise ValueError("the scenario has no agent groups")
    own = owners(model)
    chosen = list(range(model.forecast.intervals)) if intervals is None else list(intervals)
    evaluator: Evaluator
    if analytic:
        evaluator = AnalyticEvaluator(model)
    else:
        if runner is None:
            raise ValueError("simulation search needs a Runner")
        evaluator = SimulationEvaluator(
            model, runner, replications=replications, evaluations=evaluations
        )
    limits = [min(model.search.max_agents, len(g.agents)) for g in model.groups]
    out = []
    for done, k in enumerate(chosen, start=1):
        seen: dict[tuple[int, ...], Assessment] = {}

        def judge(
            k: int,
            counts: tuple[int, ...],
            focus: frozenset[str] | None = None,
            seen: dict[tuple[int, ...], Assessment] = seen,
        ) -> Assessment:
            seen[counts] = evaluator(k, counts, focus)
            return seen[counts]

        seed = erlang_seed(model, k)
        required, assessment, evaluated = search_interval(
            judge, k, seed, own, limits=limits, propose=None if analytic else calibrated(model, k)
        )
        below = tuple(
            seen.get(tuple(n - 1 if i == g else m for i, m in enumerate(required)))
            for g, n in enumerate(required)
        )
        scheduled = tuple(scheduled_agents(r, model.shrinkage) for r in required)
        out.append(
            IntervalPlan(
                k,
                model.forecast.label(k),
                seed,
                required,
                scheduled,
                assessment,
                evaluated,
                below,
            )
        )
        if progress is not None:
            progress(done, len(chosen))
    return StaffingPlan(tuple(g.name for g in model.groups), tuple(out), model.shrinkage)
