"""A broker that goes away: routing does not notice, events wait in the bounded buffer and go
out in order after the broker is back, retained state is published again; beyond the bound
the oldest are dropped, counted and logged."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contactcenter.bus import BusSettings
from contactcenter.bus.payloads import event_type
from tests.bus.conftest import (
    Broker,
    BusSiteFactory,
    Watcher,
    bus_settings,
    running_bus_site,
)
from tests.bus.traffic import Burst, Floor, chat_agents
from tests.scrape import value

EVENTS = "cc/v1/hq/events"
OUTAGE_SECONDS = 60.0
CHATS = 500
"""Chats of the burst during the outage, 0.1 s apart (~50 s of arrivals), to each site."""
FAST = ("sales", "billing")
"""Topics whose queues offer a chat to their first tier at once (support's waits 5 s for a
dedicated agent first): answer waits then show routing, not the config."""


def delivered(w: Watcher) -> list[dict[str, Any]]:
    """The event stream as a consumer keeps it: in arrival order, a resent ``seq`` dropped."""
    out: list[dict[str, Any]] = []
    last = 0
    for m in w.on(EVENTS):
        e = m.json()
        if e["seq"] > last:
            out.append(e)
            last = e["seq"]
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def wait_for(predicate: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class ControlRun:
    waits: list[float]
    took: list[float]
    unanswered: int


def control_burst(path: Path, settings: BusSettings, chats: int, gap: float) -> ControlRun:
    """The same burst on a second site whose broker stays up, in a process of its own: the
    machine's load (other tests, in CI) slows both sites alike, while a stall of the broken
    site (its loop, or the GIL) does not reach this one."""

    async def run() -> ControlRun:
        rng = random.Random(5)
        async with running_bus_site(path, settings) as live:
            site = live.site
            async with Floor(site, chat_agents(site, 2), rng) as floor:
                burst = Burst(site, rng, FAST)
                await burst.run(chats, gap=gap, leave=0.1)
            left = sum(c not in floor.answered_at for c in burst.started_at)
            return ControlRun(burst.waits(floor), burst.took, left)

    return asyncio.run(run())


@pytest.mark.timeout(240)
async def test_a_minute_without_broker_in_a_burst_leaves_routing_alone_and_loses_no_event(
    make_broker: Callable[..., Broker], make_bus_site: BusSiteFactory, tmp_path: Path
) -> None:
    broker = make_broker(persistent=True)  # keeps the replaying subscriber's session
    live = await make_bus_site(bus_settings(broker, reconnect_max_seconds=5.0))
    site, bus = live.site, live.bus
    control_settings = bus_settings(make_broker())
    made: list[str] = []
    site.engine.listen(lambda e: made.append(event_type(type(e))))
    rng = random.Random(5)
    async with (
        Watcher(broker.port, EVENTS, session="replay") as w,
        Floor(site, chat_agents(site, 2), rng) as floor,
    ):
        before = Burst(site, rng, FAST)
        await before.run(100, gap=0.05, leave=0.1)
        await wait_for(lambda: bus.snapshot().published == bus.outbox.taken, 20)

        broker.stop()
        down = time.monotonic()
        await wait_for(lambda: not bus.snapshot().connected, 10)
        assert site.problems() == []  # /healthz stays 200: the site serves
        during = Burst(site, rng, FAST)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            control_ran = asyncio.get_running_loop().run_in_executor(
                pool, control_burst, tmp_path / "control.sqlite3", control_settings, CHATS, 0.1
            )
            _, control = await asyncio.gather(during.run(CHATS, gap=0.1, leave=0.1), control_ran)
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
        outage = time.monotonic() - down
        waiting = bus.snapshot().buffered
        text = live.metrics.render().decode()
        broker.start()
        back = time.monotonic()
        await wait_for(lambda: bus.snapshot().connected, 15)
        reconnected = time.monotonic()
        await wait_for(lambda: bus.snapshot().published >= len(made), 60)
        sent = time.monotonic() - reconnected
        await w.until(lambda: delivered(w) and delivered(w)[-1]["seq"] == len(made), 60)

    assert outage >= OUTAGE_SECONDS
    assert value(text, "contactcenter_bus_connected") == 0
    assert value(text, "contactcenter_bus_events_buffered") == waiting > 1000
    assert value(text, "contactcenter_bus_events_dropped_total") == 0

    # routing did not notice: every chat was answered, or its customer left first, as fast
    # as on the site whose broker stayed up
    got = delivered(w)
    abandoned = {e["contact_id"] for e in got if e["type"] == "contact_abandoned"}
    for burst in (before, during):
        unanswered = {c for c in burst.started_at if c not in floor.answered_at}
        assert unanswered == abandoned & set(burst.started_at)
        assert len(unanswered) < 0.15 * len(burst.started_at)
    assert control.unanswered < 0.15 * CHATS
    outage_waits = during.waits(floor)
    print(  # noqa: T201 (the measurement, shown with -s)
        f"\nbroker up (control site) / down: answer wait p95 {p95(control.waits) * 1000:.1f} / "
        f"{p95(outage_waits) * 1000:.1f} ms, start_chat p95 {p95(control.took) * 1000:.1f} / "
        f"{p95(during.took) * 1000:.1f} ms; {len(made)} events, {waiting} buffered; "
        f"reconnected {reconnected - back:.1f} s after the broker came back, the buffer sent "
        f"in {sent:.2f} s"
    )
    assert p95(outage_waits) < max(3 * p95(control.waits), p95(control.waits) + 0.02)
    assert p95(during.took) < max(3 * p95(control.took), p95(control.took) + 0.02)

    # every event, once, in the engine's order
    assert [e["seq"] for e in got] == list(range(1, len(made) + 1))
    assert [e["type"] for e in got] == made
    assert len({e["boot"] for e in got}) == 1


async def test_retained_state_is_published_again_to_a_broker_that_lost_it(
    broker: Broker, make_bus_site: BusSiteFactory
) -> None:
    live = await make_bus_site(bus_settings(broker))
    site, bus = live.site, live.bus
    await site.agents.login("a07")
    await wait_for(lambda: bus.snapshot().connected and not bus.snapshot().buffered, 10)
    broker.stop()  # without persistence: its retained messages are gone
    await wait_for(lambda: not bus.snapshot().connected, 10)
    await site.agents.login("a05")  # while it is away
    await site.agents.logout("a07")
    broker.start()
    await wait_for(lambda: bus.snapshot().connected, 10)
    async with Watcher(broker.port) as late:
        await late.until(lambda: len({m.topic for m in late.seen}) >= 1 + 30 + 10)
    assert late.last("cc/v1/hq/engine/status")["state"] == "online"
    assert late.last("cc/v1/hq/agent/a05/state")["state"] == "available"
    assert late.last("cc/v1/hq/agent/a07/state")["state"] == "offline"
    assert late.last("cc/v1/hq/queue/sales_chat/stats")["agents_available"] == 1


async def test_beyond_the_buffer_the_oldest_events_are_dropped_counted_and_logged(
    make_broker: Callable[..., Broker],
    make_bus_site: BusSiteFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = make_broker(persistent=True)
    live = await make_bus_site(bus_settings(broker, buffer_events=100))
    site, bus = live.site, live.bus
    rng = random.Random(9)
    async with Watcher(broker.port, EVENTS, session="replay") as w:
        await wait_for(lambda: bus.snapshot().connected, 10)
        broker.stop()
        await wait_for(lambda: not bus.snapshot().connected, 10)
        first_lost = bus.outbox.taken + 1
        with caplog.at_level(logging.WARNING, logger="contactcenter.bus"):
            async with Floor(site, chat_agents(site, 1), rng):
                await Burst(site, rng).run(60, gap=0.01, leave=0)
                await asyncio.sleep(0.5)
            taken = bus.outbox.taken
            assert bus.snapshot().buffered == 100
            assert bus.snapshot().dropped == taken - first_lost + 1 - 100 > 100
            broker.start()
            await w.until(lambda: delivered(w) and delivered(w)[-1]["seq"] == taken, 30)
            # (the subscriber may have them before the broker's acknowledgements are back)
            await wait_for(lambda: bus.snapshot().published == first_lost - 1 + 100, 10)
    seqs = [e["seq"] for e in delivered(w)]
    assert seqs == [*range(1, first_lost), *range(taken - 99, taken + 1)]
    last_lost = taken - 100
    said = [r.getMessage() for r in caplog.records]
    assert sum("dropping the oldest" in s for s in said) == 1
    assert any(f"events seq {first_lost}-{last_lost} " in s for s in said), said
    text = live.metrics.render().decode()
    assert value(text, "contactcenter_bus_events_dropped_total") == last_lost - first_lost + 1
