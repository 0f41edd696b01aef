"""The MQTT bus as an edge of the site: the engine's state and events published to a broker.

Routing never waits for the broker. The engine's listener (``_on_event``) only numbers the
event and appends it to the bounded ``Outbox`` (O(1), no await); one task does all the
talking: connect (with the last will ``offline``), publish ``online`` and every retained
state, then the buffered events in order, agent states as they change and queue stats at
most every interval. A lost broker is tried again after ``reconnect_initial_seconds``,
doubling up to ``reconnect_max_seconds``; meanwhile events wait in the outbox (the oldest
dropped beyond ``buffer_events``, counted) and go out in order after the reconnect, at least
once: an event whose acknowledgement the loss swallowed is sent again (same ``boot``/``seq``).

The bus being down is not a problem of the site (``problems`` stays empty, ``/healthz`` stays
200: routing is unaffected); it shows in ``contactcenter_bus_connected`` and in the log.
A clean stop sends what is buffered (for up to ``stop_seconds``), then ``offline``, then
disconnects; a crash leaves it to the broker to publish the will.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contactcenter.bus import payloads
from contactcenter.bus._client import IN_FLIGHT, BrokerUnavailable, Connection, Message, connect
from contactcenter.bus.outbox import Entry, Outbox
from contactcenter.bus.retained import Retained, ms
from contactcenter.bus.settings import BusSettings
from contactcenter.bus.topics import Topics
from contactcenter.events import AgentStateChanged, CaseEvent, Event
from contactcenter.runtime import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BusSnapshot:
    """The counters ``/metrics`` shows (``BusCollector``)."""

    connected: bool
    events: int
    published: int
    dropped: int
    buffered: int


class BusEdge:
    def __init__(
        self, site: Site, settings: BusSettings, *, wall: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.site)
        for aid in site.center.agents:  # an id that cannot be a topic level stops us here
            self.topics.agent(aid)
        for qid in site.center.queues:
            self.topics.queue(qid)
        self.wall = wall
        self.boot = secrets.token_hex(8)
        self.started_ms = ms(wall())
        self.outbox = Outbox(settings.buffer_events)
        self.retained = Retained(site.engine, site.wallboard, self.topics, wall)
        self.connected = False
        self.published = 0
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stop_by: float | None = None
        self._task: asyncio.Task[None] | None = None
        site.engine.listen(self._on_event)
        site.case_tasks.listen(self._on_event)  # complaint cases' events, on the same stream

    # -- the engine's side: never waits ---------------------------------------------------------

    def _on_event(self, e: Event | CaseEvent) -> None:
        if self._stopped.is_set():
            return
        ts_ms = ms(self.wall())
        self.outbox.put(e, ts_ms)
        if e.__class__ is AgentStateChanged:
            assert isinstance(e, AgentStateChanged)
            self.retained.agent_changed(e, ts_ms)
        self._wake.set()

    # -- Edge ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self.retained.seed()
        self._task = asyncio.create_task(self._run(), name="mqtt-bus")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stop_by = asyncio.get_running_loop().time() + self.settings.stop_seconds
        self._stopped.set()
        self._wake.set()
        if not self.connected:  # nothing to flush to: no waiting for a connection attempt
            task.cancel()
        await asyncio.wait({task}, timeout=self.settings.stop_seconds + 5)
        if not task.done():
            log.warning("bus: the broker did not let us stop cleanly in time; disconnecting")
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("bus: failed while stopping", exc_info=task.exception())
        if len(self.outbox):
            log.warning("bus: stopped with %d events the broker never got", len(self.outbox))

    def problems(self) -> list[str]:
        """Nothing: a lost broker does not stop the site from serving (see the module)."""
        return []

    def snapshot(self) -> BusSnapshot:
        o = self.outbox
        return BusSnapshot(self.connected, o.taken, self.published, o.dropped, len(o))

    # -- the one task that talks to the broker --------------------------------------------------

    async def _run(self) -> None:
        s = self.settings
        delay = s.reconnect_initial_seconds
        failures = 0
        while not self._stopped.is_set():
            try:
                async with connect(s, self._status("offline", "lost")) as conn:
                    self.connected = True
                    log.info("bus: connected to %s:%d as %s (topics %s/...)", s.host, s.port,
                             s.identifier, self.topics.base)  # fmt: skip
                    failures, delay = 0, s.reconnect_initial_seconds
                    await self._serve(conn)
                    return
            except BrokerUnavailable as e:
                if self.connected:
                    log.warning("bus: lost the broker at %s:%d (%s); events wait in the buffer "
                                "(up to %d)", s.host, s.port, e, s.buffer_events)  # fmt: skip
                elif failures == 0:
                    log.warning("bus: cannot reach the broker at %s:%d (%s); trying again",
                                s.host, s.port, e)  # fmt: skip
                failures += 1
            except Exception:  # whatever went wrong, the bus must keep trying
                log.exception("bus: unexpected failure; trying again")
                failures += 1
            self.connected = False
            await self._pause(delay * random.uniform(0.8, 1.0))
            delay = min(delay * 2, s.reconnect_max_seconds)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the edge is stopping."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopped.wait()

    async def _serve(self, conn: Connection) -> None:
        """Publish until stopping (returns) or until the connection is lost (raises)."""
        pump = asyncio.create_task(self._pump(conn), name="mqtt-bus-pump")
        lost = asyncio.create_task(conn.lost(), name="mqtt-bus-watch")
        try:
            await asyncio.wait({pump, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (pump, lost):
                t.cancel()
            await asyncio.wait({pump, lost})
        if pump.cancelled():
            raise BrokerUnavailable("connection lost")
        pump.result()  # raises what stopped it; else it finished: stopped cleanly

    async def _pump(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        await conn.publish(self._status("online"))
        self.retained.everything_again()
        next_stats = loop.time()
        while not self._stopped.is_set():
            self._wake.clear()
            await self._send_events(conn)
            await self._send(conn, self.retained.agent_messages())
            if loop.time() >= next_stats:
                await self._send(conn, self.retained.queue_messages())
                next_stats = loop.time() + self.settings.queue_stats_interval_seconds
            if len(self.outbox) or self.retained.agents_pending:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_stats - loop.time())):
                    await self._wake.wait()
        await self._send_events(conn)  # what is left, until the stop's deadline
        await self._send(conn, self.retained.agent_messages())
        await conn.publish(self._status("offline", "stopped"))

    async def _send_events(self, conn: Connection) -> None:
        """Publish buffered events in order, a batch in flight at a time; undelivered ones go
        back to the front of the outbox."""
        loop = asyncio.get_running_loop()
        while self._stop_by is None or loop.time() < self._stop_by:
            batch = self.outbox.take(IN_FLIGHT)
            if not batch:
                return
            tasks = [conn.send(self._event_message(entry)) for entry in batch]
            try:
                await asyncio.gather(*tasks)
            finally:
                acked = _acknowledged(tasks)
                self.outbox.put_back(batch[acked:])
                self.published += acked
                if acked:
                    self.outbox.delivered()

    async def _send(self, conn: Connection, messages: Sequence[Message]) -> None:
        tasks = [conn.send(m) for m in messages]
        try:
            await asyncio.gather(*tasks)
        finally:
            _acknowledged(tasks)

    def _event_message(self, entry: Entry) -> Message:
        body = payloads.event(self.settings.site, self.boot, entry.seq, entry.ts_ms, entry.event)
        return Message(self.topics.events, payloads.encode(body), retain=False)

    def _status(self, state: str, reason: str | None = None) -> Message:
        body = payloads.engine_status(
            self.settings.site, self.boot, state, started_ms=self.started_ms,
            ts_ms=ms(self.wall()), reason=reason,
        )  # fmt: skip
        return Message(self.topics.status, payloads.encode(body), retain=True)


def _acknowledged(tasks: Sequence[asyncio.Task[None]]) -> int:
    """How many of the first ``tasks`` the broker acknowledged; the rest are cancelled (and
    their errors marked as seen)."""
    acked, prefix = 0, True
    for t in tasks:
        prefix = prefix and t.done() and not t.cancelled() and t.exception() is None
        acked += prefix
        t.cancel()
    return acked
