"""The SimPy driver on the example center: KPIs from events, shifts, rosters, retrials, rings."""

from __future__ import annotations

import gc
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CallbackOffered,
    ContactAnswered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    WrapUpEnded,
)
from contactcenter.kpi import Tally
from sim.driver import RUN_GC_THRESHOLD, simulate, thresholds
from sim.report import run_text
from sim.scenario import Model, WrapUp, load_scenario
from sim.statistics import FIELDS, summarize
from tests.sim.files import STAFFING, base_spec, write_scenario

DEFAULT = gc.get_threshold()


def run(model: Model, seed: int = 1) -> tuple[list[Event], np.ndarray]:
    events: list[Event] = []
    tallies = simulate(model, seed, trace=events.extend)
    return events, tallies.counts


def test_kpis_match_the_live_definitions(tmp_path: Path) -> None:
    """Per-queue sums equal ``contactcenter.kpi.Tally`` fed the same events, with overflow
    (billing -> support after 120 s) and abandonment in play."""
    spec = base_spec()
    spec["agent_groups"] = {
        "sales": {"template": "a05", "count": 10},
        "billing": {"template": "a22", "count": 10},
        "chat": {"agents": ["a29", "a30"]},
        "support": {"template": "a14", "count": 5},
    }
    staffing = "interval_start,sales,billing,chat,support\n09:00,5,3,2,4\n"
    spec["patience"] = {"distribution": "exponential", "mean_seconds": 400}
    model = load_scenario(write_scenario(tmp_path, spec, staffing=staffing))
    events, counts = run(model)
    assert any(isinstance(e, ContactTransferred) for e in events)
    live = Tally(dict(zip(model.center.queues, thresholds(model), strict=True)), 5.0)
    live.observe_all(events)
    ours = counts.sum(axis=0)  # [Q, F]
    f = {name: i for i, name in enumerate(FIELDS)}
    for j, q in enumerate(model.center.queues):
        t = live.queues.get(q)
        if t is None:
            assert ours[j].sum() == 0
            continue
        assert ours[j, f["entered"]] - ours[j, f["transferred_out"]] == t.offered
        assert ours[j, f["answered"]] == t.answered
        assert ours[j, f["answered_within"]] == t.answered_within
        assert ours[j, f["abandoned"]] == t.abandoned
        assert ours[j, f["abandoned_short"]] == t.abandoned_short
        assert ours[j, f["removed"]] == t.removed
        assert np.isclose(ours[j, f["wait_answered"]], t.wait_answered_sum)


def logged_in(events: list[Event]) -> dict[str, list[tuple[float, AgentActivity]]]:
    out: dict[str, list[tuple[float, AgentActivity]]] = defaultdict(list)
    for e in events:
        if isinstance(e, AgentStateChanged):
            out[e.agent_id].append((e.at, e.state))
    return out


def test_staffing_table_logs_agents_in_and_out(tmp_path: Path) -> None:
    staffing = "interval_start,sales,billing,chat\n09:00,6,7,2\n09:30,2,7,0\n"
    model = load_scenario(write_scenario(tmp_path, staffing=staffing))
    events, _ = run(model)
    history = logged_in(events)
    sales = model.group("sales").agents
    nine, half_past = 9 * 3600.0, 9.5 * 3600.0
    for a in sales[:6]:
        assert history[a][0] == (nine, AgentActivity.AVAILABLE)
    for a in sales[6:]:
        assert a not in history
    for a in sales[2:6]:  # leave at 09:30, after finishing what they hold
        states = history[a]
        off = [t for t, s in states if s is AgentActivity.OFFLINE]
        assert off and off[0] >= half_past
        assert AgentActivity.AVAILABLE not in [s for t, s in states if t > half_past]
        away = [t for t, s in states if s is AgentActivity.AWAY]
        if away:  # held a contact at 09:30: away (no new offers), offline once it ended
            assert away[0] == off[0] > half_past
        else:
            assert off[0] == half_past
    for a in sales[:2]:
        assert all(s is not AgentActivity.OFFLINE for _, s in history[a])
    answered_by = {
        e.agent_id for e in events if isinstance(e, ContactAnswered) and e.at > half_past
    }
    assert not answered_by & set(sales[2:6])


def test_roster_shifts(tmp_path: Path) -> None:
    spec = base_spec()
    del spec["staffing"]
    spec["roster"] = "roster.csv"
    roster = (
        "agent,group,count,start,end\n"
        ",sales,3,09:00,09:40\n"
        "a29,,,09:10,10:00\n"
        ",billing,5,09:00,10:00\n"
    )
    path = write_scenario(tmp_path, spec, staffing=None, extra={"roster.csv": roster})
    model = load_scenario(path)
    assert model.roster is not None and len(model.roster) == 9
    events, _ = run(model)
    history = logged_in(events)
    sales = model.group("sales").agents
    for a in sales[:3]:
        assert history[a][0] == (9 * 3600.0, AgentActivity.AVAILABLE)
        assert history[a][-1][1] is AgentActivity.OFFLINE
        assert history[a][-1][0] >= 9 * 3600.0 + 40 * 60
    assert history["a29"][0] == (9 * 3600.0 + 600, AgentActivity.AVAILABLE)
    assert "a30" not in history


def test_retrials_come_back(tmp_path: Path) -> None:
    spec = base_spec()
    spec["patience"] = {"distribution": "exponential", "mean_seconds": 30}
    spec["retrials"] = {"probability": 1.0, "mean_delay_seconds": 60}
    staffing = "interval_start,sales,billing,chat\n09:00,2,2,1\n"
    model = load_scenario(write_scenario(tmp_path, spec, staffing=staffing))
    events, _ = run(model)
    queued = [e for e in events if isinstance(e, ContactQueued)]
    abandoned = sum(1 for e in events if type(e).__name__ == "ContactAbandoned")
    forecast = model.forecast.contacts.sum()
    assert abandoned > 100
    assert len(queued) > forecast + 0.5 * abandoned  # abandoners called again


def test_ring_delay_and_sampled_wrap_up(tmp_path: Path) -> None:
    spec = base_spec()
    spec["ring_delay_seconds"] = 4
    spec["wrap_up"] = {"mode": "sampled", "distribution": "exponential", "mean_seconds": 5}
    model = load_scenario(write_scenario(tmp_path, spec))
    events, _ = run(model)
    waits = [e.wait_seconds for e in events if isinstance(e, ContactAnswered)]
    assert waits and min(waits) >= 4 - 1e-9
    wraps = [e for e in events if isinstance(e, WrapUpEnded)]
    assert sum(1 for e in wraps if e.disposition == "done") > 0.8 * len(wraps)
    assert 3 < np.mean([e.wrap_up_seconds for e in wraps]) < 7


def test_agents_who_never_answer_go_away_and_come_back(tmp_path: Path) -> None:
    """A ring delay longer than the ring timeout: offers time out, the core sets agents away
    for no-answer, the driver brings them back; nothing crashes and nobody is answered."""
    spec = base_spec()
    spec["ring_delay_seconds"] = 30  # sales and billing ring for 15 s
    spec["no_answer_return_seconds"] = 20
    spec["drain_minutes"] = 5
    staffing = "interval_start,sales,billing,chat\n09:00,3,3,0\n"
    model = load_scenario(write_scenario(tmp_path, spec, staffing=staffing))
    model = replace(model, wrap_up=WrapUp())
    events, counts = run(model)
    voice = [e for e in events if isinstance(e, ContactAnswered)]
    assert not voice
    away = [e for e in events if isinstance(e, AgentStateChanged) and e.reason == "no-answer"]
    assert away
    back = [
        e
        for e in events
        if isinstance(e, AgentStateChanged)
        and e.previous is AgentActivity.AWAY
        and e.state is AgentActivity.AVAILABLE
    ]
    assert back
    assert counts[..., FIELDS.index("abandoned")].sum() > 0


CALLBACK_FORECAST = "interval_start,queue,contacts,aht_seconds\n09:00,support,150,300\n"
"""Support offers a callback at its 90 s escalation step; 4 agents for ~25 erlangs keep most
callers waiting that long."""


def callback_model(tmp_path: Path, accept: float | None) -> Model:
    spec = base_spec()
    spec["agent_groups"] = {"support": {"template": "a14", "count": 4}}
    spec["patience"] = {"distribution": "none"}
    spec["drain_minutes"] = 30
    if accept is not None:
        spec["callbacks"] = {"accept_probability": accept}
    staffing = "interval_start,support\n09:00,4\n"
    return load_scenario(
        write_scenario(tmp_path, spec, forecast=CALLBACK_FORECAST, staffing=staffing)
    )


def callback_outcomes(events: list[Event]) -> tuple[set[str], set[str], set[str]]:
    """(contacts offered a callback, those who took it, those removed for any callback)."""
    offered = {e.contact_id for e in events if isinstance(e, CallbackOffered)}
    removed = [e for e in events if isinstance(e, ContactRemoved)]
    took = {e.contact_id for e in removed if e.reason == "callback_accepted"}
    return offered, took, {e.contact_id for e in removed if e.outcome == "callback"}


def test_every_customer_takes_the_callback_when_acceptance_is_one(tmp_path: Path) -> None:
    model = callback_model(tmp_path, 1.0)
    events, counts = run(model)
    offered, took, callbacks = callback_outcomes(events)
    assert len(offered) > 50
    answered_at = {e.contact_id: e.at for e in events if isinstance(e, ContactAnswered)}
    offer_at = {e.contact_id: e.at for e in events if isinstance(e, CallbackOffered)}
    # Each offered customer took it, unless an agent answered at that very instant.
    for cid in offered - took:
        assert answered_at[cid] == offer_at[cid]
    assert took <= offered
    assert len(took) > 0.9 * len(offered)
    assert counts[..., FIELDS.index("callbacks")].sum() == len(callbacks) >= len(took)


def test_callbacks_are_taken_at_the_acceptance_rate(tmp_path: Path) -> None:
    events, _ = run(callback_model(tmp_path, 0.5), seed=7)
    offered, took, _ = callback_outcomes(events)
    n = len(offered)
    assert n > 50
    # Binomial(n, 0.5) less the few answered at the offer's instant: within 4 SD below.
    assert 0.5 * n - 4 * (0.25 * n) ** 0.5 < len(took) < 0.5 * n + 4 * (0.25 * n) ** 0.5


def test_no_acceptance_changes_nothing(tmp_path: Path) -> None:
    """Acceptance 0 draws no random numbers: the run is the one without the option."""
    plain, _ = run(callback_model(tmp_path / "a", None))
    zero, _ = run(callback_model(tmp_path / "b", 0.0))
    assert plain == zero
    assert not callback_outcomes(zero)[1]


def test_callbacks_are_reported_per_queue(tmp_path: Path) -> None:
    model = callback_model(tmp_path, 1.0)
    summary = summarize(
        [simulate(model, s) for s in (1, 2)],
        queues=tuple(model.center.queues),
        groups=tuple(g.name for g in model.groups),
        confidence=0.95,
    )
    j = summary.queues.index("support")
    assert summary.by_queue["callbacks"].mean[j] > 50
    assert "callbacks" in run_text(model, summary)


def test_every_staffing_meets_the_same_customers(tmp_path: Path) -> None:
    """Common random numbers: arrivals have their own random stream, so a staffing change,
    which changes how many sampled wrap-ups are drawn and when, leaves the customers (arrival
    times, queues, tiers) exactly as they were."""
    spec = base_spec()
    spec["wrap_up"] = {"mode": "sampled", "distribution": "exponential", "mean_seconds": 20}
    lean = "interval_start,sales,billing,chat\n09:00,3,4,1\n09:30,3,4,1\n"

    def run_with(staffing: str, name: str) -> tuple[list[tuple[float, str, str]], int]:
        model = load_scenario(write_scenario(tmp_path / name, spec, staffing=staffing))
        events, _ = run(model, seed=5)
        first: dict[str, tuple[float, str, str]] = {}
        for e in events:
            if isinstance(e, ContactQueued):
                first.setdefault(e.contact_id, (e.arrived_at, e.queue, e.tier))
        wraps = sum(1 for e in events if isinstance(e, WrapUpEnded))
        return list(first.values()), wraps

    customers_lean, wraps_lean = run_with(lean, "lean")
    customers_full, wraps_full = run_with(STAFFING, "full")
    assert wraps_lean != wraps_full  # the runs drew differently from the other stream
    assert len(customers_lean) > 300
    assert customers_lean == customers_full


def test_a_run_collects_cycles_rarely_and_then_as_before(tmp_path: Path) -> None:
    """The collector's thresholds are the run's while it runs (seen from inside it), and the
    caller's again after it, also after a run that failed."""
    model = load_scenario(write_scenario(tmp_path, base_spec()))
    seen: list[tuple[int, int, int]] = []
    gc.set_threshold(700, 10, 10)
    try:
        simulate(model, 1, trace=lambda _: seen.append(gc.get_threshold()))
        assert seen and set(seen) == {RUN_GC_THRESHOLD}
        assert gc.get_threshold() == (700, 10, 10)

        def fail(_: list[Event]) -> None:
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError, match="stop"):
            simulate(model, 1, trace=fail)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*DEFAULT)


def test_offered_work_is_the_forecast_work_of_the_first_calls(tmp_path: Path) -> None:
    """Offered work, the staffing search's control variate, sums the handle times drawn for
    the first calls of each interval: with the forecast's counts exactly (fixed counts) and
    deterministic handle times it is contacts x AHT per interval and queue, whatever the
    staffing did with the calls (retrials and the warm-up's calls add nothing)."""
    spec = base_spec()
    spec.update(
        arrivals="fixed_count",
        handle_time={"distribution": "deterministic"},
        retrials={"probability": 0.5, "delay": {"distribution": "exponential", "mean_seconds": 60}},
        warmup_minutes=20,
    )
    lean = "interval_start,sales,billing,chat\n09:00,2,2,1\n09:30,2,2,1\n"
    model = load_scenario(write_scenario(tmp_path, spec, staffing=lean))
    counts = simulate(model, 4).counts
    f = FIELDS.index
    assert counts[..., f("retrials")].sum() > 0  # lean staffing: some callers came again
    fc = model.forecast
    for k in range(fc.intervals):
        for j, queue in enumerate(fc.queues):
            q = list(model.center.queues).index(queue)
            expected = fc.contacts[k, j] * fc.aht[k, j]
            assert counts[k, q, f("offered_work")] == pytest.approx(expected)
            assert counts[k, q, f("fresh")] == fc.contacts[k, j]


def occupancy_from_events(
    model: Model, events: list[Event], end: float
) -> tuple[np.ndarray, np.ndarray]:
    """Busy and available-idle seconds per interval and group, straight from the agents'
    state changes: ringing, busy and wrap-up are busy, available is idle; time is cut at the
    interval boundaries, before the first interval and at ``end`` (or the last interval's)."""
    fc = model.forecast
    group_of = {a: g for g, grp in enumerate(model.groups) for a in grp.agents}
    shape = (fc.intervals, len(model.groups))
    busy, idle = np.zeros(shape), np.zeros(shape)
    counted = {
        AgentActivity.RINGING: busy,
        AgentActivity.BUSY: busy,
        AgentActivity.WRAP_UP: busy,
        AgentActivity.AVAILABLE: idle,
    }
    last = min(end, fc.end)

    def add(into: np.ndarray | None, g: int, t0: float, t1: float) -> None:
        for k in range(fc.intervals):
            lo = fc.start + k * fc.interval_seconds
            hi = min(lo + fc.interval_seconds, last)
            if into is not None and min(t1, hi) > max(t0, lo):
                into[k, g] += min(t1, hi) - max(t0, lo)

    since: dict[str, tuple[float, AgentActivity]] = {}
    for e in events:
        if isinstance(e, AgentStateChanged) and e.agent_id in group_of:
            if e.agent_id in since:
                t0, state = since[e.agent_id]
                add(counted.get(state), group_of[e.agent_id], t0, e.at)
            since[e.agent_id] = (e.at, e.state)
    for aid, (t0, state) in since.items():
        add(counted.get(state), group_of[aid], t0, last)
    return busy, idle


OCCUPANCY_CASES = {
    "leaving": (
        {"warmup_minutes": 10, "ring_delay_seconds": 4},
        "interval_start,sales,billing,chat\n09:00,6,7,2\n09:30,2,7,1\n",
    ),
    "never-answering": (  # rings outlast the 15 s ring timeout: away for no-answer, back
        {"ring_delay_seconds": 30, "no_answer_return_seconds": 20, "drain_minutes": 5},
        "interval_start,sales,billing,chat\n09:00,3,3,2\n",
    ),
}


@pytest.mark.parametrize("case", OCCUPANCY_CASES)
def test_occupancy_is_the_time_the_agents_state_changes_say(tmp_path: Path, case: str) -> None:
    """Per interval and group, busy and idle seconds equal what the AgentStateChanged events
    add up to: with a warm-up, ringing, multi-slot chat agents, agents leaving at 09:30 after
    what they hold (away while holding it), agents away for not answering."""
    changes, staffing = OCCUPANCY_CASES[case]
    model = load_scenario(write_scenario(tmp_path, {**base_spec(), **changes}, staffing=staffing))
    for seed in (1, 2, 3):
        events: list[Event] = []
        tallies = simulate(model, seed, trace=events.extend)
        states = [e for e in events if isinstance(e, AgentStateChanged)]
        assert any(e.state is AgentActivity.AWAY for e in states)
        busy, idle = occupancy_from_events(model, events, tallies.end)
        assert busy.sum() > 0 and idle.sum() > 0
        assert np.allclose(tallies.busy, busy, rtol=1e-12, atol=1e-6)
        assert np.allclose(tallies.idle, idle, rtol=1e-12, atol=1e-6)
