"""The SimPy driver of the production routing core: one replication of a ``Model``.

The ``Router`` is used unchanged; simulated time is ``env.now`` (seconds since midnight). The
model is a handful of small generator processes over an explicit environment, with one seeded
``numpy.random.Generator`` for every draw:

* ``_arrivals``: per interval, Poisson counts per queue at uniform times (a Poisson process
  with the interval's rate), each contact with its tier, handle time and patience drawn; a
  warm-up (``Model.warmup_seconds``, exactly that long) runs first at the first interval's
  rates and staffing, and the ``Collector`` counts nothing of it;
* ``_tick``, the clock: a callback timed for ``router.next_deadline()`` (escalation steps,
  ring timeouts, wrap-up ends...) that calls ``advance``; an input that creates an earlier
  deadline arms an earlier tick (a plain callback, not a process: one event a deadline);
* ``_schedule``: logs agents in and out per the staffing table or roster; an agent whose shift
  ends while holding contacts goes away and logs out when the last one ends;
* ``_ring``, ``_wrap``, ``_retry``, ``_back``: one contact's or one agent's timeline (ring
  delay, sampled wrap-up, retrial, return from a ``no-answer`` away); a customer whose call
  reached nobody calls again (``_call_again``) with the queue's retrial probability after a
  delay of its distribution, up to ``max_attempts`` calls: attempt ``n`` of customer ``c`` is
  contact ``c/n``; a voice call that finds its trunk's lines all held (``Model.trunks``)
  is blocked before the core and may call again the same way; the two every contact
  has, handle time (``_serve``) and patience (``_patience``), are single timeouts with a
  callback, which halves the events of the hot path.

The driver reacts to the events the router returns (an offer is accepted, an answered contact
starts its handle time...) and hands every event to the ``Collector``; no statistic is taken
from anywhere else. A customer offered a callback (``CallbackOffered``) takes it with the
queue's callback acceptance, the way the live edge calls ``Router.accept_callback``; the
call back itself is outbound work outside the routing core and is not simulated: callbacks
are counted per interval and queue, for the planner to schedule.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import simpy
from mypy_extensions import mypyc_attr

from contactcenter.agents import Presence
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactOffered,
    ContactRemoved,
    Event,
    OfferRejected,
    WrapUpEnded,
)
from contactcenter.routing import ContactState, Router
from sim.distributions import QueueDraws, arrival_counts
from sim.scenario import Model
from sim.statistics import Collector, Tallies

Process = Generator[simpy.Event, Any, None]


class Call(NamedTuple):
    """A customer's call waiting for an answer: what a retrial of it needs."""

    queue: str
    tier: str
    customer: str
    """The id of the customer's first call."""
    attempt: int
    """1 for the first call."""
    first_at: float
    """When the first call came."""


def thresholds(model: Model) -> list[float]:
    """Answer threshold per center queue (the scenario's override, else the queue's own)."""
    over = model.targets.threshold_seconds
    out = []
    for q in model.center.queues.values():
        own = q.answer_target.threshold_seconds
        assert own is not None
        out.append(over if over is not None else own)
    return out


# Compiled (scripts/compile-core), the replay's driver still subclasses it in Python.
@mypyc_attr(allow_interpreted_subclasses=True)
class Driver:
    """Runs one replication of ``model``.

    Two random streams: ``arrivals`` draws the forecast's contacts (when, which queue, tier,
    handle time, patience) and nothing else, so every staffing of a scenario meets the same
    customers (common random numbers: the staffing search compares neighbours by their
    staffing, not by luck); ``rng`` draws what depends on how the run unfolds (retrials,
    callback acceptance, sampled wrap-ups), and seeds the router's generator (``selection:
    random``) from a stream spawned off it, which shifts none of its own draws.
    """

    def __init__(
        self,
        model: Model,
        arrivals: np.random.Generator,
        rng: np.random.Generator,
        *,
        by_tier: bool = False,
        trace: Callable[[list[Event]], None] | None = None,
    ) -> None:
        """``by_tier``: also tally per customer tier. ``trace``: receives every event list the
        router returns, in order (for tests and debugging)."""
        fc = model.forecast
        self.model = model
        self.arrival_rng = arrivals
        self.rng = rng
        self.env = simpy.Environment(initial_time=fc.start - model.warmup_seconds)
        routing = rng.spawn(1)[0]
        self.router = Router(model.center, rng=random.Random(int(routing.integers(2**63))))
        group_of = {a: g for g, grp in enumerate(model.groups) for a in grp.agents}
        self.collector = Collector(
            queues=tuple(model.center.queues),
            thresholds=thresholds(model),
            short_abandon=model.center.settings.routing.short_abandon_seconds,
            start=fc.start,
            interval_seconds=fc.interval_seconds,
            intervals=fc.intervals,
            agent_groups=group_of,
            groups=len(model.groups),
            tiers=tuple(t.id for t in model.center.settings.tiers) if by_tier else None,
            no_wait=model.ring_delay + 1e-6,
            fcr_window=model.center.settings.fcr.window_days * 86_400,
        )
        self._observe = self.collector.handlers
        self._trace = trace
        self._actions: dict[type, Callable[[Any], None]] = {
            ContactOffered: self._offered,
            OfferRejected: self._rejected,
            ContactAnswered: self._answered,
            ContactAbandoned: self._abandoned,
            ContactRemoved: self._removed,
            WrapUpEnded: self._wrapped,
        }
        # Only rung agents can miss an offer, and only sampled wrap-ups need a timeline:
        # react to those events only when they matter (this is the hot loop).
        if model.ring_delay > 0:
            self._actions[AgentStateChanged] = self._agent_changed
        if model.wrap_up.mode == "sampled" or model.trunks:
            self._actions[ContactCompleted] = self._completed
        if any(b.callback_acceptance > 0 for b in model.behaviour.values()):
            self._actions[CallbackOffered] = self._callback_offered
        self._draws = {q: QueueDraws(b) for q, b in model.behaviour.items()}
        self._next_id = 0
        self._handle: dict[str, float] = {}
        self._waiting: dict[str, Call] = {}
        self._ringing: dict[str, ContactOffered] = {}
        self._in_wrap: set[str] = set()
        self._accepts: list[str] = []
        self._callbacks: list[str] = []
        self._logouts: list[str] = []
        self._on: set[str] = set()
        self._leaving: set[str] = set()
        self._in_system = 0
        self._trunk_of = {q: i for i, t in enumerate(model.trunks) for q in t.queues}
        self._free_lines = [t.lines for t in model.trunks]
        self._line_of: dict[str, int] = {}
        """Contact -> the trunk whose line it holds (waiting, ringing, talking)."""
        self._retries = 0
        self._arriving = True
        self._armed = math.inf
        """The core deadline the clock's next tick is armed for (none: infinity)."""
        self._done: simpy.Event = self.env.event()

    # == running ============================================================================

    def run(self) -> Tallies:
        env = self.env
        env.process(self._schedule())
        env.process(self._arrivals())
        env.process(self._looks())
        limit = env.timeout(self.model.forecast.end + self.model.drain_seconds - env.now)
        env.run(until=env.any_of([self._done, limit]))
        self.collector.look(env.now, self.router.agents)
        return self.collector.finish(env.now)

    def _looks(self) -> Process:
        """The collector reads the agents' busy and idle time at every interval boundary."""
        env, fc = self.env, self.model.forecast
        for k in range(fc.intervals + 1):
            t = fc.start + k * fc.interval_seconds
            if t > env.now:
                yield env.timeout(t - env.now)
            self.collector.look(env.now, self.router.agents)

    def _check_done(self) -> None:
        idle = not self._arriving and self._in_system == 0 and self._retries == 0
        if idle and not self._done.triggered:
            self._done.succeed()

    # == talking to the router ==============================================================

    def _input(self, events: list[Event], now: float) -> None:
        """Deliver the events of an input made at ``now`` (``env.now``, read once by the
        caller: a SimPy property call each time), then have the clock tick sooner if a
        deadline moved earlier."""
        self._deliver(events, now)
        self._arm(now)

    def _deliver(self, events: list[Event], now: float) -> None:
        """Record every event, react to it, then carry out the inputs it asked for (after the
        whole list, so the collector sees each agent's changes in order)."""
        observe, act = self._observe, self._actions
        if self._trace is not None:
            self._trace(events)
        for e in events:
            cls = type(e)
            handler = observe.get(cls)
            if handler is not None:
                handler(e)
            action = act.get(cls)
            if action is not None:
                action(e)
        router = self.router
        while self._accepts or self._logouts or self._callbacks:
            if self._accepts:
                self._deliver(router.offer_accepted(now, self._accepts.pop(0)), now)
            elif self._logouts:
                self._deliver(router.agent_logged_out(now, self._logouts.pop(0)), now)
            else:
                cid = self._callbacks.pop(0)
                # (The customer hears the offer while waiting; one an agent's phone is
                # already ringing for, or who has hung up meanwhile, does not take it.)
                if cid in self._waiting and router.contact(cid).state is ContactState.WAITING:
                    self._deliver(router.accept_callback(now, cid), now)

    def _arm(self, now: float) -> None:
        """Have the clock tick at the core's next deadline, unless a tick comes before it."""
        due = self.router.next_deadline()
        if due is not None and due < self._armed:
            self._armed = due
            self.env.timeout(due - now, due).callbacks.append(self._tick)

    def _tick(self, timeout: simpy.Event) -> None:
        """The clock: carry out what came due (``advance``), then arm the next tick. A tick
        armed for a later deadline than one armed since comes to nothing."""
        if timeout.value != self._armed:
            return
        self._armed = math.inf
        router, now = self.router, self.env.now
        due = router.next_deadline()
        while due is not None and due <= now:
            self._deliver(router.advance(now), now)
            due = router.next_deadline()
        self._arm(now)

    # == reactions to events ================================================================

    def _offered(self, e: ContactOffered) -> None:
        if self.model.ring_delay <= 0:
            self._accepts.append(e.contact_id)
        else:
            self._ringing[e.contact_id] = e
            self.env.process(self._ring(e))

    def _callback_offered(self, e: CallbackOffered) -> None:
        origin = self._waiting.get(e.contact_id)
        if origin is not None:
            p = self._draws[origin[0]].callback_p
            if p > 0 and self.rng.random() < p:
                self._callbacks.append(e.contact_id)

    def _rejected(self, e: OfferRejected) -> None:
        self._ringing.pop(e.contact_id, None)
        if e.agent_id in self._leaving:
            self._maybe_leave(e.agent_id)

    def _answered(self, e: ContactAnswered) -> None:
        cid = e.contact_id
        call = self._waiting.pop(cid, None)
        if call is not None:
            self.collector.customer_done(call.queue, call.tier, call.first_at, call.attempt)
        self._ringing.pop(cid, None)
        self.env.timeout(self._handle.pop(cid), cid).callbacks.append(self._serve)

    def _abandoned(self, e: ContactAbandoned) -> None:
        cid = e.contact_id
        if self._line_of:
            self._hang_up(cid)
        self._ringing.pop(cid, None)
        self._handle.pop(cid, None)
        call = self._waiting.pop(cid, None)
        self._in_system -= 1
        if call is not None:
            self._call_again(call)
        self._check_done()

    def _call_again(self, call: Call) -> None:
        """After a call that reached nobody the customer calls again (with the queue's retrial
        probability, up to its ``max_attempts``, before the day's end), or is done."""
        draws = self._draws[call.queue]
        p = draws.retrial_p
        if p > 0 and call.attempt < draws.max_attempts and self.rng.random() < p:
            delay = draws.retrial_delay(self.rng)
            if self.env.now + delay < self.model.forecast.end:
                self._retries += 1
                self.env.process(self._retry(call, delay))
                return
        self.collector.customer_done(call.queue, call.tier, call.first_at, call.attempt)

    def _removed(self, e: ContactRemoved) -> None:
        cid = e.contact_id
        if self._line_of:
            self._hang_up(cid)
        self._ringing.pop(cid, None)
        self._handle.pop(cid, None)
        call = self._waiting.pop(cid, None)
        if call is not None:
            self.collector.customer_done(call.queue, call.tier, call.first_at, call.attempt)
        self._in_system -= 1
        self._check_done()

    def _hang_up(self, cid: str) -> None:
        """The call gives its line back (if it held one)."""
        trunk = self._line_of.pop(cid, None)
        if trunk is not None:
            self._free_lines[trunk] += 1

    def _completed(self, e: ContactCompleted) -> None:
        if self._line_of:
            self._hang_up(e.contact_id)
        if self.model.wrap_up.mode == "sampled":
            self._in_wrap.add(e.contact_id)
            self.env.process(self._wrap(e.contact_id))

    def _wrapped(self, e: WrapUpEnded) -> None:
        self._in_wrap.discard(e.contact_id)
        self._in_system -= 1
        if e.agent_id in self._leaving:
            self._maybe_leave(e.agent_id)
        self._check_done()

    def _agent_changed(self, e: AgentStateChanged) -> None:
        if e.state is AgentActivity.AWAY and e.reason == "no-answer" and e.agent_id in self._on:
            self.env.process(self._back(e.agent_id))

    # == contacts ===========================================================================

    def _arrivals(self) -> Process:
        fc = self.model.forecast
        warmup = self.model.warmup_seconds
        if warmup > 0:  # the first interval's rates, for exactly the warm-up's length
            yield from self._batch(fc.start - warmup, warmup, 0)
        for k in range(fc.intervals):
            yield from self._batch(fc.start + k * fc.interval_seconds, fc.interval_seconds, k)
        self._arriving = False
        self._check_done()

    def _batch(self, start: float, seconds: float, k: int) -> Process:
        """The arrivals of ``seconds`` from ``start`` at interval ``k``'s rates and AHT."""
        env, rng, model = self.env, self.arrival_rng, self.model
        fc = model.forecast
        queues = fc.queues
        draws = [self._draws[q] for q in queues]
        expected = fc.contacts[k] * (seconds / fc.interval_seconds)
        counts = arrival_counts(rng, expected, model.arrivals)
        n = int(counts.sum())
        if n == 0:
            return
        times = start + rng.random(n) * seconds
        which = np.repeat(np.arange(len(queues)), counts)
        handle = np.empty(n)
        patience = np.full(n, math.inf)
        tier = np.zeros(n, dtype=np.int64)
        at = 0
        for j, m in enumerate(counts.tolist()):
            if m:
                d = draws[j]
                handle[at : at + m] = d.handle(rng, m, float(fc.aht[k, j]))
                self.collector.work_offered(queues[j], start, float(handle[at : at + m].sum()))
                p = d.patience_draws(rng, m)
                if p is not None:
                    patience[at : at + m] = p
                tier[at : at + m] = d.tier_draws(rng, m)
                at += m
        order = np.argsort(times, kind="stable")
        now = env.now
        for t, j, h, p, ti in zip(
            times[order].tolist(),
            which[order].tolist(),
            handle[order].tolist(),
            patience[order].tolist(),
            tier[order].tolist(),
            strict=True,
        ):
            yield env.timeout(t - now)
            now = env.now
            self._arrive(now, queues[j], draws[j].tiers[ti], h, p)

    def _arrive(
        self,
        now: float,
        queue: str,
        tier: str,
        handle: float,
        patience: float,
        again: Call | None = None,
    ) -> None:
        """A call comes in at ``now``: a customer's first, or ``again`` one more after that
        call."""
        if again is None:
            self._next_id += 1
            cid = str(self._next_id)
            call = Call(queue, tier, cid, 1, now)
        else:
            call = again._replace(attempt=again.attempt + 1)
            cid = f"{call.customer}/{call.attempt}"
        collector = self.collector
        collector.contacts += 1
        collector.call_placed(queue, tier, now, again is not None)
        trunk = self._trunk_of.get(queue) if self._trunk_of else None
        if trunk is not None:
            if not self._free_lines[trunk]:
                collector.call_blocked(queue, tier, now)
                self._call_again(call)
                self._check_done()
                return
            self._free_lines[trunk] -= 1
            self._line_of[cid] = trunk
        self._handle[cid] = handle
        self._waiting[cid] = call
        self._in_system += 1
        self._input(self._enter(now, cid, queue, tier), now)
        if patience < math.inf and cid in self._waiting:
            self.env.timeout(patience, cid).callbacks.append(self._patience)

    def _enter(self, now: float, cid: str, queue: str, tier: str) -> list[Event]:
        """The core's arrival input (a replay adds what the record says of the contact)."""
        return self.router.contact_arrived(now, cid, queue, tier=tier)

    def _patience(self, timeout: simpy.Event) -> None:
        cid = timeout.value
        if cid in self._waiting:
            now = self.env.now
            self._input(self.router.contact_abandoned(now, cid), now)

    def _serve(self, timeout: simpy.Event) -> None:
        now = self.env.now
        self._input(self.router.contact_completed(now, str(timeout.value)), now)

    def _ring(self, offer: ContactOffered) -> Process:
        yield self.env.timeout(self.model.ring_delay)
        if self._ringing.get(offer.contact_id) is offer:
            del self._ringing[offer.contact_id]
            now = self.env.now
            self._input(self.router.offer_accepted(now, offer.contact_id), now)

    def _wrap(self, cid: str) -> Process:
        spec = self.model.wrap_up
        assert spec.mean_seconds is not None
        seconds = spec.mean_seconds
        if spec.distribution == "exponential":
            seconds = float(self.rng.exponential(seconds))
        yield self.env.timeout(seconds)
        if cid in self._in_wrap:
            now = self.env.now
            self._input(self.router.wrap_up_done(now, cid, "done"), now)

    def _retry(self, call: Call, delay: float) -> Process:
        yield self.env.timeout(delay)
        self._retries -= 1
        queue = call.queue
        fc = self.model.forecast
        now = self.env.now
        k = min(fc.intervals - 1, max(0, int((now - fc.start) // fc.interval_seconds)))
        d = self._draws[queue]
        handle = float(d.handle(self.rng, 1, float(fc.aht[k, fc.queues.index(queue)]))[0])
        p = d.patience_draws(self.rng, 1)
        self._arrive(now, queue, call.tier, handle, math.inf if p is None else float(p[0]), call)

    # == agents =============================================================================

    def _changes(self) -> list[tuple[float, bool, str]]:
        """(time, on, agent) shift changes from the staffing table or the roster."""
        model = self.model
        fc = model.forecast
        out: list[tuple[float, bool, str]] = []
        opening = fc.start - model.warmup_seconds
        if model.roster is not None:
            for s in model.roster:
                # (shifts under way when the first interval starts cover the warm-up too)
                on = opening if s.start <= fc.start else s.start
                if s.end > on:
                    out.append((on, True, s.agent))
                    out.append((s.end, False, s.agent))
        elif model.staffing is not None:
            st = model.staffing
            for j, name in enumerate(st.groups):
                agents = model.group(name).agents
                before = 0
                for k in range(fc.intervals):
                    now = int(st.counts[k, j])
                    t = fc.start + k * fc.interval_seconds if k else opening
                    out.extend((t, True, a) for a in agents[before:now])
                    out.extend((t, False, a) for a in agents[now:before])
                    before = now
        out.sort(key=lambda c: (c[0], c[1]))
        return out

    def _schedule(self) -> Process:
        env = self.env
        for t, on, agent in self._changes():
            if t > env.now:
                yield env.timeout(t - env.now)
            if on:
                self._shift_on(agent)
            else:
                self._shift_off(agent)

    def _shift_on(self, aid: str) -> None:
        self._on.add(aid)
        if aid in self._leaving:
            self._leaving.discard(aid)
            now = self.env.now
            self._input(self.router.set_agent_presence(now, aid, Presence.AVAILABLE), now)
        elif self.router.agent(aid).presence is Presence.OFFLINE:
            now = self.env.now
            self._input(self.router.agent_logged_in(now, aid), now)

    def _shift_off(self, aid: str) -> None:
        self._on.discard(aid)
        agent = self.router.agent(aid)
        if agent.presence is Presence.OFFLINE:
            return
        if any(c != agent.offered_contact for c in agent.slots):
            self._leaving.add(aid)
            reason = self.model.shift_end_reason
            now = self.env.now
            self._input(self.router.set_agent_presence(now, aid, Presence.AWAY, reason), now)
        else:
            now = self.env.now
            self._input(self.router.agent_logged_out(now, aid), now)

    def _maybe_leave(self, aid: str) -> None:
        agent = self.router.agent(aid)
        if not any(c != agent.offered_contact for c in agent.slots):
            self._leaving.discard(aid)
            self._logouts.append(aid)

    def _back(self, aid: str) -> Process:
        yield self.env.timeout(self.model.no_answer_return)
        agent = self.router.agent(aid)
        if aid in self._on and agent.presence is Presence.AWAY and agent.away_reason == "no-answer":
            now = self.env.now
            self._input(self.router.set_agent_presence(now, aid, Presence.AVAILABLE), now)


def simulate(
    model: Model,
    seed: np.random.SeedSequence | int,
    *,
    by_tier: bool = False,
    trace: Callable[[list[Event]], None] | None = None,
) -> Tallies:
    """One replication: a pure function of ``model`` and ``seed``."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    arrivals, reactions = (np.random.default_rng(s) for s in root.spawn(2))
    with rare_collections():
        return Driver(model, arrivals, reactions, by_tier=by_tier, trace=trace).run()


RUN_GC_THRESHOLD = (50_000, 20, 100)
"""The cycle collector's thresholds during a run (Python's default: 700, 10, 10)."""


@contextmanager
def rare_collections() -> Iterator[None]:
    """Collect cycles rarely while a replication runs: a planning day allocates millions of
    short-lived objects (events, timer entries) that reference counting frees, and at the
    default thresholds the collector ran 820 times, rescanning the router's live state, for
    about a tenth of the day's CPU time (11 collections with these)."""
    before = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
