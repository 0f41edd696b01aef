"""A Prometheus scrape that lands while the engine is storing events (the core has already
moved on; the store has not answered yet) must not leave the agent-state counters ahead of
what the events say: the counter never goes back, so any time it counts too much stays."""

from __future__ import annotations

import asyncio
from typing import Any

from contactcenter.agents import Presence
from contactcenter.events import AgentActivity, AgentStateChanged, Event
from contactcenter.metrics import Metrics
from tests.runtime.conftest import SiteFactory
from tests.scrape import by_label

STATE_SECONDS = "contactcenter_agent_state_seconds_total"


async def test_a_scrape_during_a_slow_write_counts_no_time_the_events_do_not(
    make_site: SiteFactory,
) -> None:
    site = await make_site()
    metrics = site.engine.metrics
    assert isinstance(metrics, Metrics)
    events: list[Event] = []
    site.engine.listen(events.append)
    await site.agents.login("a05")

    writing, gate = asyncio.Event(), asyncio.Event()
    record = site.engine.store.record_events

    async def slow_record(*args: Any, **kwargs: Any) -> None:
        writing.set()
        await gate.wait()  # the database is slow to answer
        await record(*args, **kwargs)

    site.engine.store.record_events = slow_record  # type: ignore[method-assign]
    going = asyncio.create_task(site.agents.set_presence("a05", Presence.AWAY, "break"))
    await writing.wait()  # the core has moved a05 away; the write is pending
    await asyncio.sleep(0.2)
    scraped = by_label(metrics.render().decode(), STATE_SECONDS, "state")
    gate.set()
    await going

    changes = [e for e in events if isinstance(e, AgentStateChanged) and e.agent_id == "a05"]
    assert [e.state for e in changes] == [AgentActivity.AVAILABLE, AgentActivity.AWAY]
    available = changes[1].at - changes[0].at
    assert scraped["available"] <= available + 1e-6
    final = by_label(metrics.render().decode(), STATE_SECONDS, "state")
    assert abs(final["available"] - available) < 1e-6
