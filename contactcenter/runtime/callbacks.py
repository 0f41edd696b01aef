"""Call backs, from the promise to the call (the Amazon Connect queued-callback model, agent
first, kept honest).

* **Ways in.** The IVR (after hours, or a long wait), a caller who accepts the core's in-queue
  offer (``CallbackOffered``) or is removed at max wait with the callback policy, a chat
  customer who leaves a number, and the API (an agent or supervisor books one, possibly for a
  later time). Booking is idempotent per queue and number: a second request while one is
  pending returns the pending one.
* **A contact of its own.** Each call back is booked together with the contact that will make
  it, in one transaction, before the customer is told. That contact keeps the original
  caller's arrival time: its place in the queue and its answer-time clock. It enters its
  queue when due (at once, or at the time asked for) as a *patient* contact: nobody is on the
  line, so max wait and the no-agents rule do not apply.
* **Agent first.** It is offered to an agent like any call (the agent's phone rings, with the
  customer's card on the desktop). Once the agent answers, the customer is dialled: by the
  voice edge (``Dialer``), or by the agent by hand when the site has no voice edge (the
  desktop then reports the result). An agent who declines or misses the offer uses no attempt.
* **Attempts.** Only a call to the customer counts. Not answered, busy or failed: the agent's
  segment ends (wrap-up) and, with attempts left, the call back waits ``retry_delay_seconds``
  and enters its queue again (its next segment, same place); without, it is ``unreachable``.
  Answered: agent and customer talk; the call's end completes it.
* **Crash.** Scheduled and queued call backs come back in order; an attempt that was ringing
  is ``interrupted`` and retried; a conversation that was cut completes as ``interrupted``.

The status of a call back moves only along ``MOVES``; anything else raises
``IllegalCallbackMove``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from contactcenter.events import (
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactOffered,
    ContactRemoved,
    Event,
)
from contactcenter.routing import InvalidInput
from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Refused
from contactcenter.store.records import CallbackRecord, ContactRecord, SegmentRecord

log = logging.getLogger(__name__)


class CallbackStatus(StrEnum):
    SCHEDULED = "scheduled"
    """Booked; it enters its queue when due."""
    QUEUED = "queued"
    """In its queue: offered to agents."""
    DIALING = "dialing"
    """An agent took it; the customer's phone rings (an attempt)."""
    CONNECTED = "connected"
    """The customer answered; agent and customer talk."""
    COMPLETED = "completed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = CallbackStatus
FINAL = frozenset({S.COMPLETED, S.UNREACHABLE, S.CANCELLED, S.EXPIRED})
MOVES: Mapping[CallbackStatus, frozenset[CallbackStatus]] = {
    S.SCHEDULED: frozenset({S.QUEUED, S.SCHEDULED, S.CANCELLED, S.EXPIRED}),
    S.QUEUED: frozenset({S.DIALING, S.SCHEDULED, S.CANCELLED, S.EXPIRED}),
    S.DIALING: frozenset({S.CONNECTED, S.SCHEDULED, S.UNREACHABLE}),
    S.CONNECTED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.UNREACHABLE: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
"""Allowed status changes (scheduled -> scheduled: rescheduled)."""

AttemptOutcome = Literal["answered", "no_answer", "busy", "failed", "abandoned", "interrupted"]
ATTEMPT_OUTCOMES: tuple[AttemptOutcome, ...] = (
    "answered", "no_answer", "busy", "failed", "abandoned", "interrupted",
)  # fmt: skip
"""How a call to the customer went; ``abandoned``: the agent hung up before the answer."""
SOURCES = ("ivr", "queue_offer", "max_wait", "chat", "api")


class IllegalCallbackMove(Refused):
    """A call back cannot go from its status to the one asked for."""

    def __init__(self, callback_id: int, old: CallbackStatus, new: CallbackStatus) -> None:
        super().__init__("callback_state", f"call back {callback_id} is {old}, cannot be {new}")


class Dialer(Protocol):
    """What the voice edge does for a call back (the site may have none: agents dial)."""

    async def call_back(self, contact_id: str, agent_id: str, number: str) -> None:
        """Ring the agent's phone for the call back; when it answers (``VoiceService.
        agent_answered``) dial ``number`` and report how it went (``attempt_result``)."""
        ...


class CallbackStore(Protocol):
    async def add_callback(
        self,
        *,
        callback_contact_id: str,
        contact_id: str | None,
        queue: str,
        customer_id: str | None,
        verified: bool,
        phone: str,
        name: str | None,
        tier: str,
        source: str,
        requested_by: str | None,
        arrived_wall: float,
        created_wall: float,
        due_wall: float,
    ) -> CallbackRecord: ...

    async def open_callbacks(self) -> list[CallbackRecord]: ...

    async def open_callback_for(self, queue: str, phone: str) -> CallbackRecord | None: ...

    async def callbacks(
        self, *, since_wall: float | None = None, limit: int = 200
    ) -> list[CallbackRecord]: ...

    async def callback(self, callback_id: int) -> CallbackRecord: ...

    async def update_callback(
        self,
        callback_id: int,
        *,
        status: str,
        due_wall: float | None = None,
        attempts: int | None = None,
        outcome: str | None = None,
        ended_wall: float | None = None,
    ) -> None: ...

    async def start_attempt(
        self, callback_id: int, attempt: int, agent_id: str | None, wall_time: float
    ) -> None: ...

    async def end_attempt(
        self, callback_id: int, attempt: int, outcome: str, wall_time: float
    ) -> None: ...

    async def close_contact(
        self, contact_id: str, wall_time: float, reason: str, outcome: str
    ) -> bool: ...

    async def end_segment(self, contact_id: str, wall_time: float, reason: str) -> None: ...

    async def contact_record(self, contact_id: str) -> ContactRecord | None: ...

    async def segments(self, contact_id: str) -> list[SegmentRecord]: ...

    async def audit(
        self, actor: str, action: str, target: str, detail: dict[str, object], wall_time: float
    ) -> None: ...


class CallbackMetrics(Protocol):
    def callback_booked(self, queue: str, source: str) -> None: ...

    def callback_attempt(self, queue: str, outcome: str) -> None: ...

    def callback_ended(self, queue: str, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Origin:
    """What a call back booked from a contact needs to know of it (noted when it queues)."""

    number: str | None
    queue: str
    arrived_wall: float
    tier: str | None
    customer_id: str | None
    verified: bool
    name: str | None
    source: str | None = None
    """Where it was asked for (default: by the removal's reason)."""
    due_wall: float | None = None
    """Not before (a time the customer asked for)."""


@dataclass(slots=True)
class Callback:
    """A call back's live state (``record`` is its booking as stored)."""

    record: CallbackRecord
    status: CallbackStatus
    due_wall: float
    attempts: int
    segment: int
    """The segment number its contact enters its queue with next."""
    agent_id: str | None = None

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def contact_id(self) -> str:
        return self.record.callback_contact_id


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    """Notice for live subscribers: a call back was booked for ``contact_id`` (the contact it
    was booked from; the customer's chat says so)."""

    contact_id: str
    callback_id: int


class CallbackService:
    def __init__(
        self, engine: Engine, store: CallbackStore, *, metrics: CallbackMetrics | None = None
    ) -> None:
        self.engine = engine
        self.store = store
        self.metrics = metrics
        self.settings = engine.center.settings.callbacks
        self.dialer: Dialer | None = None
        self.live: dict[int, Callback] = {}
        """Open call backs by id."""
        self.by_contact: dict[str, Callback] = {}
        """Open call backs by the id of the contact that calls."""
        self.origins: dict[str, Origin] = {}
        """Contacts that may turn into a call back (a removal with outcome ``callback``)."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._spawned: set[asyncio.Task[None]] = set()
        engine.keep(self._keep)

    def attach(self, dialer: Dialer) -> None:
        self.dialer = dialer

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self, stopped: float | None = None) -> None:
        """Bring back the open call backs (in their order), then run the scheduler;
        ``stopped`` is the engine's last sign of life before this start."""
        wall = self.engine.wall()
        cut = min(stopped, wall) if stopped is not None else wall
        for rec in await self.store.open_callbacks():
            cb = self._track(rec)
            cb.segment = await self._next_segment(cb.contact_id)
            if cb.status is S.QUEUED:
                self._move(cb, S.SCHEDULED)  # the core lost it: it queues again at once
                cb.due_wall = min(cb.due_wall, wall)
            elif cb.status is S.DIALING:
                await self.store.end_attempt(cb.id, cb.attempts, "interrupted", cut)
                await self.store.end_segment(cb.contact_id, cut, "interrupted")
                self._count_attempt(cb, "interrupted")
                cb.segment += 1
                await self._after_failed_attempt(cb, wall, retry_at=wall)
            elif cb.status is S.CONNECTED:
                await self.store.close_contact(cb.contact_id, cut, "interrupted", "interrupted")
                await self._end(cb, S.COMPLETED, "interrupted", cut)
        if self.live:
            log.info("restored %d open call back(s)", len(self.live))
        self._task = asyncio.create_task(self._schedule(), name="callbacks")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task, *self._spawned)

    def _track(self, rec: CallbackRecord) -> Callback:
        cb = Callback(rec, S(rec.status), rec.due_wall, rec.attempts, 1)
        self.live[rec.id] = cb
        self.by_contact[rec.callback_contact_id] = cb
        return cb

    async def _next_segment(self, contact_id: str) -> int:
        """The segment a restored call back's contact enters its queue with: its current
        one if that never got as far as an agent, else the next."""
        segments = await self.store.segments(contact_id)
        if not segments:
            return 1
        last = segments[-1]
        return last.segment if last.answered_wall is None else last.segment + 1

    # -- booking --------------------------------------------------------------------------------

    def note_origin(self, contact_id: str, origin: Origin) -> None:
        """``contact_id`` may be turned into a call back (it knows the customer's number)."""
        self.origins[contact_id] = origin

    def forget_origin(self, contact_id: str) -> None:
        self.origins.pop(contact_id, None)

    async def book(
        self,
        queue: str,
        number: str,
        *,
        source: str,
        tier: str | None = None,
        customer_id: str | None = None,
        verified: bool = False,
        name: str | None = None,
        requested_by: str | None = None,
        contact_id: str | None = None,
        arrived_wall: float | None = None,
        due_wall: float | None = None,
    ) -> CallbackRecord:
        """Book a call back for ``number`` from ``queue`` (its call-back queue makes it); it is
        stored when this returns. ``arrived_wall``: when the customer first asked (their place
        in the queue; default now); ``due_wall``: not before (default now)."""
        rec = await self._book(
            queue, number, source, tier, customer_id, verified, name, requested_by, contact_id,
            arrived_wall, due_wall,
        )  # fmt: skip
        self._wake.set()
        return rec

    async def _book(
        self,
        queue: str,
        number: str,
        source: str,
        tier: str | None,
        customer_id: str | None,
        verified: bool,
        name: str | None,
        requested_by: str | None,
        contact_id: str | None,
        arrived_wall: float | None,
        due_wall: float | None,
    ) -> CallbackRecord:
        center = self.engine.center
        if queue not in center.queues:
            raise InvalidInput(f"unknown queue {queue!r}")
        target = center.callback_queue(queue)
        if target is None:
            raise Refused("no_callback_queue", f"queue {queue!r} has no queue for call backs")
        wall = self.engine.wall()
        due = wall if due_wall is None else due_wall
        if due > wall + self.settings.schedule_ahead_days * 86_400:
            days = self.settings.schedule_ahead_days
            raise Refused(
                "too_far_ahead", f"a call back can be asked for at most {days:g} days ahead"
            )
        pending = await self.store.open_callback_for(target, number)
        if pending is not None:
            return pending
        rec = await self.store.add_callback(
            callback_contact_id=f"cb-{secrets.token_hex(8)}",
            contact_id=contact_id,
            queue=target,
            customer_id=customer_id,
            verified=verified and customer_id is not None,
            phone=number,
            name=name,
            tier=tier if tier in center.tiers else center.settings.default_tier,
            source=source,
            requested_by=requested_by,
            arrived_wall=min(arrived_wall if arrived_wall is not None else wall, wall),
            created_wall=wall,
            due_wall=max(due, wall),
        )
        self._track(rec)
        if self.metrics is not None:
            self.metrics.callback_booked(target, source)
        log.info("call back %d booked in %s (%s)", rec.id, target, source)
        return rec

    async def _keep(self, events: Sequence[Event]) -> None:
        """Under the engine's lock, before anyone hears of the events: book the call back a
        removal promised, and keep each call back's status in step with its contact.

        May run again for the same events when the database refused a write (the engine holds
        them back): a removal's origin is let go only once its call back is booked, and booking
        the same number again finds the one already booked."""
        for e in events:
            if isinstance(e, ContactRemoved):
                if e.outcome == "callback":
                    await self._book_removed(e, self.origins.get(e.contact_id))
                self.origins.pop(e.contact_id, None)
                continue
            cb = self.by_contact.get(getattr(e, "contact_id", ""))
            if cb is None:
                continue
            if isinstance(e, ContactOffered):
                self._ring(cb, e.agent_id)
            elif isinstance(e, ContactAnswered):
                await self._answered(cb, e.agent_id)
            elif isinstance(e, ContactCompleted) and cb.status is S.CONNECTED:
                await self._end(cb, S.COMPLETED, "completed", self.engine.wall())

    async def _book_removed(self, e: ContactRemoved, origin: Origin | None) -> None:
        if origin is None or origin.number is None:
            log.warning(
                "contact %s left %s for a call back, but no number is known: none booked",
                e.contact_id, e.queue,
            )  # fmt: skip
            if self.metrics is not None:
                self.metrics.callback_ended(e.queue, "no_number")
            return
        source = origin.source or ("max_wait" if e.reason == "max_wait" else "queue_offer")
        rec = await self._book(
            e.queue, origin.number, source, origin.tier, origin.customer_id, origin.verified,
            origin.name, None, e.contact_id, origin.arrived_wall, origin.due_wall,
        )  # fmt: skip
        # told after the removal itself is published (this runs before it is)
        asyncio.get_running_loop().call_soon(
            self.engine.hub.publish, CallbackBooked(e.contact_id, rec.id)
        )
        self._wake.set()

    # -- the scheduler --------------------------------------------------------------------------

    async def _schedule(self) -> None:
        expire = self.settings.expire_after_hours * 3600
        while True:
            self._wake.clear()
            wall = self.engine.wall()
            for cb in sorted(self.live.values(), key=lambda c: (c.record.arrived_wall, c.id)):
                try:
                    if (
                        cb.status in (S.SCHEDULED, S.QUEUED)
                        and wall >= cb.record.created_wall + expire
                    ):
                        await self._expire(cb)
                    elif cb.status is S.SCHEDULED and cb.due_wall <= wall:
                        await self._queue(cb)
                except Exception:  # keep the others going; try this one again later
                    log.exception("call back %d could not be queued", cb.id)
                    cb.due_wall = wall + 60
            nexts = [c.due_wall for c in self.live.values() if c.status is S.SCHEDULED]
            nexts += [
                c.record.created_wall + expire
                for c in self.live.values()
                if c.status in (S.SCHEDULED, S.QUEUED)
            ]
            timeout = None if not nexts else max(0.05, min(nexts) - self.engine.wall())
            # (not ``wait_for``: on Python 3.11 it swallows a cancel that meets a wake-up)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _queue(self, cb: Callback) -> None:
        self._move(cb, S.QUEUED)
        await self.store.update_callback(cb.id, status=cb.status)
        engine, rec = self.engine, cb.record
        tiers = engine.center.tiers
        arrived = engine.now() - max(0.0, engine.wall() - rec.arrived_wall)
        router = engine.router
        await engine.submit(
            lambda now: router.contact_arrived(
                now,
                cb.contact_id,
                rec.queue,
                tier=rec.tier if rec.tier in tiers else None,
                customer_id=rec.customer_id if rec.verified else None,
                arrived_at=arrived,
                segment=cb.segment,
                patient=True,
            )
        )

    async def _expire(self, cb: Callback) -> None:
        wall = self.engine.wall()
        if cb.status is S.QUEUED:
            await self._leave_queue(cb)
        await self.store.close_contact(cb.contact_id, wall, "expired", "expired")
        await self._end(cb, S.EXPIRED, "expired", wall)

    async def _leave_queue(self, cb: Callback) -> None:
        router = self.engine.router
        with contextlib.suppress(InvalidInput):  # already with an agent: it goes on
            await self.engine.submit(lambda now: router.contact_cancelled(now, cb.contact_id))

    # -- agent first, then the customer ----------------------------------------------------------

    def _ring(self, cb: Callback, agent_id: str) -> None:
        if self.dialer is None:
            return  # the desktop shows the offer; the agent will dial by hand
        dialer, number = self.dialer, cb.record.phone or ""
        task = asyncio.get_running_loop().create_task(
            dialer.call_back(cb.contact_id, agent_id, number), name=f"call-back-{cb.id}"
        )
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def _answered(self, cb: Callback, agent_id: str) -> None:
        """The agent took it: this is an attempt; the customer is dialled now."""
        self._move(cb, S.DIALING)
        cb.attempts += 1
        cb.agent_id = agent_id
        wall = self.engine.wall()
        await self.store.update_callback(cb.id, status=cb.status, attempts=cb.attempts)
        await self.store.start_attempt(cb.id, cb.attempts, agent_id, wall)

    async def attempt_result(self, contact_id: str, outcome: AttemptOutcome) -> CallbackStatus:
        """How the call to the customer went (from the voice edge, or the agent who dialled
        by hand): answered -> connected; otherwise retried or unreachable."""
        cb = self.by_contact.get(contact_id)
        if cb is None:
            raise Refused("not_a_callback", f"contact {contact_id} is no open call back")
        if cb.status is not S.DIALING:
            raise Refused("callback_state", f"call back {cb.id} is {cb.status}, not dialing")
        if outcome not in ATTEMPT_OUTCOMES:
            raise InvalidInput(f"unknown attempt outcome {outcome!r}")
        wall = self.engine.wall()
        await self.store.end_attempt(cb.id, cb.attempts, outcome, wall)
        self._count_attempt(cb, outcome)
        if outcome == "answered":
            self._move(cb, S.CONNECTED)
            await self.store.update_callback(cb.id, status=cb.status)
            return cb.status
        router = self.engine.router
        events = await self.engine.submit(lambda now: router.hand_off(now, contact_id))
        ended = next(e for e in events if isinstance(e, ContactHandedOff))
        cb.segment = ended.segment + 1
        await self._after_failed_attempt(cb, wall, wall + self.settings.retry_delay_seconds)
        return cb.status

    async def _after_failed_attempt(self, cb: Callback, wall: float, retry_at: float) -> None:
        if cb.attempts < self.settings.max_attempts:
            self._move(cb, S.SCHEDULED)
            cb.due_wall = retry_at
            cb.agent_id = None
            await self.store.update_callback(cb.id, status=cb.status, due_wall=cb.due_wall)
            self._wake.set()
            return
        await self.store.close_contact(cb.contact_id, wall, "unreachable", "unreachable")
        await self._end(cb, S.UNREACHABLE, "unreachable", wall)

    async def _end(self, cb: Callback, status: CallbackStatus, outcome: str, wall: float) -> None:
        self._move(cb, status)
        await self.store.update_callback(cb.id, status=status, outcome=outcome, ended_wall=wall)
        del self.live[cb.id]
        self.by_contact.pop(cb.contact_id, None)
        if self.metrics is not None:
            self.metrics.callback_ended(cb.record.queue, outcome)
        log.info("call back %d ended: %s", cb.id, outcome)

    @staticmethod
    def _move(cb: Callback, status: CallbackStatus) -> None:
        _check(cb, status)
        cb.status = status

    def _count_attempt(self, cb: Callback, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.callback_attempt(cb.record.queue, outcome)

    # -- supervisors and agents -----------------------------------------------------------------

    async def cancel(self, callback_id: int, actor: str) -> CallbackRecord:
        cb = self._open(callback_id)
        _check(cb, S.CANCELLED)  # refuse before touching anything
        if cb.status is S.QUEUED:
            await self._leave_queue(cb)
        wall = self.engine.wall()
        await self.store.close_contact(cb.contact_id, wall, "cancelled", "cancelled")
        await self._end(cb, S.CANCELLED, "cancelled", wall)
        await self.store.audit(actor, "callback_cancel", str(callback_id), {}, wall)
        return await self.store.callback(callback_id)

    async def reschedule(self, callback_id: int, due_wall: float, actor: str) -> CallbackRecord:
        """Call at ``due_wall`` instead (a queued one leaves its queue until then)."""
        cb = self._open(callback_id)
        wall = self.engine.wall()
        if due_wall > wall + self.settings.schedule_ahead_days * 86_400:
            days = self.settings.schedule_ahead_days
            raise Refused(
                "too_far_ahead", f"a call back can be asked for at most {days:g} days ahead"
            )
        _check(cb, S.SCHEDULED)
        if cb.status is S.QUEUED:
            await self._leave_queue(cb)
            cb.segment += 1
        self._move(cb, S.SCHEDULED)
        cb.due_wall = max(due_wall, wall)
        await self.store.update_callback(cb.id, status=cb.status, due_wall=cb.due_wall)
        await self.store.audit(
            actor, "callback_reschedule", str(callback_id), {"due_wall": cb.due_wall}, wall
        )
        self._wake.set()
        return await self.store.callback(callback_id)

    def _check_horizon(self, due_wall: float, wall: float) -> None:
        days = self.settings.schedule_ahead_days
        if due_wall > wall + days * 86_400:
            raise Refused("too_far_ahead", f"a call back can be asked for {days:g} days ahead")

    def _open(self, callback_id: int) -> Callback:
        cb = self.live.get(callback_id)
        if cb is None:
            raise Refused("callback_closed", f"call back {callback_id} is not open")
        return cb

    def __contains__(self, contact_id: object) -> bool:
        """Whether ``contact_id`` is the contact of an open call back."""
        return contact_id in self.by_contact

    def for_contact(self, contact_id: str) -> Callback | None:
        """The open call back a contact makes, if it is one."""
        return self.by_contact.get(contact_id)

    def pending(self) -> dict[str, dict[str, float | int]]:
        """Per queue: call backs scheduled (not yet due), queued (due: offered to agents), in
        progress, the age of the oldest waiting one (from the original arrival), and how long
        the one due longest has been due with no agent calling yet (``oldest_due``)."""
        wall = self.engine.wall()
        out: dict[str, dict[str, float | int]] = {}
        for cb in self.live.values():
            row = out.setdefault(
                cb.record.queue,
                {"scheduled": 0, "queued": 0, "in_progress": 0, "oldest": 0.0, "oldest_due": 0.0},
            )
            if cb.status is S.SCHEDULED:
                row["scheduled"] += 1
            elif cb.status is S.QUEUED:
                row["queued"] += 1
                row["oldest_due"] = max(row["oldest_due"], wall - cb.due_wall)
            else:
                row["in_progress"] += 1
            if cb.status in (S.SCHEDULED, S.QUEUED):
                row["oldest"] = max(row["oldest"], wall - cb.record.arrived_wall)
        return out


def _check(cb: Callback, status: CallbackStatus) -> None:
    if status not in MOVES[cb.status]:
        raise IllegalCallbackMove(cb.id, cb.status, status)
