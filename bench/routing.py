"""Routing-core benchmark: full contact lifecycles with 1k, 10k and 100k contacts waiting.

The center is built in code (``build_center``): 1,000 agents, 50 queues (voice and chat), 20
skills. Each agent has 2-4 skills (proficiency 1-5) and is a member of 3-5 queues (tier level 1
or 2); each queue has 2-3 escalation steps (its primary team, then its backup team, then any
agent with the skill) and a short wrap-up. Everything random comes from one seeded generator,
so every run builds the same center and the same arrival stream.

The driver logs every agent in; then, for each backlog size N in turn (1k, 10k, 100k, on the
same router: the backlog grows), it lets contacts arrive until every agent is busy and N
contacts wait, warms up, then times (``time.perf_counter``) a steady-state loop of lifecycles
on one thread. One step of the loop:

    the oldest active contact completes -> wrap_up_done -> the router offers the freed agent
    (or any other ready agent) the next contact -> accepted -> a new contact arrives, which
    keeps N contacts waiting.

Simulated time moves on ``DT`` seconds a step (1,000 agents handling contacts of ~5 minutes
complete ~3 a second), so every contact really waits, escalates and breaches its target:
each lifecycle carries the same timer work whatever the backlog.

The baseline, measured in the same run on the same workload, is a naive matcher: the waiting
contacts in a plain Python list that a freed agent scans linearly for the best eligible
contact (membership, tier level, skill and proficiency per escalation step; the same score).

Prints human-readable lines, then, last, one line of ``key=value`` pairs. Floors reported
against: >= 20,000 lifecycles/s on one core at every backlog, and cost per lifecycle at 100k
waiting <= 2x the cost at 1k.

It runs whichever core Python imports (``core=compiled`` when ``scripts/compile-core`` built
it, else ``core=pure``). ``--compare`` runs the benchmark twice, each in a child process: on the
compiled core as built in this checkout and on a copy of the package without its compiled
modules (pure Python), then prints both runs and, last, their rates and ratio
(``lifecycles_per_s_pure``, ``lifecycles_per_s_compiled``, ``compiled_speedup``).

Usage: ``python bench/routing.py [--quick] [--profile N | --compare]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Protocol

try:
    import contactcenter  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contactcenter.config import (
    AgentConfig,
    Center,
    CenterSettings,
    Channel,
    EscalationStep,
    QueueConfig,
    Skill,
    Strategy,
    Tier,
    build_center,
)
from contactcenter.events import ContactOffered, Event
from contactcenter.routing import COMPILED, Router

SEED = 20_240_611
N_AGENTS = 1_000
N_QUEUES = 50
N_SKILLS = 20
DT = 0.3
"""Simulated seconds between two lifecycles (and between two arrivals while pre-filling)."""

BACKLOGS: tuple[int, ...] = (1_000, 10_000, 100_000)
FLOOR_LIFECYCLES_PER_S = 20_000.0
FLOOR_COST_RATIO = 2.0
RATIO_BACKLOG = 10_000
"""The backlog at which ``ratio_vs_naive`` compares the router with the naive matcher."""

TIERS = (
    Tier(id="standard", priority=0, weight=1.0),
    Tier(id="gold", priority=50, weight=1.5),
    Tier(id="vip", priority=100, weight=3.0),
)
TIER_MIX = (0.85, 0.12, 0.03)
STRATEGIES: tuple[Strategy, ...] = ("longest_idle", "least_occupied", "most_skilled", "round_robin")


# == the center ================================================================================


def build_bench_center(seed: int = SEED) -> Center:
    """1,000 agents, 50 queues (25 voice, 25 chat), 20 skills; reproducible from ``seed``."""
    rng = random.Random(seed)
    skills = [f"s{i:02d}" for i in range(N_SKILLS)]
    settings = CenterSettings(
        name="routing bench", skills=tuple(Skill(id=s) for s in skills), tiers=TIERS
    )
    queues: list[QueueConfig] = []
    for i in range(N_QUEUES):
        channel: Channel = "voice" if i % 2 == 0 else "chat"
        short = channel == "chat"  # chat escalates sooner
        steps = [EscalationStep(after_seconds=0, max_tier=1)]
        if rng.random() < 0.7:  # 3 steps: primary team, backup team, anyone with the skill
            steps.append(EscalationStep(after_seconds=15 if short else 30, max_tier=2))
        steps.append(
            EscalationStep(after_seconds=60 if short else 120, any_agent=True, min_proficiency=1)
        )
        queues.append(
            QueueConfig(
                id=f"q{i:02d}",
                channel=channel,
                skills={skills[i % N_SKILLS]: rng.randint(1, 3)},
                priority=10 if rng.random() < 0.1 else 0,
                escalation=tuple(steps),
                wrap_up_seconds=float(rng.choice((2, 3, 5))),
                selection=rng.choice(STRATEGIES),
            )
        )
    by_skill: dict[str, list[str]] = {s: [] for s in skills}
    for q in queues:
        for s in q.skills:
            by_skill[s].append(q.id)
    agents: list[AgentConfig] = []
    for i in range(N_AGENTS):
        own = rng.sample(skills, rng.randint(2, 4))
        candidates = sorted({qid for s in own for qid in by_skill[s]})
        members = rng.sample(candidates, min(rng.randint(3, 5), len(candidates)))
        agents.append(
            AgentConfig(
                id=f"a{i:04d}",
                skills={s: rng.randint(1, 5) for s in own},
                queues={qid: 1 if rng.random() < 0.6 else 2 for qid in sorted(members)},
            )
        )
    return build_center(settings, queues, agents)


class ArrivalStream:
    """The same reproducible sequence of (queue, tier) arrivals for every driver.

    Queue demand follows its staffing (members, with +-30 % noise), tiers ``TIER_MIX``. Drawn
    ahead of the timed loop; drawn on demand (rarely) past ``ahead``. Queues and tiers come from
    two generators, so the sequence does not depend on how much is drawn at once.
    """

    def __init__(self, center: Center, ahead: int, seed: int = SEED) -> None:
        self._queue_rng = random.Random(seed + 1)
        self._tier_rng = random.Random(seed + 2)
        members = dict.fromkeys(center.queues, 0)
        for a in center.agents.values():
            for qid in a.queues:
                members[qid] += 1
        self._queues = list(center.queues)
        self._weights = [
            max(members[q], 1) * self._queue_rng.uniform(0.7, 1.3) for q in self._queues
        ]
        self._tiers = [t.id for t in TIERS]
        self._items: list[tuple[str, str]] = []
        self._next = 0
        self._draw(ahead)

    def _draw(self, n: int) -> None:
        qs = self._queue_rng.choices(self._queues, self._weights, k=n)
        ts = self._tier_rng.choices(self._tiers, TIER_MIX, k=n)
        self._items.extend(zip(qs, ts, strict=True))

    def next(self) -> tuple[str, str]:
        if self._next >= len(self._items):
            self._draw(10_000)
        item = self._items[self._next]
        self._next += 1
        return item


# == drivers ===================================================================================


class Driver(Protocol):
    """What the benchmark loop needs from a matcher under test."""

    name: str
    waiting: int

    def prefill(self, backlog: int) -> None:
        """Arrive contacts (agents log in at construction) until ``backlog`` wait; by then
        every agent is busy."""

    def step(self) -> None:
        """One lifecycle: complete, wrap up, offer and accept, arrive."""

    def idle_agents(self) -> int:
        """Agents holding no contact."""


class RouterDriver:
    """Drives the routing core the way the runtime does: inputs stamped ``now``, offers
    accepted at once, ``next_deadline()`` asked after every step."""

    name = "router"

    def __init__(self, center: Center, stream: ArrivalStream) -> None:
        self.router = Router(center)
        self.stream = stream
        self.now = 0.0
        self.tick = 0
        self.active: deque[str] = deque()
        self.waiting = 0
        self.backlog = 0
        self.arrived = 0
        self.lifecycles = 0
        for aid in center.agents:
            self._carry_out(self.router.agent_logged_in(self.now, aid))

    def _carry_out(self, events: list[Event]) -> None:
        """Accept every offer (an accept may free more chat capacity: more offers)."""
        offered = [e.contact_id for e in events if type(e) is ContactOffered]
        while offered:
            cid = offered.pop()
            self.waiting -= 1
            self.active.append(cid)
            for e in self.router.offer_accepted(self.now, cid):
                if type(e) is ContactOffered:
                    offered.append(e.contact_id)

    def _arrive(self) -> None:
        queue, tier = self.stream.next()
        self.arrived += 1
        self.waiting += 1
        cid = f"c{self.arrived}"
        self._carry_out(self.router.contact_arrived(self.now, cid, queue, tier=tier))

    def _tick(self) -> None:
        self.tick += 1
        self.now = self.tick * DT

    def prefill(self, backlog: int) -> None:
        self.backlog = backlog
        while self.waiting < backlog:
            self._tick()
            self._arrive()
        self.router.next_deadline()

    def step(self) -> None:
        self._tick()
        router, now = self.router, self.now
        cid = self.active.popleft()
        self._carry_out(router.contact_completed(now, cid))
        self._carry_out(router.wrap_up_done(now, cid, "resolved"))
        self.lifecycles += 1
        while self.waiting < self.backlog:
            self._arrive()
        router.next_deadline()

    def idle_agents(self) -> int:
        return sum(1 for a in self.router.agents.values() if not a.slots)

    def waiting_in_router(self) -> int:
        """Waiting contacts as the router sees them (a consistency check of ``waiting``)."""
        return sum(len(self.router.waiting(q)) for q in self.router.queues)


class NaiveContact:
    __slots__ = ("arrived_at", "channel", "id", "priority", "queue", "seq", "threshold", "weight")

    def __init__(
        self,
        cid: str,
        queue: str,
        channel: Channel,
        arrived_at: float,
        seq: int,
        priority: int,
        weight: float,
        threshold: float,
    ) -> None:
        self.id = cid
        self.queue = queue
        self.channel: Channel = channel
        self.arrived_at = arrived_at
        self.seq = seq
        self.priority = priority
        self.weight = weight
        self.threshold = threshold


class NaiveAgent:
    __slots__ = ("blocks", "capacity", "counts", "eligible_after", "id", "idle_since", "index")

    def __init__(
        self,
        index: int,
        aid: str,
        capacity: dict[Channel, int],
        blocks: dict[Channel, tuple[Channel, ...]],
        eligible_after: dict[str, float],
    ) -> None:
        self.index = index
        """Position in the config."""
        self.id = aid
        self.capacity = capacity
        self.blocks = blocks
        self.counts: dict[Channel, int] = dict.fromkeys(capacity, 0)
        self.eligible_after = eligible_after
        """Queue -> wait in that queue from which on this agent may take its contacts."""
        self.idle_since = 0.0

    def can_take(self, channel: Channel) -> bool:
        if self.counts[channel] >= self.capacity[channel]:
            return False
        return not any(
            n and other != channel and channel in self.blocks[other]
            for other, n in self.counts.items()
        )


def naive_eligible_after(agent: AgentConfig, queue: QueueConfig) -> float | None:
    """The simplified static rule: membership (or ``any_agent``), tier level, proficiency."""
    level = agent.queues.get(queue.id)
    for step in queue.escalation:
        if step.dedicated_only:
            continue
        if level is None and not step.any_agent:
            continue
        if level is not None and step.max_tier is not None and level > step.max_tier:
            continue
        if all(
            agent.skills.get(skill, 0) >= (step.min_proficiency or minimum)
            for skill, minimum in queue.skills.items()
        ):
            return step.after_seconds
    return None


class NaiveDriver:
    """The baseline: a plain list of waiting contacts, scanned linearly when an agent frees
    up; a new contact scans the ready agents. Same workload and driver loop as the router's.

    Simplified: no timers, so an agent left with room but nothing eligible is looked at again
    only when a new contact arrives (the router also re-matches it when contacts escalate).
    """

    name = "naive"

    def __init__(self, center: Center, stream: ArrivalStream) -> None:
        self.stream = stream
        self.now = 0.0
        self.tick = 0
        self.active: deque[tuple[NaiveAgent, NaiveContact]] = deque()
        self.waiting_list: list[NaiveContact] = []
        self.waiting = 0
        self.backlog = 0
        self.arrived = 0
        self.lifecycles = 0
        channels = center.settings.channels
        self._channels: tuple[Channel, ...] = tuple(
            ch for ch in channels if any(q.channel == ch for q in center.queues.values())
        )
        """Channels some queue serves: the only ones an agent can have room for."""
        tiers = center.tiers
        self._tier = {t: (tiers[t].priority, tiers[t].weight) for t in tiers}
        self._queue: dict[str, tuple[Channel, int, float]] = {}
        for q in center.queues.values():
            threshold = q.answer_target.threshold_seconds
            assert threshold is not None
            self._queue[q.id] = (q.channel, q.priority, threshold)
        self.agents: list[NaiveAgent] = []
        for a in center.agents.values():
            after: dict[str, float] = {}
            for q in center.queues.values():
                start = naive_eligible_after(a, q)
                if start is not None and center.capacity(a, q.channel) > 0:
                    after[q.id] = start
            self.agents.append(
                NaiveAgent(
                    len(self.agents),
                    a.id,
                    {ch: center.capacity(a, ch) for ch in channels},
                    {ch: s.blocks for ch, s in channels.items()},
                    after,
                )
            )
        self.ready: dict[int, NaiveAgent] = dict(enumerate(self.agents))
        """Agents (by config position) with room for some contact (all are logged in)."""

    def _take(self, agent: NaiveAgent, c: NaiveContact) -> None:
        """Offer and accept at once; the agent stays ready while it has room."""
        agent.counts[c.channel] += 1
        self.active.append((agent, c))
        self.waiting -= 1
        if not any(agent.can_take(ch) for ch in self._channels):
            self.ready.pop(agent.index, None)

    def _serve(self, agent: NaiveAgent) -> None:
        """The agent has room: scan the whole waiting list for its best contact, repeatedly."""
        now = self.now
        while True:
            after = {
                q: a for q, a in agent.eligible_after.items() if agent.can_take(self._queue[q][0])
            }
            if not after:
                return
            waiting = self.waiting_list
            best_i = -1
            best_score = -1.0
            best: NaiveContact | None = None
            for i, c in enumerate(waiting):
                start = after.get(c.queue)
                if start is None:
                    continue
                wait = now - c.arrived_at
                if wait < start:
                    continue
                score = c.weight * wait / c.threshold
                if (
                    score > best_score
                    or best is None
                    or (
                        score == best_score
                        and (-c.priority, c.arrived_at, c.seq)
                        < (-best.priority, best.arrived_at, best.seq)
                    )
                ):
                    best_i, best_score, best = i, score, c
            if best is None:
                return
            waiting.pop(best_i)
            self._take(agent, best)

    def _arrive(self) -> None:
        queue, tier = self.stream.next()
        self.arrived += 1
        self.waiting += 1
        channel, qprio, threshold = self._queue[queue]
        tprio, weight = self._tier[tier]
        c = NaiveContact(
            f"c{self.arrived}", queue, channel, self.now, self.arrived, tprio + qprio, weight,
            threshold,
        )  # fmt: skip
        chosen: NaiveAgent | None = None
        for agent in self.ready.values():
            if (
                agent.eligible_after.get(queue) == 0
                and agent.can_take(channel)
                and (chosen is None or agent.idle_since < chosen.idle_since)
            ):
                chosen = agent
        if chosen is not None:
            self._take(chosen, c)
        else:
            self.waiting_list.append(c)

    def _tick(self) -> None:
        self.tick += 1
        self.now = self.tick * DT

    def _rescan_ready(self) -> None:
        """Ready agents may have become eligible for waiting contacts as those waited longer."""
        for agent in list(self.ready.values()):
            self._serve(agent)

    def prefill(self, backlog: int) -> None:
        self.backlog = backlog
        while self.waiting < backlog:
            self._tick()
            self._arrive()
            if self.ready and self.arrived % 256 == 0:
                self._rescan_ready()  # fill agents while the list is still short
        self._rescan_ready()
        while self.waiting < backlog:
            self._arrive()

    def step(self) -> None:
        self._tick()
        agent, c = self.active.popleft()
        agent.counts[c.channel] -= 1  # completed, wrap-up done
        if not any(agent.counts.values()):
            agent.idle_since = self.now
        self.lifecycles += 1
        self.ready[agent.index] = agent
        self._serve(agent)
        while self.waiting < self.backlog:
            self._arrive()

    def idle_agents(self) -> int:
        return sum(1 for a in self.agents if not any(a.counts.values()))


# == measuring =================================================================================


@dataclass(frozen=True)
class Result:
    driver: str
    backlog: int
    lifecycles: int
    seconds: float
    """Wall time of the steady-state loop (``time.perf_counter``)."""
    cpu_seconds: float
    """CPU time of this process over the same loop (``time.process_time``)."""
    waiting_after: int
    idle_agents_after_prefill: int
    prefill_seconds: float

    @property
    def per_s(self) -> float:
        return self.lifecycles / self.seconds

    @property
    def us_per_lifecycle(self) -> float:
        return self.seconds / self.lifecycles * 1e6

    @property
    def cpu_us_per_lifecycle(self) -> float:
        return self.cpu_seconds / self.lifecycles * 1e6


@dataclass(frozen=True)
class Job:
    """One driver at one backlog: ``lifecycles`` timed steps after ``warmup`` untimed ones."""

    make: Callable[[Center, ArrivalStream], Driver]
    backlog: int
    lifecycles: int
    warmup: int


def measure(
    center: Center, jobs: Sequence[Job], rounds: int, profile: cProfile.Profile | None = None
) -> list[Result]:
    """Set every job up, then time their steady-state loops, interleaved.

    Set-up (log in, pre-fill, warm up) is untimed and runs with the garbage collector off. The
    timed loops run with it on, as in production, in ``rounds`` rounds that each run every job
    for its share of lifecycles: a machine that gets busier or quieter during the run weighs
    on every backlog and on both matchers alike, which keeps the ratios honest.
    """
    drivers: list[Driver] = []
    setup: list[tuple[float, int]] = []
    for job in jobs:
        stream = ArrivalStream(center, ahead=job.backlog + 2 * (job.warmup + job.lifecycles))
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            driver = job.make(center, stream)
            driver.prefill(job.backlog)
            setup_seconds = time.perf_counter() - t0
            idle = driver.idle_agents()
            for _ in range(job.warmup):
                driver.step()
        finally:
            gc.enable()
        drivers.append(driver)
        setup.append((setup_seconds, idle))
    gc.collect()
    wall = [0.0] * len(jobs)
    cpu = [0.0] * len(jobs)
    for r in range(rounds):
        for i, (job, driver) in enumerate(zip(jobs, drivers, strict=True)):
            n = job.lifecycles * (r + 1) // rounds - job.lifecycles * r // rounds
            step = driver.step
            if profile is not None:
                profile.enable()
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                step()
            wall[i] += time.perf_counter() - t0
            cpu[i] += time.process_time() - c0
            if profile is not None:
                profile.disable()
    results: list[Result] = []
    for i, (job, driver) in enumerate(zip(jobs, drivers, strict=True)):
        if isinstance(driver, RouterDriver):
            assert driver.waiting_in_router() == driver.waiting, "waiting count out of step"
        seconds, idle = setup[i]
        result = Result(
            driver.name, job.backlog, job.lifecycles, wall[i], cpu[i], driver.waiting, idle,
            seconds,
        )  # fmt: skip
        results.append(result)
    return results


def label(backlog: int) -> str:
    return f"{backlog // 1000}k" if backlog % 1000 == 0 else str(backlog)


@dataclass(frozen=True)
class Plan:
    router_lifecycles: int
    router_warmup: int
    naive_lifecycles: dict[int, int]
    naive_warmup: int
    rounds: int


FULL = Plan(
    router_lifecycles=60_000,
    router_warmup=5_000,
    naive_lifecycles={1_000: 20_000, 10_000: 3_000, 100_000: 1_000},
    naive_warmup=100,
    rounds=20,
)
QUICK = Plan(
    router_lifecycles=1_000,
    router_warmup=200,
    naive_lifecycles={1_000: 200, 10_000: 50, 100_000: 5},
    naive_warmup=5,
    rounds=2,
)


def fmt(x: float) -> str:
    return f"{x:.6g}"


def reference_loop_us() -> float:
    """Best of 5, in microseconds: a fixed pure-Python loop (100,000 dict lookups and adds),
    to compare the speed of machines (and spot a busy one) across runs."""
    table = {i: i for i in range(1_000)}
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        total = 0
        for i in range(100_000):
            total += table[i % 1_000]
        best = min(best, time.perf_counter() - t0)
    return best * 1e6


def report(
    router: Sequence[Result], naive: Sequence[Result], quick: bool, ref_us: float
) -> list[str]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"routing-core benchmark{' (--quick: smoke-test counts)' if quick else ''}: "
        f"{N_AGENTS} agents, {N_QUEUES} queues, {N_SKILLS} skills, seed {SEED}, "
        f"one thread, Python {sys.version.split()[0]}, "
        f"{'compiled core (mypyc)' if COMPILED else 'pure-Python core'}",
        f"machine: reference loop {ref_us:.0f} us (best of 5), load average {load:.2f} "
        f"on {os.cpu_count()} CPUs; wall time is timed (CPU time shown for comparison), loops "
        f"interleaved in rounds",
    ]
    for r in [*router, *naive]:
        lines.append(
            f"  {r.driver:6} backlog {label(r.backlog):>4}: {r.lifecycles:>6} lifecycles in "
            f"{r.seconds:7.3f} s = {r.per_s:10.0f} lifecycles/s, {r.us_per_lifecycle:9.1f} "
            f"us/lifecycle ({r.cpu_us_per_lifecycle:.1f} us CPU); set-up "
            f"{r.prefill_seconds:.1f} s, idle agents after pre-fill "
            f"{r.idle_agents_after_prefill}, waiting after {r.waiting_after}"
        )
    by = {r.backlog: r for r in router}
    nby = {r.backlog: r for r in naive}
    lo, hi = min(by), max(by)
    minimum = min(r.per_s for r in router)
    cost_ratio = by[hi].us_per_lifecycle / by[lo].us_per_lifecycle
    ratio = by[RATIO_BACKLOG].per_s / nby[RATIO_BACKLOG].per_s
    tput_ok = minimum >= FLOOR_LIFECYCLES_PER_S
    flat_ok = cost_ratio <= FLOOR_COST_RATIO
    lines += [
        f"lifecycles/s, minimum over backlogs: {minimum:.0f} "
        f"(floor {FLOOR_LIFECYCLES_PER_S:.0f}: {'met' if tput_ok else 'NOT met'})",
        f"cost per lifecycle at {label(hi)} / at {label(lo)}: {cost_ratio:.2f} "
        f"(floor <= {FLOOR_COST_RATIO:.1f}: {'met' if flat_ok else 'NOT met'})",
        f"router vs naive linear scan at the {label(RATIO_BACKLOG)} backlog: {ratio:.1f}x",
    ]
    pairs: list[tuple[str, str]] = [
        ("lifecycles_per_s", fmt(minimum)),
        ("lifecycles_per_s_is", "min_over_backlogs"),
        ("ratio_vs_naive", fmt(ratio)),
        ("ratio_vs_naive_backlog", label(RATIO_BACKLOG)),
        (f"cost_ratio_{label(hi)}_vs_{label(lo)}", fmt(cost_ratio)),
    ]
    for r in router:
        pairs += [
            (f"lifecycles_per_s_{label(r.backlog)}", fmt(r.per_s)),
            (f"us_per_lifecycle_{label(r.backlog)}", fmt(r.us_per_lifecycle)),
            (f"cpu_us_per_lifecycle_{label(r.backlog)}", fmt(r.cpu_us_per_lifecycle)),
            (f"lifecycles_{label(r.backlog)}", str(r.lifecycles)),
        ]
    for r in naive:
        pairs += [
            (f"naive_lifecycles_per_s_{label(r.backlog)}", fmt(r.per_s)),
            (f"naive_lifecycles_{label(r.backlog)}", str(r.lifecycles)),
        ]
    pairs += [
        ("floor_lifecycles_per_s", fmt(FLOOR_LIFECYCLES_PER_S)),
        ("floor_cost_ratio", fmt(FLOOR_COST_RATIO)),
        ("floor_lifecycles_met", str(int(tput_ok))),
        ("floor_cost_ratio_met", str(int(flat_ok))),
        ("ref_loop_us", fmt(ref_us)),
        ("core", CORE),
        ("quick", str(int(quick))),
    ]
    lines.append(" ".join(f"{k}={v}" for k, v in pairs))
    return lines


CORE = "compiled" if COMPILED else "pure"


def run_child(core: str, quick: bool, pythonpath: str | None) -> tuple[list[str], dict[str, str]]:
    """This benchmark in a child process (``pythonpath`` first on its path): its output lines
    and summary pairs, checked to come from ``core``."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    argv = [sys.executable, str(Path(__file__).resolve()), *(["--quick"] if quick else [])]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench/routing.py: the {core} run failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    pairs = dict(item.split("=", 1) for item in lines[-1].split())
    if pairs.get("core") != core:
        raise SystemExit(f"bench/routing.py: the {core} run ran the {pairs.get('core')} core")
    return lines, pairs


def compare(quick: bool) -> int:
    """Run the benchmark on the compiled core, then on a pure-Python copy; print both and the
    ratio of their rates (lifecycles/s on the same workload)."""
    if not COMPILED:
        print(
            "bench/routing.py: --compare needs the compiled core: run scripts/compile-core",
            file=sys.stderr,
        )
        return 2
    import contactcenter  # (found on the path by now, installed or not)

    package = Path(contactcenter.__file__).resolve().parent
    compiled = run_child("compiled", quick, None)
    with tempfile.TemporaryDirectory(prefix="bench-pure-") as tmp:
        shutil.copytree(
            package,
            Path(tmp) / "contactcenter",
            ignore=lambda _, names: [
                n for n in names if n == "__pycache__" or n.endswith(tuple(EXTENSION_SUFFIXES))
            ],
        )
        pure = run_child("pure", quick, tmp)
    runs = {"compiled": compiled, "pure": pure}
    for core, (lines, _) in runs.items():
        print(f"-- {core} core --")
        for line in lines[:-1]:
            print(f"  {line}", flush=True)
    rate = {core: float(pairs["lifecycles_per_s"]) for core, (_, pairs) in runs.items()}
    out: list[tuple[str, str]] = [
        ("lifecycles_per_s_pure", fmt(rate["pure"])),
        ("lifecycles_per_s_compiled", fmt(rate["compiled"])),
        ("compiled_speedup", fmt(rate["compiled"] / rate["pure"])),
    ]
    for b in map(label, BACKLOGS):
        wall = {core: float(pairs[f"us_per_lifecycle_{b}"]) for core, (_, pairs) in runs.items()}
        cpu = {core: float(pairs[f"cpu_us_per_lifecycle_{b}"]) for core, (_, pairs) in runs.items()}
        out += [
            (f"compiled_speedup_{b}", fmt(wall["pure"] / wall["compiled"])),
            (f"compiled_cpu_speedup_{b}", fmt(cpu["pure"] / cpu["compiled"])),
        ]
    out.append(("quick", str(int(quick))))
    print(
        f"compiled vs pure, slowest backlog: {rate['compiled']:.0f} vs {rate['pure']:.0f} "
        f"lifecycles/s = {rate['compiled'] / rate['pure']:.2f}x"
    )
    print(" ".join(f"{k}={v}" for k, v in out))
    return 0


def profile_backlog(center: Center, backlog: int, lifecycles: int, top: int) -> None:
    """cProfile the router's steady-state loop at ``backlog`` and print the hot spots."""
    prof = cProfile.Profile()
    [r] = measure(center, [Job(RouterDriver, backlog, lifecycles, 2_000)], 1, profile=prof)
    print(f"profile: backlog {label(backlog)}, {r.lifecycles} lifecycles (profiled run)")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats(key).print_stats(top)
        print(out.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="BACKLOG",
        help="only cProfile the router's steady-state loop at this backlog",
    )
    parser.add_argument("--top", type=int, default=30, help="rows of profile output")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run on the compiled core (scripts/compile-core) and on pure Python; print both",
    )
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args.quick)
    plan = QUICK if args.quick else FULL
    center = build_bench_center()
    if args.profile is not None:
        profile_backlog(center, args.profile, plan.router_lifecycles // 2, args.top)
        return 0
    jobs = [Job(RouterDriver, n, plan.router_lifecycles, plan.router_warmup) for n in BACKLOGS]
    jobs += [Job(NaiveDriver, n, plan.naive_lifecycles[n], plan.naive_warmup) for n in BACKLOGS]
    results = measure(center, jobs, plan.rounds)
    router = [r for r in results if r.driver == RouterDriver.name]
    naive = [r for r in results if r.driver == NaiveDriver.name]
    for line in report(router, naive, args.quick, reference_loop_us()):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
