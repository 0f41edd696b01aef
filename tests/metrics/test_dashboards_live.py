"""Every Grafana panel query and every alert expression, on a real Prometheus scraping a real
engine after traffic whose numbers are known.

Grafana itself cannot run here (no Debian package, nothing is downloaded): the dashboard
files are checked against grafana-foundation-sdk's model in ``test_dashboards.py``, and here
each query of each panel of the shipped files runs as Grafana would send it, with the
dashboard's variables set to concrete values ($queue and $channel: All, i.e. ``.*``;
$__range and $__interval: 1h, the whole test; $__rate_interval: 10m), against a Prometheus that
scrapes the engine's ``/metrics`` over loopback and evaluates the shipped rules (every group
each second: the shipped 1h and 1d groups run once a minute).

The engine is the example center with its IVR (its business hours count) and its MQTT bus
(whose broker is not there), on a wall clock set to a Wednesday 10:00 in Berlin (open).
Traffic, through the services the voice edge and the desktop drive: a05 and a06 (sales) log
in, a06 goes on a break; sales gets 10 calls: 7 answered at once by a05 (the 7th handed on to
the Spanish line, where nobody is logged in), 3 hang up while a05 is busy; the first two
callers score their call 5 and 2 (the site's survey service, as the post-call survey does:
CSAT 3.5 from 2 answers, half of them satisfied); a05 goes on a break; a call back for
support is booked for a caller who first called 300 s earlier, and nobody can take it; then
the wall clock jumps 1000 s.
So sales: offered 10, answered within 30 s 7, abandoned 3 -> service level 0.7 (goal 0.8),
abandon rate 0.3; 1 transfer. Handle times, waits and agent-state times are real (short)
durations: their expected values are computed from the engine's domain events.

Queries are evaluated at the instant of the last scrape, so ``increase()`` has nothing to
extrapolate and counts are exact.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from contactcenter.agents import Presence
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    Event,
    WrapUpEnded,
)

from .live_site import LiveSite, Wall, live_site
from .promserver import JOB, Prom, every_second, free_port, needs_prometheus, prometheus
from .scenario import ROOT

GRAFANA = ROOT / "config" / "grafana" / "dashboards"
RULES = ROOT / "config" / "prometheus" / "rules.yml"
WEDNESDAY_10_BERLIN = dt.datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
VARIABLES = {
    "$queue": ".*",
    "$channel": ".*",
    "$__range": "1h",
    "$__interval": "1h",
    "$__rate_interval": "10m",
}
VOICE = ("vip", "sales", "support", "billing", "complaints", "spanish")
CHAT = ("sales_chat", "support_chat", "billing_chat")
QUEUES = (*VOICE, *CHAT, "support_email", "case_tasks")
THRESHOLDS = dict.fromkeys(VOICE, 30.0) | {"vip": 20.0, "complaints": 45.0}
THRESHOLDS |= dict.fromkeys(CHAT, 10.0) | {"support_email": 86400.0, "case_tasks": 3600.0}
PRESENT = ("available", "ringing", "busy", "wrap_up", "away")
BUSY = {AgentActivity.RINGING, AgentActivity.BUSY, AgentActivity.WRAP_UP}
LOGGED_IN = {*BUSY, AgentActivity.AVAILABLE}
CALLERS = [f"+49305550199{n:02d}" for n in range(10)]
CUSTOMERS = ["C1005", "C1007", "C1008", "C1009", "C1010", None, None]


def concrete(expr: str, **values: str) -> str:
    """``expr`` with the dashboard variables replaced, as Grafana sends it."""
    out = expr
    for name, value in {**VARIABLES, **values}.items():
        out = out.replace(name, value)
    assert not re.search(r"\$[A-Za-z_]", out), out
    return out


def panels(dashboard: str) -> dict[tuple[str, str], str]:
    """(panel title, refId) -> expr of every query of a shipped dashboard."""
    data = json.loads((GRAFANA / f"contactcenter-{dashboard}.json").read_text())
    return {
        (p["title"], t["refId"]): t["expr"]
        for p in data["panels"]
        if p["type"] != "row"
        for t in p["targets"]
    }


def alerts() -> dict[str, str]:
    doc = yaml.safe_load(RULES.read_text())
    return {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"] if "alert" in r}


# == the traffic =============================================================================


@dataclass
class Marks:
    """Monotonic moments of the scenario, to bound the ages the gauges report: the transferred
    call arrived between ``arriving`` and ``arrived``, the call back was booked after
    ``booking``."""

    arriving: float
    arrived: float
    booking: float
    done: float


async def until(check: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def play(live: LiveSite) -> Marks:
    site = live.site
    voice, desk, router = site.voice, site.agents, site.engine.router
    await desk.login("a05")
    await desk.login("a06")
    await desk.set_presence("a06", Presence.AWAY, "break")
    calls = [f"ct-live-{n:02d}" for n in range(10)]
    for n, cid in enumerate(calls[:6]):
        await voice.call_arrived(cid, queue="sales", customer_id=CUSTOMERS[n], caller=CALLERS[n])
        await voice.agent_answered("a05", cid)
        await voice.call_ended(cid)
        await desk.wrap_up("a05", cid, "resolved")
    surveys = site.surveys
    surveys.settings = surveys.settings.model_copy(update={"channels": ("chat", "voice")})
    await surveys.answer(calls[0], 5, None)
    await surveys.answer(calls[1], 2, None)
    last = calls[6]
    arriving = time.monotonic()
    await voice.call_arrived(last, queue="sales", customer_id=CUSTOMERS[6], caller=CALLERS[6])
    arrived = time.monotonic()
    await voice.agent_answered("a05", last)
    for n, cid in enumerate(calls[7:], start=7):  # a05 is busy: they wait, then hang up
        await voice.call_arrived(cid, queue="sales", caller=CALLERS[n])
    assert router.waiting("sales") == calls[7:]
    for cid in calls[7:]:
        assert await voice.call_ended(cid) == "abandoned"
    await site.transfers.to_queue("a05", last, "spanish")
    await desk.wrap_up("a05", last, "follow-up")
    await desk.set_presence("a05", Presence.AWAY, "break")
    booking = time.monotonic()
    booked = await site.callbacks.book(
        "support", "+4930555019999", source="api", arrived_wall=live.wall() - 300
    )
    await until(lambda: booked.callback_contact_id in router.contacts)
    live.wall.jump(1000)
    return Marks(arriving, arrived, booking, time.monotonic())


@dataclass
class Known:
    """What the events say the metrics must show for sales."""

    asa: float
    aht: float
    occupancy: float


def known(events: list[Event]) -> Known:
    waits = [
        e.wait_seconds for e in events if isinstance(e, ContactAnswered) and e.queue == "sales"
    ]
    handled = [
        e.handle_seconds
        for e in events
        if isinstance(e, ContactCompleted | ContactHandedOff) and e.queue == "sales"
    ]
    wraps = [e.wrap_up_seconds for e in events if isinstance(e, WrapUpEnded) and e.queue == "sales"]
    assert len(waits) == len(handled) == len(wraps) == 7
    spent = dict.fromkeys(AgentActivity, 0.0)
    since: dict[str, tuple[AgentActivity, float]] = {}
    for e in events:
        if isinstance(e, AgentStateChanged):
            if e.agent_id in since:
                state, at = since[e.agent_id]
                spent[state] += e.at - at
            since[e.agent_id] = (e.state, e.at)
    assert {s for s, _ in since.values()} == {AgentActivity.AWAY}  # nothing open counts
    return Known(
        asa=sum(waits) / 7,
        aht=(sum(handled) + sum(wraps)) / 7,
        occupancy=sum(spent[s] for s in BUSY) / sum(spent[s] for s in LOGGED_IN),
    )


# == the test ================================================================================


def zeros(queues: tuple[str, ...] = QUEUES) -> dict[Any, float]:
    return dict.fromkeys(queues, 0.0)


def approx(expected: dict[Any, float]) -> Any:
    return pytest.approx(expected, rel=1e-9, abs=1e-9)


@needs_prometheus
async def test_every_panel_and_alert_on_a_live_engine(tmp_path: Path) -> None:
    wall = Wall(WEDNESDAY_10_BERLIN)
    nobody = free_port()  # the MQTT broker's: nothing listens there
    async with live_site(tmp_path / "cc.sqlite3", wall, bus_port=nobody) as live:
        rules = every_second(RULES, tmp_path)
        with prometheus(tmp_path, live.port, [rules]) as prom:
            # the zero state is scraped before anything happens
            await prom.until(
                "the first scrape",
                lambda: (
                    prom.by(f'up{{job="{JOB}"}}', "job") == {JOB: 1.0}
                    and len(prom.query("contactcenter_contacts_queued_total")) == len(QUEUES)
                ),
            )
            marks = await play(live)
            k = known(live.events)
            sales = 'queue="sales"'
            await prom.until(
                "the traffic to be scraped and recorded",
                lambda: (
                    prom.by(f"contactcenter_contacts_abandoned_total{{{sales}}}", "queue")
                    == {"sales": 3}
                    and prom.by('contactcenter_agents{state="away"}', "state") == {"away": 2}
                    and prom.by(f"contactcenter_callbacks_oldest_due_seconds{{{sales}}}", "queue")
                    == {"sales": 0}
                    and prom.by("contactcenter_callbacks_oldest_due_seconds", "queue")["support"]
                    > 1000
                    and prom.by(
                        f"queue:contactcenter_contacts_abandoned:increase1h{{{sales}}}", "queue"
                    )["sales"]
                    >= 3
                ),
            )
            await asyncio.sleep(2.5)  # more scrapes and rule evaluations of the final state
            # the time of the last scrape that worked: one that timed out (a loaded machine)
            # marks every series of the engine stale at its time, leaving nothing to query
            (ups,) = prom.query(f'up{{job="{JOB}"}}[15s]')
            at = max(float(t) for t, up in ups["values"] if up == "1")
            seen = check_wallboard(prom, at, live, marks, k)
            check_intraday(prom, at, k)
            check_filters(prom, at)
            check_alerts(prom, at, seen)
            check_same_as_the_engine(live, seen)

            port = live.port
            await live.server.close()  # the engine goes away: scrapes fail
            down = alerts()["ContactCenterEngineDown"]
            await prom.until("a failed scrape", lambda: bool(prom.query(f'up{{job="{JOB}"}} == 0')))
            assert prom.by(down, "job", "instance") == {(JOB, f"127.0.0.1:{port}"): 0.0}


@dataclass
class Seen:
    oldest: dict[Any, float]
    service_level: dict[Any, float]
    asa: dict[Any, float]
    abandon_rate: dict[Any, float]


def check_wallboard(prom: Prom, at: float, live: LiveSite, marks: Marks, k: Known) -> Seen:
    q = panels("wallboard")
    checked: set[tuple[str, str]] = set()

    def by(title: str, ref: str, *labels: str) -> dict[Any, float]:
        checked.add((title, ref))
        return prom.by(concrete(q[title, ref]), *(labels or ("queue",)), at=at)

    now = time.monotonic()
    assert by("Waiting", "A") == zeros() | {"spanish": 1, "support": 1}
    oldest = by("Oldest wait", "A")
    assert {q_ for q_, age in oldest.items() if age > 0} == {"spanish", "support"}
    assert marks.done - marks.arrived <= oldest["spanish"] <= now - marks.arriving
    assert 300 + marks.done - marks.booking <= oldest["support"] <= 300 + now - marks.booking
    ratio = by("Oldest wait / answer threshold", "A")
    assert ratio == approx({q_: oldest[q_] / THRESHOLDS[q_] for q_ in QUEUES})
    assert by("Agents by state", "A", "state") == dict.fromkeys(PRESENT, 0.0) | {"away": 2}
    per_queue = by("Agents per queue by state", "A", "queue", "state")
    assert per_queue == {(q_, s): 0.0 for q_ in QUEUES for s in PRESENT} | {
        ("sales", "away"): 2,
        ("sales_chat", "away"): 2,
    }
    states = ("scheduled", "queued", "in_progress")
    pending = by("Call backs pending", "A", "queue", "state")
    assert pending == {(q_, s): 0.0 for q_ in VOICE for s in states} | {("support", "queued"): 1}
    due = by("Call back due longest", "A")
    assert set(due) == set(VOICE) and {q_ for q_, v in due.items() if v} == {"support"}
    assert 1000 + marks.done - marks.booking <= due["support"] <= 1000 + now - marks.booking

    level = by("Service level today", "A")
    assert level == approx({"sales": 0.7, "support": 0.0})  # others: nothing offered, absent
    assert by("Service level today - goal", "A") == approx({"sales": -0.1, "support": -0.8})
    asa = by("ASA today", "A")
    assert asa == approx({"sales": k.asa})
    abandon = by("Abandon rate today", "A")
    assert abandon == approx({"sales": 0.3, "support": 0.0})
    counts = {"A": {"sales": 10, "support": 1}, "B": {"sales": 7}, "C": {"sales": 3}}
    for ref, expected in counts.items():
        assert by("Offered, answered, abandoned today", ref) == zeros() | expected, ref
    per_minute = {"A": {"sales": 1.0, "support": 0.1}, "B": {"sales": 0.7}, "C": {"sales": 0.3}}
    for ref, expected in per_minute.items():
        assert by("Contacts per minute", ref) == approx(zeros() | expected), ref
    assert by("CSAT today", "A") == approx({"sales": 3.5})  # others: no answers, absent
    assert checked == set(q), set(q) - checked
    return Seen(oldest, level, asa, abandon)


def check_intraday(prom: Prom, at: float, k: Known) -> None:
    q = panels("intraday")
    checked: set[tuple[str, str]] = set()

    def by(title: str, ref: str, label: str = "queue") -> dict[Any, float]:
        checked.add((title, ref))
        return prom.by(concrete(q[title, ref]), label, at=at)

    goal = {q_: 0.8 for q_ in VOICE} | {"vip": 0.9} | {q_: 0.9 for q_ in CHAT}
    goal |= {"support_email": 0.95, "case_tasks": 0.8}
    for suffix in ("", " per interval"):
        level = by(f"Service level{suffix}", "A")
        assert level == approx({"sales": 0.7, "support": 0.0}), suffix
    assert by("Service level per interval", "B") == approx(goal)
    for title in ("Contacts", "Offered, answered, abandoned per interval"):
        assert by(title, "A") == zeros() | {"sales": 10, "support": 1}, title
        assert by(title, "B") == zeros() | {"sales": 7}, title
        assert by(title, "C") == zeros() | {"sales": 3}, title
    assert by("Abandon rate", "A") == approx({"sales": 0.3, "support": 0.0})
    assert by("ASA", "A") == approx({"sales": k.asa})
    assert by("AHT", "A") == approx({"sales": k.aht})
    assert by("ASA and AHT per interval", "A") == approx({"sales": k.asa})
    assert by("ASA and AHT per interval", "B") == approx({"sales": k.aht})
    for title in ("Occupancy (all agents)", "Occupancy per interval (all agents)"):
        assert by(title, "A", "__name__") == approx({"": k.occupancy}), title
    for title in ("Transfers", "Transfers per interval"):
        assert by(title, "A") == zeros() | {"sales": 1}, title  # handed on by an agent
        assert by(title, "B") == zeros(), title  # nothing moved by the center
    assert by("CSAT", "A") == approx({"sales": 3.5})
    assert by("CSAT per interval", "A") == approx({"sales": 3.5})
    assert by("Survey answers", "A") == zeros() | {"sales": 2}
    assert by("Satisfied (4-5)", "A") == approx({"sales": 0.5})
    assert checked == set(q), set(q) - checked


def check_filters(prom: Prom, at: float) -> None:
    """The variables filter: a channel, or a multi-value queue selection (a regex)."""
    waiting = panels("wallboard")["Waiting", "A"]
    assert prom.by(concrete(waiting, **{"$channel": "chat"}), "queue", at=at) == zeros(CHAT)
    picked = concrete(waiting, **{"$queue": "(sales|support)"})
    assert prom.by(picked, "queue", at=at) == {"sales": 0, "support": 1}


def check_alerts(prom: Prom, at: float, seen: Seen) -> None:
    """Each alert's expression at the same instant (their `for` is minutes long)."""
    exprs = alerts()
    fired = {name: prom.by(expr, "queue", at=at) for name, expr in exprs.items()}
    assert fired["ContactCenterServiceLevelBelowGoal"] == approx({"sales": 0.7})
    late = {q_ for q_, age in seen.oldest.items() if age > THRESHOLDS[q_]}
    assert "support" in late and set(fired["ContactCenterOldestWaitingAboveThreshold"]) == late
    assert fired["ContactCenterAbandonRateSpike"] == approx({"sales": 0.3})
    # open (Wednesday 10:00) and nobody who can take it logged in: all but sales and sales_chat
    # (a05 and a06 are on a break, still logged in); e-mail has no hours
    assert set(fired["ContactCenterOpenQueueUnstaffed"]) == {
        "vip", "support", "billing", "complaints", "spanish", "support_chat", "billing_chat",
    }  # fmt: skip
    assert fired["ContactCenterEngineDown"] == {}
    # the site's MQTT bus has no broker to talk to
    assert fired["ContactCenterBusDisconnected"] == {"": 0.0}
    assert fired["ContactCenterCallbacksOverdue"].keys() == {"support"}
    assert fired["ContactCenterCasesOverdue"] == {}  # no complaint case was opened
    assert set(exprs) == set(fired) and len(exprs) == 8


def check_same_as_the_engine(live: LiveSite, seen: Seen) -> None:
    """The built-in wallboard (the engine's own tally) shows the same numbers."""
    rows = {r["queue"]: r for r in live.site.wallboard.queues()}
    assert rows["sales"]["service_level"] == pytest.approx(seen.service_level["sales"])
    assert rows["sales"]["asa_seconds"] == pytest.approx(seen.asa["sales"])
    assert rows["sales"]["abandoned"] / rows["sales"]["offered"] == pytest.approx(
        seen.abandon_rate["sales"]
    )
