"""Replay a recorded day through the production routing core, under its own or another staffing.

The planner's driver (``sim.driver.Driver``) runs the day, with its arrival process replaced:
the recorded contacts arrive exactly when they did, in the queue and tier they did, and each
brings what the record says about its customer:

* **answered**: its recorded talk time; a patience drawn from its queue's Kaplan-Meier curve
  (``sim.patience``) *beyond its recorded wait* (it was answered, so it would have waited at
  least that long);
* **abandoned**: its recorded wait as its patience, exactly; a talk time drawn from its queue's
  recorded ones, for a what-if that answers it sooner;
* **removed**, **unfinished**, **callback**: a patience beyond its wait and a drawn talk time;
  one that took a call back takes it again when the core offers one (the recorded decision);
* **wrap-up**: the recorded one when the scenario has agents end wrap-up
  (``wrap_up: {mode: sampled}``), else the queue's timer, as the scenario says;
* **transfers**: at the end of a segment's talk the agent hands the contact on as recorded
  (``Transfer``): to a queue, to an agent (to that agent's queue when a what-if has the agent
  not ready then), or out of routing; the next segment talks its recorded time;
* **call backs**: a call back's own contact enters its queue when it did, with the
  customer's original arrival (place and answer clock) and nobody on the line (patient, as
  live); an attempt that did not reach the customer is a hand-off out of routing, queued
  again after the recorded delay; one cancelled while queued is cancelled at its time;
* **dedicated agents**: the recorded customer's dedicated agent is the contact's preferred
  agent, as the live core makes it.

Retrials are arrivals of the record: the replay makes none of its own. Under the recorded
staffing the core then takes exactly the recorded day's decisions, so a simulated day replays
to its own KPIs (``tests/sim/test_replay.py``). Under another staffing or config only the
draws differ between replications, which all meet the same customers.

The window is the scenario's forecast's (its intervals and staffing table), or else the
recorded day's: from the interval of the first arrival to that of the last. Contacts outside
the window are left out and counted.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import simpy

from contactcenter.config import Center, ConfigError, ConfigIssue, load_center
from contactcenter.events import (
    CallbackOffered,
    ContactAbandoned,
    ContactAnswered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    WrapUpEnded,
)
from contactcenter.kpi import QueueTally
from sim.driver import Driver, Process, thresholds
from sim.patience import PatienceCurve, kaplan_meier
from sim.recording import RecordedContact, Recording, Transfer
from sim.replications import Progress, Runner, seeds
from sim.scenario import (
    Forecast,
    Model,
    ScenarioError,
    ScenarioSpec,
    Shift,
    load_forecast,
    load_roster,
    load_staffing,
    read_spec,
    resolve,
)
from sim.statistics import Tallies


@dataclass(frozen=True)
class ReplayDay:
    """A recording and what the replay estimates from it, per queue of arrival: the patience
    curve and the talk times draws come from (picklable: it goes to worker processes)."""

    recording: Recording
    patience: Mapping[str, PatienceCurve]
    talks: Mapping[str, np.ndarray]
    """Recorded talk seconds per queue; a queue without any borrows the whole day's."""

    @classmethod
    def of(cls, recording: Recording) -> ReplayDay:
        queues = sorted({c.queue for c in recording.contacts})
        patience = {}
        for q in queues:
            # (a call back's contact has nobody on the line: it shows no patience)
            mine = [c for c in recording.contacts if c.queue == q and not c.is_callback]
            if not mine:
                continue
            curve = kaplan_meier([c.wait for c in mine], [c.abandoned for c in mine])
            if curve is not None:
                patience[q] = curve
        everyone = recording.talk_times()
        talks = {q: recording.talk_times(q) for q in queues}
        return cls(recording, patience, {q: t if t.size else everyone for q, t in talks.items()})


def _plan(
    day: ReplayDay, rng: np.random.Generator
) -> tuple[list[float], list[float], list[tuple[float, ...]]]:
    """Talk time and patience per contact, and the talk of each segment after a transfer:
    recorded where the record has them, else drawn (per queue, in arrival order, from
    ``rng``). A call back's contact waits until it is answered or cancelled at its time."""
    contacts = day.recording.contacts
    handle = np.array([c.talk if c.talk is not None else math.nan for c in contacts])
    patience = np.array(
        [
            (c.arrived + c.wait - c.entered if c.outcome == "removed" else math.inf)
            if c.is_callback
            else (c.wait if c.abandoned else math.nan)
            for c in contacts
        ]
    )
    waits = np.array([c.wait for c in contacts])
    queues = np.array([c.queue for c in contacts])
    for q in sorted(set(queues.tolist())):
        mine = queues == q
        talk_unknown = mine & np.isnan(handle)
        if talk_unknown.any():
            talks = day.talks[q]
            if not talks.size:
                raise ValueError(
                    f"{day.recording.source}: no answered contact has a talk time, so those "
                    "of the others cannot be drawn"
                )
            handle[talk_unknown] = rng.choice(talks, int(talk_unknown.sum()))
        censored = mine & np.isnan(patience)
        if censored.any():
            patience[censored] = day.patience[q].sample_beyond(rng, waits[censored])
    everyone = day.recording.talk_times()
    later = [
        tuple(
            t.talk
            if t.talk is not None
            else float(rng.choice(day.talks.get(t.queue or c.counted_in, everyone)))
            for t in c.transfers
        )
        for c in contacts
    ]
    return handle.tolist(), patience.tolist(), later


_Segmented = (
    ContactQueued | ContactTransferred | ContactAnswered | ContactAbandoned | ContactRemoved
)


def _first_segment(handler: Callable[[Event], None], e: _Segmented) -> None:
    if e.segment == 1:
        handler(e)


class ReplayDriver(Driver):
    """The planner's driver with the recorded arrivals in place of drawn ones."""

    def __init__(
        self,
        model: Model,
        day: ReplayDay,
        arrivals: np.random.Generator,
        rng: np.random.Generator,
        *,
        trace: Callable[[list[Event]], None] | None = None,
    ) -> None:
        super().__init__(model, arrivals, rng, trace=trace)
        self._day = day
        self._talk, self._patience_of, self._later = _plan(day, arrivals)
        self._recorded: dict[str, RecordedContact] = {}
        """The contacts replayed so far by id (their call back choice, their wrap-up)."""
        self._entering: RecordedContact | None = None
        self._hand_offs: dict[str, deque[tuple[Transfer, float]]] = {}
        """Per contact: the hand-offs still to come, each with the next segment's talk."""
        self._segment_wraps: set[tuple[str, str]] = set()
        """(contact, agent) of the wrap-ups of handed-off segments going on."""
        self._out_for_good: set[str] = set()
        """Contacts handed out of routing that do not come back (the last call back attempt)."""
        self._actions[CallbackOffered] = self._callback_offered
        if any(c.transfers for c in day.recording.contacts):
            # The planner's statistics count a contact once, by its first segment (as
            # ``contactcenter.kpi`` does): later segments are not offered or answered again.
            self._observe = dict(self._observe)
            for kind in (ContactQueued, ContactTransferred, ContactAnswered, ContactAbandoned,
                         ContactRemoved):  # fmt: skip
                handler = self._observe.get(kind)
                if handler is not None:
                    self._observe[kind] = partial(_first_segment, handler)

    def _arrivals(self) -> Process:
        env = self.env
        default = self.model.center.settings.default_tier
        contacts = self._day.recording.contacts
        for i in sorted(range(len(contacts)), key=lambda i: (contacts[i].entered, i)):
            c = contacts[i]
            yield env.timeout(c.entered - env.now)
            self._entering = c
            self._arrive(env.now, c.queue, c.tier or default, self._talk[i], self._patience_of[i])
            self.collector.work_offered(c.queue, c.entered, self._talk[i])
            cid = str(self._next_id)
            self._recorded[cid] = c
            if c.transfers:
                self._hand_offs[cid] = deque(zip(c.transfers, self._later[i], strict=True))
        self._entering = None
        self._arriving = False
        self._check_done()

    def _enter(self, now: float, cid: str, queue: str, tier: str) -> list[Event]:
        c = self._entering
        if c is None or (c.dedicated_agent is None and not c.is_callback):
            return super()._enter(now, cid, queue, tier)
        return self.router.contact_arrived(
            now,
            cid,
            queue,
            tier=tier,
            preferred_agent=c.dedicated_agent,
            arrived_at=c.arrived if c.is_callback else None,
            patient=c.is_callback,
        )

    def _patience(self, timeout: simpy.Event) -> None:
        cid = str(timeout.value)
        c = self._recorded.get(cid)
        if c is None or not c.is_callback:
            super()._patience(timeout)
        elif cid in self._waiting:  # a call back cancelled while queued
            now = self.env.now
            self._input(self.router.contact_cancelled(now, cid), now)

    def _serve(self, timeout: simpy.Event) -> None:
        cid = str(timeout.value)
        todo = self._hand_offs.get(cid)
        if not todo:
            super()._serve(timeout)
            return
        t, talk = todo.popleft()
        now, router = self.env.now, self.router
        view = router.contact(cid)
        assert view.agent is not None
        self._handle[cid] = talk
        self._segment_wraps.add((cid, view.agent))
        if t.queue is not None or t.agent is not None:
            self._input(self._hand_on(now, cid, t), now)
        else:  # out of routing: a call back's attempt that did not reach the customer
            self._input(router.hand_off(now, cid), now)
            if t.back is None:
                self._out_for_good.add(cid)
            else:
                self.env.process(self._again(cid, view.queue, view.tier, view.segment + 1, t.back))
        if t.wrap_up is not None and self.model.wrap_up.mode == "sampled":
            self.env.process(self._segment_wrap(cid, view.agent, t.wrap_up))

    def _hand_on(self, now: float, cid: str, t: Transfer) -> list[Event]:
        """The recorded transfer; one to an agent who cannot take it now (a what-if) goes to
        the queue, where that agent's queue would have put it had it not answered."""
        router = self.router
        view = router.contact(cid)
        if t.agent is not None:
            agent = router.agent(t.agent)
            if agent.can_take(view.channel) and cid not in agent.slots:
                return router.hand_off(now, cid, to_queue=t.queue, to_agent=t.agent)
        return router.hand_off(now, cid, to_queue=t.queue or view.queue)

    def _again(self, cid: str, queue: str, tier: str, segment: int, delay: float) -> Process:
        """A call back's next attempt queues ``delay`` after the last one ended."""
        yield self.env.timeout(delay)
        c = self._recorded[cid]
        now = self.env.now
        self._input(
            self.router.contact_arrived(
                now, cid, queue, tier=tier, preferred_agent=c.dedicated_agent,
                arrived_at=c.arrived, segment=segment, patient=True,
            ),
            now,
        )  # fmt: skip

    def _segment_wrap(self, cid: str, agent: str, seconds: float) -> Process:
        yield self.env.timeout(seconds)
        if (cid, agent) in self._segment_wraps:  # (void when the queue's timer just ended it)
            now = self.env.now
            self._input(self.router.wrap_up_done(now, cid, "done", agent), now)

    def _wrapped(self, e: WrapUpEnded) -> None:
        key = (e.contact_id, e.agent_id)
        if key not in self._segment_wraps:
            super()._wrapped(e)
            return
        self._segment_wraps.discard(key)
        if e.contact_id in self._out_for_good:
            self._out_for_good.discard(e.contact_id)
            self._in_system -= 1
        if e.agent_id in self._leaving:
            self._maybe_leave(e.agent_id)
        self._check_done()

    def _callback_offered(self, e: CallbackOffered) -> None:
        c = self._recorded.get(e.contact_id)
        if c is not None and c.outcome == "callback" and e.contact_id in self._waiting:
            self._callbacks.append(e.contact_id)

    def _wrap(self, cid: str) -> Process:
        c = self._recorded.get(cid)
        if c is None or c.wrap_up is None:
            yield from super()._wrap(cid)
            return
        yield self.env.timeout(c.wrap_up)
        if cid in self._in_wrap:
            # (a wrap-up the queue's timer ended is recorded as long as the timer: the core
            # ends it first and this input is void)
            now = self.env.now
            self._input(self.router.wrap_up_done(now, cid, "done"), now)


def replay_once(
    model: Model,
    day: ReplayDay,
    seed: np.random.SeedSequence,
    *,
    trace: Callable[[list[Event]], None] | None = None,
) -> Tallies:
    """One replay: a pure function of ``model``, ``day`` and ``seed``. ``trace`` receives
    every event list the router returns (as ``simulate``'s)."""
    arrivals, reactions = (np.random.default_rng(s) for s in seed.spawn(2))
    return ReplayDriver(model, day, arrivals, reactions, trace=trace).run()


def replay(
    model: Model,
    day: ReplayDay,
    *,
    replications: int,
    seed: int,
    runner: Runner,
    progress: Progress | None = None,
) -> list[Tallies]:
    """``replications`` replays (seeded as ``run``'s replications), on ``runner``."""
    return runner.map(
        partial(replay_once, model, day), seeds(seed, replications), progress=progress
    )


# == the model ==============================================================================


@dataclass(frozen=True)
class Replay:
    """What ``replay_setup`` built: the model to run, the day in its window, and what was left
    out of it."""

    model: Model
    day: ReplayDay
    outside: int
    """Recorded contacts outside the window."""
    staffing: str
    """Where the staffing comes from (for the report)."""


def replay_setup(
    scenario: Path,
    recording: Recording,
    *,
    staffing: Path | None = None,
    roster: Path | None = None,
    logins: Sequence[Shift] | None = None,
) -> Replay:
    """The model that replays ``recording`` under ``scenario``'s center and settings.

    Staffing, first found: ``staffing`` (a table) or ``roster`` (a what-if), the scenario's
    own, the recorded ``logins`` (from the store). Raises ``ScenarioError`` (file, field,
    reason) when the scenario, a file, or the staffing does not fit.
    """
    spec = read_spec(scenario)
    base = scenario.parent
    try:
        center = load_center(base / spec.center)
    except ConfigError as err:
        raise ScenarioError(err.issues) from None
    _check_names(recording, center, scenario)
    forecast = _window(spec, base, center, recording)
    inside = recording.within(forecast.start, forecast.end)
    if not inside.contacts:
        raise ScenarioError(
            [_issue(recording.source, "", f"no contact within the scenario's {_span(forecast)}")]
        )
    forecast = _recorded_forecast(forecast, inside)
    overridden = staffing is not None or roster is not None
    if overridden:
        spec = spec.model_copy(update={"staffing": None, "roster": None})
    model = resolve(spec, center, forecast, base=base, source=scenario.name)
    _check_agents(inside, model.center, scenario)
    names = [g.name for g in model.groups]
    if staffing is not None:
        model = model.with_staffing(load_staffing(staffing, forecast, names))
        source = staffing.name
    elif roster is not None:
        model = replace(model, staffing=None, roster=load_roster(roster, model.groups))
        source = roster.name
    elif model.staffing is not None or model.roster is not None:
        source = f"{spec.staffing or spec.roster} (the scenario's)"
    elif logins:
        known = {a for g in model.groups for a in g.agents}
        model = replace(model, roster=tuple(s for s in logins if s.agent in known))
        source = "the agents' logins recorded in the store"
    else:
        raise ScenarioError(
            [_issue(scenario.name, "staffing", "no staffing table, roster or recorded logins")]
        )
    behaviour = {q: replace(b, retrial_probability=0.0) for q, b in model.behaviour.items()}
    model = replace(model, behaviour=behaviour)
    outside = len(recording.contacts) - len(inside.contacts)
    return Replay(model, ReplayDay.of(inside), outside, source)


def _check_names(recording: Recording, center: Center, scenario: Path) -> None:
    """Every queue and tier of the recording is one of the scenario's center (a store or a
    log of another center names others): each unknown name once, with how often it occurs."""
    unknown: dict[tuple[str, str], int] = {}
    for c in recording.contacts:
        queues = {c.queue, c.counted_in} | {t.queue for t in c.transfers if t.queue}
        for queue in queues:
            if queue not in center.queues:
                unknown[("queue", queue)] = unknown.get(("queue", queue), 0) + 1
        if c.tier is not None and c.tier not in center.tiers:
            unknown[("tier", c.tier)] = unknown.get(("tier", c.tier), 0) + 1
    _refuse(unknown, recording, scenario)


def _check_agents(recording: Recording, center: Center, scenario: Path) -> None:
    """Every dedicated agent and transfer target of the recording is an agent of the model."""
    unknown: dict[tuple[str, str], int] = {}
    for c in recording.contacts:
        for agent in {c.dedicated_agent} | {t.agent for t in c.transfers}:
            if agent is not None and agent not in center.agents:
                unknown[("agent", agent)] = unknown.get(("agent", agent), 0) + 1
    _refuse(unknown, recording, scenario)


def _refuse(unknown: dict[tuple[str, str], int], recording: Recording, scenario: Path) -> None:
    if unknown:
        raise ScenarioError(
            [
                _issue(
                    recording.source,
                    kind,
                    f"{kind} {name!r} ({n} contacts) is not in the center of {scenario.name}",
                )
                for (kind, name), n in unknown.items()
            ]
        )


def _issue(file: str, field: str, message: str) -> ConfigIssue:
    return ConfigIssue(file, field, message)


def _span(fc: Forecast) -> str:
    return f"window {fc.label(0)}-{fc.label(fc.intervals)}"


def _window(spec: ScenarioSpec, base: Path, center: Center, recording: Recording) -> Forecast:
    """The scenario forecast's intervals, or those the recording spans."""
    if spec.forecast is not None:
        return load_forecast(base / spec.forecast, center, spec.interval_minutes)
    step = (spec.interval_minutes or 30) * 60.0
    first = recording.contacts[0].arrived
    last = recording.contacts[-1].arrived
    start = math.floor(first / step) * step
    intervals = int((last - start) // step) + 1
    queues = tuple(center.queues)
    empty = np.zeros((intervals, len(queues)))
    return Forecast(start, step, queues, empty, empty)


def _recorded_forecast(window: Forecast, recording: Recording) -> Forecast:
    """``window`` with the recorded arrivals per interval and queue and the mean recorded
    talk as AHT (a cell without answered contacts: the queue's, else the day's mean)."""
    index = {q: j for j, q in enumerate(window.queues)}
    k_count = window.intervals
    contacts = np.zeros((k_count, len(index)))
    talk_sum = np.zeros_like(contacts)
    talk_n = np.zeros_like(contacts)
    for c in recording.contacts:
        k = min(int((c.arrived - window.start) // window.interval_seconds), k_count - 1)
        j = index[c.queue]
        contacts[k, j] += 1
        if c.talk is not None:
            talk_sum[k, j] += c.talk
            talk_n[k, j] += 1
    everyone = talk_sum.sum() / talk_n.sum() if talk_n.sum() else 300.0
    per_queue = np.where(
        talk_n.sum(axis=0) > 0, talk_sum.sum(axis=0) / np.maximum(talk_n.sum(axis=0), 1), everyone
    )
    aht = np.where(talk_n > 0, talk_sum / np.maximum(talk_n, 1), per_queue)
    return replace(window, contacts=contacts, aht=np.maximum(aht, 1e-9))


def recorded_tallies(replay: Replay) -> dict[str, QueueTally]:
    """The recorded KPIs per queue, with the model's thresholds."""
    model = replay.model
    limits = dict(zip(model.center.queues, thresholds(model), strict=True))
    short = model.center.settings.routing.short_abandon_seconds
    return replay.day.recording.tallies(limits, short)
