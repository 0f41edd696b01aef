"""Planning scenarios: a YAML file of assumptions plus CSV forecast, staffing and roster files.

Vocabulary (one meaning each, on top of ``contactcenter.config.models``):

* **interval**: a 15- or 30-minute slice of the day; forecasts, staffing and every reported
  figure are per interval. Contacts count in the interval they *arrive* in.
* **forecast**: contacts offered and average handle time (AHT) per interval and queue.
* **agent group**: a named set of agents of the center that is staffed as one (``all``, a list
  of ids, or ``count`` clones of a ``template`` agent: planning centers are bigger than the
  example config, so a scenario may multiply an agent).
* **net agents**: agents logged in and taking contacts. **scheduled agents**: net agents
  before shrinkage (breaks, meetings, absence); ``scheduled = ceil(net / (1 - shrinkage))``.
* **staffing table**: net (or scheduled) agents per interval and group. **roster**: shifts
  (agent or group, start, end).
* **trunk lines**: the phone lines into the center; a voice call holds one while it waits,
  rings or talks (not in wrap-up). A call that finds every line taken gets a busy signal:
  it is **blocked**, never offered to the routing core.
* **patience**: how long a waiting customer stays before abandoning; **retrial**: an
  abandoning (or blocked) customer who calls again later, a new contact of the same customer;
  **attempts**: the calls a customer makes, the first one included; **callback
  acceptance**: the share of customers offered a callback while waiting who take it (they
  leave the queue, counted as callbacks).

Every file is validated once here (pydantic for the YAML, row by row for the CSVs); bad input
raises ``ScenarioError`` naming the file, the field and, for CSVs, the line. The rest of the
planner receives the resolved, typed ``Model``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contactcenter.config import (
    AgentConfig,
    Center,
    ConfigError,
    ConfigIssue,
    build_center,
    load_center,
)
from contactcenter.config.loader import key_path
from sim.patience import PatienceCurve, load_curve


class ScenarioError(ConfigError):
    """Every problem found in a scenario (file, field, line, reason), reported at once."""


# == the YAML file ===========================================================================


class _Spec(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HandleTime(_Spec):
    """Handle-time distribution; its mean is the forecast AHT of the contact's interval.

    ``empirical`` resamples the seconds in ``file`` (one number per line, or a CSV whose first
    column holds them) rescaled to the forecast AHT, so the file gives the shape only.
    """

    distribution: Literal["exponential", "lognormal", "empirical", "deterministic"] = "exponential"
    cv: float | None = Field(default=None, gt=0, le=20)
    file: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> HandleTime:
        if self.distribution == "lognormal" and self.cv is None:
            raise ValueError("lognormal needs cv (coefficient of variation)")
        if self.distribution == "empirical" and not self.file:
            raise ValueError("empirical needs file (CSV of handle seconds)")
        return self


class Patience(_Spec):
    """How long a waiting customer stays; ``none``: nobody abandons. ``empirical``: the
    survival curve in ``file`` (``seconds,survival``, as ``contactcenter-sim replay --fit``
    estimates it from a recorded day: ``sim.patience``), beyond its last point an exponential
    tail of mean ``tail_mean_seconds`` (none: the rest never abandon)."""

    distribution: Literal["exponential", "empirical", "none"] = "none"
    mean_seconds: float | None = Field(default=None, gt=0)
    file: str | None = None
    tail_mean_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Patience:
        if self.distribution == "exponential" and self.mean_seconds is None:
            raise ValueError("exponential patience needs mean_seconds")
        if self.distribution == "empirical" and not self.file:
            raise ValueError("empirical patience needs file (CSV seconds,survival)")
        return self


class WrapUp(_Spec):
    """``timer``: the queue's ``wrap_up_seconds`` timer in the routing core ends wrap-up, as in
    production when agents send no disposition (a queue that names none gets the config's
    default, 30 s, on top of the forecast AHT). ``sampled``: the agent sends a disposition
    after a sampled time (the core's timer still caps it). ``none``: no wrap-up at all (every
    queue's ``wrap_up_seconds`` taken as 0), so the forecast AHT is the whole handle time: how
    a case meant as Erlang C is written."""

    mode: Literal["timer", "sampled", "none"] = "timer"
    distribution: Literal["exponential", "deterministic"] = "exponential"
    mean_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> WrapUp:
        if self.mode == "sampled" and self.mean_seconds is None:
            raise ValueError("sampled wrap-up needs mean_seconds")
        return self


class Delay(_Spec):
    """How long after abandoning (or a busy signal) a customer calls again: ``mean_seconds``,
    and for ``lognormal`` and ``gamma`` the coefficient of variation ``cv`` (an exponential's
    is 1, a deterministic delay's 0)."""

    distribution: Literal["exponential", "deterministic", "lognormal", "gamma"] = "exponential"
    mean_seconds: float = Field(gt=0)
    cv: float | None = Field(default=None, gt=0, le=20)

    @model_validator(mode="after")
    def _needs(self) -> Delay:
        if self.distribution in ("lognormal", "gamma") and self.cv is None:
            raise ValueError(f"{self.distribution} needs cv (coefficient of variation)")
        return self


class Retrials(_Spec):
    """An abandoning (or blocked) customer calls again with ``probability`` after ``delay``
    (or the older ``mean_delay_seconds``: an exponential delay of that mean; default 300 s).
    A customer who has called ``max_attempts`` times in all gives up for good (none: no
    limit). A retrial that would come after the day's last interval is not made."""

    probability: float = Field(default=0.0, ge=0, le=1)
    delay: Delay | None = None
    mean_delay_seconds: float | None = Field(default=None, gt=0)
    max_attempts: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _one_delay(self) -> Retrials:
        if self.delay is not None and self.mean_delay_seconds is not None:
            raise ValueError("give either delay or mean_delay_seconds, not both")
        return self

    def delay_spec(self) -> Delay:
        """The delay, whichever way it was written."""
        if self.delay is not None:
            return self.delay
        return Delay(mean_seconds=self.mean_delay_seconds or 300.0)


class Callbacks(_Spec):
    """A waiting customer offered a callback (an escalation step with ``offer_callback``)
    takes it with ``accept_probability`` and leaves the queue to be called back."""

    accept_probability: float = Field(default=0.0, ge=0, le=1)


class TrunkGroup(_Spec):
    """Voice queues with ``lines`` of their own (instead of the scenario's ``trunk_lines``)."""

    lines: int = Field(ge=1, le=1_000_000)
    queues: list[str] = Field(min_length=1)


class QueueOverrides(_Spec):
    handle_time: HandleTime | None = None
    patience: Patience | None = None
    tiers: dict[str, float] | None = None
    retrials: Retrials | None = None
    callbacks: Callbacks | None = None


class AgentGroupSpec(_Spec):
    """``agents``: ids from the center (or ``all``); or ``count`` clones of ``template``.

    ``queues`` names the queues the group answers for in the staffing search (default: the
    queues most of its agents are tier-1 members of). ``queue_rank`` gives every agent of the
    group this strict queue priority (queue -> rank, 1 first: the agents' ``queue_rank``,
    Amazon Connect's routing-profile priority) instead of the center's.
    """

    agents: list[str] | Literal["all"] | None = None
    template: str | None = None
    count: int | None = Field(default=None, ge=1, le=100_000)
    queues: list[str] | None = None
    queue_rank: dict[str, Annotated[int, Field(ge=1, le=99)]] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AgentGroupSpec:
        if (self.agents is None) == (self.template is None):
            raise ValueError("give either agents (ids or 'all') or template with count")
        if self.template is not None and self.count is None:
            raise ValueError("template needs count")
        if self.template is None and self.count is not None:
            raise ValueError("count needs template")
        return self


class Targets(_Spec):
    """What a staffing must reach. ``None`` thresholds/percentages take each queue's own answer
    target.

    ``decision`` is how the staffing search judges a simulated staffing:

    * ``sequential`` (default): replications are added (``search.replications``, doubling, up
      to ``search.max_replications``) until every queue's verdict is clear at the scenario's
      ``confidence``: its service level clearly below the goal (misses), or clearly above the
      goal less ``search.tolerance_percent`` (meets). A staffing whose service level is more
      than the tolerance below the goal is accepted with probability at most
      ``(1 - confidence) / 2``, and one that reaches the goal is rejected with at most that
      probability, so the exact minimum comes with probability ``confidence`` (see
      ``sim.staffing``).
    * ``ci``: a fixed ``search.replications``, the lower confidence bound must reach the goal
      (over-staffs; the bound under-covers with few replications);
    * ``mean``: a fixed ``search.replications``, the point estimate (under-staffs about half
      the time when the minimum meets the goal by a hair).
    """

    threshold_seconds: float | None = Field(default=None, gt=0)
    service_level_percent: float | None = Field(default=None, gt=0, le=100)
    max_abandon_percent: float | None = Field(default=None, ge=0, le=100)
    sl_definition: Literal["offered", "excl_short"] = "offered"
    decision: Literal["sequential", "ci", "mean"] = "sequential"


class Search(_Spec):
    """Staffing search: each interval is simulated stationary (its own rates, constant
    staffing): ``warmup_minutes`` discarded (exactly that long), then ``measure_intervals``
    interval lengths measured, per replication. An empty center needs about half an hour to
    forget its empty start at 85 % occupancy (a 15-minute warm-up left service level 2-3
    standard errors high against Erlang C over 300 replications), hence the default.

    ``replications`` is the first batch (all of it for the ``ci``/``mean`` decisions);
    the ``sequential`` decision doubles it up to ``max_replications``. ``tolerance_percent``
    (service-level and abandon points) is the indifference zone of the sequential decision:
    no finite number of replications tells a service level a hair above the goal from one a
    hair below, so a staffing within the tolerance under the goal may be accepted.
    """

    replications: int = Field(default=10, ge=2, le=1000)
    max_replications: int = Field(default=1280, ge=2, le=100_000)
    tolerance_percent: float = Field(default=1.0, gt=0, le=20)
    warmup_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    measure_intervals: int = Field(default=2, ge=1, le=100)
    max_agents: int = Field(default=5000, ge=1)

    @model_validator(mode="after")
    def _budget(self) -> Search:
        if self.max_replications < self.replications:
            raise ValueError("max_replications must be at least replications")
        return self


class ScenarioSpec(_Spec):
    center: str = ".."
    """Directory of the center config, relative to the scenario file."""
    forecast: str | None = None
    interval_minutes: Literal[15, 30] | None = None
    """Interval length; None: inferred from the forecast's interval starts."""
    seed: int = Field(default=1, ge=0)
    replications: int = Field(default=20, ge=2, le=10_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    arrivals: Literal["poisson", "fixed_count"] = "poisson"
    handle_time: HandleTime = HandleTime()
    patience: Patience = Patience()
    wrap_up: WrapUp = WrapUp()
    tiers: dict[str, float] | None = None
    """Tier shares of arriving contacts; None: everyone is the center's default tier."""
    retrials: Retrials = Retrials()
    callbacks: Callbacks = Callbacks()
    trunk_lines: int | None = Field(default=None, ge=1, le=1_000_000)
    """Lines the voice queues share (those of a ``trunk_groups`` entry have their own); None:
    no limit."""
    trunk_groups: dict[str, TrunkGroup] = Field(default_factory=dict)
    ring_delay_seconds: float = Field(default=0.0, ge=0)
    """How long an agent's phone rings before the agent accepts (0: at once)."""
    no_answer_return_seconds: float = Field(default=60.0, ge=0)
    """An agent set away for ``no-answer`` becomes available again after this long."""
    shift_end_reason: str | None = None
    """Away reason while a leaving agent finishes their contacts; None: the center's first."""
    shrinkage: float = Field(default=0.0, ge=0, lt=1)
    staffing_counts: Literal["net", "scheduled"] = "net"
    """Whether staffing-table counts are net agents or scheduled agents (before shrinkage)."""
    queues: dict[str, QueueOverrides] = Field(default_factory=dict)
    agent_groups: dict[str, AgentGroupSpec] = Field(default_factory=dict)
    staffing: str | None = None
    roster: str | None = None
    drain_minutes: float = Field(default=120.0, ge=0)
    """After the last interval no contact arrives; the run goes on this long at most so
    waiting contacts finish (the last interval's staffing stays)."""
    warmup_minutes: float = Field(default=0.0, ge=0, le=24 * 60)
    """Before the first interval the center runs exactly this long at the first interval's
    rates and staffing, and nothing of it is counted: 0 for a center that opens empty, more
    for a window of a day that starts with contacts already waiting (or a steady-state
    check)."""
    targets: Targets = Targets()
    search: Search = Search()

    @model_validator(mode="after")
    def _one_schedule(self) -> ScenarioSpec:
        if self.staffing is not None and self.roster is not None:
            raise ValueError("give staffing or roster, not both")
        return self


# == resolved inputs ==========================================================================


@dataclass(frozen=True)
class Forecast:
    """Contacts offered and AHT per interval (rows) and queue (columns)."""

    start: float
    """Seconds since midnight at which the first interval starts."""
    interval_seconds: float
    queues: tuple[str, ...]
    contacts: np.ndarray
    aht: np.ndarray

    @property
    def intervals(self) -> int:
        return int(self.contacts.shape[0])

    @property
    def end(self) -> float:
        return self.start + self.intervals * self.interval_seconds

    def label(self, k: int) -> str:
        return clock(self.start + k * self.interval_seconds)


@dataclass(frozen=True)
class Staffing:
    """Net agents logged in per interval (rows) and agent group (columns)."""

    groups: tuple[str, ...]
    counts: np.ndarray


@dataclass(frozen=True)
class Shift:
    agent: str
    start: float
    end: float


@dataclass(frozen=True)
class AgentGroup:
    name: str
    agents: tuple[str, ...]
    queues: tuple[str, ...]
    """Queues the group answers for in the staffing search."""


@dataclass(frozen=True)
class Trunk:
    """Lines shared by the calls of ``queues``."""

    name: str
    lines: int
    queues: tuple[str, ...]


@dataclass(frozen=True)
class QueueBehaviour:
    """What customers of one queue do: handle time, patience, tier mix, retrials."""

    handle: HandleTime
    handle_shape: tuple[float, ...] | None
    """Empirical handle seconds scaled to mean 1 (``empirical`` only)."""
    patience_mean: float | None
    tiers: tuple[str, ...]
    tier_shares: tuple[float, ...]
    retrial_probability: float
    retrial_delay: Delay
    max_attempts: int | None = None
    """Calls a customer makes at most (none: no limit)."""
    callback_acceptance: float = 0.0
    patience_curve: PatienceCurve | None = None
    """Empirical patience (then ``patience_mean`` is its mean, None if infinite)."""


@dataclass(frozen=True)
class Model:
    """Everything one simulation run needs, validated and resolved (picklable)."""

    center: Center
    forecast: Forecast
    groups: tuple[AgentGroup, ...]
    staffing: Staffing | None
    roster: tuple[Shift, ...] | None
    behaviour: Mapping[str, QueueBehaviour]
    """Per forecast queue."""
    arrivals: Literal["poisson", "fixed_count"] = "poisson"
    wrap_up: WrapUp = field(default_factory=WrapUp)
    ring_delay: float = 0.0
    no_answer_return: float = 60.0
    shift_end_reason: str = "break"
    drain_seconds: float = 7200.0
    warmup_seconds: float = 0.0
    """Run before ``forecast.start`` at the first interval's rates and staffing, not counted."""
    shrinkage: float = 0.0
    seed: int = 1
    replications: int = 20
    confidence: float = 0.95
    targets: Targets = field(default_factory=Targets)
    search: Search = field(default_factory=Search)
    source: str = "<scenario>"
    trunks: tuple[Trunk, ...] = ()

    def with_staffing(self, staffing: Staffing) -> Model:
        return replace(self, staffing=staffing, roster=None)

    def first_intervals(self, k: int) -> Model:
        """The day cut after its first ``k`` intervals (forecast and staffing table), for
        short runs of a long day (the benchmarks)."""
        fc = self.forecast
        short = Forecast(fc.start, fc.interval_seconds, fc.queues, fc.contacts[:k], fc.aht[:k])
        staffing = self.staffing
        if staffing is not None:
            staffing = replace(staffing, counts=staffing.counts[:k])
        return replace(self, forecast=short, staffing=staffing)

    def group(self, name: str) -> AgentGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)


# == helpers ==================================================================================


def clock(seconds: float) -> str:
    """Seconds since midnight -> ``HH:MM``."""
    minutes = round(seconds / 60.0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str) -> float:
    """``HH:MM`` (00:00-24:00) -> seconds since midnight; ValueError when malformed."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"expected HH:MM, got {text!r}")
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise ValueError(f"expected HH:MM, got {text!r}")
    return float(h * 3600 + m * 60)


class _Issues:
    def __init__(self) -> None:
        self.items: list[ConfigIssue] = []

    def add(self, file: str, path: str, message: str, line: int | None = None) -> None:
        self.items.append(ConfigIssue(file, path, message, line))

    def raise_if_any(self) -> None:
        if self.items:
            raise ScenarioError(self.items)


def _read_csv(
    path: Path, required: Sequence[str], issues: _Issues
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header, each with its line number; missing columns are issues."""
    if not path.is_file():
        issues.add(path.name, "", "file is missing")
        return []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in required if c not in header]
            for col in missing:
                issues.add(path.name, col, "missing column", 1)
            if missing:
                return []
            rows = []
            for row in reader:
                clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                if any(clean.values()):
                    rows.append((reader.line_num, clean))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        issues.add(path.name, "", f"cannot read: {err}")
        return []


def _number(
    text: str, file: str, column: str, line: int, issues: _Issues, *, positive: bool = False
) -> float | None:
    try:
        value = float(text)
    except ValueError:
        issues.add(file, column, f"not a number: {text!r}", line)
        return None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "> 0" if positive else ">= 0"
        issues.add(file, column, f"must be a finite number {need}, got {text!r}", line)
        return None
    return value


# == loading ==================================================================================


FORECAST_COLUMNS = ("interval_start", "queue", "contacts", "aht_seconds")


def read_rows(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header, each with its line number; ScenarioError when the file is
    missing or unreadable or lacks a ``required`` column."""
    issues = _Issues()
    rows = _read_csv(path, required, issues)
    issues.raise_if_any()
    return rows


def load_forecast(path: Path, center: Center, interval_minutes: int | None) -> Forecast:
    """Read ``interval_start,queue,contacts,aht_seconds``; missing (interval, queue) cells are 0."""
    return forecast_of(path.name, read_rows(path, FORECAST_COLUMNS), center, interval_minutes)


def forecast_of(
    name: str,
    rows: Sequence[tuple[int, dict[str, str]]],
    center: Center,
    interval_minutes: int | None,
) -> Forecast:
    """The forecast of one day's rows of file ``name`` (``interval_start`` as ``HH:MM``)."""
    issues = _Issues()
    cells: dict[tuple[float, str], tuple[float, float]] = {}
    for line, row in rows:
        try:
            start = parse_clock(row["interval_start"])
        except ValueError as err:
            issues.add(name, "interval_start", str(err), line)
            continue
        queue = row["queue"]
        if queue not in center.queues:
            issues.add(name, "queue", f"unknown queue {queue!r}", line)
            continue
        contacts = _number(row["contacts"], name, "contacts", line, issues)
        aht = _number(row["aht_seconds"], name, "aht_seconds", line, issues, positive=True)
        if contacts is None or aht is None:
            continue
        if (start, queue) in cells:
            issues.add(name, "interval_start", f"{clock(start)} {queue} given twice", line)
        cells[(start, queue)] = (contacts, aht)
    if not cells and not issues.items:
        issues.add(name, "", "no forecast rows")
    issues.raise_if_any()
    starts = sorted({s for s, _ in cells})
    if interval_minutes is None:
        gaps = {b - a for a, b in pairwise(starts)}
        step = min(gaps) if gaps else 1800.0
        if step not in (900.0, 1800.0):
            issues.add(name, "interval_start", "cannot infer 15 or 30 minute intervals")
            issues.raise_if_any()
    else:
        step = interval_minutes * 60.0
    first = starts[0]
    for (start, queue), _ in cells.items():
        if (start - first) % step:
            issues.add(name, "interval_start", f"{clock(start)} ({queue}) is off the grid")
    issues.raise_if_any()
    count = int((starts[-1] - first) // step) + 1
    queues = tuple(center.queues)
    offered = np.zeros((count, len(queues)))
    handle = np.zeros((count, len(queues)))
    index = {q: i for i, q in enumerate(queues)}
    for (start, queue), (n, h) in cells.items():
        k = int((start - first) // step)
        offered[k, index[queue]] = n
        handle[k, index[queue]] = h
    for j in range(len(queues)):  # cells without a forecast borrow the queue's mean AHT
        col = handle[:, j]
        given = col > 0
        col[~given] = col[given].mean() if given.any() else 300.0
    return Forecast(first, step, queues, offered, handle)


def load_staffing(path: Path, forecast: Forecast, groups: Sequence[str]) -> Staffing:
    """Read ``interval_start,<group>,<group>...`` (wide); intervals not listed keep the count of
    the interval before (0 before the first row)."""
    return staffing_of(path.name, read_rows(path, ("interval_start", *groups)), forecast, groups)


def staffing_of(
    name: str,
    rows: Sequence[tuple[int, dict[str, str]]],
    forecast: Forecast,
    groups: Sequence[str],
) -> Staffing:
    """The staffing table of one day's rows of file ``name`` over that day's ``forecast``."""
    issues = _Issues()
    counts = np.full((forecast.intervals, len(groups)), -1, dtype=np.int64)
    for line, row in rows:
        for col in row:
            if col != "interval_start" and col not in groups:
                issues.add(name, col, f"unknown agent group {col!r}", line)
        try:
            start = parse_clock(row["interval_start"])
        except ValueError as err:
            issues.add(name, "interval_start", str(err), line)
            continue
        k = (start - forecast.start) / forecast.interval_seconds
        if k != int(k) or not 0 <= k < forecast.intervals:
            issues.add(name, "interval_start", f"{clock(start)} is not a forecast interval", line)
            continue
        for j, g in enumerate(groups):
            value = _number(row[g], name, g, line, issues)
            if value is not None and value != int(value):
                issues.add(name, g, f"agents must be a whole number, got {row[g]!r}", line)
            elif value is not None:
                counts[int(k), j] = int(value)
    issues.raise_if_any()
    last = np.zeros(len(groups), dtype=np.int64)
    for k in range(forecast.intervals):
        row_k = counts[k]
        row_k[row_k < 0] = last[row_k < 0]
        last = row_k
    return Staffing(tuple(groups), counts)


def load_roster(path: Path, groups: Sequence[AgentGroup]) -> tuple[Shift, ...]:
    """Read ``agent,group,count,start,end``: a row names one agent, or ``count`` agents (default
    1) of a group; group rows take the group's agents free at that time, in group order."""
    issues = _Issues()
    name = path.name
    rows = _read_csv(path, ("start", "end"), issues)
    by_name = {g.name: g for g in groups}
    known = {a for g in groups for a in g.agents}
    shifts: list[Shift] = []
    for line, row in rows:
        agent, group = row.get("agent", ""), row.get("group", "")
        try:
            start, end = parse_clock(row["start"]), parse_clock(row["end"])
        except ValueError as err:
            issues.add(name, "start/end", str(err), line)
            continue
        if end <= start:
            issues.add(name, "end", "shift ends before it starts", line)
            continue
        if bool(agent) == bool(group):
            issues.add(name, "agent/group", "give exactly one of agent and group", line)
            continue
        if agent:
            if agent not in known:
                issues.add(name, "agent", f"agent {agent!r} is in no agent group", line)
                continue
            wanted = [agent]
        else:
            g = by_name.get(group)
            if g is None:
                issues.add(name, "group", f"unknown agent group {group!r}", line)
                continue
            n = _number(row.get("count") or "1", name, "count", line, issues)
            if n is None:
                continue
            free = [
                a
                for a in g.agents
                if not any(s.agent == a and s.start < end and start < s.end for s in shifts)
            ]
            if len(free) < n:
                issues.add(name, "count", f"group {group!r} has only {len(free)} agents free", line)
                continue
            wanted = free[: int(n)]
        for a in wanted:
            if any(s.agent == a and s.start < end and start < s.end for s in shifts):
                issues.add(name, "agent", f"agent {a!r} has overlapping shifts", line)
            shifts.append(Shift(a, start, end))
    issues.raise_if_any()
    return tuple(sorted(shifts, key=lambda s: (s.start, s.agent)))


def load_handle_shape(path: Path) -> tuple[float, ...]:
    """Empirical handle seconds (first column; a non-numeric first line is a header), mean 1."""
    issues = _Issues()
    values: list[float] = []
    if not path.is_file():
        issues.add(path.name, "", "file is missing")
        issues.raise_if_any()
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            if not row or not row[0].strip():
                continue
            try:
                value = float(row[0])
            except ValueError:
                if i == 1:
                    continue
                issues.add(path.name, "seconds", f"not a number: {row[0]!r}", i)
                continue
            if not math.isfinite(value) or value <= 0:
                issues.add(path.name, "seconds", f"must be > 0, got {row[0]!r}", i)
            else:
                values.append(value)
    if not values and not issues.items:
        issues.add(path.name, "", "no handle times")
    issues.raise_if_any()
    mean = sum(values) / len(values)
    return tuple(v / mean for v in values)


def read_spec(path: Path) -> ScenarioSpec:
    """Parse and validate the scenario YAML."""
    name = path.name
    try:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ScenarioError([ConfigIssue(name, "", "file is missing")]) from None
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else None
        issue = ConfigIssue(name, "", f"YAML syntax error: {err.problem}", line)
        raise ScenarioError([issue]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ScenarioError([ConfigIssue(name, "", f"cannot read: {err}")]) from None
    if not isinstance(doc, dict):
        raise ScenarioError([ConfigIssue(name, "", "expected a mapping of scenario settings")])
    try:
        return ScenarioSpec.model_validate(doc)
    except ValidationError as err:
        raise ScenarioError(
            [ConfigIssue(name, key_path(e["loc"]), e["msg"]) for e in err.errors()]
        ) from None


def load_scenario(path: str | Path) -> Model:
    """Read a scenario YAML and the files it names; raise ScenarioError on any problem."""
    path = Path(path)
    spec = read_spec(path)
    base = path.parent
    try:
        center = load_center(base / spec.center)
    except ConfigError as err:
        raise ScenarioError(err.issues) from None
    if spec.forecast is None:
        raise ScenarioError([ConfigIssue(path.name, "forecast", "missing: the forecast CSV")])
    forecast = load_forecast(base / spec.forecast, center, spec.interval_minutes)
    return resolve(spec, center, forecast, base=base, source=path.name)


def resolve(
    spec: ScenarioSpec,
    center: Center,
    forecast: Forecast,
    *,
    base: Path = Path("."),
    source: str = "scenario.yaml",
    staffing: Staffing | None = None,
    roster: Sequence[Shift] | None = None,
) -> Model:
    """Cross-check a scenario against its center and build the ``Model``.

    ``staffing``/``roster`` given here win over the files the spec names (tests, what-ifs).
    """
    issues = _Issues()
    tiers = {t.id for t in center.settings.tiers}
    for qid in spec.queues:
        if qid not in center.queues:
            issues.add(source, f"queues.{qid}", f"unknown queue {qid!r}")
    center, groups = _build_groups(spec, center, source, issues)
    if spec.wrap_up.mode == "none" and not issues.items:
        center = _without_wrap_up(center)
    issues.raise_if_any()

    behaviour: dict[str, QueueBehaviour] = {}
    shapes: dict[str, tuple[float, ...]] = {}
    for qid in forecast.queues:
        over = spec.queues.get(qid, QueueOverrides())
        handle = over.handle_time or spec.handle_time
        shape = None
        if handle.distribution == "empirical":
            assert handle.file is not None
            if handle.file not in shapes:
                try:
                    shapes[handle.file] = load_handle_shape(base / handle.file)
                except ScenarioError as err:
                    issues.items.extend(err.issues)
                    continue
            shape = shapes[handle.file]
        patience = over.patience or spec.patience
        curve = None
        if patience.distribution == "empirical":
            assert patience.file is not None
            try:
                curve = load_curve(base / patience.file, patience.tail_mean_seconds)
            except ConfigError as err:
                issues.items.extend(err.issues)
                continue
        shares = over.tiers if over.tiers is not None else spec.tiers
        where = f"queues.{qid}.tiers" if over.tiers is not None else "tiers"
        if shares is None:
            shares = {center.settings.default_tier: 1.0}
        for t, share in shares.items():
            if t not in tiers:
                issues.add(source, f"{where}.{t}", f"unknown tier {t!r}")
            if share < 0:
                issues.add(source, f"{where}.{t}", "share must be >= 0")
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            issues.add(source, where, f"tier shares must sum to 1, got {total:g}")
        retrials = over.retrials or spec.retrials
        callbacks = over.callbacks or spec.callbacks
        behaviour[qid] = QueueBehaviour(
            handle=handle,
            handle_shape=shape,
            patience_mean=_patience_mean(patience, curve),
            tiers=tuple(shares),
            tier_shares=tuple(s / total if total else 0.0 for s in shares.values()),
            retrial_probability=retrials.probability,
            retrial_delay=retrials.delay_spec(),
            max_attempts=retrials.max_attempts,
            callback_acceptance=callbacks.accept_probability,
            patience_curve=curve,
        )
    trunks = _trunks(spec, center, source, issues)
    reasons = [r for r in center.settings.away_reasons if r != "no-answer"]
    reason = spec.shift_end_reason or (reasons[0] if reasons else "")
    if reason not in center.settings.away_reasons:
        issues.add(source, "shift_end_reason", f"not an away reason of the center: {reason!r}")
    issues.raise_if_any()

    if spec.warmup_minutes * 60.0 > forecast.start:
        issues.add(
            source,
            "warmup_minutes",
            f"the warm-up would start before midnight (first interval {clock(forecast.start)})",
        )
    names = [g.name for g in groups]
    if staffing is None and roster is None:
        if spec.staffing is not None:
            staffing = load_staffing(base / spec.staffing, forecast, names)
        elif spec.roster is not None:
            roster = load_roster(base / spec.roster, groups)
    if staffing is not None and spec.staffing_counts == "scheduled":
        staffing = Staffing(
            staffing.groups, np.floor(staffing.counts * (1.0 - spec.shrinkage)).astype(np.int64)
        )
    if staffing is not None:
        sizes = {g.name: len(g.agents) for g in groups}
        for j, g in enumerate(staffing.groups):
            if g not in sizes:
                issues.add(spec.staffing or source, g, f"unknown agent group {g!r}")
            elif int(staffing.counts[:, j].max(initial=0)) > sizes[g]:
                issues.add(
                    spec.staffing or source,
                    g,
                    f"needs {int(staffing.counts[:, j].max())} agents, group {g!r} has "
                    f"{sizes[g]} (add clones in agent_groups)",
                )
    issues.raise_if_any()
    return Model(
        center=center,
        forecast=forecast,
        groups=tuple(groups),
        staffing=staffing,
        roster=tuple(roster) if roster is not None else None,
        behaviour=behaviour,
        arrivals=spec.arrivals,
        wrap_up=spec.wrap_up,
        ring_delay=spec.ring_delay_seconds,
        no_answer_return=spec.no_answer_return_seconds,
        shift_end_reason=reason,
        drain_seconds=spec.drain_minutes * 60.0,
        warmup_seconds=spec.warmup_minutes * 60.0,
        shrinkage=spec.shrinkage,
        seed=spec.seed,
        replications=spec.replications,
        confidence=spec.confidence,
        targets=spec.targets,
        search=spec.search,
        source=source,
        trunks=trunks,
    )


def _trunks(spec: ScenarioSpec, center: Center, source: str, issues: _Issues) -> tuple[Trunk, ...]:
    """The trunk groups, then ``trunk_lines`` for every other voice queue."""
    out: list[Trunk] = []
    taken: dict[str, str] = {}
    for name, g in spec.trunk_groups.items():
        for i, qid in enumerate(g.queues):
            where = f"trunk_groups.{name}.queues[{i}]"
            q = center.queues.get(qid)
            if q is None:
                issues.add(source, where, f"unknown queue {qid!r}")
            elif q.channel != "voice":
                issues.add(source, where, f"{qid!r} is not a voice queue (only calls hold lines)")
            elif taken.setdefault(qid, name) != name:
                issues.add(source, where, f"{qid!r} is also in trunk group {taken[qid]!r}")
        out.append(Trunk(name, g.lines, tuple(g.queues)))
    if spec.trunk_lines is not None:
        rest = tuple(
            qid for qid, q in center.queues.items() if q.channel == "voice" and qid not in taken
        )
        if rest:
            out.append(Trunk("trunk_lines", spec.trunk_lines, rest))
    return tuple(out)


def _patience_mean(patience: Patience, curve: PatienceCurve | None) -> float | None:
    """Mean patience for Erlang A (None: nobody abandons, or some never do)."""
    if curve is not None:
        mean = curve.mean()
        return mean if math.isfinite(mean) else None
    return patience.mean_seconds if patience.distribution != "none" else None


def _without_wrap_up(center: Center) -> Center:
    """The center with every queue's wrap-up timer at 0 (``wrap_up: {mode: none}``)."""
    return build_center(
        center.settings,
        [q.model_copy(update={"wrap_up_seconds": 0.0}) for q in center.queues.values()],
        list(center.agents.values()),
        list(center.customers.values()),
    )


def _build_groups(
    spec: ScenarioSpec, center: Center, source: str, issues: _Issues
) -> tuple[Center, list[AgentGroup]]:
    """Resolve agent groups; clone template agents into a new center when asked."""
    if not spec.agent_groups:
        everyone = tuple(center.agents)
        return center, [AgentGroup("all", everyone, _default_queues(center, everyone))]
    clones: list[AgentConfig] = []
    members: dict[str, tuple[str, ...]] = {}
    taken: dict[str, str] = {}
    for name, g in spec.agent_groups.items():
        where = f"agent_groups.{name}"
        if g.template is not None:
            template = center.agents.get(g.template)
            if template is None:
                issues.add(source, f"{where}.template", f"unknown agent {g.template!r}")
                continue
            assert g.count is not None
            ids = tuple(f"{name}-{i:04d}" for i in range(1, g.count + 1))
            for aid in ids:
                if aid in center.agents:
                    issues.add(source, f"{where}.template", f"clone id {aid!r} is taken")
                    break
            clones.extend(
                template.model_copy(
                    update={"id": aid, "name": "", "extension": None, "dedicated_customers": ()}
                )
                for aid in ids
            )
        elif g.agents == "all":
            ids = tuple(center.agents)
        else:
            assert isinstance(g.agents, list)
            ids = tuple(g.agents)
            for i, aid in enumerate(ids):
                if aid not in center.agents:
                    issues.add(source, f"{where}.agents[{i}]", f"unknown agent {aid!r}")
        for aid in ids:
            other = taken.setdefault(aid, name)
            if other != name:
                issues.add(source, f"{where}.agents", f"agent {aid!r} is also in group {other!r}")
                break
        for i, qid in enumerate(g.queues or ()):
            if qid not in center.queues:
                issues.add(source, f"{where}.queues[{i}]", f"unknown queue {qid!r}")
        members[name] = ids
    if issues.items:
        return center, []
    ranked = {
        aid: g.queue_rank
        for name, g in spec.agent_groups.items()
        if g.queue_rank is not None
        for aid in members[name]
    }
    if clones or ranked:
        people = [
            a.model_copy(update={"queue_rank": ranked[a.id]}) if a.id in ranked else a
            for a in [*center.agents.values(), *clones]
        ]
        try:
            center = build_center(
                center.settings,
                list(center.queues.values()),
                people,
                list(center.customers.values()),
            )
        except ConfigError as err:
            for issue in err.issues:
                issues.add(source, "agent_groups", str(issue))
            return center, []
    groups = [
        AgentGroup(
            name,
            ids,
            tuple(spec.agent_groups[name].queues or _default_queues(center, ids)),
        )
        for name, ids in members.items()
    ]
    return center, groups


def _default_queues(center: Center, agents: Sequence[str]) -> tuple[str, ...]:
    """Queues at least half the group's agents are tier-1 members of."""
    out = []
    for qid in center.queues:
        primary = sum(1 for a in agents if center.agents[a].queues.get(qid) == 1)
        if agents and primary * 2 >= len(agents):
            out.append(qid)
    return tuple(out)
