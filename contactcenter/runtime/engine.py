"""The asyncio driver of the routing core: the one place that owns the ``Router``.

Edges (HTTP API, chat, voice) call the engine; the engine stamps each input with the event
loop's monotonic clock, calls the core, persists the resulting domain events, updates metrics
and publishes them on the hub, and sleeps until the core's next deadline or the next input.
Wall-clock time is recorded separately for the store.

Durability: a chat is written to the store before the customer is told it is queued; after a
crash, waiting chats are put back in their queues with their original arrival times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from contactcenter.agents import Presence
from contactcenter.config import Center
from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactOffered,
    ContactRemoved,
    Event,
    OfferRejected,
    WrapUpEnded,
)
from contactcenter.kpi import Tally
from contactcenter.routing import ContactState, InvalidInput, Router, RoutingError
from contactcenter.runtime.hub import Hub
from contactcenter.runtime.ports import CustomerLike, MetricsLike, StoreLike
from contactcenter.runtime.transcripts import ChatLine, TranscriptWriter

log = logging.getLogger(__name__)


class Forbidden(Exception):
    """The caller may not act on that contact or agent (e.g. another agent's offer)."""


@dataclass(frozen=True, slots=True)
class ChatClosed:
    """The chat ended; ``by`` is who ended it ("customer", "agent", "center")."""

    contact_id: str
    by: str


Input = Callable[[float], list[Event]]


class EdgeLike(Protocol):
    """An edge the engine runs with itself (e.g. the voice edge)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


EdgeFactory = Callable[["Engine"], EdgeLike]
EDGES_KEY = "edges"
"""``Center.extra`` key: factories ``(engine) -> edge`` whose edges ``Engine.start`` starts
after the core and ``Engine.stop`` stops first (``contactcenter serve`` adds the voice edge)."""


class _VoiceStore(Protocol):
    """What the voice methods need beyond ``StoreLike`` (the SQLite store has all of it)."""

    async def find_customer(
        self, *, phone: str | None = None, account_number: str | None = None
    ) -> CustomerLike | None: ...

    async def add_callback(
        self,
        contact_id: str,
        *,
        queue: str,
        customer_id: str | None,
        phone: str | None,
        due_wall: float,
    ) -> int: ...

    async def mark_ended(self, contact_id: str, wall_time: float, reason: str) -> bool: ...


class Engine:
    """Runs one center: router, store, metrics and live subscribers."""

    def __init__(
        self,
        center: Center,
        store: StoreLike,
        *,
        metrics: MetricsLike | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.center = center
        self.router = Router(center)
        self.store = store
        self.metrics = metrics
        self.hub = Hub()
        self._wall = wall
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        thresholds = {
            q.id: q.answer_target.threshold_seconds or 0.0 for q in center.queues.values()
        }
        self.today = Tally(thresholds, center.settings.routing.short_abandon_seconds)
        self.chat_agents: dict[str, str] = {}
        """Chat contact id -> agent talking with the customer (set on answer)."""
        self.offers: dict[str, ContactOffered] = {}
        """Agent id -> the offer ringing there."""
        self.transcripts = TranscriptWriter(store)
        self.edges: list[EdgeLike] = []
        """Edges started with the engine (``Center.extra[EDGES_KEY]``), stopped before it."""

    # -- life cycle -----------------------------------------------------------------------

    def now(self) -> float:
        loop = self._loop or asyncio.get_running_loop()
        return loop.time()

    async def start(self) -> None:
        """Restore waiting chats with their original arrival times, then start the timer."""
        self._loop = asyncio.get_running_loop()
        now, wall = self.now(), self._wall()
        restored = await self.store.waiting_contacts("chat")
        for rec in restored:
            if rec.queue not in self.center.queues:
                log.warning("waiting chat in unknown queue %s dropped from routing", rec.queue)
                continue
            arrived = now - max(0.0, wall - rec.arrived_wall)
            events = self.router.contact_arrived(
                now,
                rec.contact_id,
                rec.queue,
                tier=rec.tier if rec.tier in self.center.tiers else None,
                customer_id=rec.customer_id,
                arrived_at=arrived,
            )
            await self._dispatch(events)
        if restored:
            log.info("restored %d waiting chat(s)", len(restored))
        if self.metrics is not None:
            self.metrics.bind_router(self.router, self.now)
        self._timer_task = asyncio.create_task(self._timer_loop(), name="routing-timer")
        self.transcripts.start()
        for factory in cast(Sequence[EdgeFactory], self.center.extra.get(EDGES_KEY, ())):
            edge = factory(self)
            await edge.start()
            self.edges.append(edge)

    async def stop(self) -> None:
        for edge in reversed(self.edges):
            try:
                await edge.stop()
            except Exception:  # stop the rest whatever one edge did
                log.exception("stopping edge %r failed", edge)
        self.edges.clear()
        await self.transcripts.stop()
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None

    # -- the one door into the core ---------------------------------------------------------

    async def submit(self, call: Input) -> list[Event]:
        """Run one core input at the current monotonic time and carry out its events.

        A RoutingError from the core propagates (the API turns it into a 4xx); events the core
        produced before refusing are delivered with the next input.
        """
        async with self._lock:
            events = call(self.now())
            await self._dispatch(events)
        self._wake.set()
        return events

    async def _dispatch(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self.store.record_events(events, self._wall())
        self.today.observe_all(events)
        if self.metrics is not None:
            self.metrics.observe_all(events)
        for e in events:
            self._act(e)
            self.hub.publish(e)

    def _act(self, e: Event) -> None:
        """Bookkeeping the edges rely on; the notices themselves go out on the hub."""
        if isinstance(e, ContactOffered):
            self.offers[e.agent_id] = e
        elif isinstance(e, OfferRejected):
            self.offers.pop(e.agent_id, None)
        if isinstance(e, ContactAnswered):
            self.offers.pop(e.agent_id, None)
            if e.channel == "chat":
                self.chat_agents[e.contact_id] = e.agent_id
        elif isinstance(e, ContactAbandoned | ContactRemoved | WrapUpEnded):
            self.chat_agents.pop(e.contact_id, None)
            if isinstance(e, ContactRemoved) and e.channel == "chat":
                self.hub.publish(ChatClosed(e.contact_id, "center"))

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.router.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            deadline = self.router.next_deadline()
            if deadline is not None and deadline <= self.now():
                try:
                    await self.submit(self.router.advance)
                except Exception:  # keep the clock running whatever one timer did
                    log.exception("routing timer failed")

    # -- agents -----------------------------------------------------------------------------

    async def agent_login(self, agent_id: str) -> None:
        await self.submit(lambda now: self.router.agent_logged_in(now, agent_id))

    async def agent_logout(self, agent_id: str) -> None:
        await self.submit(lambda now: self.router.agent_logged_out(now, agent_id))

    async def agent_presence(self, agent_id: str, presence: Presence, reason: str | None) -> None:
        await self.submit(
            lambda now: self.router.set_agent_presence(now, agent_id, presence, reason)
        )

    def _held_by(self, agent_id: str, contact_id: str, *states: ContactState) -> None:
        view = self.router.contact(contact_id)
        if view.agent != agent_id:
            raise Forbidden(f"contact {contact_id} is not with agent {agent_id}")
        if states and view.state not in states:
            raise InvalidInput(f"contact {contact_id} is {view.state}")

    async def accept(self, agent_id: str, contact_id: str) -> None:
        self._held_by(agent_id, contact_id, ContactState.OFFERED)
        await self.submit(lambda now: self.router.offer_accepted(now, contact_id))

    async def decline(self, agent_id: str, contact_id: str) -> None:
        self._held_by(agent_id, contact_id, ContactState.OFFERED)
        await self.submit(lambda now: self.router.offer_declined(now, contact_id))

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        self._held_by(agent_id, contact_id, ContactState.ACTIVE)
        events = await self.submit(lambda now: self.router.contact_completed(now, contact_id))
        if any(isinstance(e, ContactCompleted) and e.channel == "chat" for e in events):
            self.hub.publish(ChatClosed(contact_id, "agent"))

    async def wrap_up(
        self, agent_id: str, contact_id: str, disposition: str, notes: str | None = None
    ) -> None:
        self._held_by(agent_id, contact_id, ContactState.WRAP_UP)
        if notes:
            await self.store.set_disposition_notes(contact_id, notes)
        await self.submit(lambda now: self.router.wrap_up_done(now, contact_id, disposition))

    def agent_contacts(self, agent_id: str) -> list[tuple[str, str, str]]:
        """(contact id, channel, slot state) of everything the agent holds."""
        agent = self.router.agent(agent_id)
        return [(cid, ch, str(state)) for cid, (ch, state) in agent.slots.items()]

    def open_offer(self, agent_id: str) -> ContactOffered | None:
        """The offer ringing at the agent right now, if any."""
        return self.offers.get(agent_id)

    # -- customers' chats -------------------------------------------------------------------

    async def start_chat(
        self,
        *,
        name: str,
        topic: str,
        customer_id: str | None = None,
        email: str | None = None,
    ) -> str:
        """Queue a new chat; it is in the store before this returns. Returns the contact id."""
        queue = self.center.settings.chat_topics.get(topic)
        if queue is None:
            raise InvalidInput(f"unknown topic {topic!r}")
        customer, verified = await self._identify(customer_id, email)
        contact_id = f"chat-{secrets.token_hex(8)}"
        trusted = customer if verified else None
        await self._queue_contact(
            contact_id,
            "chat",
            queue,
            tier=trusted.tier if trusted is not None else None,
            customer_id=trusted.id if trusted is not None else None,
            stored_customer_id=customer.id if customer is not None else None,
            preferred_agent=trusted.dedicated_agent if trusted is not None else None,
            name=name,
            topic=topic,
        )
        return contact_id

    async def _identify(
        self, customer_id: str | None, email: str | None
    ) -> tuple[CustomerLike | None, bool]:
        """The CRM customer a chat claims to be, and whether the claim is verified.

        Either the customer id or the e-mail address finds the card for the agent's screen-pop
        (the agent verifies in conversation); only both matching the record is verified, and
        only a verified claim buys the customer's tier and dedicated agent.
        """
        customer = None
        if customer_id is not None:
            customer = await self.store.customer(customer_id)
        elif email:
            customer = await self.store.find_customer(email=email)
        if customer is None:
            return None, False
        on_record = (customer.email or "").casefold()
        verified = customer_id is not None and bool(email) and on_record == (email or "").casefold()
        return customer, verified

    async def customer_says(self, contact_id: str, text: str) -> ChatLine:
        self.router.contact(contact_id)  # unknown contact -> UnknownContact
        return self._chat_line(contact_id, "customer", text, self.chat_agents.get(contact_id))

    async def agent_says(self, agent_id: str, contact_id: str, text: str) -> ChatLine:
        self._held_by(agent_id, contact_id, ContactState.ACTIVE)
        return self._chat_line(contact_id, "agent", text, agent_id)

    def _chat_line(self, contact_id: str, sender: str, text: str, agent_id: str | None) -> ChatLine:
        line = ChatLine(contact_id, sender, text, agent_id, self._wall())
        self.transcripts.add(line)
        self.hub.publish(line)
        return line

    async def customer_left(self, contact_id: str) -> None:
        """The customer closed the chat: an abandon while waiting, the end of it when active."""
        view = self.router.contact(contact_id)
        if view.state in (ContactState.WAITING, ContactState.OFFERED):
            await self.submit(lambda now: self.router.contact_abandoned(now, contact_id))
        elif view.state is ContactState.ACTIVE:
            await self.submit(lambda now: self.router.contact_completed(now, contact_id))
        self.hub.publish(ChatClosed(contact_id, "customer"))

    def position(self, contact_id: str) -> tuple[int, float | None]:
        """(1-based place in its queue or 0 when no longer waiting, expected wait seconds)."""
        view = self.router.contact(contact_id)
        if view.state is not ContactState.WAITING:
            return 0, None
        order = self.router.waiting(view.queue)
        place = order.index(contact_id) + 1
        tally = self.today.queues.get(view.queue)
        asa = tally.asa() if tally is not None else None
        return place, (asa * place if asa is not None else None)

    # -- voice calls (the voice edge) -------------------------------------------------------

    async def voice_call_arrived(
        self,
        contact_id: str,
        *,
        queue: str,
        tier: str | None = None,
        customer_id: str | None = None,
        preferred_agent: str | None = None,
        caller: str | None = None,
    ) -> None:
        """Queue a call the IVR routed to ``queue``; it is in the store before it is routed.

        The edge picks ``contact_id`` (so it can follow the contact's events from the first
        one on). An unknown tier or preferred agent is dropped rather than refused: the
        caller is queued whatever the IVR looked up.
        """
        cfg = self.center.queues.get(queue)
        if cfg is None or cfg.channel != "voice":
            raise InvalidInput(f"{queue!r} is not a voice queue")
        await self._queue_contact(
            contact_id,
            "voice",
            queue,
            tier=tier,
            customer_id=customer_id,
            stored_customer_id=customer_id,
            preferred_agent=preferred_agent,
            name=caller,
            topic=None,
        )

    async def _queue_contact(
        self,
        contact_id: str,
        channel: str,
        queue: str,
        *,
        tier: str | None,
        customer_id: str | None,
        stored_customer_id: str | None,
        preferred_agent: str | None,
        name: str | None,
        topic: str | None,
    ) -> None:
        """Store a new contact, then route it. ``customer_id`` is what routing may trust (it
        buys tier and dedicated agent); the store keeps the claimed one for the record. An
        unknown tier or preferred agent is dropped: the customer is queued regardless."""
        if tier not in self.center.tiers:
            tier = None
        if preferred_agent not in self.center.agents:
            preferred_agent = None
        await self.store.create_contact(
            contact_id,
            channel=channel,
            queue=queue,
            arrived_wall=self._wall(),
            customer_id=stored_customer_id,
            tier=tier or self.center.settings.default_tier,
            customer_name=name,
            topic=topic,
        )
        await self.submit(
            lambda now: self.router.contact_arrived(
                now,
                contact_id,
                queue,
                tier=tier,
                customer_id=customer_id,
                preferred_agent=preferred_agent,
            )
        )

    async def voice_call_ended(self, contact_id: str) -> str | None:
        """A call's caller or agent hung up: ``abandoned`` while waiting or ringing,
        ``completed`` while talking, None when the core is already done with it."""
        try:
            view = self.router.contact(contact_id)
        except RoutingError:
            return None
        if view.state in (ContactState.WAITING, ContactState.OFFERED):
            await self.submit(lambda now: self.router.contact_abandoned(now, contact_id))
            return "abandoned"
        if view.state is ContactState.ACTIVE:
            await self.submit(lambda now: self.router.contact_completed(now, contact_id))
            return "completed"
        return None

    def voice_contact(self, contact_id: str) -> tuple[ContactState, str | None] | None:
        """(state, agent ringing or talking) of a contact the core still tracks."""
        try:
            view = self.router.contact(contact_id)
        except RoutingError:
            return None
        return view.state, view.agent

    async def voice_find_customer(self, by: str, value: str) -> CustomerLike | None:
        """The IVR's customer lookup: by ``phone``, ``account_number`` or ``customer_id``."""
        if by == "customer_id":
            return await self.store.customer(value)
        if by not in ("phone", "account_number"):
            raise InvalidInput(f"cannot look customers up by {by!r}")
        finder = cast(_VoiceStore, self.store)
        return await finder.find_customer(**{by: value})

    def voice_queue_status(self, queue: str) -> tuple[int, float | None]:
        """(agents logged in who can serve ``queue``, expected wait of a new caller in s)."""
        qs = self.router.queues.get(queue)
        if qs is None:
            raise InvalidInput(f"unknown queue {queue!r}")
        if qs.staffed == 0:
            return 0, float("inf")
        tally = self.today.queues.get(queue)
        asa = tally.asa() if tally is not None else None
        waiting = len(self.router.waiting(queue))
        return qs.staffed, (asa * (waiting + 1) if asa is not None else None)

    async def voice_callback_requested(
        self, queue: str, number: str, *, tier: str | None, customer_id: str | None
    ) -> str:
        """The IVR booked a call back: a contact record that ends as ``callback`` at once."""
        if queue not in self.center.queues:
            raise InvalidInput(f"unknown queue {queue!r}")
        store = cast(_VoiceStore, self.store)
        contact_id = f"voice-{secrets.token_hex(8)}"
        wall = self._wall()
        await self.store.create_contact(
            contact_id,
            channel="voice",
            queue=queue,
            arrived_wall=wall,
            customer_id=customer_id,
            tier=tier if tier in self.center.tiers else self.center.settings.default_tier,
            customer_name=number,
            topic=None,
        )
        await store.add_callback(
            contact_id, queue=queue, customer_id=customer_id, phone=number, due_wall=wall
        )
        await store.mark_ended(contact_id, wall, "callback_requested")
        return contact_id

    # -- supervisors ------------------------------------------------------------------------

    async def supervise_presence(
        self, actor: str, agent_id: str, presence: Presence, reason: str | None
    ) -> None:
        router = self.router
        if presence is Presence.OFFLINE:
            await self.submit(lambda now: router.agent_logged_out(now, agent_id))
        elif router.agent(agent_id).presence is Presence.OFFLINE:
            await self.submit(lambda now: router.agent_logged_in(now, agent_id, presence, reason))
        else:
            await self.submit(
                lambda now: router.set_agent_presence(now, agent_id, presence, reason)
            )
        await self._audit(actor, "agent_state", agent_id, {"state": presence, "reason": reason})

    async def move_contact(self, actor: str, contact_id: str, queue: str) -> None:
        await self.submit(lambda now: self.router.transfer(now, contact_id, queue))
        await self._audit(actor, "move_contact", contact_id, {"queue": queue})

    async def set_customer_tier(self, actor: str, customer_id: str, tier: str) -> None:
        if tier not in self.center.tiers:
            raise InvalidInput(f"unknown tier {tier!r}")
        await self.store.set_customer_tier(customer_id, tier)
        await self.submit(lambda now: self.router.customer_tier_changed(now, customer_id, tier))
        await self._audit(actor, "customer_tier", customer_id, {"tier": tier})

    async def _audit(self, actor: str, action: str, target: str, detail: dict[str, object]) -> None:
        await self.store.audit(actor, action, target, detail, self._wall())

    def queue_snapshot(self) -> list[dict[str, object]]:
        """Per queue: waiting, oldest waiting age, today's service level, ASA, abandons."""
        now = self.now()
        rows: list[dict[str, object]] = []
        for qid, q in self.center.queues.items():
            waiting = self.router.waiting(qid)
            oldest = max((now - self.router.contact(c).arrived_at for c in waiting), default=0.0)
            t = self.today.queue(qid)
            rows.append(
                {
                    "queue": qid,
                    "name": q.name,
                    "channel": q.channel,
                    "waiting": len(waiting),
                    "oldest_wait_seconds": round(oldest, 1),
                    "offered": t.offered,
                    "answered": t.answered,
                    "abandoned": t.abandoned,
                    "service_level": t.sl_offered(),
                    "service_level_goal": (q.answer_target.goal_percent or 0) / 100,
                    "answer_threshold_seconds": t.threshold,
                    "asa_seconds": t.asa(),
                }
            )
        return rows

    def agent_snapshot(self) -> list[dict[str, object]]:
        now = self.now()
        rows: list[dict[str, object]] = []
        for aid, cfg in self.center.agents.items():
            a = self.router.agent(aid)
            rows.append(
                {
                    "agent": aid,
                    "name": cfg.name,
                    "state": str(a.activity),
                    "reason": a.away_reason,
                    "since": round(now - a.presence_since, 1),
                    "contacts": [
                        {"contact_id": cid, "channel": ch, "state": str(st)}
                        for cid, (ch, st) in a.slots.items()
                    ],
                    "handled": a.handled,
                    "occupancy": round(a.occupancy(now), 3),
                }
            )
        return rows
