"""Retained state on a real mosquitto: what a subscriber that comes late gets at once, and how
often queue stats go out."""

from __future__ import annotations

import asyncio
import itertools
import json

import jsonschema_rs

from contactcenter.agents import Presence
from contactcenter.bus import payloads
from tests.bus.conftest import Broker, BusSiteFactory, Watcher, bus_settings


async def test_a_late_subscriber_gets_engine_agents_and_queues_at_once(
    broker: Broker, make_bus_site: BusSiteFactory
) -> None:
    live = await make_bus_site(bus_settings(broker))
    site = live.site
    await site.agents.login("a05")
    await site.agents.login("a06")
    await site.agents.set_presence("a06", Presence.AWAY, "lunch")
    contact = await site.chat.start_chat(name="Jan", topic="billing")  # nobody serves it now
    async with Watcher(broker.port, "cc/v1/hq/engine/status") as w:  # the bus is up
        await w.until(lambda: w.on("cc/v1/hq/engine/status"))
    await asyncio.sleep(1.2)  # two stats intervals: everything has gone out

    async with Watcher(broker.port) as late:
        await late.until(lambda: len(late.seen) >= 1 + 30 + 10)
        await asyncio.sleep(0.3)
    by_topic = {}
    for m in late.seen:  # the first on each topic is the retained one; later ones are live
        by_topic.setdefault(m.topic, m)
    assert all(m.retain for m in by_topic.values()), [
        t for t, m in by_topic.items() if not m.retain
    ]
    assert "cc/v1/hq/events" not in by_topic  # the stream is not retained

    status = by_topic["cc/v1/hq/engine/status"].json()
    assert (status["state"], status["reason"], status["boot"]) == ("online", None, live.bus.boot)
    a05 = by_topic["cc/v1/hq/agent/a05/state"].json()
    assert (a05["agent"], a05["state"], a05["reason"]) == ("a05", "available", None)
    a06 = by_topic["cc/v1/hq/agent/a06/state"].json()
    assert (a06["state"], a06["reason"]) == ("away", "lunch")
    assert by_topic["cc/v1/hq/agent/a01/state"].json()["state"] == "offline"
    agents = [t for t in by_topic if t.startswith("cc/v1/hq/agent/")]
    assert len(agents) == len(site.center.agents)

    billing = by_topic["cc/v1/hq/queue/billing_chat/stats"].json()
    assert billing["waiting"] == 1 and billing["oldest_wait_seconds"] >= 0.5
    assert billing["agents_available"] == 0
    row = next(r for r in site.wallboard.queues() if r["queue"] == "billing_chat")
    assert (billing["offered"], billing["answered"]) == (row["offered"], row["answered"]) == (1, 0)
    sales = by_topic["cc/v1/hq/queue/sales_chat/stats"].json()
    assert sales["agents_available"] == 1  # a05 serves sales_chat; a06 is away
    queues = [t for t in by_topic if t.startswith("cc/v1/hq/queue/")]
    assert len(queues) == len(site.center.queues)

    for m in by_topic.values():
        kind = m.topic.rsplit("/", 1)[1]
        name = {"status": "engine_status", "state": "agent_state", "stats": "queue_stats"}[kind]
        jsonschema_rs.validator_for(payloads.schema(name)).validate(json.loads(m.payload))
    assert site.engine.router.contact(contact).queue == "billing_chat"


async def test_queue_stats_go_out_only_when_changed_and_at_most_every_interval(
    broker: Broker, make_bus_site: BusSiteFactory
) -> None:
    live = await make_bus_site(bus_settings(broker, queue_stats_interval_seconds=1.0))
    site = live.site
    topic = "cc/v1/hq/queue/support_chat/stats"
    quiet = "cc/v1/hq/queue/vip/stats"
    async with Watcher(broker.port) as w:
        await w.until(lambda: w.on(topic) and w.on(quiet))
        await site.chat.start_chat(name="Ann", topic="support")  # waits: the age grows
        await asyncio.sleep(4.5)
    changing = w.on(topic)
    stamps = [m.json()["ts"] for m in changing]
    assert len(changing) in range(4, 7), stamps  # the retained one, then once per second
    gaps = [b - a for a, b in itertools.pairwise(stamps[1:])]
    assert all(g >= 900 for g in gaps), gaps
    assert len(w.on(quiet)) == 1  # nothing changed there: only the retained copy
    assert live.bus.snapshot().connected
