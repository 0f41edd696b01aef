"""The asyncio driver of the routing core, and nothing else: the one owner of the ``Router``.

Services (chat, voice, agents, callbacks, ...) hand the engine core inputs through ``submit``;
the engine stamps each with the event loop's monotonic clock, calls the core, persists the
resulting domain events, counts them (today's tally, ``runtime/today.py``; Prometheus), lets
the services observe them synchronously (``listen``) and publishes them on the hub for live
subscribers. Between inputs it sleeps until the core's next deadline. Wall-clock time is
recorded separately for the store.

Persist, then publish: an event is in the store before any edge or subscriber hears of it.
Only a database that cannot take writes at all (disk full, read-only, I/O errors) bends this:
routing goes on, and the events (with what keepers keep of them) are held back in order and
written, oldest first, as soon as the database takes writes again (``StoreHealth`` says so).
What must be stored before anyone is promised it (a new contact, a call back) is refused
meanwhile by its own write, so no promise rests on a held event.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from contactcenter.config import Center
from contactcenter.events import Event
from contactcenter.expected_wait import ExpectedWait
from contactcenter.kpi import Tally
from contactcenter.routing import Router
from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.hub import Hub
from contactcenter.runtime.ports import EventStore, MetricsLike
from contactcenter.runtime.store_health import RETRY_SECONDS, StoreHealth
from contactcenter.runtime.today import DayTally, center_zone
from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

Input = Callable[[float], list[Event]]
"""A core input: called with ``now``, returns the events the core produced."""

Listener = Callable[[Event], None]
Keeper = Callable[[Sequence[Event]], Awaitable[None]]


@dataclass(slots=True)
class _Held:
    """Events the database refused, and how far their writing got."""

    events: Sequence[Event]
    wall: float
    recorded: bool = False
    keepers_done: int = 0


class Engine:
    """Drives one center's routing core: clock, timers, persist-then-publish, dispatch."""

    def __init__(
        self,
        center: Center,
        store: EventStore,
        *,
        metrics: MetricsLike | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.center = center
        self.router = Router(center)
        self.store = store
        self.metrics = metrics
        self.hub = Hub()
        self.wall = wall
        """Wall-clock seconds (for records); routing runs on ``now``."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._keepers: list[Keeper] = []
        thresholds = {
            q.id: q.answer_target.threshold_seconds or 0.0 for q in center.queues.values()
        }
        self.day_tally = DayTally(
            thresholds,
            center.settings.routing.short_abandon_seconds,
            center_zone(center.settings.timezone),
            wall,
        )
        self.expected_wait = ExpectedWait()
        self.store_health = StoreHealth(
            wall, on_failure=metrics.store_write_failed if metrics is not None else None
        )
        self._held: deque[_Held] = deque()
        self._catch_up_task: asyncio.Task[None] | None = None

    @property
    def today(self) -> Tally:
        """The KPIs of the center's local day so far (fresh after local midnight)."""
        return self.day_tally.current()

    def now(self) -> float:
        loop = self._loop or asyncio.get_running_loop()
        return loop.time()

    def listen(self, listener: Listener) -> None:
        """Have ``listener`` see every event, in order, right after it is stored and before it
        is published (services keep their bookkeeping with it; it must not block)."""
        self._listeners.append(listener)

    def keep(self, keeper: Keeper) -> None:
        """Have ``keeper`` store what it must keep of the events before anyone hears of them
        (e.g. the call back a removal promised: it is on disk before the caller is told). It
        runs under the engine's lock: it may write to the store, never ``submit``."""
        self._keepers.append(keeper)

    async def start(self) -> None:
        """Bind to the running loop and start the core's timers."""
        self._loop = asyncio.get_running_loop()
        if self.metrics is not None:
            self.metrics.bind_router(self.router, self.now)
        self._timer_task = asyncio.create_task(self._timer_loop(), name="routing-timer")

    async def stop(self) -> None:
        task, self._timer_task = self._timer_task, None
        await cancel_and_wait(task)
        task, self._catch_up_task = self._catch_up_task, None
        await cancel_and_wait(task)
        async with self._lock:  # a last try for what is still held back
            await self._write_held()
        if self._held:
            log.error(
                "stopping with %d events the database never took: their contacts' records "
                "miss them", sum(len(h.events) for h in self._held)
            )  # fmt: skip

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

    async def advance(self) -> None:
        """Bring the core to now, firing every timer that is due (before a read such as
        ``explain``, which answers as of the core's last input)."""
        await self.submit(self.router.advance)

    async def _dispatch(self, events: Sequence[Event]) -> None:
        if not events:
            return
        # counted before the write's await: a scrape meanwhile must see the agents' states the
        # core already left, or it counts time in them that the events never had
        self.today.observe_all(events)
        self.expected_wait.observe_all(events)
        if self.metrics is not None:
            self.metrics.observe_all(events)
        held = _Held(events, self.wall())
        if not self._held and await self._write(held):
            if self.store_health.down_since is not None:
                self.store_health.wrote()
        else:  # in order: behind what is held
            self._held.append(held)
            self._count_held()
            if self._catch_up_task is None or self._catch_up_task.done():
                self._catch_up_task = asyncio.create_task(self._catch_up(), name="held-events")
        for e in events:
            for listener in self._listeners:
                listener(e)
            self.hub.publish(e)

    async def _write(self, held: _Held) -> bool:
        """Store ``held`` and what the keepers keep of it, going on where a refused write
        stopped; False when the database refuses."""
        try:
            if not held.recorded:
                await self.store.record_events(held.events, held.wall)
                held.recorded = True
            while held.keepers_done < len(self._keepers):
                await self._keepers[held.keepers_done](held.events)
                held.keepers_done += 1
        except StoreUnavailable as err:
            self.store_health.failed(err)
            return False
        return True

    async def _write_held(self) -> None:
        """Write held events, oldest first, until the database refuses or none are left."""
        while self._held and await self._write(self._held[0]):
            self._held.popleft()
            self._count_held()
        if not self._held:
            self.store_health.wrote()

    def _count_held(self) -> None:
        held = sum(len(h.events) for h in self._held)
        self.store_health.holding("events", held)
        if self.metrics is not None:
            self.metrics.store_events_held(held)

    async def _catch_up(self) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            async with self._lock:
                await self._write_held()
                if not self._held:
                    return

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.router.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            # (not ``wait_for``: on Python 3.11 it swallows a cancel that meets a wake-up)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()
            deadline = self.router.next_deadline()
            if deadline is not None and deadline <= self.now():
                try:
                    await self.submit(self.router.advance)
                except Exception:  # keep the clock running whatever one timer did
                    log.exception("routing timer failed")
