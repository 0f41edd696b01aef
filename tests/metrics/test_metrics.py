"""Metrics fed by a scripted shift of the real Router, checked through the registry."""

from __future__ import annotations

import datetime as dt
import math
import re
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from contactcenter.config import Center
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    ContactAnswered,
    ContactQueued,
)
from contactcenter.ivr import load_flows, with_flows
from contactcenter.kpi import Tally
from contactcenter.metrics import (
    UNKNOWN_QUEUE,
    WAIT_SPREAD,
    Metrics,
    exposition,
    le_label,
    render,
)
from contactcenter.metrics.rules import rules_yaml
from contactcenter.routing import Router

from .scenario import (
    AGENT_IDS,
    CONTACT_IDS,
    CUSTOMER_IDS,
    END,
    EXPECTED_AGENTS,
    EXPECTED_COUNTERS,
    EXPECTED_HISTOGRAMS,
    EXPECTED_STATE_SECONDS,
    EXPECTED_WAITING,
    PHONE_NUMBERS,
    ROOT,
    SALES,
    Shift,
    center,
    run_shift,
)


@pytest.fixture(scope="module")
def example() -> Center:
    return center()


@pytest.fixture(scope="module")
def shift(example: Center) -> Shift:
    return run_shift(example)


@pytest.fixture()
def fed(example: Center, shift: Shift) -> Metrics:
    """Metrics fed the whole shift, bound to the router at now = END."""
    m = Metrics(example)
    m.observe_all(shift.events)
    m.bind_router(shift.router, lambda: END)
    return m


def value(m: Metrics, name: str, labels: dict[str, str] | None = None) -> float | None:
    return m.registry.get_sample_value(name, labels or {})


@pytest.mark.parametrize(("name", "labels", "expected"), EXPECTED_COUNTERS)
def test_counters(fed: Metrics, name: str, labels: dict[str, str], expected: float) -> None:
    assert value(fed, name, labels) == expected


@pytest.mark.parametrize(("name", "labels", "buckets", "total", "count"), EXPECTED_HISTOGRAMS)
def test_histograms(
    fed: Metrics,
    name: str,
    labels: dict[str, str],
    buckets: dict[str, float],
    total: float,
    count: float,
) -> None:
    for le, cumulative in buckets.items():
        assert value(fed, f"{name}_bucket", {**labels, "le": le}) == cumulative, le
    assert value(fed, f"{name}_sum", labels) == total
    assert value(fed, f"{name}_count", labels) == count


def test_kpis_from_histograms_match_kpi_module(example: Center, shift: Shift, fed: Metrics) -> None:
    """The rules' arithmetic on the exposed series gives the kpi module's numbers."""
    tally = Tally(
        {q: t.answer_target.threshold_seconds or 0 for q, t in example.queues.items()},
        example.settings.routing.short_abandon_seconds,
    )
    tally.observe_all(shift.events)
    t = tally.queue("sales")
    threshold = le_label(30.0)
    within = value(fed, "contactcenter_answer_wait_seconds_bucket", {**SALES, "le": threshold})
    short = value(fed, "contactcenter_abandon_wait_seconds_bucket", {**SALES, "le": "5.0"})
    queued = value(fed, "contactcenter_contacts_queued_total", SALES)
    out = sum(
        s.value
        for f in text_string_to_metric_families(fed.render().decode())
        if f.name == "contactcenter_contacts_transferred_out"
        for s in f.samples
        if s.name.endswith("_total") and s.labels["queue"] == "sales"
    )
    flows = sum(
        s.value
        for f in text_string_to_metric_families(fed.render().decode())
        if f.name == "contactcenter_contacts_transferred"
        for s in f.samples
        if s.name.endswith("_total") and s.labels["queue"] == "sales"
    )
    assert out == flows == 1
    assert within is not None and short is not None and queued is not None
    offered = queued - out
    assert offered == t.offered == 5
    assert within / offered == t.sl_offered() == 0.4
    assert within / (offered - short) == t.sl_excl_short() == 0.5
    answered = value(fed, "contactcenter_answer_wait_seconds_count", SALES)
    asa = t.asa()
    assert answered is not None and asa is not None
    assert value(fed, "contactcenter_answer_wait_seconds_sum", SALES) == asa * answered == 63
    assert value(fed, "contactcenter_contacts_abandoned_total", SALES) == t.abandoned == 2


def test_live_gauges_from_router(example: Center, fed: Metrics) -> None:
    for qid, q in example.queues.items():
        labels = {"queue": qid, "channel": q.channel}
        waiting, age = EXPECTED_WAITING.get(qid, (0, 0.0))
        assert value(fed, "contactcenter_contacts_waiting", labels) == waiting, qid
        assert value(fed, "contactcenter_oldest_waiting_age_seconds", labels) == age, qid
        assert value(fed, "contactcenter_contacts_ringing", labels) == 0, qid
    for state, n in EXPECTED_AGENTS.items():
        assert value(fed, "contactcenter_agents", {"state": state}) == n, state
    for state, seconds in EXPECTED_STATE_SECONDS.items():
        got = value(fed, "contactcenter_agent_state_seconds_total", {"state": state})
        assert got == seconds, state


def test_event_derived_state_matches_router(example: Center, shift: Shift) -> None:
    """Without a bound router the live gauges come from the events, with the same values
    (except the agents per queue: only the router knows who can serve a queue)."""
    m = Metrics(example, clock=lambda: END)
    m.observe_all(shift.events)
    bound = Metrics(example)
    bound.observe_all(shift.events)
    bound.bind_router(shift.router, lambda: END)
    derived, read = m.live_state(), bound.live_state()
    assert (derived.now, derived.queues, derived.agents) == (read.now, read.queues, read.agents)
    assert not derived.queue_agents and read.queue_agents
    gauges = (
        "contactcenter_contacts_waiting",
        "contactcenter_contacts_ringing",
        "contactcenter_oldest_waiting_age_seconds",
    )
    for qid, q in example.queues.items():
        for name in gauges:
            labels = {"queue": qid, "channel": q.channel}
            assert value(m, name, labels) == value(bound, name, labels)
    for state in AgentActivity:
        assert value(m, "contactcenter_agents", {"state": state.value}) == EXPECTED_AGENTS[state]


def test_ringing_contacts_are_not_waiting(example: Center) -> None:
    """While the only contact rings an agent it counts as ringing, not waiting, as on the
    wallboard (Router.waiting); the agent is ringing."""
    m = Metrics(example)
    r = Router(example)
    m.bind_router(r, lambda: 11.0)
    m.observe_all(r.agent_logged_in(0, "a04"))
    m.observe_all(r.contact_arrived(5, "ct-ring-1", "sales"))
    sales = {"queue": "sales", "channel": "voice"}
    assert value(m, "contactcenter_contacts_waiting", sales) == 0
    assert value(m, "contactcenter_contacts_ringing", sales) == 1
    assert value(m, "contactcenter_oldest_waiting_age_seconds", sales) == 0
    assert value(m, "contactcenter_agents", {"state": "ringing"}) == 1
    # in-progress time counts up to the bound clock: available 0..5, ringing 5..11
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "available"}) == 5
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "ringing"}) == 6


def test_bucket_edges_include_every_threshold(example: Center, fed: Metrics) -> None:
    thresholds = {q.answer_target.threshold_seconds or 0.0 for q in example.queues.values()}
    assert thresholds == {20.0, 30.0, 45.0, 10.0, 3600.0, 86400.0}  # (3600: the case tasks)
    short = example.settings.routing.short_abandon_seconds
    edges = set(fed.wait_buckets)
    assert thresholds <= edges and short in edges and set(WAIT_SPREAD) <= edges
    for qid, q in example.queues.items():
        for edge in (*thresholds, short):
            for name in ("contactcenter_answer_wait_seconds", "contactcenter_abandon_wait_seconds"):
                labels = {"queue": qid, "channel": q.channel, "le": le_label(edge)}
                assert value(fed, f"{name}_bucket", labels) is not None, (name, labels)
        threshold = q.answer_target.threshold_seconds or 0.0
        labels = {"queue": qid, "channel": q.channel}
        got = value(
            fed,
            "contactcenter_queue_answer_threshold_seconds",
            {**labels, "bucket_le": le_label(threshold)},
        )
        assert got == threshold
        goal = (q.answer_target.goal_percent or 0) / 100
        got = value(fed, "contactcenter_queue_service_level_goal_ratio", labels)
        assert got == pytest.approx(goal)
    assert value(fed, "contactcenter_short_abandon_threshold_seconds", {"bucket_le": "5.0"}) == 5.0
    # wrap-up edges include each queue's wrap-up time (a timed-out wrap-up lands on it)
    wrap = {q.wrap_up_seconds for q in example.queues.values()}
    for w in wrap:
        labels = {**SALES, "le": le_label(w)}
        assert value(fed, "contactcenter_wrap_up_time_seconds_bucket", labels) is not None, w


def test_no_ids_in_the_exposition(fed: Metrics) -> None:
    fed.observe_survey("sales", "voice", 4)
    for body in (fed.render(), exposition(fed.registry, "application/openmetrics-text")[0]):
        text = body.decode()
        for ident in (*CONTACT_IDS, *CUSTOMER_IDS, *PHONE_NUMBERS, *AGENT_IDS):
            assert ident not in text, ident
        labels = set(re.findall(r'(\w+)="', text))
        assert labels <= {"queue", "channel", "state", "reason", "outcome", "to_queue", "step",
                          "le", "bucket_le", "source"}  # fmt: skip


def test_unknown_queue_is_bucketed(example: Center) -> None:
    m = Metrics(example)
    m.observe(ContactQueued(1.0, "ct-x", "secret-queue-+4930555", "voice", 0, "standard", 1.0, 1))
    m.observe(ContactAnswered(2.0, "ct-x", "secret-queue-+4930555", "voice", "a01", 1.0, 1))
    labels = {"queue": UNKNOWN_QUEUE, "channel": "voice"}
    assert value(m, "contactcenter_contacts_queued_total", labels) == 1
    assert value(m, "contactcenter_answer_wait_seconds_count", labels) == 1
    assert "secret-queue" not in m.render().decode()


def test_survey(example: Center) -> None:
    m = Metrics(example)
    for score in (5, 4, 4, 1):
        m.observe_survey("support_chat", "chat", score)
    labels = {"queue": "support_chat", "channel": "chat"}
    assert value(m, "contactcenter_survey_score_count", labels) == 4
    assert value(m, "contactcenter_survey_score_sum", labels) == 14
    assert value(m, "contactcenter_survey_score_bucket", {**labels, "le": "3.0"}) == 1
    assert value(m, "contactcenter_survey_score_bucket", {**labels, "le": "4.0"}) == 3
    with pytest.raises(ValueError):
        m.observe_survey("no-such-queue", "chat", 3)
    with pytest.raises(ValueError):
        m.observe_survey("support_chat", "fax", 3)
    with pytest.raises(ValueError):
        m.observe_survey("support_chat", "chat", math.nan)


def test_agent_state_seconds_never_decrease(example: Center) -> None:
    """A scrape clock a little ahead of the next event must not make the counter go back."""
    now = [0.0]
    m = Metrics(example, clock=lambda: now[0])
    A, B = AgentActivity.AVAILABLE, AgentActivity.BUSY
    m.observe(AgentStateChanged(0.0, "a01", AgentActivity.OFFLINE, A, None))
    now[0] = 10.0
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "available"}) == 10
    m.observe(AgentStateChanged(8.0, "a01", A, B, None))  # stamped before the scrape's now
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "available"}) == 10
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "busy"}) == 2
    now[0] = 20.0
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "available"}) == 10
    assert value(m, "contactcenter_agent_state_seconds_total", {"state": "busy"}) == 12


def test_registries_are_independent(example: Center) -> None:
    shared = CollectorRegistry()
    Metrics(example, shared)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(example, shared)
    Metrics(example)
    Metrics(example)


def test_exposition_negotiates_format(fed: Metrics) -> None:
    body, ctype = exposition(fed.registry, None)
    assert ctype.startswith("text/plain") and body == render(fed.registry)
    body, ctype = exposition(fed.registry, "application/openmetrics-text; version=1.0.0")
    assert ctype.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_shipped_rules_are_generated() -> None:
    shipped = (ROOT / "config" / "prometheus" / "rules.yml").read_text(encoding="utf-8")
    assert shipped == rules_yaml(), (
        "config/prometheus/rules.yml is stale: python -m contactcenter.metrics.rules > "
        "config/prometheus/rules.yml"
    )


def test_no_created_series(fed: Metrics) -> None:
    """`_created` samples are a timestamp per counter and histogram child (a quarter of the
    output) that no rule or dashboard reads: the exposition has none, in either format."""
    for accept in (None, "application/openmetrics-text; version=1.0.0"):
        text = exposition(fed.registry, accept)[0].decode()
        names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
        assert names and not {n for n in names if n.endswith("_created")}, accept


def test_transfer_series_exist_before_the_first_transfer(example: Center) -> None:
    """increase() cannot see the first increment of a series that appears at 1: every pair of
    queues of a channel has its hand-off and supervisor-move series at 0 from the start."""
    m = Metrics(example)
    for a, qa in example.queues.items():
        for b, qb in example.queues.items():
            if qa.channel != qb.channel:
                continue
            pair = {"queue": a, "to_queue": b, "channel": qa.channel}
            assert value(m, "contactcenter_contacts_handed_off_total", pair) == 0, pair
            if a != b:
                moved = {**pair, "reason": "supervisor"}
                assert value(m, "contactcenter_contacts_transferred_total", moved) == 0, pair


def test_agents_per_queue_by_state(example: Center, fed: Metrics) -> None:
    """At the end of the shift a04 (sales 5) is busy and a05 (sales 4) away; everyone else who
    has the sales skill and takes calls is offline (sales' last step takes any agent with
    it). VIP needs vip_care, which neither has."""
    sales_agents = [
        a
        for a in example.agents.values()
        if a.skills.get("sales", 0) >= 1 and example.capacity(a, "voice") > 0
    ]
    expected = {state.value: 0 for state in AgentActivity}
    expected |= {"busy": 1, "away": 1, "offline": len(sales_agents) - 2}
    for state, n in expected.items():
        got = value(fed, "contactcenter_queue_agents", {**SALES, "state": state})
        assert got == n, state
    vip = {"queue": "vip", "channel": "voice"}
    assert value(fed, "contactcenter_queue_agents", {**vip, "state": "busy"}) == 0
    assert value(fed, "contactcenter_queue_agents", {**vip, "state": "away"}) == 0


def at_berlin(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


@pytest.mark.parametrize(
    ("moment", "voice", "chat"),
    [
        ("2026-03-04 10:00", 1, 1),  # a Wednesday: both open
        ("2026-03-04 21:00", 0, 1),  # the phone line closes at 20:00, chat at 22:00
        ("2026-03-07 15:00", 0, 1),  # Saturday: phones 9-14, chat 9-18
        ("2026-05-01 10:00", 0, 0),  # Labour Day
    ],
)
def test_queue_open_by_business_hours(example: Center, moment: str, voice: int, chat: int) -> None:
    """The voice queues follow the `main` schedule the phone line's flow tests, the chat queues
    the `chat` one; e-mail and case tasks are queued by no flow, so they have no hours (no
    series)."""
    center = with_flows(example, load_flows(ROOT / "config", example))
    m = Metrics(center, wall=lambda: at_berlin(moment))
    for qid, q in example.queues.items():
        got = value(m, "contactcenter_queue_open", {"queue": qid, "channel": q.channel})
        assert got == {"voice": voice, "chat": chat, "email": None, "task": None}[q.channel], qid


def test_no_hours_without_flows(example: Center) -> None:
    assert "contactcenter_queue_open{" not in Metrics(example).render().decode()
