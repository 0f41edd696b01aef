"""Planner benchmark: simulated contacts per second, the production routing core vs bare SimPy.

Two measurements, both in this run:

1. **Same traffic, two models.** An M/M/c queue (``AGENTS`` agents, occupancy ``RHO``,
   exponential handle times of ``AHT`` s, no abandonment) simulated for ``hours``:

   * baseline: a bare SimPy model (a ``simpy.Resource`` of c servers, one generator process
     per customer) - the least a SimPy model of this traffic costs;
   * ours: ``sim.driver`` running the real ``contactcenter.routing.Router`` on a single-skill
     center with the same rates, and computing statistics from its domain events.

   Both run in this process; contacts per second per core = contacts / CPU seconds
   (``time.process_time``, so other load on the machine does not count against us).

2. **A planning day.** ``config/planning/scenario.yaml`` (the example center, cloned up to
   ~900 agents, about 100k contacts, 10 queues, tiers, patience, retrials, overflow), 30
   replications in 2 worker processes: wall seconds (``day_x30_seconds``) and the CPU
   seconds each worker spent (what the wall time would be on an otherwise idle machine).
   ``--quick`` runs one replication of the first ``QUICK_INTERVALS`` intervals instead and
   extrapolates its CPU time by contacts (``day_x30_measured=0``).

3. **A planning day's staffing.** ``contactcenter-sim staff`` on the same scenario: the
   simulation search of every interval (``sim.staffing.plan_staffing``, its sequential
   decision at the scenario's confidence) in 2 worker processes, wall seconds
   (``staff_day_seconds``). ``--quick`` searches the first interval only, with
   ``QUICK_REPLICATIONS`` replications of one interval length a staffing, and scales its wall
   time by the intervals (a smoke test, not a measurement: ``staff_day_measured=0``). The
   search stops after the interval that crosses ``--staff-budget`` seconds (default
   ``STAFF_BUDGET_SECONDS``, 30 minutes) and extrapolates the rest of the day by contacts
   (``staff_day_measured=0``, ``staff_day_intervals`` searched).

4. **A planning day's quick staffing.** ``contactcenter-sim staff --method day`` on the same
   scenario (``sim.staffing.refine_day``: whole-day runs, upward only, at most ``DAY_RUNS``),
   in 2 worker processes: wall seconds (``day_method_seconds``), the runs it took and the
   intervals still short after them. ``--quick`` runs it once on the first ``QUICK_INTERVALS``
   intervals with ``QUICK_REPLICATIONS`` replications (``day_method_measured=0``).

Floors: >= 10,000 contacts/s per core with the production core; day x 30 < 60 s and the
day's staffing search < 300 s on 2 cores.
Last line: ``key=value`` pairs. ``--profile`` prints the hot spots of one planning day.

Usage: ``python bench/sim.py [--quick] [--profile] [--staff-budget SECONDS]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import sys
import time
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import simpy

try:
    import sim  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sim as planner
from contactcenter.compiled import libpython_linkage
from contactcenter.routing import COMPILED
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.replications import Runner, seeds
from sim.scenario import Model, load_scenario
from sim.staffing import DAY_RUNS, Assessment, plan_staffing, refine_day

AGENTS = 50
RHO = 0.9
AHT = 300.0
FLOOR_CONTACTS_PER_S = 10_000.0
FLOOR_DAY_X30_SECONDS = 60.0
FLOOR_STAFF_DAY_SECONDS = 300.0
QUICK_REPLICATIONS = 4
STAFF_BUDGET_SECONDS = 1800.0
"""The day's staffing search stops after the interval that crosses this; the rest of the
day is then extrapolated by contacts (``staff_day_measured=0``)."""
DAY_REPLICATIONS = 30
WORKERS = 2
QUICK_INTERVALS = 4
ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "config" / "planning" / "scenario.yaml"


def bare_simpy(hours: float, seed: int) -> int:
    """M/M/c in plain SimPy; returns the contacts served."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    rate = RHO * AGENTS / AHT
    end = hours * 3600.0
    served = 0
    waits = 0.0

    def contact(arrived: float, handle: float) -> Generator[simpy.Event, Any, None]:
        nonlocal served, waits
        with agents.request() as request:
            yield request
            waits += env.now - arrived
            yield env.timeout(handle)
        served += 1

    def arrivals() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.exponential(1.0 / rate))
            if env.now >= end:
                return
            env.process(contact(env.now, rng.exponential(AHT)))

    env.process(arrivals())
    env.run()
    return served


def ours(hours: float, seed: int) -> int:
    center = simple_center(AGENTS, threshold_seconds=20)
    model = stationary_model(center, {"q": RHO * AGENTS / AHT * 3600}, AHT, hours=hours)
    return simulate(model, seed).contacts


def cpu_rate(fn: Any, hours: float) -> tuple[int, float, float]:
    """(contacts, CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    n = fn(hours, 1)
    return n, time.process_time() - cpu, time.perf_counter() - wall


def timed(model: Model, seed: np.random.SeedSequence) -> tuple[int, float]:
    """One replication in a worker: (contacts, CPU seconds)."""
    cpu = time.process_time()
    contacts = simulate(model, seed).contacts
    return contacts, time.process_time() - cpu


def planning_day(quick: bool) -> tuple[float, float, int, bool]:
    """(day x 30 wall seconds, day x 30 CPU seconds per worker, contacts per day, measured).

    Quick: one replication of the first intervals in this process, extrapolated by contacts.
    """
    model = load_scenario(SCENARIO)
    day_contacts = float(model.forecast.contacts.sum())
    if quick:
        contacts, cpu = timed(model.first_intervals(QUICK_INTERVALS), seeds(1, 1)[0])
        estimate = cpu / contacts * day_contacts * DAY_REPLICATIONS / WORKERS
        return estimate, estimate, int(day_contacts), False
    with ProcessPoolExecutor(WORKERS) as pool:
        start = time.perf_counter()
        runs = list(pool.map(timed, [model] * DAY_REPLICATIONS, seeds(1, DAY_REPLICATIONS)))
        wall = time.perf_counter() - start
    cpu = sum(c for _, c in runs) / WORKERS
    return wall, cpu, int(sum(n for n, _ in runs) / DAY_REPLICATIONS), True


def staffing_day(
    quick: bool, budget: float = STAFF_BUDGET_SECONDS
) -> tuple[float, int, int, int, bool]:
    """(wall seconds for the whole day's search, evaluations, replications, intervals
    searched, measured).

    Intervals are searched in order until ``budget`` wall seconds are spent; a day not
    finished by then is extrapolated by contacts from the intervals done (not measured)."""
    model = load_scenario(SCENARIO)
    intervals = range(model.forecast.intervals)
    if quick:
        intervals = range(1)
        few = {
            "replications": QUICK_REPLICATIONS,
            "max_replications": QUICK_REPLICATIONS,
            "measure_intervals": 1,
        }
        quick_search = model.search.model_copy(update=few)
        model = replace(model, search=quick_search)
    replications = evaluations = 0

    def count(_k: int, _counts: tuple[int, ...], assessment: Assessment) -> None:
        nonlocal replications
        replications += assessment.replications

    done: list[int] = []
    with Runner(WORKERS) as runner:
        start = time.perf_counter()
        for k in intervals:
            plan = plan_staffing(model, runner=runner, intervals=[k], evaluations=count)
            evaluations += plan.intervals[0].evaluations
            done.append(k)
            if time.perf_counter() - start > budget:
                break
        wall = time.perf_counter() - start
    contacts = model.forecast.contacts
    measured = len(done) == model.forecast.intervals
    if not measured:
        wall *= float(contacts.sum()) / float(contacts[done].sum())
    return wall, evaluations, replications, len(done), measured


def day_method(quick: bool) -> tuple[float, int, int, bool]:
    """(wall seconds of the whole-day method, runs, intervals still short, measured)."""
    model = load_scenario(SCENARIO)
    iterations = DAY_RUNS
    if quick:
        few = model.search.model_copy(update={"replications": QUICK_REPLICATIONS})
        model = replace(model.first_intervals(QUICK_INTERVALS), search=few)
        iterations = 1
    with Runner(WORKERS) as runner:
        start = time.perf_counter()
        plan = refine_day(model, runner, iterations=iterations)
        wall = time.perf_counter() - start
    short = sum(not p.assessment.meets for p in plan.intervals)
    return wall, plan.intervals[0].evaluations, short, not quick


def profile_day(top: int) -> None:
    model = load_scenario(SCENARIO)
    profiler = cProfile.Profile()
    profiler.enable()
    simulate(model, 1)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--profile", action="store_true", help="profile one planning day")
    parser.add_argument("--top", type=int, default=35, help="rows of profile output")
    parser.add_argument(
        "--staff-budget",
        type=float,
        default=STAFF_BUDGET_SECONDS,
        metavar="SECONDS",
        help="wall seconds after which the staffing search extrapolates the rest of the day",
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile_day(args.top)
        return 0
    hours = 4.0 if args.quick else 40.0
    base_n, base_cpu, base_wall = cpu_rate(bare_simpy, hours)
    our_n, our_cpu, our_wall = cpu_rate(ours, hours)
    base_rate, our_rate = base_n / base_cpu, our_n / our_cpu
    linkage = libpython_linkage()
    print(f"python: {platform.python_version()} ({sys.executable}, libpython {linkage})")
    print(f"routing core: {'compiled (mypyc)' if COMPILED else 'pure Python'}")
    print(f"planner driver: {'compiled (mypyc)' if planner.COMPILED else 'pure Python'}")
    print(f"M/M/c, {AGENTS} agents, occupancy {RHO}, AHT {AHT:.0f} s, {hours:g} h simulated")
    print(f"  bare SimPy:            {base_n:>8,} contacts {base_rate:>10,.0f}/s per core")
    print(f"  driver + routing core: {our_n:>8,} contacts {our_rate:>10,.0f}/s per core")
    print(f"  cost of the real core: {base_rate / our_rate:.1f}x the bare model per contact")
    day_seconds, day_cpu, day_contacts, measured = planning_day(args.quick)
    how = "measured" if measured else "estimated from a short run's CPU time"
    print(
        f"planning day: {day_contacts:,} contacts x {DAY_REPLICATIONS} replications on "
        f"{WORKERS} workers: {day_seconds:.0f} s wall, {day_cpu:.0f} CPU s per worker ({how})"
    )
    staff_seconds, evaluations, staff_replications, staff_intervals, staff_measured = staffing_day(
        args.quick, args.staff_budget
    )
    how = "measured" if staff_measured else "extrapolated by contacts from the intervals done"
    print(
        f"staffing search of the day: {evaluations} staffings judged, {staff_replications:,} "
        f"replications in {staff_intervals} intervals, {staff_seconds:.0f} s wall on {WORKERS} "
        f"workers ({how})"
    )
    quick_seconds, quick_runs, quick_short, quick_measured = day_method(args.quick)
    print(
        f"quick staffing of the day (--method day): {quick_runs} whole-day runs, "
        f"{quick_short} intervals still short, {quick_seconds:.0f} s wall on {WORKERS} workers"
        + ("" if quick_measured else " (the first intervals only)")
    )
    pairs = {
        "quick": int(args.quick),
        "core": "compiled" if COMPILED else "pure",
        "driver": "compiled" if planner.COMPILED else "pure",
        "python": platform.python_version(),
        "libpython": linkage,
        "contacts_per_s_core": f"{our_rate:.0f}",
        "contacts_per_s_simpy_baseline": f"{base_rate:.0f}",
        "ratio_core_vs_baseline": f"{our_rate / base_rate:.3f}",
        "wall_contacts_per_s": f"{our_n / our_wall:.0f}",
        "wall_contacts_per_s_simpy_baseline": f"{base_n / base_wall:.0f}",
        "day_contacts": day_contacts,
        "day_x30_seconds": f"{day_seconds:.1f}",
        "day_x30_cpu_seconds_per_worker": f"{day_cpu:.1f}",
        "day_x30_measured": int(measured),
        "staff_day_seconds": f"{staff_seconds:.1f}",
        "staff_day_measured": int(staff_measured),
        "staff_day_evaluations": evaluations,
        "staff_day_replications": staff_replications,
        "staff_day_intervals": staff_intervals,
        "day_method_seconds": f"{quick_seconds:.1f}",
        "day_method_runs": quick_runs,
        "day_method_short": quick_short,
        "day_method_measured": int(quick_measured),
        "floor_contacts_per_s_met": int(our_rate >= FLOOR_CONTACTS_PER_S),
        "floor_day_x30_met": int(day_seconds < FLOOR_DAY_X30_SECONDS),
        "floor_staff_day_met": int(staff_seconds < FLOOR_STAFF_DAY_SECONDS),
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
