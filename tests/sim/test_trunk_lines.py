"""Trunk lines: a voice call that finds every line taken (calls waiting, ringing or talking;
wrap-up holds none) gets a busy signal, is never offered to the core and is counted as
blocked; blocked customers may call again as abandoners do.

Exact checks: lines = agents with nobody abandoning is Erlang's loss system (Erlang B), and
more lines than agents is M/M/c/K (``sim.erlang.mmck_blocking``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contactcenter.events import ContactAnswered, ContactQueued, Event
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.erlang import erlang_b, mmck_blocking
from sim.replications import Runner, replicate, summary_of
from sim.report import run_json, run_text
from sim.scenario import Model, ScenarioError, load_scenario
from sim.statistics import FIELDS, pooled_ratio
from tests.sim.files import base_spec, write_scenario

AHT = 180.0


def lines_model(agents: int, lines: int, erlangs: float, **spec: Any) -> Model:
    return stationary_model(
        simple_center(agents),
        {"q": erlangs * 3600.0 / AHT},
        AHT,
        hours=4.0,
        spec={"trunk_lines": lines, "warmup_minutes": 30, **spec},
    )


def field(counts: np.ndarray, name: str) -> np.ndarray:
    return counts[..., FIELDS.index(name)]


def blocking(model: Model, runner: Runner, replications: int = 24) -> tuple[float, float]:
    """The pooled blocking rate over the replications and its standard error."""
    tallies = replicate(model, replications=replications, seed=21, runner=runner)
    blocked = np.array([field(t.counts, "blocked").sum() for t in tallies])
    calls = np.array(
        [field(t.counts, "fresh").sum() + field(t.counts, "retrials").sum() for t in tallies]
    )
    rate, se = pooled_ratio(blocked, calls)
    return float(rate), float(se)


@pytest.mark.parametrize(("agents", "erlangs"), [(5, 3.0), (10, 8.0), (3, 4.0)])
def test_as_many_lines_as_agents_blocks_as_erlang_b(
    runner: Runner, agents: int, erlangs: float
) -> None:
    rate, se = blocking(lines_model(agents, agents, erlangs), runner)
    exact = erlang_b(agents, erlangs)
    assert abs(rate - exact) < 3 * se, (rate, exact, se)
    assert se < 0.15 * exact  # (precise enough to tell a wrong model)


@pytest.mark.parametrize(("agents", "lines", "erlangs"), [(5, 8, 4.5), (3, 6, 3.5)])
def test_more_lines_than_agents_blocks_as_m_m_c_k(
    runner: Runner, agents: int, lines: int, erlangs: float
) -> None:
    rate, se = blocking(lines_model(agents, lines, erlangs), runner)
    exact = mmck_blocking(agents, lines, erlangs)
    assert abs(rate - exact) < 3 * se, (rate, exact, se)
    assert se < 0.15 * exact
    assert abs(rate - erlang_b(agents, erlangs)) > 3 * se  # (the waiting room shows)


def test_blocked_calls_never_reach_the_core_and_may_call_again() -> None:
    interval = 1800.0
    m = lines_model(
        3,
        3,
        4.0,
        retrials={
            "probability": 1.0,
            "delay": {"distribution": "deterministic", "mean_seconds": interval},
        },
    )
    events: list[Event] = []
    counts = simulate(m, 3, trace=events.extend).counts
    blocked = field(counts, "blocked").sum(axis=1)  # per interval
    calls = field(counts, "fresh").sum() + field(counts, "retrials").sum()
    queued = sum(
        1 for e in events if isinstance(e, ContactQueued) and e.arrived_at >= m.forecast.start
    )
    assert blocked.sum() > 100
    assert queued == calls - blocked.sum()
    # Every call blocked came back exactly one interval later (one blocked in the last would
    # come after the day's end and is not made; the first interval's retrials were blocked in
    # the warm-up, which counts nothing).
    retrials = field(counts, "retrials").sum(axis=1)
    assert np.array_equal(retrials[1:], blocked[:-1])


def test_wrap_up_holds_no_line() -> None:
    """Two agents, two lines, a long wrap-up: a call can find a line free while both agents
    wrap up, and then waits (with lines = agents, were wrap-up a line, no call would wait)."""
    m = stationary_model(
        simple_center(2, wrap_up_seconds=120.0),
        {"q": 30.0},
        AHT,
        hours=3.0,
        spec={"trunk_lines": 2},
    )
    events: list[Event] = []
    counts = simulate(m, 5, trace=events.extend).counts
    waited = [e for e in events if isinstance(e, ContactAnswered) and e.wait_seconds > 1.0]
    assert waited
    assert field(counts, "blocked").sum() > 0


def test_trunk_groups_have_their_own_lines(tmp_path: Path) -> None:
    """Sales has one line of its own: most of its calls are blocked; billing shares the
    scenario's 50 lines and none of its calls is."""
    spec = base_spec()
    spec["trunk_lines"] = 50
    spec["trunk_groups"] = {"sales_lines": {"lines": 1, "queues": ["sales"]}}
    m = load_scenario(write_scenario(tmp_path, spec))
    summary = summary_of(m, replicate(m, replications=2, seed=2, runner=None))
    doc = run_json(m, summary)
    assert doc["queues"]["sales"]["total"]["blocking_rate"]["mean"] > 0.3
    assert doc["queues"]["billing"]["total"]["blocked"]["mean"] == 0
    assert doc["queues"]["support_chat"]["total"]["blocked"]["mean"] == 0  # (chat needs no line)
    lines = run_text(m, summary).splitlines()
    block = lines[next(i for i, x in enumerate(lines) if x.startswith("calls per queue")) :]
    sales = next(x for x in block if x.startswith("sales "))
    assert f"{doc['queues']['sales']['total']['blocked']['mean']:,.1f}" in sales


def test_trunk_settings_are_checked(tmp_path: Path) -> None:
    def problems(trunks: dict[str, Any]) -> str:
        spec = base_spec()
        spec["trunk_groups"] = trunks
        with pytest.raises(ScenarioError) as err:
            load_scenario(write_scenario(tmp_path, spec))
        return str(err.value)

    text = problems({"a": {"lines": 0, "queues": ["sales"]}})
    assert "scenario.yaml: trunk_groups.a.lines" in text
    text = problems({"a": {"lines": 3, "queues": ["sales", "nowhere", "support_chat"]}})
    assert "trunk_groups.a.queues[1]: unknown queue 'nowhere'" in text
    assert "trunk_groups.a.queues[2]: 'support_chat' is not a voice queue" in text
    text = problems(
        {"a": {"lines": 3, "queues": ["sales"]}, "b": {"lines": 2, "queues": ["sales"]}}
    )
    assert "trunk_groups.b.queues[0]: 'sales' is also in trunk group 'a'" in text
