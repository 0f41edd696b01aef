"""Retrials: the delay's distribution, ``max_attempts``, and the counts a run reports (retrial
arrivals, fresh arrivals, customers by number of attempts).

A retrial is a new contact of the same customer: attempt ``n`` of customer ``c`` is contact
``c/n`` (the first is ``c``), which is how these tests find a retrial's abandonment.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contactcenter.events import ContactAbandoned, ContactQueued, Event
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.replications import replicate, summary_of
from sim.report import run_json, run_text
from sim.scenario import Model, ScenarioError, load_scenario
from sim.statistics import FIELDS
from tests.sim.files import base_spec, write_scenario


def model(retrials: dict[str, Any], *, agents: int = 3, hours: float = 2.0) -> Model:
    """An overloaded queue (3 agents, 2 Erlangs of 100/h x 120 s... and short patience), so
    a good share abandons."""
    return stationary_model(
        simple_center(agents),
        {"q": 100.0},
        120.0,
        hours=hours,
        patience_seconds=40.0,
        spec={"retrials": retrials},
    )


def trace(m: Model, seed: int = 1) -> tuple[list[Event], np.ndarray]:
    events: list[Event] = []
    tallies = simulate(m, seed, trace=events.extend)
    return events, tallies.counts


def customer_and_attempt(contact_id: str) -> tuple[str, int]:
    customer, _, attempt = contact_id.partition("/")
    return customer, int(attempt or 1)


def retrial_delays(events: list[Event]) -> list[float]:
    """Each retrial's arrival minus the abandonment of the same customer's attempt before."""
    abandoned = {e.contact_id: e.at for e in events if isinstance(e, ContactAbandoned)}
    delays = []
    for e in events:
        if isinstance(e, ContactQueued) and "/" in e.contact_id:
            customer, n = customer_and_attempt(e.contact_id)
            before = customer if n == 2 else f"{customer}/{n - 1}"
            delays.append(e.arrived_at - abandoned[before])
    return delays


def field(counts: np.ndarray, name: str) -> float:
    return float(counts[..., FIELDS.index(name)].sum())


def test_a_deterministic_delay_puts_each_retrial_exactly_that_long_after_its_abandonment() -> None:
    m = model({"probability": 0.5, "delay": {"distribution": "deterministic", "mean_seconds": 90}})
    events, counts = trace(m)
    delays = retrial_delays(events)
    assert len(delays) > 30
    assert delays == pytest.approx([90.0] * len(delays), abs=1e-9)
    assert field(counts, "retrials") == len(delays)


def test_retrials_are_probability_times_abandons_within_three_standard_errors() -> None:
    p, d = 0.3, 60.0
    m = model({"probability": p, "delay": {"distribution": "deterministic", "mean_seconds": d}})
    end = m.forecast.end
    eligible = retrials = 0
    for seed in range(1, 11):
        events, counts = trace(m, seed)
        # (a retrial that would come after the day's last interval is not made)
        eligible += sum(1 for e in events if isinstance(e, ContactAbandoned) and e.at + d < end)
        retrials += int(field(counts, "retrials"))
    assert eligible > 500
    se = math.sqrt(eligible * p * (1 - p))
    assert abs(retrials - p * eligible) < 3 * se, (retrials, p * eligible, se)


@pytest.mark.parametrize(
    ("delay", "cv"),
    [
        ({"distribution": "lognormal", "mean_seconds": 120, "cv": 0.5}, 0.5),
        ({"distribution": "gamma", "mean_seconds": 120, "cv": 2.0}, 2.0),
        ({"distribution": "exponential", "mean_seconds": 120}, 1.0),
    ],
)
def test_delay_distributions_have_their_mean_and_cv(delay: dict[str, Any], cv: float) -> None:
    # (A short delay, so retrials past the day's end, which are not made, hardly bias it.)
    m = model({"probability": 1.0, "delay": delay}, hours=4.0)
    delays = np.array(retrial_delays(trace(m)[0]))
    n = len(delays)
    assert n > 1000
    assert abs(delays.mean() - 120.0) < 3 * 120.0 * cv / math.sqrt(n)
    assert delays.std() / delays.mean() == pytest.approx(cv, rel=0.2)


def test_the_older_mean_delay_seconds_form_is_an_exponential_delay() -> None:
    m = model({"probability": 1.0, "mean_delay_seconds": 120}, hours=4.0)
    delays = np.array(retrial_delays(trace(m)[0]))
    n = len(delays)
    assert n > 1000
    assert abs(delays.mean() - 120.0) < 3 * 120.0 / math.sqrt(n)
    assert delays.std() / delays.mean() == pytest.approx(1.0, rel=0.15)


def test_max_attempts_is_honoured_and_customers_are_counted_by_attempts() -> None:
    m = model({"probability": 1.0, "mean_delay_seconds": 30, "max_attempts": 3})
    events, counts = trace(m)
    attempts = [
        customer_and_attempt(e.contact_id)[1] for e in events if isinstance(e, ContactQueued)
    ]
    assert max(attempts) == 3
    one, two, more = (field(counts, f) for f in ("customers_1", "customers_2", "customers_3plus"))
    assert two > 0 and more > 0
    # Every customer is counted once, by the calls they made; every retrial is one more call.
    assert one + two + more == field(counts, "fresh") == attempts.count(1)
    assert field(counts, "retrials") == two + 2 * more == len(attempts) - attempts.count(1)
    # A customer who gave up on the third call does not call a fourth time.
    third = {
        e.contact_id for e in events if isinstance(e, ContactQueued) and e.contact_id.endswith("/3")
    }
    abandoned_third = {e.contact_id for e in events if isinstance(e, ContactAbandoned)} & third
    assert abandoned_third


def test_run_reports_retrials_fresh_arrivals_and_attempt_shares(tmp_path: Path) -> None:
    spec = base_spec()
    spec["patience"] = {"distribution": "exponential", "mean_seconds": 30}
    spec["retrials"] = {
        "probability": 0.6,
        "delay": {"distribution": "gamma", "mean_seconds": 120, "cv": 0.5},
        "max_attempts": 4,
    }
    spec["queues"] = {"support_chat": {"retrials": {"probability": 0}}}
    staffing = "interval_start,sales,billing,chat\n09:00,2,2,1\n"
    m = load_scenario(write_scenario(tmp_path, spec, staffing=staffing))
    tallies = replicate(m, replications=3, seed=4)
    summary = summary_of(m, tallies)
    doc = run_json(m, summary)
    sales = doc["queues"]["sales"]["total"]
    counts = np.stack([t.counts for t in tallies])
    q = list(m.center.queues).index("sales")
    assert sales["retrials"]["mean"] == pytest.approx(field(counts[:, :, q], "retrials") / 3)
    assert sales["fresh"]["mean"] == pytest.approx(field(counts[:, :, q], "fresh") / 3)
    assert sales["retrials"]["mean"] > 10
    shares = [sales[k]["mean"] for k in ("attempts_1", "attempts_2", "attempts_3plus")]
    assert sum(shares) == pytest.approx(1.0)
    assert shares[1] > 0 and shares[2] > 0
    assert doc["queues"]["support_chat"]["total"]["retrials"]["mean"] == 0
    lines = run_text(m, summary).splitlines()
    block = lines[next(i for i, x in enumerate(lines) if x.startswith("calls per queue")) :]
    sales_line = next(x for x in block if x.startswith("sales "))
    assert f"{sales['retrials']['mean']:,.1f}" in sales_line
    assert f"{100 * shares[2]:.1f}%" in sales_line


def test_retrial_settings_are_checked(tmp_path: Path) -> None:
    spec = base_spec()
    spec["retrials"] = {
        "probability": 0.2,
        "mean_delay_seconds": 60,
        "delay": {"distribution": "exponential", "mean_seconds": 60},
    }
    spec["queues"] = {
        "sales": {
            "retrials": {"probability": 0.2, "delay": {"distribution": "gamma", "mean_seconds": 60}}
        }
    }
    with pytest.raises(ScenarioError) as err:
        load_scenario(write_scenario(tmp_path, spec))
    text = str(err.value)
    assert "scenario.yaml" in text
    assert "retrials" in text and "either delay or mean_delay_seconds" in text
    assert "queues.sales.retrials.delay" in text and "gamma needs cv" in text
