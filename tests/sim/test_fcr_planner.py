"""First-contact resolution in the planner, by the live engine's rule
(``contactcenter.kpi.first_contacts``): a retrial of the same customer within the window is a
repeat, so a customer's first call counts, resolved when it was answered.

* exact: the collector fed chosen events, and random customers' calls (its counts are the
  rule's, applied to every contact), with a window shorter and longer than a retrial's
  delay; and a run with retrials, whose FCR is exactly the share of its customers whose first
  call was answered (read off the run's own events);
* statistical: without retrials FCR is the share answered, which Erlang A gives for a
  stationary M/M/c+M queue; the simulation agrees within 3 standard errors;
* ``run`` reports it per queue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from contactcenter.events import ContactAbandoned, ContactAnswered, ContactQueued, Event
from contactcenter.kpi import CustomerContact, first_contacts
from sim.builders import simple_center, stationary_model
from sim.driver import simulate
from sim.erlang import erlang_a
from sim.replications import Runner, replicate, summary_of
from sim.report import run_text
from sim.statistics import (
    FIELDS,
    FIRST_CONTACTS,
    RESOLVED_FIRST,
    Collector,
    customer_of,
    pooled_ratio,
)

AHT = 120.0


def collector(window: float, start: float = 0.0, intervals: int = 1) -> Collector:
    return Collector(
        queues=("q", "r"), thresholds=(20.0, 20.0), short_abandon=5.0, start=start,
        interval_seconds=3600.0, intervals=intervals, agent_groups={}, groups=0,
        fcr_window=window,
    )  # fmt: skip


def test_the_collector_applies_the_rule_to_the_drivers_customers() -> None:
    def queued(cid: str, at: float, queue: str = "q") -> Event:
        return ContactQueued(at, cid, queue, "voice", 0, "standard", at, 1)

    events: list[Event] = [
        queued("c", 10.0),  # customer c abandons, calls again 100 s later and is answered
        ContactAbandoned(40.0, "c", "q", "voice", 30.0, 1),
        queued("c/2", 110.0),
        ContactAnswered(115.0, "c/2", "q", "voice", "a1", 5.0, 1),
        queued("d", 20.0),  # customer d is answered at once
        ContactAnswered(21.0, "d", "q", "voice", "a1", 1.0, 1),
        queued("e", 30.0, "r"),  # customer e of queue r abandons and gives up
        ContactAbandoned(90.0, "e", "r", "voice", 60.0, 1),
    ]
    counts = {}
    for window in (60.0, 3600.0):
        c = collector(window)
        for e in events:
            c.observe(e)
        tallies = c.finish(3600.0).counts[0]
        counts[window] = [(q[FIRST_CONTACTS], q[RESOLVED_FIRST]) for q in tallies]
    # the retrial 100 s after the first call: a repeat within an hour, a first contact within 60 s
    assert counts[3600.0] == [(2, 1), (1, 0)]  # c not resolved, d resolved; e not
    assert counts[60.0] == [(3, 2), (1, 0)]  # c, c/2 (resolved) and d; e


calls = st.lists(  # a customer's calls: (queue, seconds after the call before, answered)
    st.tuples(st.sampled_from("qr"), st.floats(1.0, 3000.0), st.booleans()), min_size=1, max_size=4
)


@settings(max_examples=150, deadline=None)
@given(st.lists(calls, min_size=1, max_size=25), st.sampled_from([60.0, 900.0, 7200.0]))
def test_the_collectors_counts_are_the_rules_over_all_contacts(
    customers: list[list[tuple[str, float, bool]]], window: float
) -> None:
    events: list[Event] = []
    reached: list[tuple[str, str, float]] = []
    handled: set[str] = set()
    for n, customer in enumerate(customers):
        at = 100.0 * n  # the first six in the warm-up (before 600 s)
        for attempt, (queue, gap, answered) in enumerate(customer, start=1):
            at += gap if attempt > 1 else 0.0
            cid = str(n) if attempt == 1 else f"{n}/{attempt}"
            events.append(ContactQueued(at, cid, queue, "voice", 0, "standard", at, 1))
            if answered:
                events.append(ContactAnswered(at + 1.0, cid, queue, "voice", "a1", 1.0, 1))
                handled.add(cid)
            else:
                events.append(ContactAbandoned(at + 1.0, cid, queue, "voice", 1.0, 1))
            reached.append((cid, queue, at))
    c = collector(window, start=600.0, intervals=4)
    for e in sorted(events, key=lambda e: e.at):
        c.observe(e)
    counts = c.finish(600.0 + 4 * 3600.0).counts

    contacts = [
        CustomerContact(customer_of(cid), q, at, "a1" if cid in handled else None)
        for cid, q, at in reached
    ]
    expected = np.zeros((4, 2, 2))
    for first in first_contacts(contacts, window):
        k = int((first.contact.arrived - 600.0) // 3600.0)
        if 0 <= k < 4:
            expected[k, "qr".index(first.contact.queue)] += (1, first.resolved)
    assert np.array_equal(counts[..., [FIRST_CONTACTS, RESOLVED_FIRST]], expected)


def test_with_retrials_fcr_is_the_share_of_customers_answered_at_their_first_call() -> None:
    model = stationary_model(
        simple_center(3), {"q": 100.0}, AHT, hours=2.0, patience_seconds=40.0,
        spec={"retrials": {"probability": 0.5, "delay": {"distribution": "exponential",
                                                         "mean_seconds": 300}}},
    )  # fmt: skip
    events: list[Event] = []
    counts = simulate(model, 3, trace=events.extend).counts
    first_calls = [e.contact_id for e in events if isinstance(e, ContactQueued)]
    answered = {e.contact_id for e in events if isinstance(e, ContactAnswered)}
    customers = [cid for cid in first_calls if "/" not in cid]
    retrials = len(first_calls) - len(customers)
    assert retrials > 20  # the case has repeats to leave out
    first = counts[..., FIELDS.index("first_contacts")].sum()
    resolved = counts[..., FIELDS.index("resolved_first")].sum()
    assert first == len(customers)
    assert resolved == sum(1 for cid in customers if cid in answered)
    assert 0 < resolved < first


def test_without_retrials_fcr_is_erlang_a_share_answered(runner: Runner) -> None:
    agents, traffic, patience = 5, 4.5, 90.0
    model = stationary_model(
        simple_center(agents, threshold_seconds=20), {"q": traffic / AHT * 3600}, AHT,
        hours=2.0, patience_seconds=patience, spec={"seed": 17, "warmup_minutes": 30},
    )  # fmt: skip
    tallies = replicate(model, replications=60, runner=runner)
    c = np.stack([t.counts.sum(axis=(0, 1)) for t in tallies])
    fcr, se = pooled_ratio(c[:, RESOLVED_FIRST], c[:, FIRST_CONTACTS])
    exact = erlang_a(agents, traffic, AHT, patience, 20.0)
    assert exact.prob_abandon is not None
    expected = 1.0 - exact.prob_abandon
    assert 0.0 < se < 0.01
    assert abs(float(fcr) - expected) < 3 * float(se), (float(fcr), expected, float(se))


def test_run_reports_fcr_per_queue(tmp_path: Path, runner: Runner) -> None:
    model = stationary_model(
        simple_center(3), {"q": 100.0}, AHT, hours=1.0, patience_seconds=40.0,
        spec={"retrials": {"probability": 0.5, "mean_delay_seconds": 120}},
    )  # fmt: skip
    summary = summary_of(model, replicate(model, replications=4, runner=runner))
    fcr = summary.by_queue["fcr"].mean[0]
    assert 0 < fcr < 1
    text = run_text(model, summary)
    assert "first-contact resolution (repeat within 7 days): q " in text
    assert f"{100 * fcr:.1f}%" in text
