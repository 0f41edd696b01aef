"""A planning week: forecast and staffing by day, each day simulated as a day of its own.

A workforce planner forecasts a week by day of week (Monday busiest, the weekend quieter) and
staffs each day. The forecast and staffing CSVs of ``sim.scenario`` say which day a row is
for in one of two forms, one per file and the same in both files:

* a ``day`` column: a weekday (``Mon`` .. ``Sun``, or ``Monday``) or an ISO date
  (``2026-12-07``), beside ``interval_start`` as ``HH:MM``;
* ``interval_start`` as an ISO date-time (``2026-12-07T08:00`` or ``2026-12-07 08:00``).

A file without a day is one day, read by ``sim.scenario`` as before (``load_week`` returns
None). A file may hold any number of days; a day without rows is not planned (a closed day).

**Each day is a day of its own.** The center opens empty, the day's intervals run at its own
rates and staffing, and the drain after the last interval is the scenario's, as for a day run
alone: a real center closes at night. Replication ``i`` of every day is child ``i`` of the
scenario's seed (``replications.seeds``), so a day's figures are exactly those of that day run
alone with the same seed. The days of one replication share their random streams (common
random numbers, as the staffing search's candidates do): each day's estimate and the week's
confidence interval stay valid (replications are independent of each other), and two days
with the same forecast and staffing come out alike.

**Week totals pool the days**: per replication the sums over every interval of every day
(contacts offered, answered within the threshold, busy time...), the KPIs of those sums, then
mean and confidence interval over the replications. A busy Monday weighs as much as its
contacts, as in the week's real figures: never an average of the days' percentages.

The planner has no business hours (the forecast is what arrives, and the center's hours live
in its IVR flows), so nothing here applies hours or holidays per date: a holiday is a day
forecast without rows, or with its own small forecast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np

from contactcenter.config import ConfigError, ConfigIssue, load_center
from sim.replications import Progress, Runner, replicate, summary_of
from sim.scenario import (
    FORECAST_COLUMNS,
    Forecast,
    Model,
    ScenarioError,
    Staffing,
    clock,
    forecast_of,
    parse_clock,
    read_rows,
    read_spec,
    resolve,
    staffing_of,
)
from sim.staffing import StaffingPlan
from sim.statistics import Summary, Tallies

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NAMES = {
    **{d.lower(): i for i, d in enumerate(WEEKDAYS)},
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}

Form = Literal["weekday", "date"]
"""How a file names its days: ``Mon`` .. ``Sun``, or ISO dates."""

Row = tuple[int, dict[str, str]]
"""A CSV row with its line number (``sim.scenario.read_rows``)."""


def describe(form: Form | None) -> str:
    if form is None:
        return "no day (HH:MM times)"
    return "weekdays (Mon..Sun)" if form == "weekday" else "dates (2026-12-07)"


@dataclass(frozen=True)
class Days:
    """A file's rows by day, in calendar order; ``interval_start`` as ``HH:MM``, no ``day``."""

    name: str
    form: Form | None
    rows: dict[str, list[Row]]
    first_line: dict[str, int]
    """The line each day first appears on (for messages)."""


def _sort_key(form: Form | None, label: str) -> str:
    return f"{WEEKDAYS.index(label)}" if form == "weekday" else label


def _moment(text: str) -> bool:
    """Whether ``text`` is an ISO date-time (a row that names its day in ``interval_start``)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "-" in text


def _row_day(row: dict[str, str]) -> tuple[Form | None, str, str]:
    """(form, day label, ``HH:MM``) of one row; ValueError naming what is wrong."""
    day, start = row.get("day", ""), row["interval_start"]
    if "-" in start:
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            raise ValueError(
                f"expected HH:MM or an ISO date-time (2026-12-07T08:00), got {start!r}"
            ) from None
        if day:
            raise ValueError("the day is given twice: in the day column and in interval_start")
        if moment.tzinfo is not None:
            raise ValueError(f"no time-zone offset: times are the center's clock, got {start!r}")
        if moment.second or moment.microsecond:
            raise ValueError(f"expected a time on the minute, got {start!r}")
        return "date", moment.date().isoformat(), f"{moment.hour:02d}:{moment.minute:02d}"
    if not day:
        return None, "", start
    weekday = _NAMES.get(day.lower())
    if weekday is not None:
        return "weekday", WEEKDAYS[weekday], start
    try:
        return "date", date.fromisoformat(day).isoformat(), start
    except ValueError:
        raise ValueError(
            f"expected a weekday (Mon..Sun) or an ISO date (2026-12-07), got {day!r}"
        ) from None


def split_days(name: str, rows: Sequence[Row]) -> Days:
    """The rows of file ``name`` by day; ScenarioError for a malformed day or a file that mixes
    forms (some rows with a day and some without, or weekdays beside dates). A file with no
    ``day`` column and no ISO date-time is one day, its rows left to ``sim.scenario``."""
    if not any("day" in row or _moment(row["interval_start"]) for _, row in rows):
        return Days(name, None, {"": list(rows)}, {"": rows[0][0]} if rows else {})
    issues: list[ConfigIssue] = []
    form: Form | None = None
    first: int | None = None
    by_day: dict[str, list[Row]] = {}
    lines: dict[str, int] = {}
    for line, row in rows:
        try:
            row_form, label, start = _row_day(row)
        except ValueError as err:
            issues.append(ConfigIssue(name, "day", str(err), line))
            continue
        if first is None:
            form, first = row_form, line
        elif row_form != form:
            issues.append(
                ConfigIssue(
                    name,
                    "day",
                    f"mixed forms: {describe(row_form)} here, {describe(form)} from line {first}",
                    line,
                )
            )
            continue
        clean = {k: v for k, v in row.items() if k != "day"}
        clean["interval_start"] = start
        by_day.setdefault(label, []).append((line, clean))
        lines.setdefault(label, line)
    if issues:
        raise ScenarioError(issues)
    order = sorted(by_day, key=lambda label: _sort_key(form, label))
    return Days(name, form, {d: by_day[d] for d in order}, {d: lines[d] for d in order})


@dataclass(frozen=True)
class Day:
    label: str
    """``Mon`` .. ``Sun`` or an ISO date, as the forecast names it."""
    model: Model


@dataclass(frozen=True)
class Week:
    days: tuple[Day, ...]
    form: Form
    forecast_file: str

    def map(self, change: Callable[[Model], Model]) -> Week:
        """The week with every day's model changed alike (a seed, a search setting)."""
        return replace(self, days=tuple(Day(d.label, change(d.model)) for d in self.days))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(d.label for d in self.days)


def load_week(path: str | Path) -> Week | None:
    """The scenario's week, or None when its forecast and staffing are one day (then
    ``sim.scenario.load_scenario`` reads it, unchanged)."""
    path = Path(path)
    spec = read_spec(path)
    base = path.parent
    if spec.forecast is None:
        return None
    rows = _readable(base / spec.forecast, FORECAST_COLUMNS)
    if rows is None:
        return None
    forecast = split_days(spec.forecast, rows)
    staffed = None
    if spec.staffing is not None:
        rows = _readable(base / spec.staffing, ("interval_start",))
        staffed = split_days(spec.staffing, rows) if rows is not None else None
    if forecast.form is None:
        if staffed is None or staffed.form is None:
            return None
        line = next(iter(staffed.first_line.values()))
        issue = ConfigIssue(
            spec.staffing or "", "day", f"has days but {forecast.name} is one day", line
        )
        raise ScenarioError([issue])
    if spec.roster is not None:
        issue = ConfigIssue(
            path.name,
            "roster",
            f"a roster is one day's shifts; a week ({forecast.name} has days) takes a "
            "staffing table with a day column",
        )
        raise ScenarioError([issue])
    try:
        center = load_center(base / spec.center)
    except ConfigError as err:
        raise ScenarioError(err.issues) from None
    minutes = spec.interval_minutes or _interval_minutes(forecast)
    issues: list[ConfigIssue] = []
    forecasts: dict[str, Forecast] = {}
    for label, rows in forecast.rows.items():
        try:
            forecasts[label] = forecast_of(forecast.name, rows, center, minutes)
        except ScenarioError as err:
            issues.extend(err.issues)
    if issues:
        raise ScenarioError(issues)
    unstaffed = spec.model_copy(update={"staffing": None})
    first = resolve(unstaffed, center, next(iter(forecasts.values())), base=base, source=path.name)
    tables: Mapping[str, Staffing | None] = dict.fromkeys(forecasts)
    if spec.staffing is not None:
        groups = [g.name for g in first.groups]
        rows = read_rows(base / spec.staffing, ("interval_start", *groups))
        tables = staffing_by_day(split_days(spec.staffing, rows), forecast, forecasts, groups)
    days = []
    for label, fc in forecasts.items():
        table = tables[label]
        model = resolve(spec, center, fc, base=base, source=path.name, staffing=table)
        days.append(Day(label, model))
    assert forecast.form is not None
    return Week(tuple(days), forecast.form, forecast.name)


def _readable(path: Path, required: Sequence[str]) -> list[Row] | None:
    """The file's rows, or None when it cannot be read: a one-day scenario's loader reports
    that as it always has, and a week's reads the file again and reports it."""
    try:
        return read_rows(path, required)
    except ScenarioError:
        return None


def _interval_minutes(forecast: Days) -> Literal[15, 30]:
    """The interval length of the whole week: the smallest gap between two interval starts of
    a day (30 minutes when every day has one interval)."""
    gaps: set[float] = set()
    for rows in forecast.rows.values():
        starts: list[float] = []
        for line, row in rows:
            try:
                starts.append(parse_clock(row["interval_start"]))
            except ValueError as err:
                raise ScenarioError(
                    [ConfigIssue(forecast.name, "interval_start", str(err), line)]
                ) from None
        gaps |= {b - a for a, b in pairwise(sorted(set(starts)))}
    step = min(gaps) if gaps else 1800.0
    if step == 900.0:
        return 15
    if step == 1800.0:
        return 30
    issue = ConfigIssue(forecast.name, "interval_start", "cannot infer 15 or 30 minute intervals")
    raise ScenarioError([issue])


def staffing_by_day(
    staffed: Days, forecast: Days, forecasts: Mapping[str, Forecast], groups: Sequence[str]
) -> dict[str, Staffing]:
    """Each forecast day's staffing table; ScenarioError when the forms differ, a day is in one
    file only, or a day gives an interval twice."""
    name = staffed.name
    issues: list[ConfigIssue] = []
    if staffed.form != forecast.form:
        line = next(iter(staffed.first_line.values()), None)
        issues.append(
            ConfigIssue(
                name,
                "day",
                f"{describe(staffed.form)} here, {describe(forecast.form)} in {forecast.name}",
                line,
            )
        )
        raise ScenarioError(issues)
    for label, line in staffed.first_line.items():
        if label not in forecasts:
            issues.append(
                ConfigIssue(name, "day", f"{label} is not a day of {forecast.name}", line)
            )
    for label in forecasts:
        if label not in staffed.rows:
            issues.append(
                ConfigIssue(name, "day", f"no rows for {label}, a day of {forecast.name}")
            )
    tables: dict[str, Staffing] = {}
    for label, rows in staffed.rows.items():
        seen: dict[str, int] = {}
        for line, row in rows:
            start = row["interval_start"]
            if start in seen:
                issues.append(
                    ConfigIssue(
                        name,
                        "interval_start",
                        f"{label} {start} given twice (first on line {seen[start]})",
                        line,
                    )
                )
            seen.setdefault(start, line)
        if label in forecasts:
            try:
                tables[label] = staffing_of(name, rows, forecasts[label], groups)
            except ScenarioError as err:
                issues.extend(err.issues)
    if issues:
        raise ScenarioError(issues)
    return tables


def with_staffing_file(week: Week, path: Path) -> Week:
    """The week under the staffing table in ``path`` (a what-if, or a search's start): the
    same days in the same form as the week's forecast."""
    groups = [g.name for g in week.days[0].model.groups]
    staffed = split_days(path.name, read_rows(path, ("interval_start", *groups)))
    forecasts = {d.label: d.model.forecast for d in week.days}
    forecast = Days(week.forecast_file, week.form, {}, {})
    tables = staffing_by_day(staffed, forecast, forecasts, groups)
    return replace(
        week, days=tuple(Day(d.label, d.model.with_staffing(tables[d.label])) for d in week.days)
    )


def staffed_by(week: Week, plans: Sequence[StaffingPlan]) -> Week:
    """The week under each day's planned (required) agents."""
    days = zip(week.days, plans, strict=True)
    return replace(
        week,
        days=tuple(
            Day(d.label, d.model.with_staffing(p.staffing(d.model.forecast))) for d, p in days
        ),
    )


# == running a week ===========================================================================


@dataclass(frozen=True)
class WeekRun:
    """Every day's replications and summary, and the week's pooled summary."""

    week: Week
    tallies: tuple[tuple[Tallies, ...], ...]
    """Per day, per replication."""
    days: tuple[Summary, ...]
    total: Summary


def pooled(days: Sequence[Sequence[Tallies]]) -> list[Tallies]:
    """Per replication, one ``Tallies`` whose intervals are every day's intervals in order:
    its sums over all intervals are the week's sums."""
    out = []
    for same in zip(*days, strict=True):
        tiers = [t.tiers for t in same]
        out.append(
            Tallies(
                counts=np.concatenate([t.counts for t in same]),
                busy=np.concatenate([t.busy for t in same]),
                idle=np.concatenate([t.idle for t in same]),
                tiers=None
                if any(t is None for t in tiers)
                else np.concatenate([t for t in tiers if t is not None]),
                contacts=sum(t.contacts for t in same),
                end=same[-1].end,
            )
        )
    return out


def run_week(
    week: Week,
    runner: Runner,
    *,
    replications: int | None = None,
    by_tier: bool = False,
    progress: Progress | None = None,
) -> WeekRun:
    """Every day's replications (each day as ``replicate`` runs it alone), then the week."""
    first = week.days[0].model
    n = replications if replications is not None else first.replications
    total = n * len(week.days)
    tallies: list[tuple[Tallies, ...]] = []
    for d, day in enumerate(week.days):
        done = d * n

        def step(i: int, _: int, done: int = done) -> None:
            if progress is not None:
                progress(done + i, total)

        runs = replicate(day.model, replications=n, runner=runner, by_tier=by_tier, progress=step)
        tallies.append(tuple(runs))
    summaries = tuple(summary_of(d.model, t) for d, t in zip(week.days, tallies, strict=True))
    return WeekRun(week, tuple(tallies), summaries, summary_of(first, pooled(tallies)))


# == staffing a week ==========================================================================


@dataclass(frozen=True)
class AgentHours:
    """Agent-hours per day and group: required (net) and scheduled (with shrinkage)."""

    days: tuple[str, ...]
    groups: tuple[str, ...]
    required: np.ndarray
    """[day, group] hours."""
    scheduled: np.ndarray


def agent_hours(week: Week, plans: Sequence[StaffingPlan]) -> AgentHours:
    """Each day's planned intervals times their agents, in hours."""
    groups = plans[0].groups if plans else ()
    required = np.zeros((len(plans), len(groups)))
    scheduled = np.zeros((len(plans), len(groups)))
    for d, (day, plan) in enumerate(zip(week.days, plans, strict=True)):
        hours = day.model.forecast.interval_seconds / 3600.0
        for p in plan.intervals:
            required[d] += np.asarray(p.required) * hours
            scheduled[d] += np.asarray(p.scheduled) * hours
    return AgentHours(week.labels, tuple(groups), required, scheduled)


def span_intervals(week: Week, lo: float, hi: float) -> dict[str, list[int]]:
    """Per day, the intervals starting within [lo, hi) seconds since midnight."""
    out = {}
    for day in week.days:
        fc = day.model.forecast
        out[day.label] = [
            k for k in range(fc.intervals) if lo <= fc.start + k * fc.interval_seconds < hi
        ]
    if not any(out.values()):
        raise ValueError(f"--intervals: no forecast interval starts within {clock(lo)}-{clock(hi)}")
    return out
