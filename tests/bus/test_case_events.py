"""Complaint case events on a real mosquitto: a case past its severity's target is announced
once on the event stream, to the stream's JSON Schema, with no customer data in the topic or
the payload; the metrics count it per event and category."""

from __future__ import annotations

from pathlib import Path

import jsonschema_rs
from prometheus_client import generate_latest

from contactcenter.bus import payloads
from contactcenter.cases import load_cases
from contactcenter.store.cases import open_case
from tests.bus.conftest import Broker, BusSiteFactory, Watcher, bus_settings
from tests.scrape import by_label

EVENTS = "cc/v1/hq/events"
CONFIG = Path(__file__).resolve().parents[2] / "config"


async def test_a_breached_case_goes_out_once_without_its_customer(
    broker: Broker, make_bus_site: BusSiteFactory
) -> None:
    live = await make_bus_site(bus_settings(broker), cases=load_cases(CONFIG))
    site = live.site
    wall = site.engine.wall()
    case_id = await open_case(
        site.store, customer_id="C1008", contact_id="chat-1", category="billing",
        severity="high", description="charged twice", owner="a05", wall_time=wall - 2 * 3600,
    )  # fmt: skip
    async with Watcher(broker.port, "cc/v1/hq/#") as w:
        await site.case_tasks.note_breaches(wall)
        await site.case_tasks.note_breaches(wall + 1)  # noted already: nothing more
        await w.until(lambda: any(m.json().get("type") == "case_sla_breached"
                                  for m in w.on(EVENTS)))  # fmt: skip
    [sent] = [m.json() for m in w.on(EVENTS) if m.json()["type"] == "case_sla_breached"]
    jsonschema_rs.validator_for(payloads.schema("event")).validate(sent)
    assert {k: sent[k] for k in ("case_id", "category", "severity", "target")} == {
        "case_id": case_id, "category": "billing", "severity": "high", "target": "acknowledge",
    }  # fmt: skip
    everything = " ".join(f"{m.topic} {m.payload!r}" for m in w.seen)
    assert "C1008" not in everything and "charged twice" not in everything
    text = generate_latest(live.metrics.registry).decode()
    assert by_label(text, "contactcenter_case_events_total", "event") == {"sla_breached": 1.0}
