"""The routing core: queues, escalation, matching and offers, with no clock and no I/O.

A driver (the asyncio runtime or the SimPy planner) calls the ``Router`` with inputs stamped
``now`` and carries out the events it returns; ``next_deadline()`` says when to call
``advance(now)`` at the latest. Every input first fires the timers due by ``now``.

Rules, in the order a contact meets them:

* **Queueing.** A contact's priority is its tier's priority + its queue's priority + the raises
  of the escalation steps it has reached; inside a queue, higher priority first, then FIFO by
  original arrival.
* **Escalation.** From each step's ``after_seconds`` in the queue on, that step decides who may
  be offered the contact (dedicated agent only, tier level, proficiency, non-members). The
  dedicated agent may always take their customer's contact and is preferred when ready.
* **Matching is work-conserving.** After every input no waiting contact has a ready agent
  that is eligible for it; an agent who becomes ready takes, among all queues it may serve, the
  contact with the highest ``tier weight * wait / answer threshold`` (its own dedicated
  customers first), so no queue starves: every waiting contact's score grows without bound.
  An agent with a ``queue_rank`` serves its queues in strict rank order instead (the
  SLA-risk rule among equal ranks), where lower-ranked queues may starve, as configured.
  A queue's ``priority`` ranks contacts inside the queue, not queues (``selection``).
* **Offers are reservations.** An agent rings one contact at a time. Decline or ring timeout
  put the contact back in its place (original arrival time) and keep that agent away from it
  for ``reoffer_delay_seconds``; ``no_answer_limit`` consecutive timeouts set the agent away
  with reason ``no-answer`` (``phone-unreachable`` when the last offer's phone could not be
  reached at all: ``offer_failed``).
* **Wrap-up** keeps the slot taken for the queue's ``wrap_up_seconds`` or until the agent
  sends a disposition.
* **Hand-offs.** An agent may hand an active contact on: to a queue (it waits there in its
  place by original arrival), to an agent who is ready (rung at once; if that agent does not
  take it, it waits in its queue), or out of routing (the driver brings it back later, e.g. a
  call back to retry). The agent's segment ends and its wrap-up starts; the contact goes on as
  the next segment, which is never counted as a new arrival or answer and never breaches its
  answer target again. The handing agent is kept away from the contact until its wrap-up ends.
* **Consults** (warm transfers). While the customer waits on hold, the agent may ring a ready
  colleague, who is reserved for it; the consult is answered, declined, rings out or is called
  off, or it is completed: the first agent's segment ends and the colleague carries on.
* **Supervisors** may change a waiting contact's priority (kept across queues).
* **Timers go first.** An input at (or after) the instant a timer is due meets the state that
  timer left. An input about what a timer ended since the clock last moved (``Lapse``: an
  offer or consult that rang out, a wrap-up, a wait that max wait or an overflow ended) is
  void: the driver could not have known, so it changes nothing and returns only the timers'
  events. Any other input that does not fit the state is refused with a named error.

Events produced before an input is refused (an exception) are returned by the next call.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from heapq import heappop, heappush

from mypy_extensions import mypyc_attr

from contactcenter.agents import (
    CHANNEL_BITS,
    NO_ANSWER,
    PHONE_UNREACHABLE,
    SYSTEM_AWAY_REASONS,
    Agent,
    Presence,
    SlotState,
)
from contactcenter.config import (
    Center,
    QueueConfig,
    can_serve_at_step,
)
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ChannelName,
    ConsultAnswered,
    ConsultEnded,
    ConsultEndReason,
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
    RejectReason,
    RemoveOutcome,
    RemoveReason,
    TargetBreached,
    TransferReason,
    WrapUpEnded,
)
from contactcenter.routing.contact import Contact, ContactState
from contactcenter.routing.explain import Explanation, explain
from contactcenter.routing.selection import choose_agent, queue_ranks
from contactcenter.routing.timers import TimerKind, Timers
from contactcenter.routing.waiting import Entry, WaitingList, entry

AgentLists = list[WaitingList]

# Enum members as plain globals for the hot paths: ``ContactState.WAITING`` goes through the
# enum metaclass, several times the cost of a global lookup.
_WAITING, _OFFERED = ContactState.WAITING, ContactState.OFFERED
_ACTIVE, _WRAP_UP, _ENDED = ContactState.ACTIVE, ContactState.WRAP_UP, ContactState.ENDED
_STEP, _BREACH, _MAX_WAIT = TimerKind.STEP, TimerKind.BREACH, TimerKind.MAX_WAIT
_RING, _WRAP_UP_END, _REOFFER = TimerKind.RING, TimerKind.WRAP_UP, TimerKind.REOFFER
_HANDOFF_WRAP, _CONSULT_RING = TimerKind.HANDOFF_WRAP, TimerKind.CONSULT_RING
_AVAILABLE, _ACTIVITY_AWAY = Presence.AVAILABLE, AgentActivity.AWAY


class RoutingError(Exception):
    """An input the router refuses; its state is unchanged by the refused part."""


class UnknownContact(RoutingError):
    pass


class UnknownAgent(RoutingError):
    pass


class UnknownQueue(RoutingError):
    pass


class InvalidInput(RoutingError):
    """The input does not fit the current state (e.g. accepting an offer that is not open)."""


class ClockWentBackwards(RoutingError):
    pass


class Lapse(StrEnum):
    """What a timer can end just before a driver's input about it (the input is then void)."""

    OFFER = "offer"
    """A ring timeout withdrew the offer (the contact may already ring elsewhere)."""
    CONSULT = "consult"
    """A consult rang out."""
    WRAP_UP = "wrap_up"
    """The wrap-up timer ended a wrap-up (a contact's, or a handed-off segment's)."""
    WAIT = "wait"
    """The contact's wait ended: max wait, or an overflow into a queue that disconnects it."""


@dataclass(frozen=True, slots=True)
class SegmentWrap:
    """The wrap-up of a segment an agent handed off (the contact itself went on)."""

    stamp: int
    agent_id: str
    contact_id: str
    segment: int
    queue: str
    channel: ChannelName
    started: float

    def __reduce__(self) -> tuple[type[SegmentWrap], tuple[int, str, str, int, str, str, float]]:
        """Copied and pickled through ``__init__``: compiled (mypyc), a frozen class cannot be
        filled in after it is made."""
        return (
            SegmentWrap,
            (self.stamp, self.agent_id, self.contact_id, self.segment, self.queue, self.channel,
             self.started),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ContactView:
    """A read-only look at a contact, for drivers and tests."""

    contact_id: str
    queue: str
    channel: ChannelName
    state: ContactState
    tier: str
    priority: int
    step: int
    arrived_at: float
    queued_at: float
    agent: str | None
    segment: int
    consult: str | None


# Compiled (mypyc), still copied and pickled as a Python class is (serializable alone leaves
# the attributes of instances made from Python unset: mypyc/mypyc#1172).
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class QueueState:
    """A queue's static eligibility tables and its waiting lists (one per escalation step)."""

    __slots__ = (
        "breach_lane",
        "cfg",
        "consult_lane",
        "first_open_step",
        "first_step",
        "handoff_lane",
        "id",
        "lists",
        "max_wait_lane",
        "max_wait_seconds",
        "open",
        "plain",
        "priority",
        "ready_at",
        "ring_lane",
        "rr_last",
        "skill_total",
        "staffed",
        "step_after",
        "step_lanes",
        "threshold",
        "wrap_lane",
    )

    def __init__(self, cfg: QueueConfig, center: Center, timers: Timers) -> None:
        self.cfg = cfg
        steps = cfg.escalation
        # Read on every contact: held here, not looked up on the config model each time.
        self.id = cfg.id
        self.priority = cfg.priority
        self.max_wait_seconds = cfg.max_wait.seconds if cfg.max_wait is not None else None
        self.step_after = [s.after_seconds for s in steps]
        self.first_open_step = next(i for i, s in enumerate(steps) if not s.dedicated_only)
        self.lists = [WaitingList() for _ in steps]
        self.open = [not s.dedicated_only for s in steps]
        """Per step: not dedicated-only (its contacts wait in ``lists``)."""
        self.plain = [
            not s.raise_priority and not s.offer_callback and s.overflow_to is None for s in steps
        ]
        """Per step: reaching it sets the step and nothing else (``Router._reach_step``)."""
        threshold = cfg.answer_target.threshold_seconds
        assert threshold is not None  # resolved by the config loader
        self.threshold = threshold
        self.first_step: dict[str, int] = {}
        """Agent id -> first step at which the agent is eligible (steps only widen)."""
        for agent in center.agents.values():
            if center.capacity(agent, cfg.channel) <= 0:
                continue
            for i in range(self.first_open_step, len(steps)):
                if can_serve_at_step(agent, cfg, steps[i]):
                    self.first_step[agent.id] = i
                    break
        self.skill_total = {
            aid: sum(center.agents[aid].skills.get(s, 0) for s in cfg.skills)
            for aid in self.first_step
        }
        """Agent id (eligible at some step) -> the sum of its proficiencies in our skills."""
        self.staffed = 0
        """Logged-in agents who are eligible at some step."""
        self.rr_last = -1
        self.ready_at: list[dict[str, Agent]] = [{} for _ in steps]
        """Per step: the ready agents (for this queue's channel) first eligible at that step, by
        id (the agent is the value: candidates are read off without a lookup each)."""
        # The timer lanes of this queue's constant delays (see ``Timers``).
        self.ring_lane = timers.lane(TimerKind.RING, cfg.ring_timeout_seconds)
        self.wrap_lane = timers.lane(TimerKind.WRAP_UP, cfg.wrap_up_seconds)
        self.handoff_lane = timers.lane(TimerKind.HANDOFF_WRAP, cfg.wrap_up_seconds)
        self.consult_lane = timers.lane(TimerKind.CONSULT_RING, cfg.ring_timeout_seconds)
        self.breach_lane = timers.lane(TimerKind.BREACH, threshold)
        self.step_lanes = [timers.lane(TimerKind.STEP, s.after_seconds) for s in steps]
        wait = cfg.max_wait.seconds if cfg.max_wait is not None else 0.0
        self.max_wait_lane = timers.lane(TimerKind.MAX_WAIT, wait)


# Compiled (mypyc), Python subclasses (the invariant test's checking router) and copies still
# work as they do on the pure-Python core.
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Router:
    """The sans-I/O routing core of one center."""

    def __init__(self, center: Center, *, rng: random.Random | None = None) -> None:
        """``rng`` draws the ``random`` selection strategy's choices: the planner seeds it per
        replication; by default it is seeded from the operating system."""
        self.center = center
        self._rng = rng if rng is not None else random.Random()
        settings = center.settings
        self._tiers = center.tiers
        self._tier_priority = {t: tier.priority for t, tier in self._tiers.items()}
        self._routing = settings.routing
        self._now = 0.0
        self._seq = 0
        self._out: list[Event] = []
        self._timers = Timers()
        self._reoffer_lane = self._timers.lane(
            TimerKind.REOFFER, self._routing.reoffer_delay_seconds
        )
        self.queues: dict[str, QueueState] = {
            qid: QueueState(q, center, self._timers) for qid, q in center.queues.items()
        }
        self.contacts: dict[str, Contact] = {}
        self._dedicated_of = center.dedicated_agent
        blocks = {ch: s.blocks for ch, s in settings.channels.items()}
        self.agents: dict[str, Agent] = {
            a.id: Agent(a.id, {ch: center.capacity(a, ch) for ch in settings.channels}, blocks)
            for a in center.agents.values()
        }
        self._order = {aid: i for i, aid in enumerate(center.agents)}
        self._agent_queues: dict[str, list[tuple[QueueState, int]]] = {a: [] for a in self.agents}
        for qs in self.queues.values():
            for aid, first in qs.first_step.items():
                self._agent_queues[aid].append((qs, first))
        self._weight = {t: tier.weight for t, tier in self._tiers.items()}
        self._agent_lists: dict[
            str, dict[ChannelName, list[tuple[QueueState, AgentLists, int]]]
        ] = {a: {} for a in self.agents}
        """Agent -> channel -> (queue, its waiting lists from the agent's first step on, the
        agent's rank of the queue)."""
        for aid, pairs in self._agent_queues.items():
            by_channel = self._agent_lists[aid]
            ranks = queue_ranks(center.agents[aid], (qs.id for qs, _ in pairs))
            for qs, first in pairs:
                by_channel.setdefault(qs.cfg.channel, []).append(
                    (qs, qs.lists[first:], ranks[qs.id])
                )
        self._dedicated_lists: dict[str, WaitingList] = {a: WaitingList() for a in self.agents}
        routed = {q.channel for q in center.queues.values()}
        self._ready: dict[ChannelName, dict[str, Agent]] = {
            ch: {} for ch in settings.channels if ch in routed
        }
        self._routed = sum(CHANNEL_BITS[ch] for ch in self._ready)
        """Bits of the channels some queue serves (the keys of ``_ready``)."""
        self._ready_bits: dict[str, int] = dict.fromkeys(self.agents, 0)
        """Agent -> bits of the channels it is listed as ready for in ``_ready``/``ready_at``.

        An agent who becomes ready is listed only once it is matched as a pending agent and
        takes nothing (``_list_ready``): most take a contact at once, and were never listed.
        Until then it is in ``_pending_agents``, which ``_match`` serves before any contact.
        """
        self._ready_index: dict[str, list[tuple[int, list[dict[str, Agent]]]]] = {
            aid: [
                (
                    CHANNEL_BITS[ch],
                    [ready, *(qs.ready_at[first] for qs, first in pairs if qs.cfg.channel == ch)],
                )
                for ch, ready in self._ready.items()
            ]
            for aid, pairs in self._agent_queues.items()
        }
        """Agent -> per routed channel: its bit and the ready indexes that list the agent."""
        self._activity: dict[str, AgentActivity] = dict.fromkeys(self.agents, AgentActivity.OFFLINE)
        self._pending_agents: dict[str, None] = {}
        self._pending_contacts: dict[str, None] = {}
        self._stamps = 0
        """Numbers for the wrap-ups of handed-off segments and for consults."""
        self.wraps: dict[int, SegmentWrap] = {}
        """Wrap-ups of handed-off segments by number (read-only outside the router)."""
        self._wrapping: dict[str, dict[str, int]] = {}
        """Contact id -> agent -> number of that agent's handed-off segment wrap-up."""
        self._lapsed: set[tuple[str, Lapse, str | None]] = set()
        """(contact, what, agent or None) that timers ended since the clock last moved."""

    # == driver inputs =======================================================================

    def advance(self, now: float) -> list[Event]:
        """Time passed: fire every timer due by ``now``."""
        self._begin(now)
        return self._finish()

    def next_deadline(self) -> float | None:
        """When the router must next be called (None: only on the next input)."""
        timers = self._timers
        heap = timers.heap
        contacts = self.contacts
        while heap:
            due, _, kind, cid, stamp, _ = heap[0]
            c = contacts.get(cid)
            if (
                c is not None
                and kind <= _MAX_WAIT  # a live step, breach or max-wait timer: the commonest
                and c.epoch == stamp
                and (c.state is _WAITING or c.state is _OFFERED)
                and not (kind is _BREACH and c.breached)
            ) or not self._timer_is_stale(kind, cid, stamp):
                return due
            timers.pop()
        return None

    def _admission(self, contact_id: str, queue: str, tier: str | None) -> tuple[QueueState, str]:
        """The queue and tier a new contact enters with; a known contact is refused."""
        if contact_id in self.contacts:
            raise InvalidInput(f"contact {contact_id} is already known")
        qs = self._queue(queue)
        tier_id = tier if tier is not None else self.center.settings.default_tier
        if tier_id not in self._tiers:
            raise InvalidInput(f"unknown tier {tier_id!r}")
        return qs, tier_id

    def contact_arrived(
        self,
        now: float,
        contact_id: str,
        queue: str,
        *,
        tier: str | None = None,
        customer_id: str | None = None,
        preferred_agent: str | None = None,
        arrived_at: float | None = None,
        segment: int = 1,
        offer_to: str | None = None,
        patient: bool = False,
    ) -> list[Event]:
        """A contact asks to be served by ``queue``.

        ``tier`` defaults to the center's default tier; ``preferred_agent`` to the customer's
        dedicated agent from the config. ``arrived_at`` (at most ``now``) restores a contact
        that was waiting before a restart with its original arrival time, or keeps a call
        back's place. A ``segment`` above 1 brings back a contact that an agent handed out of
        routing (it is not a new arrival). ``offer_to`` rings that agent at once (who must be
        ready for it); if the agent does not take it, it waits in ``queue``. A ``patient``
        contact has nobody on the line (a call back): no max wait, no no-agents rule and no
        call-back offers apply to it.
        """
        self._begin(now)
        qs, tier_id = self._admission(contact_id, queue, tier)
        if self._lapsed:
            self._renewed(contact_id)
        if preferred_agent is None and customer_id is not None:
            preferred_agent = self._dedicated_of.get(customer_id)
        if preferred_agent is not None and preferred_agent not in self.agents:
            raise UnknownAgent(f"unknown preferred agent {preferred_agent!r}")
        if segment < 1:
            raise InvalidInput(f"segment {segment} is not a segment number")
        target = None if offer_to is None else self._ready_agent(offer_to, contact_id, qs.cfg)
        start = now if arrived_at is None else min(arrived_at, now)
        self._seq += 1
        contact = Contact(
            contact_id,
            queue,
            qs.cfg.channel,
            tier_id,
            customer_id,
            preferred_agent,
            start,
            self._seq,
        )
        self.contacts[contact_id] = contact
        contact.patient = patient
        if segment > 1:
            contact.segment = segment
            contact.breached = True  # the answer target was the first segment's
        wrapping = self._wrapping.get(contact_id) if self._wrapping else None
        if wrapping:  # agents still wrapping up an earlier segment of it
            contact.excluded.update(dict.fromkeys(wrapping, math.inf))
        self._enter_queue(contact, qs, now, queued_at=start, offer_to=target)
        return self._finish()

    def contact_resumed(
        self,
        now: float,
        contact_id: str,
        queue: str,
        agent_id: str,
        *,
        segment: int,
        arrived_at: float,
        tier: str | None = None,
        customer_id: str | None = None,
    ) -> list[Event]:
        """A contact ``agent_id`` held when the engine stopped is with it again: it enters
        ``queue`` in conversation with the agent (who must be logged in with room for it), as
        its ``segment`` (a later one: it was answered before)."""
        self._begin(now)
        qs, tier_id = self._admission(contact_id, queue, tier)
        if segment < 2:
            raise InvalidInput("a resumed contact was answered before: segment 2 or later")
        agent = self._agent(agent_id)
        channel = qs.cfg.channel
        if agent.presence is Presence.OFFLINE or not agent.room & CHANNEL_BITS[channel]:
            raise InvalidInput(f"agent {agent_id} cannot take a {channel} contact back now")
        if contact_id in agent.slots:
            raise InvalidInput(f"agent {agent_id} still holds contact {contact_id}")
        if self._lapsed:
            self._renewed(contact_id)
        self._seq += 1
        preferred = self._dedicated_of.get(customer_id) if customer_id is not None else None
        c = Contact(
            contact_id, queue, channel, tier_id, customer_id, preferred, min(arrived_at, now),
            self._seq,
        )  # fmt: skip
        self.contacts[contact_id] = c
        c.segment = segment
        c.breached = True
        c.queued_at = c.answered_at = now
        wrapping = self._wrapping.get(contact_id) if self._wrapping else None
        if wrapping:  # agents still wrapping up an earlier segment of it
            c.excluded.update(dict.fromkeys(wrapping, math.inf))
        c.priority = self._priority(c, qs)
        c.state = _ACTIVE
        c.agent = agent_id
        agent.resume(now, contact_id, channel)
        self._out.append(
            ContactQueued(now, c.id, queue, channel, c.priority, tier_id, c.arrived_at, segment)
        )
        self._out.append(ContactResumed(now, c.id, queue, channel, agent_id, segment))
        self._refresh(agent)
        return self._finish()

    def contact_abandoned(self, now: float, contact_id: str) -> list[Event]:
        """The customer left before being answered (hung up, closed the chat)."""
        self._begin(now)
        c = self._leaving_contact(contact_id)
        if c is not None:
            self._out.append(
                ContactAbandoned(now, c.id, c.queue, c.channel, now - c.arrived_at, c.segment)
            )
            self._forget(c)
        return self._finish()

    def accept_callback(self, now: float, contact_id: str) -> list[Event]:
        """The waiting customer took the callback offer: they leave the queue, to be called."""
        self._begin(now)
        c = self._leaving_contact(contact_id)
        if c is not None:
            self._remove(c, "callback_accepted", "callback")
        return self._finish()

    def contact_cancelled(self, now: float, contact_id: str) -> list[Event]:
        """The center calls off a waiting contact nobody is on the line for (a call back
        that was cancelled, rescheduled or expired)."""
        self._begin(now)
        c = self._leaving_contact(contact_id)
        if c is not None:
            self._remove(c, "cancelled", "disconnect")
        return self._finish()

    def _leaving_contact(self, contact_id: str) -> Contact | None:
        """The contact whose customer leaves the queue; a ringing offer of it is withdrawn.
        None when a timer has just ended its wait (the input is void)."""
        if self._waited_out(contact_id):
            return None
        c = self._contact(contact_id)
        if c.state is ContactState.OFFERED:
            self._withdraw_offer(c, "contact_left", no_answer=False, requeue=False)
        elif c.state is not ContactState.WAITING:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not waiting")
        return c

    def offer_accepted(self, now: float, contact_id: str) -> list[Event]:
        self._begin(now)
        if self._lapsed and (contact_id, Lapse.OFFER, None) in self._lapsed:
            return self._finish()
        c = self.contacts.get(contact_id)
        if c is None or c.state is not _OFFERED:
            c = self._offered(contact_id)  # raises: unknown, or not offered
        assert c.agent is not None
        agent = self.agents[c.agent]
        agent.accept(now, c.id)
        qs = self.queues[c.queue]
        timers, cid, epoch = self._timers, c.id, c.epoch
        timers.cancel(qs.ring_lane, cid, c.version)
        # Its wait's timers are stale from here on (a wait again is a new epoch). A contact
        # answered on arrival has just set them: still last in their lanes, they go now
        # instead of through the heap later (most timers of a planning day).
        timers.cancel(qs.breach_lane, cid, epoch)
        if c.step + 1 < len(qs.step_lanes):
            timers.cancel(qs.step_lanes[c.step + 1], cid, epoch)
        timers.cancel(qs.max_wait_lane, cid, epoch)
        c.state = _ACTIVE
        c.answered_at = now
        c.version += 1
        segment = c.segment
        wait = now - (c.arrived_at if segment == 1 else c.queued_at)
        self._out.append(ContactAnswered(now, c.id, c.queue, c.channel, agent.id, wait, segment))
        self._refresh(agent)
        return self._finish()

    def offer_declined(self, now: float, contact_id: str) -> list[Event]:
        self._begin(now)
        if (contact_id, Lapse.OFFER, None) in self._lapsed:
            return self._finish()
        c = self._offered(contact_id)
        self._withdraw_offer(c, "declined", no_answer=False, requeue=True)
        return self._finish()

    def offer_failed(self, now: float, contact_id: str) -> list[Event]:
        """The agent's phone could not be reached for the offer (not registered, unavailable):
        like a ring timeout it counts toward ``no_answer_limit``, and reaching the limit this
        way sets the agent away as ``phone-unreachable``."""
        self._begin(now)
        if (contact_id, Lapse.OFFER, None) in self._lapsed:
            return self._finish()
        c = self._offered(contact_id)
        self._withdraw_offer(c, "unreachable", no_answer=True, requeue=True)
        return self._finish()

    def contact_completed(self, now: float, contact_id: str) -> list[Event]:
        """The conversation ended (either side hung up); wrap-up starts. A consult going on
        ends with it."""
        self._begin(now)
        c = self._contact(contact_id)
        if c.state is not _ACTIVE or c.agent is None:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not active")
        if c.consult is not None:
            self._end_consult(c, "contact_left")
        agent = self.agents[c.agent]
        agent.complete(now, c.id)
        c.state = _WRAP_UP
        c.completed_at = now
        c.version += 1
        assert c.answered_at is not None
        self._out.append(
            ContactCompleted(now, c.id, c.queue, c.channel, agent.id, now - c.answered_at)
        )
        qs = self.queues[c.queue]
        wrap = qs.cfg.wrap_up_seconds
        if wrap <= 0:
            self._end_wrap_up(c, None)
        else:
            self._timers.add(qs.wrap_lane, now + wrap, _WRAP_UP_END, c.id, c.version)
            self._refresh(agent)
        return self._finish()

    def wrap_up_done(
        self, now: float, contact_id: str, disposition: str | None, agent_id: str | None = None
    ) -> list[Event]:
        """The agent finished after-contact work with ``disposition``. ``agent_id`` names the
        agent when it may be the wrap-up of a segment it handed off."""
        self._begin(now)
        if (contact_id, Lapse.WRAP_UP, agent_id) in self._lapsed:
            return self._finish()
        if agent_id is not None:
            stamp = self._wrapping.get(contact_id, {}).get(agent_id)
            if stamp is not None:
                self._end_segment_wrap(self.wraps[stamp], disposition)
                return self._finish()
        c = self._contact(contact_id)
        if c.state is not _WRAP_UP or (agent_id is not None and c.agent != agent_id):
            raise InvalidInput(f"contact {contact_id} is not in wrap-up with {agent_id}")
        self._timers.cancel(self.queues[c.queue].wrap_lane, c.id, c.version)
        self._end_wrap_up(c, disposition)
        return self._finish()

    def hand_off(
        self,
        now: float,
        contact_id: str,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> list[Event]:
        """The agent hands an active contact on: to ``to_queue`` (default: its own queue when
        ``to_agent`` is given), to ``to_agent`` (rung at once), or, with neither, out of
        routing. The agent's segment ends and its wrap-up starts."""
        self._begin(now)
        c = self._contact(contact_id)
        if c.state is not _ACTIVE or c.agent is None:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not active")
        if c.consult is not None:
            raise InvalidInput(f"contact {contact_id} has a consult going on")
        target = None if to_queue is None and to_agent is None else c.queue
        if to_queue is not None:
            qs = self._queue(to_queue)
            if qs.cfg.channel != c.channel:
                raise InvalidInput(f"queue {to_queue} is {qs.cfg.channel}, contact is {c.channel}")
            target = to_queue
        agent = None
        if to_agent is not None:
            if to_agent == c.agent:
                raise InvalidInput(f"agent {to_agent} has the contact already")
            agent = self._ready_agent(to_agent, contact_id, self.queues[c.queue].cfg)
        self._end_segment(c, target, to_agent)
        if target is None:
            self._forget(c)
        else:
            self._enter_queue(c, self.queues[target], now, queued_at=now, offer_to=agent)
        return self._finish()

    def consult_started(self, now: float, contact_id: str, agent_id: str) -> list[Event]:
        """The agent of an active contact rings ``agent_id`` (who must be ready) to consult."""
        self._begin(now)
        c = self._contact(contact_id)
        if c.state is not _ACTIVE or c.agent is None:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not active")
        if c.consult is not None:
            raise InvalidInput(f"contact {contact_id} has a consult going on")
        if agent_id == c.agent:
            raise InvalidInput(f"agent {agent_id} cannot consult itself")
        qs = self.queues[c.queue]
        agent = self._ready_agent(agent_id, contact_id, qs.cfg)
        self._lapsed.discard((c.id, Lapse.CONSULT, None))  # a new consult, the driver's own
        agent.offer(now, c.id, c.channel)
        self._stamps += 1
        c.consult, c.consult_stamp = agent_id, self._stamps
        deadline = now + qs.cfg.ring_timeout_seconds
        self._timers.add(qs.consult_lane, deadline, _CONSULT_RING, c.id, c.consult_stamp)
        self._out.append(ConsultOffered(now, c.id, c.queue, c.channel, agent_id, c.agent, deadline))
        self._refresh(agent)
        return self._finish()

    def consult_accepted(self, now: float, contact_id: str) -> list[Event]:
        """The consulted agent takes the consult."""
        self._begin(now)
        if (contact_id, Lapse.CONSULT, None) in self._lapsed:
            return self._finish()
        c, agent = self._consult(contact_id, SlotState.OFFERED)
        agent.accept(now, c.id)
        assert c.agent is not None
        self._out.append(ConsultAnswered(now, c.id, c.queue, c.channel, agent.id, c.agent))
        self._refresh(agent)
        return self._finish()

    def consult_declined(self, now: float, contact_id: str) -> list[Event]:
        """The consulted agent refuses the consult while it rings."""
        self._begin(now)
        if (contact_id, Lapse.CONSULT, None) in self._lapsed:
            return self._finish()
        c, _ = self._consult(contact_id, SlotState.OFFERED)
        self._end_consult(c, "declined")
        return self._finish()

    def consult_cancelled(self, now: float, contact_id: str) -> list[Event]:
        """The agent calls the consult off (ringing or talking); the customer stays with it."""
        self._begin(now)
        if (contact_id, Lapse.CONSULT, None) in self._lapsed:
            return self._finish()
        c, _ = self._consult(contact_id, None)
        self._end_consult(c, "cancelled")
        return self._finish()

    def consult_completed(self, now: float, contact_id: str) -> list[Event]:
        """The agent leaves the customer with the consulted agent, who carries on as the next
        segment; the agent's wrap-up starts."""
        self._begin(now)
        c, agent = self._consult(contact_id, SlotState.ACTIVE)
        c.consult = None
        self._end_segment(c, c.queue, agent.id)
        c.agent = agent.id
        c.queued_at = now
        c.answered_at = now
        c.version += 1
        self._out.append(ContactAnswered(now, c.id, c.queue, c.channel, agent.id, 0.0, c.segment))
        self._refresh(agent)
        return self._finish()

    def set_priority(self, now: float, contact_id: str, priority: int) -> list[Event]:
        """A supervisor sets a waiting (or ringing) contact's priority; escalation raises add
        to it, and it is kept if the contact moves to another queue."""
        self._begin(now)
        if self._waited_out(contact_id):
            return self._finish()
        c = self._contact(contact_id)
        if c.state is not _WAITING and c.state is not _OFFERED:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not waiting")
        old = c.priority
        c.nudge += priority - old
        c.priority = priority
        if priority != old:
            self._out.append(PriorityChanged(now, c.id, c.queue, old, priority, "supervisor"))
            if c.state is _WAITING:
                self._insert(c)
        return self._finish()

    def agent_logged_in(
        self,
        now: float,
        agent_id: str,
        presence: Presence = Presence.AVAILABLE,
        reason: str | None = None,
    ) -> list[Event]:
        self._begin(now)
        agent = self._agent(agent_id)
        if agent.presence is not Presence.OFFLINE:
            raise InvalidInput(f"agent {agent_id} is already logged in")
        if presence is Presence.OFFLINE:
            raise InvalidInput("log in as available or away")
        self._check_reason(presence, reason)
        agent.set_presence(now, presence, reason)
        for qs, _ in self._agent_queues[agent_id]:
            qs.staffed += 1
        self._refresh(agent, reason)
        return self._finish()

    def agent_logged_out(self, now: float, agent_id: str, reason: str | None = None) -> list[Event]:
        """Log out (``reason`` is recorded, e.g. ``disconnected``); a ringing offer or consult
        is withdrawn first. Refused while holding contacts."""
        self._begin(now)
        agent = self._agent(agent_id)
        if agent.presence is Presence.OFFLINE:
            raise InvalidInput(f"agent {agent_id} is not logged in")
        held = [cid for cid in agent.slots if cid != agent.offered_contact]
        if held:
            raise InvalidInput(f"agent {agent_id} still holds contacts {sorted(held)}")
        if agent.offered_contact is not None:
            c = self.contacts[agent.offered_contact]
            if c.consult == agent_id:
                self._end_consult(c, "agent_left")
            else:
                self._withdraw_offer(c, "agent_left", no_answer=False, requeue=True)
        agent.set_presence(now, Presence.OFFLINE)
        self._refresh(agent, reason)
        unstaffed = []
        for qs, _ in self._agent_queues[agent_id]:
            qs.staffed -= 1
            if qs.staffed == 0:
                unstaffed.append(qs)
        for c in self._dedicated_lists[agent_id].live():
            qs = self.queues[c.queue]
            if qs.cfg.escalation[c.step].dedicated_only:
                self._advance_step(c, qs, qs.first_open_step)
            if qs.staffed == 0 and qs not in unstaffed:
                unstaffed.append(qs)  # they waited in an unstaffed queue only for this agent
        for qs in unstaffed:
            self._apply_no_agents(qs, [c for lst in qs.lists for c in lst.live()])
        return self._finish()

    def set_agent_presence(
        self, now: float, agent_id: str, presence: Presence, reason: str | None = None
    ) -> list[Event]:
        """Available or away (with a reason); use the log-in/out inputs for offline. A new
        reason while away is announced too (e.g. a break taken as a ring timeout had just set
        the agent away for ``no-answer``)."""
        self._begin(now)
        agent = self._agent(agent_id)
        if agent.presence is Presence.OFFLINE or presence is Presence.OFFLINE:
            raise InvalidInput("use agent_logged_in / agent_logged_out to change offline")
        self._check_reason(presence, reason)
        before = agent.away_reason
        agent.set_presence(now, presence, reason)
        if presence is Presence.AVAILABLE:
            agent.consecutive_no_answers = 0
        self._refresh(agent, reason)
        if before not in (None, reason) and self._activity[agent_id] is _ACTIVITY_AWAY:
            self._out.append(
                AgentStateChanged(now, agent_id, _ACTIVITY_AWAY, _ACTIVITY_AWAY, reason)
            )
        return self._finish()

    def customer_tier_changed(self, now: float, customer_id: str, tier: str) -> list[Event]:
        """Re-prioritise the customer's waiting contacts at once."""
        self._begin(now)
        if tier not in self._tiers:
            raise InvalidInput(f"unknown tier {tier!r}")
        for c in list(self.contacts.values()):
            if c.customer_id == customer_id and c.tier != tier:
                self._set_tier(c, tier)
        return self._finish()

    def contact_tier_changed(self, now: float, contact_id: str, tier: str) -> list[Event]:
        self._begin(now)
        if tier not in self._tiers:
            raise InvalidInput(f"unknown tier {tier!r}")
        if not self._waited_out(contact_id):
            self._set_tier(self._contact(contact_id), tier)
        return self._finish()

    def transfer(self, now: float, contact_id: str, queue: str) -> list[Event]:
        """A supervisor moves a waiting (or ringing) contact to another queue of its channel."""
        self._begin(now)
        if self._waited_out(contact_id):
            return self._finish()
        c = self._contact(contact_id)
        target = self._queue(queue)
        if target.cfg.channel != c.channel:
            raise InvalidInput(f"queue {queue} is {target.cfg.channel}, contact is {c.channel}")
        if queue == c.queue:
            raise InvalidInput(f"contact {contact_id} is already in queue {queue}")
        if c.state is ContactState.OFFERED:
            self._withdraw_offer(c, "moved", no_answer=False, requeue=False)
        elif c.state is not ContactState.WAITING:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not waiting")
        self._move(c, target, "supervisor")
        return self._finish()

    # == queries =============================================================================

    def contact(self, contact_id: str) -> ContactView:
        c = self._contact(contact_id)
        return ContactView(
            c.id, c.queue, c.channel, c.state, c.tier, c.priority, c.step, c.arrived_at,
            c.queued_at, c.agent, c.segment, c.consult,
        )  # fmt: skip

    def wrapping(self, contact_id: str) -> dict[str, int]:
        """Agents wrapping up a segment of the contact they handed off (agent -> number)."""
        return dict(self._wrapping.get(contact_id, {}))

    def lapsed(self, contact_id: str) -> set[tuple[Lapse, str | None]]:
        """What timers ended of the contact since the clock last moved (with the agent of a
        wrap-up): inputs about it are void (``Lapse``)."""
        return {(what, agent) for cid, what, agent in self._lapsed if cid == contact_id}

    def agent(self, agent_id: str) -> Agent:
        """The agent's live state (read it; change it only through the router's inputs)."""
        return self._agent(agent_id)

    def waiting(self, queue: str) -> list[str]:
        """Ids of the contacts waiting in ``queue``, in the order the queue would serve them."""
        qs = self._queue(queue)
        live = [c for lst in qs.lists for c in lst.live()]
        if qs.first_open_step > 0:
            # Contacts at a dedicated-only step wait only in their dedicated agent's list.
            steps = qs.cfg.escalation
            live += [
                c
                for lst in self._dedicated_lists.values()
                for c in lst.live()
                if c.queue == queue and steps[c.step].dedicated_only
            ]
        live.sort(key=lambda c: (-c.priority, c.arrived_at, c.seq))
        return [c.id for c in live]

    def is_eligible(self, contact_id: str, agent_id: str) -> bool:
        """Whether the agent may be offered the contact now, by every rule (for tests)."""
        c = self._contact(contact_id)
        agent = self._agent(agent_id)
        return agent.can_take(c.channel) and self._eligible_at_step(c, agent_id)

    def explain(self, contact_id: str) -> Explanation:
        """The candidates considered for a contact and why each is (not) eligible now."""
        return explain(self, self._contact(contact_id))

    @property
    def now(self) -> float:
        return self._now

    # == internals: bookkeeping ===============================================================

    def _begin(self, now: float) -> None:
        if now < self._now:
            raise ClockWentBackwards(f"now={now} is before the last input at {self._now}")
        if self._lapsed and now > self._now:
            self._lapsed.clear()  # the driver has been told what timers ended before now
        heap = self._timers.heap
        if heap and heap[0][0] <= now:
            self._fire_due(now)
        else:
            self._now = now

    def _finish(self) -> list[Event]:
        heap = self._timers.heap
        if heap and heap[0][0] <= self._now:
            self._fire_due(self._now)
        if self._pending_agents or self._pending_contacts:
            self._match()
        out, self._out = self._out, []
        return out

    def _renewed(self, contact_id: str) -> None:
        """A new contact took the id: what timers ended of the old one is no concern of it."""
        self._lapsed = {k for k in self._lapsed if k[0] != contact_id}

    def _waited_out(self, contact_id: str) -> bool:
        """Whether a timer ended the contact's wait since the clock last moved (an input
        about the waiting contact is then void)."""
        return (
            bool(self._lapsed)
            and contact_id not in self.contacts
            and (contact_id, Lapse.WAIT, None) in self._lapsed
        )

    def _contact(self, contact_id: str) -> Contact:
        c = self.contacts.get(contact_id)
        if c is None:
            raise UnknownContact(f"unknown contact {contact_id!r}")
        return c

    def _offered(self, contact_id: str) -> Contact:
        c = self._contact(contact_id)
        if c.state is not ContactState.OFFERED:
            raise InvalidInput(f"contact {contact_id} is {c.state}, not offered")
        return c

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"unknown agent {agent_id!r}")
        return agent

    def _queue(self, queue: str) -> QueueState:
        qs = self.queues.get(queue)
        if qs is None:
            raise UnknownQueue(f"unknown queue {queue!r}")
        return qs

    def _ready_agent(self, agent_id: str, contact_id: str, q: QueueConfig) -> Agent:
        """The agent, if it may be rung for the contact now (a transfer or consult target)."""
        agent = self._agent(agent_id)
        if not agent.can_take(q.channel):
            raise InvalidInput(f"agent {agent_id} cannot take a {q.channel} contact now")
        if contact_id in agent.slots:
            raise InvalidInput(f"agent {agent_id} still holds contact {contact_id}")
        return agent

    def _check_reason(self, presence: Presence, reason: str | None) -> None:
        if presence is not Presence.AWAY or reason in SYSTEM_AWAY_REASONS:
            return
        if reason not in self.center.settings.away_reasons:
            allowed = ", ".join(self.center.settings.away_reasons)
            raise InvalidInput(f"away needs a reason, one of: {allowed}")

    def _refresh(self, agent: Agent, reason: str | None = None) -> None:
        """Re-derive the agent's readiness per channel and announce activity changes."""
        aid = agent.id
        ready = self._ready_channels(agent)  # only a change touches the ready indexes
        listed = self._ready_bits[aid]
        if ready != listed:
            lost = listed & ~ready
            if lost:  # unlisted at once; gained channels are listed by ``_list_ready``
                self._ready_bits[aid] = listed & ready
                for bit, indexes in self._ready_index[aid]:
                    if lost & bit:
                        for index in indexes:
                            del index[aid]
            if ready & ~listed:
                self._pending_agents[aid] = None
        activity = agent.activity
        previous = self._activity[aid]
        if activity is not previous:
            self._activity[aid] = activity
            why = agent.away_reason if activity is _ACTIVITY_AWAY else reason
            self._out.append(AgentStateChanged(self._now, aid, previous, activity, why))

    def _forget(self, c: Contact) -> None:
        c.version += 1
        c.epoch += 1
        c.state = _ENDED
        del self.contacts[c.id]

    # == internals: queueing =================================================================

    def _priority(self, c: Contact, qs: QueueState) -> int:
        return self._tier_priority[c.tier] + qs.priority + c.boost + c.nudge

    def _enter_queue(
        self,
        c: Contact,
        qs: QueueState,
        now: float,
        queued_at: float,
        offer_to: Agent | None = None,
    ) -> None:
        c.queue = qs.id
        c.queued_at = queued_at
        c.epoch += 1
        epoch = c.epoch
        c.boost = 0
        c.overflow_due = None
        c.max_wait_due = False
        c.state = _WAITING
        c.agent = None
        c.priority = self._priority(c, qs)
        self._out.append(
            ContactQueued(
                now, c.id, c.queue, c.channel, c.priority, c.tier, c.arrived_at, c.segment
            )
        )
        dedicated = c.preferred_agent is not None and self._dedicated_usable(c)
        start = 0 if dedicated else qs.first_open_step
        timers = self._timers
        if qs.max_wait_seconds is not None and not c.patient:
            due = queued_at + qs.max_wait_seconds
            timers.add(qs.max_wait_lane, due, _MAX_WAIT, c.id, epoch)
        if not c.breached:
            timers.add(qs.breach_lane, c.arrived_at + qs.threshold, _BREACH, c.id, epoch)
        self._schedule_step(c, qs, start + 1)
        if qs.plain[start]:
            c.step = start  # what ``_reach_step`` comes to for a step without actions
        elif not self._reach_step(c, qs, start, announce=False):
            return
        if offer_to is not None:
            self._ring(c, offer_to)
            return
        if qs.staffed == 0 and not c.patient and not self._dedicated_usable(c):
            self._apply_no_agents(qs, [c])
            if c.epoch != epoch:
                return
        self._insert(c)

    def _insert(self, c: Contact) -> None:
        """Put a waiting contact in its waiting lists and have it matched."""
        c.version += 1
        qs = self.queues[c.queue]
        step = c.step
        if qs.open[step]:  # ``qs.lists[step].push(c)``, inlined
            heappush(qs.lists[step].heap, (-c.priority, c.arrived_at, c.seq, c.version, c))
        if c.preferred_agent is not None:
            self._dedicated_lists[c.preferred_agent].push(c)
        if self._ready[c.channel]:  # (most often nobody is: no call)
            self._note_contact(c, qs)

    def _note_contact(self, c: Contact, qs: QueueState) -> None:
        """Have a waiting contact matched, unless no ready agent can be eligible for it now.

        Then there is nothing to look for: its step and exclusions change only through inputs
        and timers that note it again, an agent who becomes ready before the next match is a
        pending agent, and pending agents are matched first, each taking its best contact, so
        ``_best_agent_for`` would find no agent left for this one.
        """
        ready = self._ready[c.channel]
        if not ready:
            return
        if c.preferred_agent is None or c.preferred_agent not in ready:
            step = c.step
            if not qs.open[step]:
                return
            ready_at = qs.ready_at
            for k in range(step + 1):
                if ready_at[k]:
                    break
            else:
                return
        self._pending_contacts[c.id] = None

    def _dedicated_usable(self, c: Contact) -> bool:
        if c.preferred_agent is None:
            return False
        agent = self.agents[c.preferred_agent]
        return agent.presence is not Presence.OFFLINE and agent.capacity.get(c.channel, 0) > 0

    def _schedule_step(self, c: Contact, qs: QueueState, step: int) -> None:
        after = qs.step_after
        if step < len(after):
            due = c.queued_at + after[step]
            self._timers.add(qs.step_lanes[step], due, _STEP, c.id, c.epoch)

    def _advance_step(self, c: Contact, qs: QueueState, step: int) -> None:
        """Move a contact (waiting or ringing) on to ``step`` and re-list it."""
        if self._reach_step(c, qs, step, announce=True) and c.state is _WAITING:
            self._insert(c)

    def _reach_step(self, c: Contact, qs: QueueState, step: int, *, announce: bool) -> bool:
        """Set ``c`` at escalation ``step`` and carry out the step's actions.

        Returns False when the step moved the contact to another queue.
        """
        c.step = step
        if announce:
            self._out.append(ContactEscalated(self._now, c.id, c.queue, c.channel, step))
        if qs.plain[step]:
            return True
        spec = qs.cfg.escalation[step]
        if spec.raise_priority:
            old = c.priority
            c.boost += spec.raise_priority
            c.priority = self._priority(c, qs)
            self._out.append(
                PriorityChanged(self._now, c.id, c.queue, old, c.priority, "escalation")
            )
        if spec.offer_callback and not c.patient:
            self._out.append(CallbackOffered(self._now, c.id, c.queue, c.channel))
        if spec.overflow_to is not None:
            if c.state is ContactState.WAITING:
                self._move(c, self.queues[spec.overflow_to], "overflow")
                return False
            c.overflow_due = spec.overflow_to
        return True

    def _move(self, c: Contact, target: QueueState, reason: TransferReason) -> None:
        """Take a waiting contact out of its queue and queue it in ``target``."""
        self._out.append(
            ContactTransferred(self._now, c.id, c.queue, target.id, c.channel, reason, c.segment)
        )
        c.version += 1
        self._enter_queue(c, target, self._now, queued_at=self._now)

    def _remove(self, c: Contact, reason: RemoveReason, outcome: RemoveOutcome) -> None:
        wait = self._now - c.arrived_at
        self._out.append(
            ContactRemoved(self._now, c.id, c.queue, c.channel, reason, outcome, wait, c.segment)
        )
        self._forget(c)

    def _apply_no_agents(self, qs: QueueState, contacts: Iterable[Contact]) -> None:
        """Carry out ``when_no_agents`` for contacts of a queue nobody who could serve is in."""
        policy = qs.cfg.when_no_agents
        if policy == "wait":
            return
        target = self._overflow_for_no_agents(qs) if policy == "overflow" else None
        for c in contacts:
            if c.patient or self._dedicated_usable(c):
                continue
            if policy == "disconnect":
                self._remove(c, "no_agents", "disconnect")
            elif target is not None:
                self._move(c, target, "no_agents")

    def _overflow_for_no_agents(self, qs: QueueState) -> QueueState | None:
        """Follow ``no_agents_overflow_to`` to a queue that can take the contact; None when the
        chain only leads back through unstaffed overflow queues (then the contact waits)."""
        seen = {qs.id}
        target = qs.cfg.no_agents_overflow_to
        while target is not None and target not in seen:
            nxt = self.queues[target]
            if nxt.staffed > 0 or nxt.cfg.when_no_agents != "overflow":
                return nxt
            seen.add(target)
            target = nxt.cfg.no_agents_overflow_to
        return None

    def _set_tier(self, c: Contact, tier: str) -> None:
        c.tier = tier
        if c.state not in (ContactState.WAITING, ContactState.OFFERED):
            return
        qs = self.queues[c.queue]
        old = c.priority
        c.priority = self._priority(c, qs)
        if c.priority != old:
            self._out.append(PriorityChanged(self._now, c.id, c.queue, old, c.priority, "tier"))
        if c.state is ContactState.WAITING:
            self._insert(c)

    # == internals: offers ===================================================================

    def _offer(self, c: Contact, agent: Agent) -> None:
        """A routing decision: offer the waiting contact to the agent."""
        self._ring(c, agent)

    def _ring(self, c: Contact, agent: Agent) -> None:
        """Reserve the agent for the contact and ring it (a routing decision or a transfer)."""
        now = self._now
        agent.offer(now, c.id, c.channel)
        c.state = _OFFERED
        c.agent = agent.id
        c.version += 1
        qs = self.queues[c.queue]
        qs.rr_last = self._order[agent.id]
        deadline = now + qs.cfg.ring_timeout_seconds
        self._timers.add(qs.ring_lane, deadline, _RING, c.id, c.version)
        self._out.append(ContactOffered(now, c.id, c.queue, c.channel, agent.id, deadline, c.step))
        self._refresh(agent)

    def _withdraw_offer(
        self, c: Contact, reason: RejectReason, *, no_answer: bool, requeue: bool
    ) -> None:
        assert c.agent is not None
        agent = self.agents[c.agent]
        agent.withdraw_offer(self._now, c.id, no_answer=no_answer)
        self._out.append(OfferRejected(self._now, c.id, c.queue, c.channel, agent.id, reason))
        c.state = ContactState.WAITING
        c.agent = None
        if reason in ("declined", "timeout", "unreachable"):
            until = self._now + self._routing.reoffer_delay_seconds
            c.excluded[agent.id] = until
            self._timers.add(self._reoffer_lane, until, TimerKind.REOFFER, c.id, c.segment_stamp)
        if no_answer and agent.consecutive_no_answers >= self._routing.no_answer_limit:
            why = PHONE_UNREACHABLE if reason == "unreachable" else NO_ANSWER
            agent.set_presence(self._now, Presence.AWAY, why)
            agent.consecutive_no_answers = 0
        self._refresh(agent)
        if not requeue:
            return
        qs = self.queues[c.queue]
        if c.overflow_due is not None:
            self._move(c, self.queues[c.overflow_due], "overflow")
        elif c.max_wait_due:
            self._max_wait(c, qs)
        else:
            self._insert(c)

    def _end_segment(self, c: Contact, to_queue: str | None, to_agent: str | None) -> None:
        """The agent's segment of an active contact ends; its wrap-up starts (the contact goes
        on as the next segment, which the handing agent is kept away from meanwhile)."""
        assert c.agent is not None and c.answered_at is not None
        now = self._now
        agent = self.agents[c.agent]
        agent.complete(now, c.id)
        qs = self.queues[c.queue]
        self._out.append(
            ContactHandedOff(
                now, c.id, c.queue, c.channel, agent.id, now - c.answered_at, c.segment,
                to_queue, to_agent,
            )
        )  # fmt: skip
        self._stamps += 1
        self._lapsed.discard((c.id, Lapse.WRAP_UP, agent.id))  # a new wrap-up of it
        wrap = SegmentWrap(self._stamps, agent.id, c.id, c.segment, c.queue, c.channel, now)
        self.wraps[wrap.stamp] = wrap
        self._wrapping.setdefault(c.id, {})[agent.id] = wrap.stamp
        # The next segment starts afresh: only agents still wrapping up a segment of it are kept
        # away (its re-offer timers go stale with the segment's stamp).
        c.excluded = {aid: until for aid, until in c.excluded.items() if until == math.inf}
        c.excluded[agent.id] = math.inf
        c.segment += 1
        c.segment_stamp += 1
        c.breached = True  # the answer target was the first segment's
        c.agent = None
        c.answered_at = None
        if qs.cfg.wrap_up_seconds <= 0:
            self._end_segment_wrap(wrap, None)
        else:
            due = now + qs.cfg.wrap_up_seconds
            self._timers.add(qs.handoff_lane, due, _HANDOFF_WRAP, c.id, wrap.stamp)
            self._refresh(agent)

    def _end_segment_wrap(self, wrap: SegmentWrap, disposition: str | None) -> None:
        now = self._now
        agent = self.agents[wrap.agent_id]
        agent.end_wrap_up(now, wrap.contact_id)
        del self.wraps[wrap.stamp]
        wrapping = self._wrapping[wrap.contact_id]
        del wrapping[wrap.agent_id]
        if not wrapping:
            del self._wrapping[wrap.contact_id]
        self._out.append(
            WrapUpEnded(
                now, wrap.contact_id, wrap.queue, wrap.channel, agent.id, disposition,
                now - wrap.started,
            )
        )  # fmt: skip
        c = self.contacts.get(wrap.contact_id)
        if c is not None and c.excluded.pop(agent.id, None) is not None and c.state is _WAITING:
            self._note_contact(c, self.queues[c.queue])
        self._refresh(agent)

    def _consult(self, contact_id: str, slot: SlotState | None) -> tuple[Contact, Agent]:
        """The contact and its consulted agent, whose slot for it must be ``slot`` (None:
        any)."""
        c = self._contact(contact_id)
        if c.consult is None:
            raise InvalidInput(f"contact {contact_id} has no consult going on")
        agent = self.agents[c.consult]
        if slot is not None and agent.slot(c.id) is not slot:
            raise InvalidInput(f"the consult of {contact_id} is {agent.slot(c.id)}, not {slot}")
        return c, agent

    def _end_consult(self, c: Contact, reason: ConsultEndReason) -> None:
        assert c.consult is not None and c.agent is not None
        agent = self.agents[c.consult]
        if agent.slot(c.id) is SlotState.OFFERED:
            agent.withdraw_offer(self._now, c.id, no_answer=False)
        else:
            agent.release(self._now, c.id)
        self._out.append(
            ConsultEnded(self._now, c.id, c.queue, c.channel, agent.id, c.agent, reason)
        )
        c.consult = None
        self._refresh(agent)

    def _end_wrap_up(self, c: Contact, disposition: str | None) -> None:
        assert c.agent is not None and c.completed_at is not None
        agent = self.agents[c.agent]
        agent.end_wrap_up(self._now, c.id)
        self._out.append(
            WrapUpEnded(
                self._now,
                c.id,
                c.queue,
                c.channel,
                agent.id,
                disposition,
                self._now - c.completed_at,
            )
        )
        c.version += 1  # ``_forget(c)``, inlined
        c.epoch += 1
        c.state = _ENDED
        del self.contacts[c.id]
        self._refresh(agent)

    # == internals: timers ===================================================================

    def _timer_is_stale(self, kind: TimerKind, contact_id: str, stamp: int) -> bool:
        c = self.contacts.get(contact_id)
        if c is None:  # a handed-off segment's wrap-up outlives its contact
            return kind is not _HANDOFF_WRAP or stamp not in self.wraps
        if kind <= _MAX_WAIT:  # STEP, BREACH, MAX_WAIT: the commonest, tested first
            if c.epoch != stamp or (c.state is not _WAITING and c.state is not _OFFERED):
                return True
            return kind is _BREACH and c.breached
        if kind is _RING:
            return c.state is not _OFFERED or c.version != stamp
        if kind is _WRAP_UP_END:
            return c.state is not _WRAP_UP or c.version != stamp
        if kind is _HANDOFF_WRAP:
            return stamp not in self.wraps
        if kind is _CONSULT_RING:
            return (
                c.consult is None
                or c.consult_stamp != stamp
                or self.agents[c.consult].slot(c.id) is not SlotState.OFFERED
            )
        # REOFFER. Exclusions outlive a move to another queue, so must the timer that ends them;
        # not a hand-off, which starts the next segment afresh (stamped with the segment).
        return (c.state is not _WAITING and c.state is not _OFFERED) or c.segment_stamp != stamp

    def _fire_due(self, now: float) -> None:
        timers = self._timers
        heap = timers.heap
        contacts = self.contacts
        fired_due: float | None = None  # due time of the timers fired since the last match
        while True:
            if not heap or heap[0][0] > now or (fired_due is not None and heap[0][0] > fired_due):
                if fired_due is None:
                    break
                # Every timer due at that instant has fired: match once, so contacts that
                # became eligible together are served by priority, not by timer order.
                if self._pending_agents or self._pending_contacts:
                    self._match()
                fired_due = None
                continue  # matching may have set timers due by ``now`` (ring timeouts)
            due, _, kind, cid, stamp, _ = timers.pop()
            # ``_timer_is_stale``, inlined for the common kinds (most timers are stale or
            # steps and breaches: one call fewer each).
            c = contacts.get(cid)
            if c is None:
                if kind is not _HANDOFF_WRAP or stamp not in self.wraps:
                    continue
            elif kind <= _MAX_WAIT:  # STEP, BREACH, MAX_WAIT
                if c.epoch != stamp or (c.state is not _WAITING and c.state is not _OFFERED):
                    continue
                if kind is _BREACH and c.breached:
                    continue
            elif self._timer_is_stale(kind, cid, stamp):
                continue
            # A timer set already overdue (a restored arrival, an overflow into a queue with a
            # shorter target) fires now: the clock never runs backwards inside an input.
            if due > self._now:  # (``max``, without the call)
                self._now = due
            if kind is _HANDOFF_WRAP:
                wrap = self.wraps[stamp]
                self._end_segment_wrap(wrap, None)
                self._lapsed.add((cid, Lapse.WRAP_UP, wrap.agent_id))
            elif kind is _CONSULT_RING:
                assert c is not None
                self._end_consult(c, "timeout")
                self._lapsed.add((cid, Lapse.CONSULT, None))
            else:
                assert c is not None
                self._fire(kind, c)
                if c.state is _ENDED and kind is not _WRAP_UP_END:
                    self._lapsed.add((cid, Lapse.WAIT, None))
            fired_due = due
        self._now = now

    def _fire(self, kind: TimerKind, c: Contact) -> None:
        qs = self.queues[c.queue]
        if kind is _STEP:
            step = c.step + 1
            steps = qs.cfg.escalation
            if step >= len(steps):
                return
            if c.queued_at + steps[step].after_seconds > self._now:
                self._schedule_step(c, qs, step)  # moved ahead early (dedicated agent left)
                return
            self._schedule_step(c, qs, step + 1)
            if qs.plain[step]:  # ``_advance_step``, inlined for a step without actions
                c.step = step
                self._out.append(ContactEscalated(self._now, c.id, c.queue, c.channel, step))
                if c.state is _WAITING:
                    self._insert(c)
            else:
                self._advance_step(c, qs, step)
        elif kind is _BREACH:
            c.breached = True
            self._out.append(TargetBreached(self._now, c.id, c.queue, c.channel, qs.threshold))
        elif kind is TimerKind.MAX_WAIT:
            if c.state is ContactState.OFFERED:
                c.max_wait_due = True
            else:
                self._max_wait(c, qs)
        elif kind is TimerKind.RING:
            self._lapsed.add((c.id, Lapse.OFFER, None))
            self._withdraw_offer(c, "timeout", no_answer=True, requeue=True)
        elif kind is TimerKind.WRAP_UP:
            self._lapsed.update(((c.id, Lapse.WRAP_UP, c.agent), (c.id, Lapse.WRAP_UP, None)))
            self._end_wrap_up(c, None)
        elif kind is TimerKind.REOFFER:
            now = self._now
            c.excluded = {a: until for a, until in c.excluded.items() if until > now}
            if c.state is ContactState.WAITING:
                self._note_contact(c, qs)

    def _max_wait(self, c: Contact, qs: QueueState) -> None:
        rule = qs.cfg.max_wait
        assert rule is not None
        if rule.action == "overflow" and rule.overflow_to is not None:
            self._move(c, self.queues[rule.overflow_to], "max_wait")
        else:
            self._remove(c, "max_wait", "callback" if rule.action == "callback" else "disconnect")

    # == internals: matching =================================================================

    def _eligible_at_step(self, c: Contact, agent_id: str) -> bool:
        if c.is_excluded(agent_id, self._now):
            return False
        if agent_id == c.preferred_agent:
            return True
        first = self.queues[c.queue].first_step.get(agent_id)
        return first is not None and first <= c.step

    def _match(self) -> None:
        """Offer until no waiting contact has a ready eligible agent (work conservation)."""
        pa, pc = self._pending_agents, self._pending_contacts
        while pa or pc:
            while pa:
                aid = next(iter(pa))
                del pa[aid]
                agent = self.agents[aid]
                c = self._best_contact_for(agent)
                if c is not None:
                    self._offer(c, agent)
                else:
                    self._list_ready(agent)
            if len(pc) > 1 and not pa:
                # Contacts that became eligible together are offered in serving order
                # (priority, then original arrival), not in the order they were noted.
                live = [c for cid in pc if (c := self.contacts.get(cid)) is not None]
                live.sort(key=lambda c: (-c.priority, c.arrived_at, c.seq))
                pc.clear()
                pc.update(dict.fromkeys(c.id for c in live))
            while pc and not pa:
                cid = next(iter(pc))
                del pc[cid]
                contact = self.contacts.get(cid)
                if contact is not None and contact.state is ContactState.WAITING:
                    chosen = self._best_agent_for(contact)
                    if chosen is not None:
                        self._offer(contact, chosen)

    def _ready_channels(self, agent: Agent) -> int:
        """The routed channels ``agent.can_take`` now, as ``CHANNEL_BITS``."""
        if agent.presence is _AVAILABLE and agent.offered_contact is None:
            return agent.room & self._routed
        return 0

    def _list_ready(self, agent: Agent) -> None:
        """List a pending agent who took nothing in the ready indexes of its channels."""
        aid = agent.id
        listed = self._ready_bits[aid]
        gained = self._ready_channels(agent) & ~listed
        if gained:
            self._ready_bits[aid] = listed | gained
            for bit, indexes in self._ready_index[aid]:
                if gained & bit:
                    for index in indexes:
                        index[aid] = agent

    def _best_agent_for(self, c: Contact) -> Agent | None:
        ready = self._ready[c.channel]
        if not ready:
            return None
        now = self._now
        pref = c.preferred_agent
        if pref is not None and pref in ready and not c.is_excluded(pref, now):
            return self.agents[pref]
        qs = self.queues[c.queue]
        step = c.step
        if not qs.open[step]:
            return None
        # (Candidates come grouped by first step; ``choose_agent`` orders them totally.)
        if c.excluded:
            candidates = [
                a
                for k in range(step + 1)
                for aid, a in qs.ready_at[k].items()
                if not c.is_excluded(aid, now)
            ]
        else:
            candidates = [a for k in range(step + 1) for a in qs.ready_at[k].values()]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None  # (any strategy picks the only one)
        return choose_agent(
            qs.cfg.selection,
            candidates,
            now=now,
            skill_total=qs.skill_total,
            order=self._order,
            round_robin_last=qs.rr_last,
            member_count=len(self._order),
            rng=self._rng,
        )

    def _best_contact_for(self, agent: Agent) -> Contact | None:
        # The channels ``agent.can_take``, as bits (its state does not change in here).
        room = agent.room if agent.presence is _AVAILABLE and agent.offered_contact is None else 0
        if not room:
            return None
        now = self._now
        aid = agent.id
        dedicated = self._dedicated_lists[aid]
        if len(dedicated):
            own = dedicated.first(
                lambda c: agent.can_take(c.channel) and not c.is_excluded(aid, now)
            )
            if own is not None:
                return own
        best: Contact | None = None
        best_score = 0.0
        best_rank = 0
        best_entry: Entry | None = None
        weight = self._weight
        for channel, pairs in self._agent_lists[aid].items():
            if not room & CHANNEL_BITS[channel]:
                continue
            for qs, lists, rank in pairs:
                if best_entry is not None and rank > best_rank:
                    continue  # (strictly after the best found: its contacts cannot win)
                top: Entry | None = None
                for lst in lists:
                    # ``lst.head_entry()``, inlined: this loop runs for every list of every
                    # queue the agent serves, each time it becomes ready.
                    heap = lst.heap
                    while heap:
                        e = heap[0]
                        c = e[4]
                        if c.version == e[3] and c.state is _WAITING:
                            break
                        heappop(heap)
                    else:
                        continue
                    if c.excluded and c.is_excluded(aid, now):
                        first = lst.first(lambda x: not x.is_excluded(aid, now))
                        if first is None:
                            continue
                        e = entry(first)
                    if top is None or e < top:
                        top = e
                if top is None:
                    continue
                c = top[4]
                score = weight[c.tier] * (now - c.arrived_at) / qs.threshold
                if (
                    best_entry is None
                    or rank < best_rank
                    or score > best_score
                    or (score == best_score and top < best_entry)
                ):
                    best, best_score, best_rank, best_entry = c, score, rank, top
        return best
