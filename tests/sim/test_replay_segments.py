"""A day with transfers, call backs and dedicated agents replays to exactly its KPIs: agents
hand contacts on (to a queue, to an agent) at the end of their talk, call backs' contacts
queue with the customer's original arrival and retry an attempt that did not reach the
customer, customers have their dedicated agents; recorded from the events, written to the
contacts CSV and read back, the day replays bit for bit."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contactcenter.events import (
    ContactAnswered,
    ContactHandedOff,
    ContactOffered,
    ContactQueued,
    Event,
)
from sim.recording import RecordedContact, Recording, Transfer, read_contacts, write_contacts
from sim.replay import replay_once, replay_setup
from sim.statistics import FROM_EVENTS, Tallies, kpis
from sim.stored_day import read_stored_day
from tests.sim.files import write_scenario
from tests.sim.recorded_day import DAY, recording_of, store_day
from tests.sim.test_replay import (
    MORE,
    STAFFING,
    assert_the_records_kpis_are_the_days,
    day_spec,
    simulated_day,
)


def with_segments(day: Recording, groups: dict[str, tuple[str, ...]], seed: int) -> Recording:
    """``day`` with a quarter of the answered sales and billing calls handed on (to the other
    queue, most of them to one of its agents: to the queue when that agent is busy), a call
    back's contact for every customer who took one (in sales, where nothing overflows: a call
    back keeps its place, so it is overdue for every escalation step; ten minutes later, one
    in three reaching the customer only at the second attempt), and one customer in five of
    sales with a dedicated agent."""
    rng = np.random.default_rng(seed)
    other = {"sales": "billing", "billing": "sales"}
    out: list[RecordedContact] = []
    for c in day.contacts:
        if c.queue == "sales" and rng.random() < 0.2:
            c = replace(c, dedicated_agent=str(rng.choice(groups["sales"])))
        if c.outcome == "answered" and c.counted_in in other and rng.random() < 0.25:
            to = other[c.counted_in]
            agent = str(rng.choice(groups[to])) if rng.random() < 0.8 else None
            talk = float(rng.exponential(200))
            c = replace(c, transfers=(Transfer(to, agent, None, talk, float(rng.uniform(5, 40))),))
        out.append(c)
        if c.outcome == "callback":
            failed = rng.random() < 1 / 3
            first = (Transfer(back=240.0, talk=float(rng.exponential(150)), wrap_up=10.0),)
            out.append(
                RecordedContact(
                    c.arrived, "sales", c.tier,
                    "answered", 0.0, 30.0 if failed else float(rng.exponential(150)), 12.0,
                    queued=c.arrived + c.wait + 600, transfers=first if failed else (),
                )
            )  # fmt: skip
    out.sort(key=lambda c: c.arrived)
    return Recording(day.day, tuple(out), "with segments")


def lived_day(
    tmp_path: Path, wrap_up: dict[str, Any]
) -> tuple[Path, Tallies, list[list[Event]], dict[str, str]]:
    """A day lived with transfers, call backs and dedicated agents: its scenario, its tallies,
    its events and the dedicated agents of its contacts (by id)."""
    # the customers of a busy day (many took call backs), lived with more agents on duty
    # (some free to take a transfer)
    spec = day_spec(wrap_up=wrap_up, callbacks={"accept_probability": 1.0})
    busy = write_scenario(tmp_path / "busy", spec, staffing=STAFFING)
    _, trace = simulated_day(busy)
    path = write_scenario(tmp_path / "s", day_spec(wrap_up=wrap_up), staffing=MORE)
    setup = replay_setup(path, recording_of(trace))
    groups = {g.name: g.agents for g in setup.model.groups}
    staffed = {"sales": groups["sales"][:10], "billing": groups["billing"][:13]}  # (MORE)
    lived = with_segments(setup.day.recording, staffed, seed=5)
    setup = replay_setup(path, lived)
    events: list[list[Event]] = []
    day = replay_once(setup.model, setup.day, np.random.SeedSequence(7), trace=events.append)

    # the day has them all: transfers to queues and to agents, call backs' attempts that
    # failed and were queued again, dedicated agents who took their customers
    flat = [e for es in events for e in es]
    hand_offs = [e for e in flat if isinstance(e, ContactHandedOff)]
    assert sum(e.to_agent is not None for e in hand_offs) > 0
    assert sum(e.to_agent is None and e.to_queue is not None for e in hand_offs) > 10
    assert sum(e.to_queue is None for e in hand_offs) > 0
    assert sum(isinstance(e, ContactAnswered) and e.segment > 1 for e in flat) > 20
    called_back = {
        e.contact_id
        for e in flat
        if isinstance(e, ContactQueued) and e.segment == 1 and e.at > e.arrived_at
    }
    assert len(called_back) > 3
    entered = sorted(range(len(lived.contacts)),
                     key=lambda i: (lived.contacts[i].entered, i))  # fmt: skip
    ids = {str(n): lived.contacts[i] for n, i in enumerate(entered, 1)}
    dedicated = {cid: c.dedicated_agent for cid, c in ids.items() if c.dedicated_agent}
    taken = Counter(
        e.agent_id == dedicated[e.contact_id]
        for e in flat
        if isinstance(e, ContactOffered) and e.contact_id in dedicated
    )
    assert taken[True] > 3
    return path, day, events, dedicated


WRAP_UPS = pytest.mark.parametrize(
    "wrap_up",
    [{"mode": "timer"}, {"mode": "sampled", "mean_seconds": 25}],
    ids=["timer", "sampled"],
)


@WRAP_UPS
def test_a_day_with_transfers_call_backs_and_dedicated_agents_replays_to_exactly_its_kpis(
    tmp_path: Path, wrap_up: dict[str, Any]
) -> None:
    path, day, events, dedicated = lived_day(tmp_path, wrap_up)
    hand_offs = [e for es in events for e in es if isinstance(e, ContactHandedOff)]
    recording = recording_of(events, dedicated=dedicated)
    assert sum(bool(c.transfers) for c in recording.contacts) == len(
        {e.contact_id for e in hand_offs}
    )
    contacts = tmp_path / "contacts.csv"
    write_contacts(recording, contacts)
    read = read_contacts(contacts)
    assert read.contacts == recording.contacts  # exact round trip, transfers and all

    again_setup = replay_setup(path, read)
    again = replay_once(again_setup.model, again_setup.day, np.random.SeedSequence(99))
    assert np.array_equal(again.counts[..., FROM_EVENTS], day.counts[..., FROM_EVENTS])
    assert np.array_equal(again.busy, day.busy) and np.array_equal(again.idle, day.idle)

    # the records' own KPIs (contactcenter.kpi: a transferred contact counts once) are the day's
    assert_the_records_kpis_are_the_days(again_setup, day)


@WRAP_UPS
def test_the_same_day_recorded_in_a_store_replays_to_its_kpis(
    tmp_path: Path, wrap_up: dict[str, Any]
) -> None:
    """Recorded in a real store as the live runtime writes it (segments, call backs booked,
    customers' CRM cards with their dedicated agents), read back and replayed."""
    path, day, events, dedicated = lived_day(tmp_path, wrap_up)
    db = tmp_path / "db" / "cc.sqlite3"
    asyncio.run(store_day(events, db, dedicated=dedicated))
    stored = read_stored_day(db, None, DAY, None).recording
    recorded = recording_of(events, dedicated=dedicated)
    assert stored.contacts and len(stored.contacts) == len(recorded.contacts)

    def what(r: Recording) -> Counter[Any]:
        return Counter(
            (c.queue, c.outcome, c.is_callback, c.dedicated_agent,
             tuple((t.queue, t.agent, t.back is not None) for t in c.transfers))
            for c in r.contacts
        )  # fmt: skip

    assert what(stored) == what(recorded)

    setup = replay_setup(path, stored)
    again = replay_once(setup.model, setup.day, np.random.SeedSequence(99))
    mine, theirs = kpis(again.counts.sum(axis=0)), kpis(day.counts.sum(axis=0))
    for k in ("offered", "answered", "abandoned", "sl_offered"):
        assert np.array_equal(mine[k], theirs[k], equal_nan=True), k
    # the store keeps wall times to ~0.2 us; durations come from the events
    assert np.allclose(mine["asa"], theirs["asa"], atol=1e-5, equal_nan=True)
