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
  (``wrap_up: {mode: sampled}``), else the queue's timer, as the scenario says.

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from contactcenter.config import Center, ConfigError, ConfigIssue, load_center
from contactcenter.events import CallbackOffered, Event
from contactcenter.kpi import QueueTally
from sim.driver import Driver, Process, thresholds
from sim.patience import PatienceCurve, kaplan_meier
from sim.recording import RecordedContact, Recording
from sim.replications import seeds
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

Progress = Callable[[int, int], None]


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
            mine = [c for c in recording.contacts if c.queue == q]
            curve = kaplan_meier([c.wait for c in mine], [c.abandoned for c in mine])
            if curve is not None:
                patience[q] = curve
        everyone = recording.talk_times()
        talks = {q: recording.talk_times(q) for q in queues}
        return cls(recording, patience, {q: t if t.size else everyone for q, t in talks.items()})


def _plan(day: ReplayDay, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """Talk time and patience per contact: recorded where the record has them, else drawn
    (per queue, in arrival order, from ``rng``)."""
    contacts = day.recording.contacts
    handle = np.array([c.talk if c.talk is not None else math.nan for c in contacts])
    patience = np.array([c.wait if c.abandoned else math.nan for c in contacts])
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
        patience[censored] = day.patience[q].sample_beyond(rng, waits[censored])
    return handle.tolist(), patience.tolist()


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
        self._talk, self._patience_of = _plan(day, arrivals)
        self._recorded: dict[str, RecordedContact] = {}
        """The contacts replayed so far by id (their call back choice, their wrap-up)."""
        self._actions[CallbackOffered] = self._callback_offered

    def _arrivals(self) -> Process:
        env = self.env
        default = self.model.center.settings.default_tier
        plan = zip(self._day.recording.contacts, self._talk, self._patience_of, strict=True)
        for c, talk, patience in plan:
            yield env.timeout(c.arrived - env.now)
            self._arrive(c.queue, c.tier or default, talk, patience)
            self._recorded[str(self._next_id)] = c
        self._arriving = False
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
            self._input(self.router.wrap_up_done(self.env.now, cid, "done"))


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
    workers: int = 1,
    progress: Progress | None = None,
) -> list[Tallies]:
    """``replications`` replays (seeded as ``run``'s replications), in ``workers`` processes."""
    seed_list = seeds(seed, replications)
    one = partial(replay_once, model, day)
    out: list[Tallies] = []
    if workers <= 1 or replications <= 1:
        for s in seed_list:
            out.append(one(s))
            if progress is not None:
                progress(len(out), replications)
        return out
    with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
        for tallies in pool.map(one, seed_list):
            out.append(tallies)
            if progress is not None:
                progress(len(out), replications)
    return out


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
        for queue in {c.queue, c.counted_in}:
            if queue not in center.queues:
                unknown[("queue", queue)] = unknown.get(("queue", queue), 0) + 1
        if c.tier is not None and c.tier not in center.tiers:
            unknown[("tier", c.tier)] = unknown.get(("tier", c.tier), 0) + 1
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
