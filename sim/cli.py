"""``contactcenter-sim``: the planner's command line.

* ``run SCENARIO``: simulate the scenario's day (its staffing table or roster, or the one
  given: a what-if) over independent replications; CSV/JSON/PNG report and a summary.
* ``staff SCENARIO``: required and scheduled agents per interval and group: per-interval
  simulation search seeded by Erlang A (default), ``--method day`` (grow the Erlang table
  until whole-day runs meet the targets) or ``--method analytic`` (Erlang only);
  ``--verify`` then runs the day with the staffing found.
* ``erlang``: Erlang C (or A with ``--patience``) for one interval.
* ``replay SCENARIO``: a recorded day (the engine's store, or a contacts CSV) through the
  routing core under the recorded or another staffing, beside its recorded KPIs; ``--fit``
  writes the empirical scenario of it (``sim.replay``, ``sim.fit``; docs/replay.md).
* ``queue-log FILE``: an Asterisk queue_log as a contacts CSV.

Exit status: 0 done, 1 invalid input (each problem printed with file and field), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contactcenter.arguments import at_least_one
from contactcenter.config import ConfigError, ConfigIssue
from contactcenter.store import StoreError
from sim.erlang import ErlangResult, erlang_a_metrics, erlang_c_metrics, required_agents
from sim.fit import write_fitted
from sim.progress import Display, ProgressLine, SearchProgress
from sim.queue_log import read_queue_log
from sim.recording import read_contacts, write_contacts
from sim.replay import recorded_tallies, replay, replay_setup
from sim.replay_report import replay_json, replay_text
from sim.replications import Runner, replicate, summary_of
from sim.report import (
    erlang_json,
    erlang_table,
    erlang_text,
    plan_text,
    run_text,
    run_warnings,
    write_plan,
    write_run,
)
from sim.scenario import (
    Model,
    ScenarioError,
    load_roster,
    load_scenario,
    load_staffing,
    parse_clock,
)
from sim.staffing import DAY_RUNS, plan_staffing, refine_day
from sim.stored_day import read_stored_day
from sim.week import (
    Week,
    agent_hours,
    load_week,
    run_week,
    span_intervals,
    staffed_by,
    with_staffing_file,
)
from sim.week_report import (
    week_json,
    week_plan_text,
    week_text,
    week_warnings,
    write_week_plan,
    write_week_run,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="contactcenter-sim",
        description="Plan a contact center on its production routing core (SimPy).",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario's day and report KPIs with CIs")
    _common(run)
    run.add_argument("--staffing", type=Path, help="what-if: this staffing table CSV instead")
    run.add_argument("--roster", type=Path, help="what-if: this roster CSV instead")
    run.add_argument("--replications", type=int, help="replications (default: the scenario's)")

    staff = sub.add_parser("staff", help="required agents per interval and group")
    _common(staff)
    staff.add_argument(
        "--method",
        choices=("interval", "day", "analytic"),
        default="interval",
        help="interval: fewest agents per interval, each simulated stationary (default); "
        "day: grow the Erlang table until whole-day runs meet the targets (faster for big "
        "multi-group centers, not proven minimal); analytic: Erlang A/C only",
    )
    staff.add_argument("--analytic", action="store_true", help="same as --method analytic")
    staff.add_argument(
        "--iterations",
        type=at_least_one,
        default=DAY_RUNS,
        help=f"whole-day runs at most (--method day; default {DAY_RUNS})",
    )
    staff.add_argument("--start", type=Path, help="staffing table CSV to start from (--method day)")
    staff.add_argument(
        "--intervals", metavar="HH:MM-HH:MM", help="plan only the intervals in this window"
    )
    staff.add_argument("--replications", type=int, help="replications per evaluated staffing")
    staff.add_argument(
        "--verify", action="store_true", help="then simulate the day with the staffing found"
    )

    rp = sub.add_parser("replay", help="replay a recorded day through the routing core")
    _common(rp)
    recorded = rp.add_mutually_exclusive_group(required=True)
    recorded.add_argument("--store", type=Path, metavar="DB", help="the engine's database")
    recorded.add_argument("--contacts", type=Path, metavar="CSV", help="a contacts CSV")
    rp.add_argument(
        "--data-keys", type=Path, metavar="FILE", help="the store's keys file (default: beside it)"
    )
    _day(rp)
    rp.add_argument("--staffing", type=Path, help="what-if: this staffing table CSV instead")
    rp.add_argument("--roster", type=Path, help="what-if: this roster CSV instead")
    rp.add_argument("--replications", type=int, help="replications (default: the scenario's)")
    rp.add_argument("--fit", type=Path, metavar="DIR", help="write the fitted scenario there")

    ql = sub.add_parser("queue-log", help="an Asterisk queue_log as a contacts CSV")
    ql.add_argument("log", type=Path, help="the queue_log file")
    ql.add_argument("--out", type=Path, required=True, help="the contacts CSV to write")
    _day(ql)

    er = sub.add_parser("erlang", help="Erlang C / Erlang A for one interval")
    er.add_argument("--calls", type=float, required=True, help="contacts offered in the interval")
    er.add_argument("--interval-minutes", type=float, required=True)
    er.add_argument("--aht", type=float, required=True, help="average handle time, seconds")
    er.add_argument("--target-seconds", type=float, required=True)
    er.add_argument(
        "--target-percent",
        type=percent,
        required=True,
        help=f"service level goal: {PERCENT_HELP}",
    )
    er.add_argument("--patience", type=float, help="mean patience, seconds (Erlang A)")
    er.add_argument("--agents", type=int, help="evaluate this many agents (default: required)")
    er.add_argument("--max-occupancy", type=percent, help=f"cap on occupancy: {PERCENT_HELP}")
    er.add_argument("--max-abandon", type=percent, help=f"cap on P(abandon): {PERCENT_HELP}")
    er.add_argument("--json", action="store_true", help="print one JSON object")
    return p


PERCENT_HELP = (
    "80, 80%% and 0.8 all mean 80 %%: a number over 1 is a percent, one below 1 a fraction; "
    "1 is refused (1 %% or 100 %%?)"
)


def percent(text: str) -> float:
    """A share given as ``80``, ``80%`` or ``0.8`` -> 80.0 (percent); anything else, and the
    ambiguous ``1``, is refused."""
    raw = text.strip()
    explicit = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not explicit and value == 1:
        raise argparse.ArgumentTypeError(f"{text!r} is ambiguous: write 100 or 1% (or 0.01)")
    share = value if explicit or value > 1 else value * 100.0
    if not 0 < share <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share within (0, 100] %")
    return share


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--seed", type=int, help="base seed (default: the scenario's)")
    p.add_argument("--workers", type=int, help="parallel processes (default: all cores)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the replications on the Dask cluster of this scheduler (tcp://host:8786)",
    )
    p.add_argument("--out", type=Path, default=None, help="output directory")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--json", action="store_true", help="print the JSON result on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def _runner(args: argparse.Namespace) -> Runner:
    """The local process pool, or the Dask cluster of ``--scheduler``."""
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers applies to the local pool: a cluster has its own workers")
    return Runner(args.workers, scheduler=args.scheduler)


def _day(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--day",
        type=date.fromisoformat,
        help="YYYY-MM-DD (default: a store's last day, a file's only day)",
    )
    p.add_argument("--timezone", help="IANA time zone of the times (default: this machine's)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "erlang":
            return _erlang(args)
        if args.command == "run":
            return _run(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "queue-log":
            return _queue_log(args)
        return _staff(args)
    except ConfigError as err:
        for issue in err.issues:
            print(f"error: {issue}", file=sys.stderr)
        return 1
    except (ValueError, StoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _erlang(args: argparse.Namespace) -> int:
    interval = args.interval_minutes * 60.0
    max_occupancy = args.max_occupancy / 100.0 if args.max_occupancy is not None else None
    max_abandon = args.max_abandon / 100.0 if args.max_abandon is not None else None

    def at(agents: int) -> ErlangResult:
        if args.patience is not None:
            return erlang_a_metrics(
                args.calls, interval, args.aht, args.target_seconds, agents, args.patience
            )
        return erlang_c_metrics(args.calls, interval, args.aht, args.target_seconds, agents)

    try:
        needed: ErlangResult | None = required_agents(
            args.calls,
            interval,
            args.aht,
            args.target_seconds,
            args.target_percent,
            patience=args.patience,
            max_occupancy=max_occupancy,
            max_abandon=max_abandon,
        )
    except ValueError:
        if args.agents is None:
            raise
        needed = None  # (no staffing meets the targets: the given one is still worth a look)
    result = at(args.agents) if args.agents is not None or needed is None else needed
    fewest = needed.agents if needed is not None else None
    table = erlang_table(
        result.agents, at, traffic=result.traffic_erlangs, patient=args.patience is not None
    )
    target = (args.target_seconds, args.target_percent)
    if args.json:
        print(json.dumps(erlang_json(result, table, fewest, target)))
    else:
        print(erlang_text(result, table, fewest, target))
    return 0


def _load(args: argparse.Namespace) -> Model:
    model = load_scenario(args.scenario)
    if args.seed is not None:
        model = replace(model, seed=args.seed)
    return model


def _out(args: argparse.Namespace, what: str) -> Path:
    if args.out is not None:
        return Path(args.out)
    return Path(f"{args.scenario.stem}-{what}")


def _run(args: argparse.Namespace) -> int:
    week = load_week(args.scenario)
    if week is not None:
        return _run_week(args, week)
    model = _load(args)
    if args.staffing is not None:
        names = [g.name for g in model.groups]
        model = model.with_staffing(load_staffing(args.staffing, model.forecast, names))
    elif args.roster is not None:
        model = replace(model, staffing=None, roster=load_roster(args.roster, model.groups))
    if model.staffing is None and model.roster is None:
        issue = ConfigIssue(args.scenario.name, "staffing", "no staffing table or roster given")
        raise ScenarioError([issue])
    progress = ProgressLine("replications", enabled=False if args.quiet else None)
    with _runner(args) as runner:
        tallies = replicate(
            model, replications=args.replications, runner=runner, by_tier=True, progress=progress
        )
    summary = summary_of(model, tallies)
    for line in run_warnings(model, summary):
        print(line, file=sys.stderr)
    outdir = _out(args, "run")
    files = write_run(model, summary, outdir, charts=not args.no_charts)
    if args.json:
        print((outdir / "summary.json").read_text(encoding="utf-8"), end="")
    else:
        print(run_text(model, summary))
        print(f"written: {', '.join(str(f) for f in files)}")
    return 0


def _staff(args: argparse.Namespace) -> int:
    week = load_week(args.scenario)
    if week is not None:
        return _staff_week(args, week)
    model = _load(args)
    if args.replications is not None:
        search = model.search.model_copy(update={"replications": args.replications})
        model = replace(model, search=search)
    chosen = None
    if args.intervals:
        chosen = _window(args.intervals, model)
    method = "analytic" if args.analytic else args.method
    outdir = _out(args, "staff")
    display = Display(enabled=False if args.quiet else None)
    watch = SearchProgress(
        display,
        [g.name for g in model.groups],
        [model.forecast.label(k) for k in range(model.forecast.intervals)],
    )
    with display, _runner(args) as runner:
        if method == "day":
            if chosen is not None:
                raise ValueError("--intervals does not apply to --method day")
            start = None
            if args.start is not None:
                names = [g.name for g in model.groups]
                start = load_staffing(args.start, model.forecast, names)
            plan = refine_day(
                model,
                runner,
                start=start,
                iterations=args.iterations,
                progress=lambda done, total: display.update("day runs", done, total),
            )
        else:
            plan = plan_staffing(
                model,
                runner=runner,
                analytic=method == "analytic",
                intervals=chosen,
                progress=watch.intervals,
                replications=watch.replications,
                evaluations=watch.evaluation,
            )
        files = write_plan(model, plan, outdir, charts=not args.no_charts)
        if args.verify:
            day = model.with_staffing(plan.staffing(model.forecast))
            tallies = replicate(
                day,
                runner=runner,
                by_tier=True,
                progress=lambda done, total: display.update("verify replications", done, total),
            )
            summary = summary_of(day, tallies)
            files += write_run(day, summary, outdir, charts=not args.no_charts)
    if args.verify:
        for line in run_warnings(day, summary):
            print(line, file=sys.stderr)
    if args.json:
        print((outdir / "staffing.json").read_text(encoding="utf-8"), end="")
    else:
        print(plan_text(model, plan))
        if args.verify:
            print(run_text(day, summary))
        print(f"written: {', '.join(str(f) for f in files)}")
    return 0


def _week(args: argparse.Namespace, week: Week) -> Week:
    """The week with the command line's seed and replications."""
    if args.seed is not None:
        week = week.map(lambda m: replace(m, seed=args.seed))
    if args.command == "staff" and args.replications is not None:
        week = week.map(
            lambda m: replace(
                m, search=m.search.model_copy(update={"replications": args.replications})
            )
        )
    return week


def _run_week(args: argparse.Namespace, week: Week) -> int:
    """``run`` over a week: every day on its own, then the week pooled (``sim.week``)."""
    week = _week(args, week)
    if args.roster is not None:
        raise ValueError("--roster: a roster is one day's shifts; a week takes --staffing")
    if args.staffing is not None:
        week = with_staffing_file(week, args.staffing)
    if any(d.model.staffing is None for d in week.days):
        issue = ConfigIssue(args.scenario.name, "staffing", "no staffing table given")
        raise ScenarioError([issue])
    progress = ProgressLine("replications", enabled=False if args.quiet else None)
    with _runner(args) as runner:
        run = run_week(
            week, runner, replications=args.replications, by_tier=True, progress=progress
        )
    for line in week_warnings(run):
        print(line, file=sys.stderr)
    outdir = _out(args, "run")
    files = write_week_run(run, outdir, charts=not args.no_charts)
    if args.json:
        print((outdir / "summary.json").read_text(encoding="utf-8"), end="")
    else:
        print(week_text(week_json(run)))
        print(f"written: {outdir}/ ({len(files)} files: {', '.join(week.labels)}, week)")
    return 0


def _staff_week(args: argparse.Namespace, week: Week) -> int:
    """``staff`` over a week: every day sized as a day alone, then agent-hours per day."""
    week = _week(args, week)
    method = "analytic" if args.analytic else args.method
    chosen: dict[str, list[int]] | None = None
    if args.intervals:
        if method == "day":
            raise ValueError("--intervals does not apply to --method day")
        chosen = span_intervals(week, *_span(args.intervals))
    if args.start is not None:
        if method != "day":
            raise ValueError("--start applies to --method day only")
        start = with_staffing_file(week, args.start)
    outdir = _out(args, "staff")
    display = Display(enabled=False if args.quiet else None)
    plans = []
    with display, _runner(args) as runner:
        for d, day in enumerate(week.days):
            model, fc = day.model, day.model.forecast
            if method == "day":
                plan = refine_day(
                    model,
                    runner,
                    start=start.days[d].model.staffing if args.start is not None else None,
                    iterations=args.iterations,
                    progress=partial(display.update, f"{day.label} day runs"),
                )
            else:
                watch = SearchProgress(
                    display,
                    [g.name for g in model.groups],
                    [f"{day.label} {fc.label(k)}" for k in range(fc.intervals)],
                )
                plan = plan_staffing(
                    model,
                    runner=runner,
                    analytic=method == "analytic",
                    intervals=chosen[day.label] if chosen is not None else None,
                    progress=watch.intervals,
                    replications=watch.replications,
                    evaluations=watch.evaluation,
                )
            plans.append(plan)
        hours = agent_hours(week, plans)
        files = write_week_plan(week, plans, hours, outdir, charts=not args.no_charts)
        if args.verify:
            run = run_week(
                staffed_by(week, plans),
                runner,
                by_tier=True,
                progress=lambda done, total: display.update("verify replications", done, total),
            )
            files += write_week_run(run, outdir, charts=not args.no_charts)
    if args.verify:
        for line in week_warnings(run):
            print(line, file=sys.stderr)
    if args.json:
        print((outdir / "staffing.json").read_text(encoding="utf-8"), end="")
    else:
        print(week_plan_text(week, plans, hours))
        if args.verify:
            print(week_text(week_json(run)))
        print(f"written: {outdir}/ ({len(files)} files: {', '.join(week.labels)}, week)")
    return 0


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"--timezone: unknown time zone {name!r}") from None


def _replay(args: argparse.Namespace) -> int:
    logins = None
    if args.store is not None:
        stored = read_stored_day(args.store, args.data_keys, args.day, _zone(args.timezone))
        recording, logins = stored.recording, stored.shifts
    else:
        recording = read_contacts(args.contacts, args.day)
    setup = replay_setup(
        args.scenario, recording, staffing=args.staffing, roster=args.roster, logins=logins
    )
    model = setup.model if args.seed is None else replace(setup.model, seed=args.seed)
    progress = ProgressLine("replays", enabled=False if args.quiet else None)
    n = args.replications if args.replications is not None else model.replications
    with _runner(args) as runner:
        tallies = replay(
            model, setup.day, replications=n, seed=model.seed, runner=runner, progress=progress
        )
    summary = summary_of(model, tallies)
    outdir = _out(args, "replay")
    files = write_run(model, summary, outdir, charts=not args.no_charts)
    doc = replay_json(setup, recorded_tallies(setup), summary)
    (outdir / "replay.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    files.append(outdir / "replay.json")
    if args.fit is not None:
        files += write_fitted(setup, args.scenario, args.fit)
    if args.json:
        print(json.dumps(doc))
    else:
        print(replay_text(doc))
        print(f"written: {', '.join(str(f) for f in files)}")
    return 0


def _queue_log(args: argparse.Namespace) -> int:
    recording = read_queue_log(args.log, _zone(args.timezone), args.day)
    write_contacts(recording, args.out)
    n = len(recording.contacts)
    print(f"{args.out}: {n} contacts of {recording.day.isoformat()} from {args.log}")
    return 0


def _span(text: str) -> tuple[float, float]:
    """``HH:MM-HH:MM`` -> (from, to) in seconds since midnight."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"--intervals: expected HH:MM-HH:MM, got {text!r}")
    return parse_clock(start), parse_clock(end)


def _window(text: str, model: Model) -> list[int]:
    lo, hi = _span(text)
    fc = model.forecast
    chosen = [k for k in range(fc.intervals) if lo <= fc.start + k * fc.interval_seconds < hi]
    if not chosen:
        raise ValueError(f"--intervals: no forecast interval starts within {text}")
    return chosen


if __name__ == "__main__":
    sys.exit(main())
