"""/metrics stays small however many contacts, customers and agents the engine sees: its label
values come from the config and fixed vocabularies, never from an id, a phone number or a
name, so the number of series does not grow with traffic."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from contactcenter.agents import Presence

from .live_site import LiveSite, Wall, live_site

SALES = ("a05", "a06")
AGENTS = (*SALES, "a12")
LABELS = {
    "queue", "to_queue", "channel", "state", "reason", "outcome", "step", "source", "le",
    "bucket_le", "generation", "policy", "result", "kind",
}  # fmt: skip


async def traffic(live: LiveSite, first: int, count: int, seen: set[str]) -> None:
    """``count`` calls from distinct callers (each a new contact id and phone number; CRM
    customers in turn), answered (some handed on) or abandoned, and a call back booked for a
    distinct number after each; every id, number and name used goes into ``seen``."""
    site = live.site
    voice, desk, router = site.voice, site.agents, site.engine.router
    customers = sorted(site.center.customers)
    for n in range(first, first + count):
        cid, caller = f"ct-card-{n:05d}", f"+4930555{n:06d}"
        customer = customers[n % len(customers)]
        seen |= {cid, caller, customer, site.center.customers[customer].name}
        if n % 4 == 3:  # nobody free: it waits, then hangs up
            for agent in SALES:
                await desk.set_presence(agent, Presence.AWAY, "break")
            await voice.call_arrived(cid, queue="sales", customer_id=customer, caller=caller)
            assert await voice.call_ended(cid) == "abandoned"
            for agent in SALES:
                await desk.set_presence(agent, Presence.AVAILABLE, None)
        else:
            await voice.call_arrived(cid, queue="sales", customer_id=customer, caller=caller)
            agent = router.contact(cid).agent
            assert agent in SALES
            await voice.agent_answered(agent, cid)
            if n % 4 == 2:
                await site.transfers.to_queue(agent, cid, "billing")
            else:
                await voice.call_ended(cid)
            await desk.wrap_up(agent, cid, "resolved")
        number = f"+4940555{n:06d}"
        booked = await site.callbacks.book("support", number, source="api", customer_id=customer)
        seen |= {number, booked.callback_contact_id}


async def scrape(live: LiveSite) -> list[tuple[str, dict[str, str]]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{live.port}/metrics") as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    return [(s.name, s.labels) for f in text_string_to_metric_families(text) for s in f.samples]


async def test_series_do_not_grow_with_contacts(tmp_path: Path) -> None:
    start = dt.datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    async with live_site(tmp_path / "cc.sqlite3", Wall(start)) as live:
        for agent in AGENTS:
            await live.site.agents.login(agent)
        seen: set[str] = set(AGENTS)
        await traffic(live, 0, 20, seen)
        after_20 = await scrape(live)
        await traffic(live, 20, 60, seen)
        after_80 = await scrape(live)

    assert len(after_80) == len(after_20)
    assert {(n, tuple(sorted(labels.items()))) for n, labels in after_80} == {
        (n, tuple(sorted(labels.items()))) for n, labels in after_20
    }
    assert len(seen) > 250
    values = {v for _, labels in after_80 for v in labels.values()}
    assert not values & seen
    assert not [v for v in values if re.fullmatch(r"\+?[0-9]{6,}", v)]  # no phone numbers
    assert {k for _, labels in after_80 for k in labels} <= LABELS
    assert not [n for n, _ in after_80 if n.endswith("_created")]
