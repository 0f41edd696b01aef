"""Stateful property test of the routing core: random input sequences against invariants.

A hypothesis ``RuleBasedStateMachine`` drives a ``Router`` over a small multi-skill center
(6 agents; 2 voice and 2 chat queues; dedicated-only, tier-level, proficiency, non-member,
priority-raise, overflow and max-wait rules; chat capacity 2-3; customers with dedicated
agents). Time only moves forward: every input may first advance ``now`` (sometimes exactly
to ``next_deadline()``). Inputs that are illegal in the current state are sent on purpose;
the harness predicts legality from the router's state (after the timers due by ``now``,
computed on a copy) and requires that legal inputs succeed and illegal ones raise a
``RoutingError`` or ``AgentError`` (and, when no timer was due, leave the state exactly as
it was). A ``chat_rush`` rule fills agents up to their chat capacity. Agents hand contacts
on (to a queue, to an agent, out of routing to be brought back later as the next segment),
consult colleagues (ring, answer, decline, call off, complete), and supervisors set
priorities.

Checked after every step:

* agents: per-channel capacity, channel blocking, at most one ringing offer or consult (= the
  ``offered_contact``), counts match slots, offline agents hold nothing; a contact's slots are
  held exactly by its agent, its consulted agent and the agents wrapping up its handed-off
  segments;
* offers: at the moment of each offer (a hook on ``Router._offer``) the contact was waiting,
  the agent was ready, not kept away by the re-offer delay, and either the preferred agent or
  eligible at the contact's step by the config (``can_serve_at_step``); the step was due by
  time (or reached by skipping dedicated-only steps); no better contact of the same queue was
  left waiting for that agent; the ``ContactOffered`` event says the same;
* work conservation: no waiting contact has an eligible ready agent (``is_eligible`` and an
  independent recomputation from the config);
* queue ranks: an agent with a ``queue_rank`` (a6) that becomes ready takes nothing from a
  queue it ranks lower while a contact it may take waits in one it ranks higher;
* bookkeeping: contacts and agent slots agree; time-driven state is current (steps, max
  wait, overflow, breach, priority = tier + queue + raises); ``next_deadline()`` is None or
  later than ``now`` and no later than any deadline the router owes (ring, wrap-up, step,
  max wait, breach, re-offer);
* the event stream: timestamps never go backwards, each contact's events follow its
  lifecycle, and replaying the stream reproduces the router's contacts and agent activities;
* determinism: at the end of each run the recorded inputs are replayed on a fresh router and
  must give the identical events and refusals (the replay makes none of the queries the
  checks make, so queries must not change what happens either).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from contactcenter.agents import PRESENCE_MOVES, Agent, AgentError, Presence, SlotState
from contactcenter.config import (
    AgentConfig,
    AnswerTarget,
    CenterSettings,
    Customer,
    EscalationStep,
    MaxWait,
    QueueConfig,
    RoutingSettings,
    Skill,
    Tier,
    build_center,
    can_serve_at_step,
)
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ConsultAnswered,
    ConsultEnded,
    ConsultOffered,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactEscalated,
    ContactHandedOff,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactResumed,
    ContactTransferred,
    Event,
    OfferRejected,
    PriorityChanged,
    TargetBreached,
    WrapUpEnded,
)
from contactcenter.routing import ContactState, Lapse, Router, RoutingError
from contactcenter.routing.contact import Contact
from contactcenter.routing.selection import queue_ranks

# == the center =================================================================================


def _step(after: float, **kw: Any) -> EscalationStep:
    return EscalationStep(after_seconds=after, **kw)


QUEUES = [
    QueueConfig(
        id="v_sales",
        channel="voice",
        skills={"sales": 3},
        answer_target=AnswerTarget(threshold_seconds=20),
        escalation=(
            _step(0, dedicated_only=True),
            _step(4, max_tier=1),
            _step(12, max_tier=2, raise_priority=10),
            _step(25, any_agent=True, min_proficiency=2, offer_callback=True),
            _step(50, any_agent=True, min_proficiency=2, overflow_to="v_support"),
        ),
        ring_timeout_seconds=8,
        wrap_up_seconds=5,
        selection="longest_idle",
    ),
    QueueConfig(
        id="v_support",
        channel="voice",
        skills={"support": 2},
        priority=5,
        escalation=(_step(0, max_tier=1), _step(10, any_agent=True, raise_priority=5)),
        ring_timeout_seconds=10,
        wrap_up_seconds=0,
        max_wait=MaxWait(seconds=60, action="overflow", overflow_to="v_sales"),
        selection="round_robin",
        when_no_agents="overflow",
        no_agents_overflow_to="v_sales",
    ),
    QueueConfig(
        id="c_sales",
        channel="chat",
        skills={"sales": 2},
        escalation=(
            _step(0, dedicated_only=True),
            _step(3, max_tier=1),
            _step(10, min_proficiency=1, any_agent=True, raise_priority=20),
        ),
        ring_timeout_seconds=5,
        wrap_up_seconds=4,
        max_wait=MaxWait(seconds=40, action="disconnect"),
        selection="least_occupied",
    ),
    QueueConfig(
        id="c_billing",
        channel="chat",
        skills={"billing": 2},
        escalation=(_step(0, max_tier=1), _step(6, max_tier=2, raise_priority=3)),
        ring_timeout_seconds=6,
        wrap_up_seconds=2,
        max_wait=MaxWait(seconds=25, action="callback"),
        callback_queue="v_support",
        selection="most_skilled",
        when_no_agents="disconnect",
    ),
]

AGENTS = [
    AgentConfig(
        id="a1",
        skills={"sales": 5, "vip_care": 4},
        queues={"v_sales": 1, "c_sales": 1},
        capacity={"chat": 2},
        dedicated_customers=("cust_vip",),
    ),
    AgentConfig(
        id="a2",
        skills={"sales": 3, "support": 2},
        queues={"v_sales": 2, "v_support": 1},
        capacity={"chat": 0},
    ),
    AgentConfig(
        id="a3",
        skills={"support": 4, "billing": 3},
        queues={"v_support": 1, "c_billing": 1},
        capacity={"chat": 3},
    ),
    AgentConfig(
        id="a4",
        skills={"sales": 2, "billing": 2},
        queues={"c_sales": 1, "c_billing": 2},
        capacity={"voice": 0, "chat": 3},
        dedicated_customers=("cust_b",),
    ),
    AgentConfig(
        id="a5",
        skills={"sales": 2, "support": 1, "billing": 4},
        capacity={"chat": 2},
    ),
    AgentConfig(
        id="a6",
        skills={"sales": 4, "support": 3},
        queues={"v_sales": 1, "v_support": 2, "c_sales": 2},
        capacity={"chat": 2},
        dedicated_customers=("cust_c",),
        queue_rank={"v_support": 1, "c_sales": 2},  # v_sales unranked: after both
    ),
]

CUSTOMERS = [
    Customer(id="cust_vip", name="Vera", tier="vip"),
    Customer(id="cust_b", name="Bo"),
    Customer(id="cust_c", name="Cy", tier="gold"),
    Customer(id="cust_x", name="Xi"),
]

CENTER = build_center(
    CenterSettings(
        name="invariants",
        skills=tuple(Skill(id=s) for s in ("sales", "support", "billing", "vip_care")),
        tiers=(
            Tier(id="vip", priority=100, weight=3.0),
            Tier(id="gold", priority=50, weight=1.5),
            Tier(id="standard", priority=0, weight=1.0),
        ),
        routing=RoutingSettings(no_answer_limit=2, reoffer_delay_seconds=6),
    ),
    QUEUES,
    AGENTS,
    CUSTOMERS,
)

QUEUE_IDS = tuple(CENTER.queues)
AGENT_IDS = tuple(CENTER.agents)
TIER_IDS = tuple(CENTER.tiers)
AWAY_REASONS = CENTER.settings.away_reasons
REOFFER_DELAY = CENTER.settings.routing.reoffer_delay_seconds
DEDICATED = CENTER.dedicated_agent
CAPACITY = {
    a.id: {ch: CENTER.capacity(a, ch) for ch in CENTER.settings.channels}
    for a in CENTER.agents.values()
}
BLOCKS = {ch: s.blocks for ch, s in CENTER.settings.channels.items()}


def _first_open(q: QueueConfig) -> int:
    return next(i for i, s in enumerate(q.escalation) if not s.dedicated_only)


FIRST_OPEN = {qid: _first_open(q) for qid, q in CENTER.queues.items()}


def config_eligible(queue: str, agent_id: str, step: int) -> bool:
    """The agent's first eligible step in ``queue`` (from the config) is at most ``step``."""
    q = CENTER.queues[queue]
    a = CENTER.agents[agent_id]
    if CAPACITY[agent_id][q.channel] <= 0:
        return False
    return any(can_serve_at_step(a, q, q.escalation[i]) for i in range(step + 1))


def time_step(queue: str, queued_at: float, now: float) -> int:
    """The last escalation step whose time has come."""
    steps = CENTER.queues[queue].escalation
    return max(i for i, s in enumerate(steps) if queued_at + s.after_seconds <= now)


def ready_for(agent: Agent, channel: str) -> bool:
    """Whether the agent may be rung for a ``channel`` contact, recomputed from its slots."""
    if agent.presence is not Presence.AVAILABLE or agent.offered_contact is not None:
        return False
    counts = {ch: 0 for ch in CAPACITY[agent.id]}
    for ch, _ in agent.slots.values():
        counts[ch] += 1
    if counts[channel] >= CAPACITY[agent.id][channel]:  # type: ignore[index]
        return False
    return not any(
        n and other != channel and channel in BLOCKS[other] for other, n in counts.items()
    )


def ready_room(agent: Agent, channel: str) -> bool:
    """Whether the agent has a free, unblocked slot for ``channel`` (presence aside)."""
    counts = {ch: 0 for ch in CAPACITY[agent.id]}
    for ch, _ in agent.slots.values():
        counts[ch] += 1
    if counts[channel] >= CAPACITY[agent.id][channel]:  # type: ignore[index]
        return False
    return not any(
        n and other != channel and channel in BLOCKS[other] for other, n in counts.items()
    )


def excluded(c: Contact, agent_id: str, now: float) -> bool:
    return c.excluded.get(agent_id, -math.inf) > now


def may_take(c: Contact, agent_id: str, now: float, step: int | None = None) -> bool:
    """Static eligibility at the contact's current ``step`` plus the re-offer delay."""
    step = c.step if step is None else step
    if excluded(c, agent_id, now):
        return False
    if agent_id == c.preferred_agent:
        return True
    if CENTER.queues[c.queue].escalation[step].dedicated_only:
        return False
    return config_eligible(c.queue, agent_id, step)


def rival(d: Contact, now: float) -> tuple[int, tuple[int, float, int]] | None:
    """The step and serving key of a waiting contact ``d`` once every step due by ``now`` is
    reached (its timer may not have fired yet); None if that step moves it elsewhere."""
    steps = CENTER.queues[d.queue].escalation
    step = max(d.step, time_step(d.queue, d.queued_at, now))
    if any(s.overflow_to is not None for s in steps[d.step + 1 : step + 1]):
        return None
    raises = sum(s.raise_priority for s in steps[d.step + 1 : step + 1])
    return step, (-(d.priority + raises), d.arrived_at, d.seq)


# == a router that checks every offer as it is made ==============================================


class CheckedRouter(Router):
    """A Router whose offers are checked at the moment they are made (white-box hooks: a
    routing decision goes through ``_offer``, every ring, also a direct transfer, ``_ring``)."""

    def __init__(self, center: Any) -> None:
        super().__init__(center)
        self.offer_log: list[tuple[str, str, int, float]] = []

    # A copy of the compiled (mypyc) Router holds only the Router's own attributes: carry the
    # log across too. The pure Router's state is its ``__dict__``, which object cannot restore.
    def __getstate__(self) -> object:
        return super().__getstate__(), self.offer_log

    def __setstate__(self, state: tuple[Any, list[tuple[str, str, int, float]]]) -> None:
        fields, self.offer_log = state
        restore = getattr(super(), "__setstate__", None)
        if restore is None:
            vars(self).update(fields)
        else:
            restore(fields)

    def _ring(self, c: Contact, agent: Agent) -> None:
        where = f"ring of {c.id} at {agent.id} at {self.now}"
        assert c.state is ContactState.WAITING and c.agent is None, f"{where}: {c.state}"
        assert ready_for(agent, c.channel), f"{where}: agent not ready"
        assert c.id not in agent.slots, f"{where}: the agent still holds it"
        self.offer_log.append((c.id, agent.id, c.step, self.now))
        super()._ring(c, agent)

    def _offer(self, c: Contact, agent: Agent) -> None:
        now = self.now
        where = f"offer of {c.id} ({c.queue} step {c.step}) to {agent.id} at {now}"
        assert self.contacts.get(c.id) is c, where
        assert c.state is ContactState.WAITING and c.agent is None, f"{where}: {c.state}"
        assert ready_for(agent, c.channel), f"{where}: agent not ready ({agent.why_not(c.channel)})"
        assert not excluded(c, agent.id, now), f"{where}: inside the re-offer delay"
        assert may_take(c, agent.id, now), f"{where}: agent not eligible at this step"
        assert c.step <= max(time_step(c.queue, c.queued_at, now), FIRST_OPEN[c.queue]), (
            f"{where}: step not reached yet (queued at {c.queued_at})"
        )
        if c.preferred_agent != agent.id:
            # Inside a queue: higher priority first, then FIFO by original arrival; this holds
            # also against contacts whose wider step falls due at this very moment.
            key = (-c.priority, c.arrived_at, c.seq)
            for d in self.contacts.values():
                if d is c or d.state is not ContactState.WAITING or d.queue != c.queue:
                    continue
                q = CENTER.queues[d.queue]
                if q.max_wait is not None and now >= d.queued_at + q.max_wait.seconds:
                    continue  # leaving the queue at this moment
                seen = rival(d, now)
                if seen is not None and seen[1] < key and may_take(d, agent.id, now, seen[0]):
                    raise AssertionError(f"{where}: {d.id} ({seen[1]}) waits ahead of it")
        super()._offer(c, agent)

    def _best_contact_for(self, agent: Agent) -> Contact | None:
        """An agent with queue ranks that becomes ready takes nothing from a queue it ranks
        lower while a contact it may take waits in one it ranks higher (its own dedicated
        customers aside)."""
        c = super()._best_contact_for(agent)
        ranks = queue_ranks(CENTER.agents[agent.id], CENTER.queues)
        if c is None or c.preferred_agent == agent.id:
            return c
        for d in self.contacts.values():
            if (
                d.state is ContactState.WAITING
                and ranks[d.queue] < ranks[c.queue]
                and ready_for(agent, d.channel)
                and may_take(d, agent.id, self.now)
            ):
                raise AssertionError(
                    f"{agent.id} chose {c.id} ({c.queue}, rank {ranks[c.queue]}) over {d.id} "
                    f"({d.queue}, rank {ranks[d.queue]}) at {self.now}"
                )
        return c


# == the machine ===============================================================================

TIME_STEPS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 25, 40)
ARRIVAL_QUEUES = ("v_sales", "v_support", "c_sales", "c_billing", "c_sales", "c_billing")
"""Chats twice as often, so that agents hold several at once."""
SLOT_OF = {
    ContactState.OFFERED: SlotState.OFFERED,
    ContactState.ACTIVE: SlotState.ACTIVE,
    ContactState.WRAP_UP: SlotState.WRAP_UP,
}
REFUSED = (RoutingError, AgentError)
WAITING, OFFERED, ACTIVE, WRAP_UP = (
    ContactState.WAITING,
    ContactState.OFFERED,
    ContactState.ACTIVE,
    ContactState.WRAP_UP,
)
MOVING = "moving"
"""Shadow state between a ContactTransferred or ContactHandedOff and the ContactQueued that
follows it."""
HANDING = "handing"
"""Shadow state between the ContactHandedOff of a completed consult and the ContactAnswered of
the consulted agent that follows it."""


VOID_AFTER: dict[str, Lapse] = {
    "offer_accepted": Lapse.OFFER,
    "offer_declined": Lapse.OFFER,
    "offer_failed": Lapse.OFFER,
    "consult_accepted": Lapse.CONSULT,
    "consult_declined": Lapse.CONSULT,
    "consult_cancelled": Lapse.CONSULT,
    "wrap_up_done": Lapse.WRAP_UP,
    "contact_abandoned": Lapse.WAIT,
    "accept_callback": Lapse.WAIT,
    "contact_cancelled": Lapse.WAIT,
    "set_priority": Lapse.WAIT,
    "contact_tier_changed": Lapse.WAIT,
    "transfer": Lapse.WAIT,
}
"""Inputs that are void when a timer ended what they are about since the clock last moved."""


def voided(r: Router, name: str, args: tuple[Any, ...]) -> bool:
    """Whether the input (``args`` without ``now``) is void on ``r``, timers fired."""
    what = VOID_AFTER.get(name)
    if what is None or (what is Lapse.WAIT and args[0] in r.contacts):
        return False
    agent = args[2] if what is Lapse.WRAP_UP and len(args) > 2 else None
    return (what, agent) in r.lapsed(args[0])


def fingerprint(r: Router) -> tuple[Any, ...]:
    contacts = sorted(
        (
            c.id, c.state, c.queue, c.step, c.priority, c.tier, c.agent, c.queued_at,
            c.breached, tuple(sorted(c.excluded.items())), c.overflow_due, c.max_wait_due,
            c.segment, c.consult, c.nudge, c.patient,
        )
        for c in r.contacts.values()
    )  # fmt: skip
    wraps = sorted((w.agent_id, w.contact_id, w.started) for w in r.wraps.values())
    agents = sorted(
        (
            a.id, a.presence, a.away_reason, tuple(sorted(a.slots.items())), a.offered_contact,
            a.consecutive_no_answers, a.handled,
        )
        for a in r.agents.values()
    )  # fmt: skip
    return (contacts, agents, wraps)


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = CheckedRouter(CENTER)
        self.now = 0.0
        self.next_id = 0
        self.inputs: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.outcomes: list[Event | str] = []
        """Every event returned and the name of every refusal, in order."""
        self.offers_seen = 0
        self.last_at = 0.0
        self.stale = False
        """A refused input may have left events for the next call: skip stream checks."""
        self.clean = True
        """False while a step is being checked (so teardown knows a check failed)."""
        # The picture of the center rebuilt from the event stream alone.
        self.shadow: dict[str, tuple[ContactState | str, str | None]] = {}
        self.shadow_queue: dict[str, str] = {}
        self.shadow_times: dict[str, tuple[float, float]] = {}
        """Contact id -> (queued_at, arrived_at), from ContactQueued events."""
        self.activity: dict[str, AgentActivity] = dict.fromkeys(AGENT_IDS, AgentActivity.OFFLINE)
        self.ring_deadline: dict[str, float] = {}
        self.breaches: dict[str, int] = {}
        self.consults: dict[str, tuple[str, str]] = {}
        """Contact id -> (consulted agent, "ringing" or "talking"), from consult events."""
        self.consult_deadline: dict[str, float] = {}
        self.handoff_wraps: set[tuple[str, str]] = set()
        """(agent, contact) wrap-ups of handed-off segments, from events."""
        self.nudges: dict[str, int] = {}
        """Contact id -> the supervisors' changes of its priority, from events."""
        self.parked: dict[str, tuple[str, float, int]] = {}
        """Contacts handed out of routing -> (queue, arrival, next segment)."""

    # -- driving -----------------------------------------------------------------------------

    def _time(self, data: st.DataObject) -> float:
        kind = data.draw(
            st.sampled_from(("stay",) * 4 + ("later",) * 3 + ("deadline",) * 2 + ("backwards",)),
            label="time",
        )
        if kind == "later":
            return self.now + data.draw(st.sampled_from(TIME_STEPS), label="dt")
        if kind == "deadline":
            nd = self.router.next_deadline()
            return self.now if nd is None else max(self.now, nd)
        if kind == "backwards" and self.now >= 1:
            return self.now - 1
        return self.now

    def _after_timers(self, now: float) -> Router:
        """The router as the input will see it: after the timers due by ``now`` fired."""
        nd = self.router.next_deadline()
        if now < self.router.now or nd is None or nd > now:
            return self.router
        probe: Router = copy.deepcopy(self.router, memo={id(CENTER): CENTER})
        probe.advance(now)
        return probe

    def _call(
        self, name: str, now: float, *args: Any, legal: Callable[[Router], bool], **kw: Any
    ) -> None:
        r = self.router
        self.clean = False
        backwards = now < r.now
        seen = r if backwards else self._after_timers(now)
        expect_ok = not backwards and legal(seen)
        void = not backwards and not expect_ok and voided(seen, name, args)
        quiet = seen is r
        before = fingerprint(r) if quiet else None
        timed = fingerprint(seen) if void else None
        self.inputs.append((name, (now, *args), kw))
        try:
            events = getattr(r, name)(now, *args, **kw)
        except REFUSED as e:
            assert not expect_ok, f"legal input {name}{(now, *args)} {kw} refused: {e!r}"
            self.outcomes.append(type(e).__name__)
            if before is not None:
                assert fingerprint(r) == before, f"refused {name} changed the state"
            self.stale = self.stale or not quiet
            if not backwards:
                assert r.now == now
                self.now = now
            self.clean = True
            return
        assert expect_ok or void, f"illegal input {name}{(now, *args)} {kw} accepted"
        if void:
            assert fingerprint(r) == timed, f"void {name} changed more than the timers"
        assert r.now == now
        self.now = now
        self._consume(events, now)
        self.stale = False
        self.clean = True

    def _consume(self, events: list[Event], now: float) -> None:
        self.outcomes.extend(events)
        log = self.router.offer_log
        for e in events:
            assert self.last_at <= e.at <= now, f"event time out of order: {e}"
            self.last_at = e.at
            self._shadow(e)
            if isinstance(e, ContactOffered):
                cid, aid, step, at = log[self.offers_seen]
                self.offers_seen += 1
                assert (e.contact_id, e.agent_id, e.step, e.at) == (cid, aid, step, at), e
                q = CENTER.queues[e.queue]
                assert e.ring_deadline == e.at + q.ring_timeout_seconds, e
        assert self.offers_seen == len(log), "an offer was made but not announced"

    def _shadow(self, e: Event) -> None:
        """Replay one event on the picture of the center built from events alone."""
        if isinstance(e, AgentStateChanged):
            assert self.activity[e.agent_id] is e.previous, e
            assert e.previous is not e.state or e.state is AgentActivity.AWAY, e
            self.activity[e.agent_id] = e.state
            return
        cid = e.contact_id
        state, agent = self.shadow.get(cid, (None, None))
        if isinstance(e, WrapUpEnded) and (e.agent_id, cid) in self.handoff_wraps:
            self.handoff_wraps.discard((e.agent_id, cid))
            assert e.wrap_up_seconds <= CENTER.queues[e.queue].wrap_up_seconds, e
            return
        if isinstance(e, ContactQueued):
            assert state in (None, MOVING), f"{e} while {state}"
            if state is None:  # a new contact (its id may have been used before)
                self.breaches.pop(cid, None)
                self.nudges.pop(cid, None)
            self.shadow[cid] = (WAITING, None)
            self.shadow_queue[cid] = e.queue
            # A new (possibly restored) contact counts from its arrival, a moved one from now.
            self.shadow_times[cid] = (e.arrived_at if state is None else e.at, e.arrived_at)
            return
        assert state not in (None, MOVING), f"{e} for a contact not in a queue"
        assert isinstance(e, ContactTransferred) or e.queue == self.shadow_queue[cid], e
        self._check_timing(e)
        if isinstance(e, ContactOffered):
            assert state is WAITING, f"{e} while {state}"
            self.shadow[cid] = (OFFERED, e.agent_id)
            self.ring_deadline[cid] = e.ring_deadline
        elif isinstance(e, OfferRejected):
            assert (state, agent) == (OFFERED, e.agent_id), f"{e} while {state} at {agent}"
            self.shadow[cid] = (WAITING, None)
        elif isinstance(e, ContactAnswered):
            if state is HANDING:
                assert e.segment > 1 and e.agent_id == agent, f"{e} after a consult with {agent}"
            else:
                assert (state, agent) == (OFFERED, e.agent_id), f"{e} while {state} at {agent}"
            self.shadow[cid] = (ACTIVE, e.agent_id)
        elif isinstance(e, ContactResumed):
            assert state is WAITING and e.segment > 1, f"{e} while {state}"
            self.shadow[cid] = (ACTIVE, e.agent_id)
        elif isinstance(e, ContactCompleted):
            assert (state, agent) == (ACTIVE, e.agent_id), f"{e} while {state} at {agent}"
            assert cid not in self.consults, f"{e} with a consult going on"
            self.shadow[cid] = (WRAP_UP, agent)
        elif isinstance(e, ContactHandedOff):
            assert (state, agent) == (ACTIVE, e.agent_id), f"{e} while {state} at {agent}"
            self.handoff_wraps.add((e.agent_id, cid))
            consult = self.consults.pop(cid, None)
            if consult is not None:  # a completed consult: the colleague carries on
                assert consult == (e.to_agent, "talking"), f"{e} with consult {consult}"
                self.shadow[cid] = (HANDING, e.to_agent)
            elif e.to_queue is None:
                assert e.to_agent is None, e
                del self.shadow[cid]
                self.parked[cid] = (e.queue, self.shadow_times[cid][1], e.segment + 1)
            else:
                self.shadow[cid] = (MOVING, None)
        elif isinstance(e, ConsultOffered):
            assert (state, agent) == (ACTIVE, e.from_agent), f"{e} while {state} at {agent}"
            assert cid not in self.consults, f"{e}: a consult is going on"
            self.consults[cid] = (e.agent_id, "ringing")
            self.consult_deadline[cid] = e.ring_deadline
            q = CENTER.queues[e.queue]
            assert e.ring_deadline == e.at + q.ring_timeout_seconds, e
        elif isinstance(e, ConsultAnswered):
            assert self.consults.get(cid) == (e.agent_id, "ringing"), e
            assert (state, agent) == (ACTIVE, e.from_agent), e
            self.consults[cid] = (e.agent_id, "talking")
        elif isinstance(e, ConsultEnded):
            consult = self.consults.pop(cid, None)
            assert consult is not None and consult[0] == e.agent_id, f"{e}: consult {consult}"
            assert (state, agent) == (ACTIVE, e.from_agent), e
            if e.reason in ("declined", "timeout"):
                assert consult[1] == "ringing", e
            if e.reason == "timeout":
                assert e.at == self.consult_deadline[cid], e
        elif isinstance(e, WrapUpEnded):
            assert (state, agent) == (WRAP_UP, e.agent_id), f"{e} while {state} at {agent}"
            del self.shadow[cid]
        elif isinstance(e, ContactAbandoned | ContactRemoved):
            assert state is WAITING, f"{e} while {state}"
            del self.shadow[cid]
        elif isinstance(e, ContactTransferred):
            assert state is WAITING, f"{e} while {state}"
            assert e.from_queue == self.shadow_queue[cid], e
            self.shadow[cid] = (MOVING, None)
        elif isinstance(e, TargetBreached):
            assert state in (WAITING, OFFERED), f"{e} while {state}"
            self.breaches[cid] = self.breaches.get(cid, 0) + 1
            assert self.breaches[cid] == 1, f"{cid} breached twice"
        elif isinstance(e, PriorityChanged):
            assert state in (WAITING, OFFERED), f"{e} while {state}"
            if e.reason == "supervisor":
                self.nudges[cid] = self.nudges.get(cid, 0) + e.priority - e.previous
        elif isinstance(e, ContactEscalated | CallbackOffered):
            assert state in (WAITING, OFFERED), f"{e} while {state}"

    def _check_timing(self, e: Event) -> None:
        """Time-driven events happen no earlier than their rule says."""
        cid = e.contact_id  # type: ignore[union-attr]
        queued_at, arrived_at = self.shadow_times[cid]
        q = CENTER.queues[self.shadow_queue[cid]]
        steps = q.escalation
        if isinstance(e, TargetBreached):
            assert e.threshold_seconds == q.answer_target.threshold_seconds, e
            assert e.at >= arrived_at + e.threshold_seconds, f"{e}: arrived at {arrived_at}"
        elif isinstance(e, ContactEscalated):
            early_ok = e.step <= FIRST_OPEN[q.id]  # dedicated-only steps skipped at once
            assert early_ok or e.at >= queued_at + steps[e.step].after_seconds, (
                f"{e}: queued at {queued_at}"
            )
        elif isinstance(e, ContactRemoved | ContactTransferred) and e.reason == "max_wait":
            assert q.max_wait is not None, e
            assert e.at >= queued_at + q.max_wait.seconds, f"{e}: queued at {queued_at}"
        elif isinstance(e, ContactTransferred) and e.reason == "overflow":
            assert any(
                s.overflow_to == e.to_queue
                and (i <= FIRST_OPEN[q.id] or e.at >= queued_at + s.after_seconds)
                for i, s in enumerate(steps)
            ), f"{e}: queued at {queued_at}"
        elif isinstance(e, OfferRejected) and e.reason == "timeout":
            assert e.at == self.ring_deadline[cid], f"{e}: rang until {self.ring_deadline[cid]}"
        elif isinstance(e, WrapUpEnded):
            assert e.wrap_up_seconds <= q.wrap_up_seconds, e

    # -- picking ---------------------------------------------------------------------------

    @staticmethod
    def _rare(data: st.DataObject, n: int) -> bool:
        """True once in ``n`` draws (shrinks towards False)."""
        return data.draw(st.integers(0, n - 1), label="rare") == n - 1

    def _has(self, *states: ContactState) -> bool:
        return any(c.state in states for c in self.router.contacts.values())

    def _contact(self, data: st.DataObject, *states: ContactState) -> str:
        """Mostly a contact in one of ``states``; sometimes any known, gone or unknown id."""
        r = self.router
        fitting = sorted(c.id for c in r.contacts.values() if c.state in states)
        if fitting and data.draw(st.integers(0, 9), label="fit") < 9:
            return data.draw(st.sampled_from(fitting), label="contact")
        pool = sorted(r.contacts) + [f"c{i}" for i in range(self.next_id)] + ["nobody"]
        return data.draw(st.sampled_from(pool), label="contact")

    def _agent(self, data: st.DataObject, online: bool) -> str:
        """Mostly an agent who is (not) logged in; sometimes anyone or an unknown id."""
        fitting = [
            aid
            for aid, a in self.router.agents.items()
            if (a.presence is not Presence.OFFLINE) == online
        ]
        if fitting and data.draw(st.integers(0, 9), label="fit") < 8:
            return data.draw(st.sampled_from(fitting), label="agent")
        return data.draw(st.sampled_from((*AGENT_IDS, "ghost")), label="agent")

    # -- rules ------------------------------------------------------------------------------

    @initialize(data=st.data())
    def staff(self, data: st.DataObject) -> None:
        for aid in data.draw(st.lists(st.sampled_from(AGENT_IDS), unique=True), label="staff"):
            self._call("agent_logged_in", 0.0, aid, legal=lambda r: True)

    @rule(data=st.data())
    def contact_arrives(self, data: st.DataObject) -> None:
        now = self._time(data)
        queue = "nope" if self._rare(data, 25) else data.draw(st.sampled_from(ARRIVAL_QUEUES))
        tier = "platinum" if self._rare(data, 25) else data.draw(st.sampled_from((None, *TIER_IDS)))
        customer = data.draw(
            st.sampled_from((None, None, "cust_vip", "cust_b", "cust_c", "cust_x")),
            label="customer",
        )
        kw: dict[str, Any] = {"tier": tier, "customer_id": customer}
        how = data.draw(st.integers(0, 24), label="how")
        if how == 20:
            kw["preferred_agent"] = data.draw(st.sampled_from((*AGENT_IDS, "ghost")))
        elif how in (21, 22):
            kw["arrived_at"] = now - data.draw(st.sampled_from((0, 3, 11, 30, 70)))
        elif how in (17, 18):  # a call back
            kw["patient"] = True
            kw["arrived_at"] = now - data.draw(st.sampled_from((0, 30, 300)))
        live = sorted(self.router.contacts)
        ended = [f"c{i}" for i in range(self.next_id) if f"c{i}" not in self.router.contacts]
        if how == 24 and live:
            cid = data.draw(st.sampled_from(live), label="duplicate")
        elif how == 23 and ended:
            cid = data.draw(st.sampled_from(ended), label="reused")  # legal: it has ended
        else:
            cid = f"c{self.next_id}"
            self.next_id += 1

        def legal(r: Router) -> bool:
            pref = kw.get("preferred_agent")
            return (
                cid not in r.contacts
                and queue in r.queues
                and (tier is None or tier in TIER_IDS)
                and (pref is None or pref in r.agents)
            )

        self._call("contact_arrived", now, cid, queue, legal=legal, **kw)

    def _contact_rule(self, data: st.DataObject, name: str, *states: ContactState) -> None:
        now = self._time(data)
        cid = self._contact(data, *states)

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return c is not None and c.state in states

        self._call(name, now, cid, legal=legal)

    @precondition(lambda self: self._has(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        self._contact_rule(data, "contact_abandoned", ContactState.WAITING, ContactState.OFFERED)

    @precondition(lambda self: self._has(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data())
    def take_callback(self, data: st.DataObject) -> None:
        self._contact_rule(data, "accept_callback", ContactState.WAITING, ContactState.OFFERED)

    @precondition(lambda self: self._has(ContactState.OFFERED))
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        self._contact_rule(data, "offer_accepted", ContactState.OFFERED)

    @precondition(lambda self: self._has(ContactState.OFFERED))
    @rule(data=st.data())
    def accept_more(self, data: st.DataObject) -> None:
        """Answering is the common case: weigh it triple."""
        self.accept(data)

    @precondition(lambda self: self._has(ContactState.OFFERED))
    @rule(data=st.data())
    def accept_again(self, data: st.DataObject) -> None:
        self.accept(data)

    @precondition(lambda self: self._has(ContactState.OFFERED))
    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        self._contact_rule(data, "offer_declined", ContactState.OFFERED)

    @precondition(lambda self: self._has(ContactState.ACTIVE))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        self._contact_rule(data, "contact_completed", ContactState.ACTIVE)

    @precondition(lambda self: self._has(ContactState.WRAP_UP))
    @rule(data=st.data())
    def wrap_up_done(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.WRAP_UP)
        disposition = data.draw(st.sampled_from((None, "sold", "resolved")), label="disposition")

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return c is not None and c.state is ContactState.WRAP_UP

        self._call("wrap_up_done", now, cid, disposition, legal=legal)

    @precondition(lambda self: bool(self.router.wraps) or self._has(ContactState.WRAP_UP))
    @rule(data=st.data())
    def wrap_up_done_by(self, data: st.DataObject) -> None:
        """An agent ends a wrap-up, maybe of a segment it handed off."""
        now = self._time(data)
        r = self.router
        pairs = sorted((w.agent_id, w.contact_id) for w in r.wraps.values())
        pairs += sorted(
            (c.agent, c.id)
            for c in r.contacts.values()
            if c.state is ContactState.WRAP_UP and c.agent is not None
        )
        if pairs and data.draw(st.integers(0, 9), label="fit") < 8:
            aid, cid = data.draw(st.sampled_from(pairs), label="wrap-up")
        else:
            aid = data.draw(st.sampled_from(AGENT_IDS), label="agent")
            cid = self._contact(data, ContactState.WRAP_UP, ContactState.ACTIVE)

        def legal(r: Router) -> bool:
            if aid in r.wrapping(cid):
                return True
            c = r.contacts.get(cid)
            return c is not None and c.state is ContactState.WRAP_UP and c.agent == aid

        self._call("wrap_up_done", now, cid, "resolved", aid, legal=legal)

    def _target_agent(self, data: st.DataObject, channel: str | None) -> str:
        """Mostly an agent ready for ``channel``; sometimes anyone or an unknown id."""
        ready = [aid for aid, a in self.router.agents.items() if channel and a.can_take(channel)]
        if ready and data.draw(st.integers(0, 9), label="fit") < 8:
            return data.draw(st.sampled_from(ready), label="to agent")
        return data.draw(st.sampled_from((*AGENT_IDS, "ghost")), label="to agent")

    @staticmethod
    def _can_ring(r: Router, aid: str, cid: str) -> bool:
        c = r.contacts.get(cid)
        a = r.agents.get(aid)
        return (
            c is not None
            and a is not None
            and a.can_take(c.channel)
            and cid not in a.slots
            and aid != c.agent
        )

    @precondition(lambda self: self._has(ContactState.ACTIVE))
    @rule(data=st.data())
    def hand_off(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.ACTIVE)
        c = self.router.contacts.get(cid)
        channel = c.channel if c is not None else None
        where = data.draw(st.sampled_from(("queue", "queue", "agent", "out")), label="where")
        kw: dict[str, Any] = {}
        if where == "queue":
            same = [q for q in QUEUE_IDS if CENTER.queues[q].channel == channel]
            if same and not self._rare(data, 10):
                kw["to_queue"] = data.draw(st.sampled_from(same), label="queue")
            else:
                kw["to_queue"] = data.draw(st.sampled_from((*QUEUE_IDS, "nope")), label="queue")
        elif where == "agent":
            kw["to_agent"] = self._target_agent(data, channel)

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            if c is None or c.state is not ContactState.ACTIVE or c.consult is not None:
                return False
            q = kw.get("to_queue")
            if q is not None and (q not in r.queues or r.queues[q].cfg.channel != c.channel):
                return False
            to = kw.get("to_agent")
            return to is None or self._can_ring(r, to, cid)

        self._call("hand_off", now, cid, legal=legal, **kw)

    @precondition(lambda self: bool(self.parked))
    @rule(data=st.data())
    def bring_back(self, data: st.DataObject) -> None:
        """A contact handed out of routing comes back (a call back's next attempt)."""
        now = self._time(data)
        cid = data.draw(st.sampled_from(sorted(self.parked)), label="parked")
        queue, arrived, segment = self.parked[cid]

        def legal(r: Router) -> bool:
            return cid not in r.contacts

        self._call(
            "contact_arrived", now, cid, queue, arrived_at=arrived, segment=segment, legal=legal
        )
        if cid in self.router.contacts:
            del self.parked[cid]

    @precondition(lambda self: bool(self.parked))
    @rule(data=st.data())
    def resume_after_restart(self, data: st.DataObject) -> None:
        """A contact an agent held comes back straight to that agent (after a restart)."""
        now = self._time(data)
        cid = data.draw(st.sampled_from(sorted(self.parked)), label="parked")
        queue, arrived, segment = self.parked[cid]
        aid = self._agent(data, online=True)
        channel = CENTER.queues[queue].channel

        def legal(r: Router) -> bool:
            a = r.agents.get(aid)
            return (
                cid not in r.contacts
                and a is not None
                and a.presence is not Presence.OFFLINE
                and cid not in a.slots
                and ready_room(a, channel)
            )

        self._call(
            "contact_resumed", now, cid, queue, aid, segment=segment, arrived_at=arrived,
            legal=legal,
        )  # fmt: skip
        if cid in self.router.contacts:
            del self.parked[cid]

    def _consulting(self, *slots: SlotState) -> list[str]:
        r = self.router
        return sorted(
            c.id
            for c in r.contacts.values()
            if c.consult is not None and r.agents[c.consult].slot(c.id) in slots
        )

    def _consult_rule(self, data: st.DataObject, name: str, *slots: SlotState) -> None:
        now = self._time(data)
        fitting = self._consulting(*slots)
        if fitting and data.draw(st.integers(0, 9), label="fit") < 9:
            cid = data.draw(st.sampled_from(fitting), label="contact")
        else:
            cid = self._contact(data, ContactState.ACTIVE)

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return (
                c is not None and c.consult is not None and r.agents[c.consult].slot(cid) in slots
            )

        self._call(name, now, cid, legal=legal)

    @precondition(lambda self: self._has(ContactState.ACTIVE))
    @rule(data=st.data())
    def consult(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.ACTIVE)
        c = self.router.contacts.get(cid)
        aid = self._target_agent(data, c.channel if c is not None else None)

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return (
                c is not None
                and c.state is ContactState.ACTIVE
                and c.consult is None
                and self._can_ring(r, aid, cid)
            )

        self._call("consult_started", now, cid, aid, legal=legal)

    @precondition(lambda self: bool(self._consulting(SlotState.OFFERED)))
    @rule(data=st.data())
    def consult_answer(self, data: st.DataObject) -> None:
        self._consult_rule(data, "consult_accepted", SlotState.OFFERED)

    @precondition(lambda self: bool(self._consulting(SlotState.OFFERED)))
    @rule(data=st.data())
    def consult_decline(self, data: st.DataObject) -> None:
        self._consult_rule(data, "consult_declined", SlotState.OFFERED)

    @precondition(lambda self: bool(self._consulting(SlotState.OFFERED, SlotState.ACTIVE)))
    @rule(data=st.data())
    def consult_cancel(self, data: st.DataObject) -> None:
        self._consult_rule(data, "consult_cancelled", SlotState.OFFERED, SlotState.ACTIVE)

    @precondition(lambda self: bool(self._consulting(SlotState.ACTIVE)))
    @rule(data=st.data())
    def consult_complete(self, data: st.DataObject) -> None:
        self._consult_rule(data, "consult_completed", SlotState.ACTIVE)

    @precondition(lambda self: self._has(ContactState.ACTIVE))
    @rule(data=st.data())
    def warm_transfer(self, data: st.DataObject) -> None:
        """A consult taken at once and then completed or called off (consults rarely live
        through several random steps: ring timeouts end most)."""
        now = self.now
        r = self.router
        active = sorted(
            c.id for c in r.contacts.values() if c.state is ContactState.ACTIVE and not c.consult
        )
        if not active:
            return
        cid = data.draw(st.sampled_from(active), label="contact")
        ready = [aid for aid in AGENT_IDS if self._can_ring(r, aid, cid)]
        if not ready:
            return
        aid = data.draw(st.sampled_from(ready), label="to agent")
        self._call("consult_started", now, cid, aid, legal=lambda r: True)
        self._call("consult_accepted", now, cid, legal=lambda r: True)
        end = data.draw(st.sampled_from(("consult_completed", "consult_cancelled")), label="end")
        self._call(end, now, cid, legal=lambda r: True)

    @precondition(lambda self: self._has(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data())
    def supervisor_priority(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.WAITING, ContactState.OFFERED)
        priority = data.draw(st.sampled_from((0, 5, 60, 150, 300)), label="priority")

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return c is not None and c.state in (ContactState.WAITING, ContactState.OFFERED)

        self._call("set_priority", now, cid, priority, legal=legal)

    def _presence(self, data: st.DataObject) -> tuple[Presence, str | None]:
        if self._rare(data, 20):
            presence = Presence.OFFLINE
        else:
            presence = data.draw(st.sampled_from((Presence.AVAILABLE, Presence.AWAY)))
        reason = None
        if presence is Presence.AWAY or self._rare(data, 10):
            reason = data.draw(st.sampled_from(AWAY_REASONS), label="reason")
            if self._rare(data, 15):
                reason = data.draw(st.sampled_from((None, "nap")), label="bad reason")
        return presence, reason

    @rule(data=st.data())
    def log_in(self, data: st.DataObject) -> None:
        now = self._time(data)
        aid = self._agent(data, online=False)
        presence, reason = self._presence(data)

        def legal(r: Router) -> bool:
            a = r.agents.get(aid)
            return (
                a is not None
                and a.presence is Presence.OFFLINE
                and presence is not Presence.OFFLINE
                and (presence is Presence.AVAILABLE or reason in AWAY_REASONS)
            )

        self._call("agent_logged_in", now, aid, presence, reason, legal=legal)

    @rule(data=st.data())
    def log_out(self, data: st.DataObject) -> None:
        now = self._time(data)
        aid = self._agent(data, online=True)
        reason = data.draw(st.sampled_from((None, None, "disconnected")), label="reason")

        def legal(r: Router) -> bool:
            a = r.agents.get(aid)
            return (
                a is not None
                and a.presence is not Presence.OFFLINE
                and set(a.slots) <= {a.offered_contact}
            )

        self._call("agent_logged_out", now, aid, reason, legal=legal)

    @rule(data=st.data())
    def set_presence(self, data: st.DataObject) -> None:
        now = self._time(data)
        aid = self._agent(data, online=True)
        presence, reason = self._presence(data)

        def legal(r: Router) -> bool:
            a = r.agents.get(aid)
            return (
                a is not None
                and a.presence is not Presence.OFFLINE
                and presence is not Presence.OFFLINE
                and (presence is Presence.AVAILABLE or reason in AWAY_REASONS)
                and presence in PRESENCE_MOVES[a.presence]
            )

        self._call("set_agent_presence", now, aid, presence, reason, legal=legal)

    @rule(data=st.data())
    def customer_tier_changes(self, data: st.DataObject) -> None:
        now = self._time(data)
        customer = data.draw(st.sampled_from(("cust_vip", "cust_b", "cust_c", "cust_x", "anon")))
        tier = "platinum" if self._rare(data, 15) else data.draw(st.sampled_from(TIER_IDS))
        self._call("customer_tier_changed", now, customer, tier, legal=lambda r: tier in TIER_IDS)

    @precondition(lambda self: self._has(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data())
    def contact_tier_changes(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.WAITING, ContactState.OFFERED)
        tier = "platinum" if self._rare(data, 15) else data.draw(st.sampled_from(TIER_IDS))
        self._call(
            "contact_tier_changed",
            now,
            cid,
            tier,
            legal=lambda r: cid in r.contacts and tier in TIER_IDS,
        )

    @precondition(lambda self: self._has(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        now = self._time(data)
        cid = self._contact(data, ContactState.WAITING, ContactState.OFFERED)
        c = self.router.contacts.get(cid)
        others = [q for q in QUEUE_IDS if c is not None and CENTER.queues[q].channel == c.channel]
        if others and data.draw(st.integers(0, 9), label="fit") < 8:
            queue = data.draw(st.sampled_from(others), label="queue")
        else:
            queue = data.draw(st.sampled_from((*QUEUE_IDS, "nope")), label="queue")

        def legal(r: Router) -> bool:
            c = r.contacts.get(cid)
            return (
                c is not None
                and queue in r.queues
                and r.queues[queue].cfg.channel == c.channel
                and queue != c.queue
                and c.state in (ContactState.WAITING, ContactState.OFFERED)
            )

        self._call("transfer", now, cid, queue, legal=legal)

    @rule(data=st.data())
    def time_passes(self, data: st.DataObject) -> None:
        self._call("advance", self._time(data), legal=lambda r: True)

    @rule(data=st.data(), n=st.integers(2, 4))
    def chat_rush(self, data: st.DataObject, n: int) -> None:
        """Several chats at once, each answered as soon as it rings: agents fill up to their
        chat capacity (and voice is blocked meanwhile)."""
        now = self.now
        for _ in range(n):
            cid = f"c{self.next_id}"
            self.next_id += 1
            queue = data.draw(st.sampled_from(("c_sales", "c_billing")), label="queue")
            tier = data.draw(st.sampled_from(TIER_IDS), label="tier")
            self._call("contact_arrived", now, cid, queue, tier=tier, legal=lambda r: True)
            c = self.router.contacts.get(cid)
            if c is not None and c.state is ContactState.OFFERED:
                self._call("offer_accepted", now, cid, legal=lambda r: True)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def agents_within_capacity(self) -> None:
        r = self.router
        for a in r.agents.values():
            counts = {ch: 0 for ch in CAPACITY[a.id]}
            offered = []
            for cid, (ch, state) in a.slots.items():
                counts[ch] += 1
                if state is SlotState.OFFERED:
                    offered.append(cid)
            for ch, n in counts.items():
                assert n <= CAPACITY[a.id][ch], f"{a.id} holds {n} {ch} contacts"
                assert a.count(ch) == n, f"{a.id}: count({ch}) {a.count(ch)} != {n}"
                for other in BLOCKS[ch]:
                    assert not (n and counts[other]), f"{a.id} holds {ch} and {other} at once"
            assert len(offered) <= 1, f"{a.id} rings for {offered}"
            assert a.offered_contact == (offered[0] if offered else None), a.id
            if a.presence is Presence.OFFLINE:
                assert not a.slots, f"offline {a.id} holds {a.slots}"
            assert a.can_take("voice") == ready_for(a, "voice"), a.id
            assert a.can_take("chat") == ready_for(a, "chat"), a.id

    @invariant()
    def work_conserving(self) -> None:
        r = self.router
        now = r.now
        for c in r.contacts.values():
            if c.state is not ContactState.WAITING:
                continue
            for aid, a in r.agents.items():
                assert not r.is_eligible(c.id, aid), f"{c.id} waits while {aid} is eligible"
                assert not (ready_for(a, c.channel) and may_take(c, aid, now)), (
                    f"{c.id} ({c.queue} step {c.step}) waits while {aid} is ready and may take it"
                )

    @invariant()
    def bookkeeping(self) -> None:
        r = self.router
        now = r.now
        wrapping = {(w.agent_id, w.contact_id) for w in r.wraps.values()}
        for c in r.contacts.values():
            assert c.state is not ContactState.ENDED, c.id
            expected = {aid for aid, cid in wrapping if cid == c.id}
            for aid in expected:
                assert excluded(c, aid, now) and math.isinf(c.excluded[aid]), (c.id, aid)
            if c.state is ContactState.WAITING:
                assert c.agent is None and c.consult is None, c.id
            else:
                assert c.agent is not None, c.id
                expected.add(c.agent)
                assert r.agents[c.agent].slots[c.id] == (c.channel, SLOT_OF[c.state]), c.id
            if c.consult is not None:
                assert c.state is ContactState.ACTIVE, c.id
                assert r.agents[c.consult].slot(c.id) in (SlotState.OFFERED, SlotState.ACTIVE)
                expected.add(c.consult)
            holders = {a.id for a in r.agents.values() if c.id in a.slots}
            assert holders == expected, f"{c.id} held by {holders}, expected {expected}"
        for a in r.agents.values():
            for cid, (ch, state) in a.slots.items():
                if (a.id, cid) in wrapping:
                    assert state is SlotState.WRAP_UP, (a.id, cid)
                    continue
                c = r.contacts.get(cid)
                assert c is not None, f"{a.id} holds unknown contact {cid}"
                assert c.channel == ch, cid
                if c.consult == a.id:
                    continue
                assert c.agent == a.id and SLOT_OF[c.state] is state, cid
        nd = r.next_deadline()
        assert nd is None or nd > now, f"deadline {nd} is not after now={now}"

    @invariant()
    def time_driven_state_is_current(self) -> None:
        r = self.router
        now = r.now
        tiers = CENTER.tiers
        owed: list[float] = []
        for c in r.contacts.values():
            q = CENTER.queues[c.queue]
            steps = q.escalation
            if c.state is ContactState.OFFERED:
                owed.append(self.ring_deadline[c.id] if not self.stale else math.inf)
            if c.consult is not None and r.agents[c.consult].slot(c.id) is SlotState.OFFERED:
                owed.append(self.consult_deadline[c.id] if not self.stale else math.inf)
            elif c.state is ContactState.WRAP_UP and q.wrap_up_seconds > 0:
                assert c.completed_at is not None
                assert now < c.completed_at + q.wrap_up_seconds, f"{c.id} wrap-up overdue"
                owed.append(c.completed_at + q.wrap_up_seconds)
            if c.state not in (ContactState.WAITING, ContactState.OFFERED):
                continue
            due = time_step(c.queue, c.queued_at, now)
            assert due <= c.step <= max(due, FIRST_OPEN[c.queue]), (
                f"{c.id} at step {c.step}, time says {due} (queued {c.queued_at}, now {now})"
            )
            raises = sum(s.raise_priority for s in steps[: c.step + 1])
            nudge = self.nudges.get(c.id, 0) if not self.stale else c.nudge
            assert c.priority == tiers[c.tier].priority + q.priority + raises + nudge, c.id
            threshold = q.answer_target.threshold_seconds
            assert threshold is not None
            if now >= c.arrived_at + threshold:
                assert c.breached, f"{c.id} not marked breached"
            elif not c.breached:
                owed.append(c.arrived_at + threshold)
            if c.step + 1 < len(steps):
                owed.append(c.queued_at + steps[c.step + 1].after_seconds)
            if q.max_wait is not None and not c.patient:
                if c.state is ContactState.WAITING:
                    assert now < c.queued_at + q.max_wait.seconds, f"{c.id} waited too long"
                    owed.append(c.queued_at + q.max_wait.seconds)
                else:
                    assert c.max_wait_due == (now >= c.queued_at + q.max_wait.seconds), c.id
            if c.state is ContactState.WAITING:
                assert steps[c.step].overflow_to is None, f"{c.id} should have overflowed"
                assert c.overflow_due is None, c.id
                assert not c.max_wait_due, c.id
            owed += [until for until in c.excluded.values() if now < until < math.inf]
        for w in r.wraps.values():
            wrap = CENTER.queues[w.queue].wrap_up_seconds
            assert now < w.started + wrap, f"{w} overdue"
            owed.append(w.started + wrap)
        if owed:
            nd = r.next_deadline()
            assert nd is not None and nd <= min(owed), f"next deadline {nd}, owed {min(owed)}"

    @invariant()
    def events_tell_the_truth(self) -> None:
        if self.stale:
            return
        r = self.router
        assert set(self.shadow) == set(r.contacts), set(self.shadow) ^ set(r.contacts)
        for cid, (state, agent) in self.shadow.items():
            c = r.contacts[cid]
            assert (c.state, c.agent) == (state, agent), f"{cid}: {c.state} vs events {state}"
            assert c.queue == self.shadow_queue[cid], cid
        for aid, a in r.agents.items():
            said = self.activity[aid]
            assert a.activity is said, f"{aid} is {a.activity}, events say {said}"
        consults = {
            c.id: (c.consult, "ringing" if r.agents[c.consult].slot(c.id) is SlotState.OFFERED
                   else "talking")
            for c in r.contacts.values()
            if c.consult is not None
        }  # fmt: skip
        assert consults == self.consults, (consults, self.consults)
        wraps = {(w.agent_id, w.contact_id) for w in r.wraps.values()}
        assert wraps == self.handoff_wraps, (wraps, self.handoff_wraps)

    def teardown(self) -> None:
        if not self.clean:
            return  # a check already failed; report that one
        self._call("advance", self.now, legal=lambda r: True)
        self.events_tell_the_truth()
        replay = Router(CENTER)
        outcomes: list[Event | str] = []
        for name, args, kw in self.inputs:
            try:
                outcomes.extend(getattr(replay, name)(*args, **kw))
            except REFUSED as e:
                outcomes.append(type(e).__name__)
        assert outcomes == self.outcomes, "replaying the same inputs gave different events"


RouterMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestRouterInvariants = RouterMachine.TestCase
