"""Replaying a recorded day through the routing core (``sim.replay``, ``contactcenter-sim
replay``): a simulated day, recorded in the contacts CSV or in a real store, replays under its
own staffing to exactly its own KPIs; other staffings move them the way they must; the fitted
scenario runs in ``run``; bad input is one clear line."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from distributed import LocalCluster

from contactcenter.events import Event
from sim.cli import main
from sim.driver import simulate
from sim.recording import read_contacts, write_contacts
from sim.replay import Replay, recorded_tallies, replay, replay_once, replay_setup
from sim.replications import Runner
from sim.scenario import load_scenario
from sim.statistics import FIELDS, FROM_EVENTS, Tallies, kpis
from tests.sim.files import base_spec, write_scenario
from tests.sim.recorded_day import DAY, recording_of, store_day

STAFFING = """interval_start,sales,billing,chat
09:00,7,9,2
09:30,7,9,2
"""
MORE = STAFFING.replace("7,9,2", "10,13,4")
FEWER = STAFFING.replace("7,9,2", "5,7,2")


def day_spec(**changes: Any) -> dict[str, Any]:
    """The test center's hour with retrials, call backs taken and overflow (billing ->
    support after 120 s) all in play."""
    spec: dict[str, Any] = base_spec()
    spec["agent_groups"] = {
        "sales": {"template": "a05", "count": 12},
        "billing": {"template": "a22", "count": 14},
        "chat": {"template": "a29", "count": 4},
    }
    spec["retrials"] = {"probability": 0.3, "mean_delay_seconds": 120}
    spec["callbacks"] = {"accept_probability": 0.5}
    spec.update(changes)
    return spec


def simulated_day(path: Path, seed: int = 12) -> tuple[Tallies, list[list[Event]]]:
    trace: list[list[Event]] = []
    tallies = simulate(load_scenario(path), np.random.SeedSequence(seed), trace=trace.append)
    return tallies, trace


def assert_the_records_kpis_are_the_days(setup: Replay, day: Tallies) -> None:
    """The recorded contacts' own KPIs (``contactcenter.kpi``: a transferred contact counts
    once) per queue are the simulated ``day``'s: offered, answered, abandoned, the service
    level's count and the ASA; a queue nothing arrived at has no records."""
    recorded = recorded_tallies(setup)
    per_queue = kpis(day.counts.sum(axis=0))
    for j, q in enumerate(setup.model.center.queues):
        if per_queue["offered"][j] == 0:
            assert q not in recorded
            continue
        t = recorded[q]
        assert (t.offered, t.answered, t.abandoned) == (
            per_queue["offered"][j],
            per_queue["answered"][j],
            per_queue["abandoned"][j],
        )
        assert t.sl_offered() == per_queue["sl_offered"][j]
        if t.answered:
            assert t.asa() == pytest.approx(per_queue["asa"][j], rel=1e-12)


@pytest.mark.parametrize(
    "wrap_up",
    [{"mode": "timer"}, {"mode": "sampled", "mean_seconds": 25}],
    ids=["timer", "sampled"],
)
def test_a_simulated_day_replays_to_exactly_its_kpis(
    tmp_path: Path, wrap_up: dict[str, Any]
) -> None:
    path = write_scenario(tmp_path / "s", day_spec(wrap_up=wrap_up), staffing=STAFFING)
    day, trace = simulated_day(path)
    recording = recording_of(trace)
    outcomes = Counter(c.outcome for c in recording.contacts)
    # every way a contact ends is in play, and some overflowed to another queue
    assert outcomes["answered"] > 200 and outcomes["abandoned"] > 50 and outcomes["callback"] > 0
    assert any(c.last_queue is not None for c in recording.contacts)
    assert len(recording.contacts) > 365  # the forecast's 365 plus retrials

    contacts = tmp_path / "contacts.csv"
    write_contacts(recording, contacts)
    read = read_contacts(contacts)
    assert read.contacts == recording.contacts and read.day == DAY  # exact round trip

    setup = replay_setup(path, read)
    assert setup.outside == 0 and "staffing.csv" in setup.staffing
    again = replay_once(setup.model, setup.day, np.random.SeedSequence(99))
    # every KPI sum per interval and queue, and the agents' busy and idle time, bit for bit
    # (a recording does not say which calls were retrials: the replay's calls are all fresh)
    assert np.array_equal(again.counts[..., FROM_EVENTS], day.counts[..., FROM_EVENTS])
    calls = day.counts[..., FIELDS.index("fresh")] + day.counts[..., FIELDS.index("retrials")]
    assert np.array_equal(again.counts[..., FIELDS.index("fresh")], calls)
    assert np.array_equal(again.busy, day.busy) and np.array_equal(again.idle, day.idle)

    # the KPIs of the records themselves (contactcenter.kpi) are the day's too
    assert_the_records_kpis_are_the_days(setup, day)


def test_replays_under_other_staffing_move_the_kpis_the_right_way(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    day, trace = simulated_day(path)
    recording = recording_of(trace)
    (tmp_path / "more.csv").write_text(MORE, encoding="utf-8")
    (tmp_path / "fewer.csv").write_text(FEWER, encoding="utf-8")
    own = kpis(day.counts.sum(axis=(0, 1)))

    def total(staffing: str, seed: int) -> dict[str, float]:
        setup = replay_setup(path, recording, staffing=tmp_path / staffing)
        t = replay_once(setup.model, setup.day, np.random.SeedSequence(seed))
        return {k: float(v) for k, v in kpis(t.counts.sum(axis=(0, 1))).items()}

    more = [total("more.csv", s) for s in (1, 2)]
    fewer = [total("fewer.csv", s) for s in (1, 2)]
    for m, f in zip(more, fewer, strict=True):
        # the same customers arrive whatever the staffing
        assert m["offered"] == f["offered"] == own["offered"]
        assert m["sl_offered"] > own["sl_offered"] + 0.1 > f["sl_offered"] + 0.2
        assert m["abandoned"] < own["abandoned"] / 2 and f["abandoned"] > own["abandoned"] * 1.3
    # what the record leaves open (patience of the answered, talk of the abandoned) is drawn
    assert more[0]["asa"] != more[1]["asa"] and fewer[0]["asa"] != fewer[1]["asa"]


def test_answered_customers_abandon_when_a_what_if_keeps_them_waiting(tmp_path: Path) -> None:
    """Their patience is drawn beyond their recorded wait: some hang up when made to wait
    longer, never before the wait they did sit through."""
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    _, trace = simulated_day(path)
    recording = recording_of(trace)
    (tmp_path / "fewer.csv").write_text(FEWER, encoding="utf-8")
    setup = replay_setup(path, recording, staffing=tmp_path / "fewer.csv")
    replayed: list[list[Event]] = []
    replay_once(setup.model, setup.day, np.random.SeedSequence(3), trace=replayed.append)
    again = recording_of(replayed)
    assert [c.arrived for c in again.contacts] == [c.arrived for c in recording.contacts]
    lost = [
        (was, now)
        for was, now in zip(recording.contacts, again.contacts, strict=True)
        if was.outcome == "answered" and now.abandoned
    ]
    assert len(lost) > 10
    assert all(now.wait > was.wait for was, now in lost)
    # the abandoners of the record hang up after exactly their recorded wait when still waiting
    kept = [
        (was, now)
        for was, now in zip(recording.contacts, again.contacts, strict=True)
        if was.abandoned and now.abandoned
    ]
    assert kept and all(now.wait == pytest.approx(was.wait, abs=1e-9) for was, now in kept)
    # and answered ones talk for their recorded time
    talked = [
        (was, now)
        for was, now in zip(recording.contacts, again.contacts, strict=True)
        if was.talk is not None and now.talk is not None
    ]
    assert talked and all(now.talk == pytest.approx(was.talk, abs=1e-9) for was, now in talked)


def test_replications_in_processes_equal_those_in_one(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    _, trace = simulated_day(path)
    (tmp_path / "fewer.csv").write_text(FEWER, encoding="utf-8")
    setup = replay_setup(path, recording_of(trace), staffing=tmp_path / "fewer.csv")
    one = replay(setup.model, setup.day, replications=3, seed=4, runner=Runner(1))
    with Runner(2) as two_workers:
        two = replay(setup.model, setup.day, replications=3, seed=4, runner=two_workers)
    assert all(np.array_equal(a.counts, b.counts) for a, b in zip(one, two, strict=True))
    assert not np.array_equal(one[0].counts, one[1].counts)


def test_replays_on_a_dask_cluster_equal_those_in_one_process(
    tmp_path: Path, cluster: LocalCluster
) -> None:
    """The recorded day travels to the cluster's workers with the model (``--scheduler``)."""
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    _, trace = simulated_day(path)
    setup = replay_setup(path, recording_of(trace))
    one = replay(setup.model, setup.day, replications=3, seed=4, runner=Runner(1))
    with Runner(scheduler=cluster.scheduler_address) as on_cluster:
        remote = replay(setup.model, setup.day, replications=3, seed=4, runner=on_cluster)
    assert all(np.array_equal(a.counts, b.counts) for a, b in zip(one, remote, strict=True))


# == from the engine's store, through the command ===========================================


def _files(db: Path) -> str:
    h = hashlib.sha256()
    for part in sorted(db.parent.iterdir()):
        h.update(part.name.encode() + part.read_bytes())
    return h.hexdigest()


def test_replay_command_from_a_store_reproduces_the_recorded_kpis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The day recorded in a real (sealed) store as the live runtime writes it, replayed with
    the logins the store recorded (the scenario names no staffing)."""
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    day, trace = simulated_day(path)
    db = tmp_path / "db" / "cc.sqlite3"
    asyncio.run(store_day(trace, db))
    assert (db.parent / "data-keys").is_file()
    no_staffing = day_spec()
    del no_staffing["staffing"]
    plain = write_scenario(tmp_path / "plain", no_staffing, staffing=None)
    before = _files(db)
    out = tmp_path / "out"
    code = main(
        ["replay", str(plain), "--store", str(db), "--day", DAY.isoformat(), "--out", str(out),
         "--replications", "2", "--workers", "1", "--quiet", "--no-charts"]
    )  # fmt: skip
    assert code == 0
    assert _files(db) == before  # nothing written
    text = capsys.readouterr().out
    assert "staffing: the agents' logins recorded in the store" in text
    doc = json.loads((out / "replay.json").read_text())
    per_queue = kpis(day.counts.sum(axis=0))
    queues = list(load_scenario(path).center.queues)
    assert set(doc["queues"]) == {q for j, q in enumerate(queues) if per_queue["offered"][j]}
    for q, row in doc["queues"].items():
        j = queues.index(q)
        for k in ("offered", "answered", "abandoned", "sl_offered"):
            assert row["recorded"][k] == pytest.approx(per_queue[k][j], abs=1e-6)
            assert row["replayed"][k]["mean"] == row["recorded"][k]
            assert row["replayed"][k]["low"] == row["replayed"][k]["high"]  # no draw mattered
        if row["recorded"]["asa"] is not None:
            # the store keeps wall times to ~0.2 us; durations come from the events
            assert row["replayed"]["asa"]["mean"] == pytest.approx(row["recorded"]["asa"], abs=1e-5)
    assert doc["contacts"] == len(recording_of(trace).contacts)
    assert (out / "intervals.csv").is_file() and (out / "summary.json").is_file()


def test_replay_command_fits_a_scenario_that_run_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    _, trace = simulated_day(path)
    recording = recording_of(trace)
    contacts = tmp_path / "contacts.csv"
    write_contacts(recording, contacts)
    fitted = tmp_path / "fitted"
    code = main(
        ["replay", str(path), "--contacts", str(contacts), "--fit", str(fitted),
         "--out", str(tmp_path / "out"), "--replications", "2", "--workers", "1", "--quiet",
         "--no-charts"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "patience (Kaplan-Meier" in text and "billing" in text
    spec = yaml.safe_load((fitted / "scenario.yaml").read_text())
    assert spec["forecast"] == "forecast.csv" and spec["staffing"] == "staffing.csv"
    assert spec["retrials"] == {"probability": 0.0}
    assert spec["queues"]["sales"]["patience"]["distribution"] == "empirical"
    assert spec["queues"]["sales"]["handle_time"] == {
        "distribution": "empirical",
        "file": "handle-sales.csv",
    }
    rows = list(csv.DictReader((fitted / "forecast.csv").open()))
    counted = Counter(
        (r["interval_start"], r["queue"]) for r in rows for _ in range(int(r["contacts"]))
    )
    arrived = Counter(
        ("09:00" if c.arrived < 9.5 * 3600 else "09:30", c.queue) for c in recording.contacts
    )
    assert counted == arrived
    tiers = spec["queues"]["billing"]["tiers"]
    billing = [c.tier for c in recording.contacts if c.queue == "billing"]
    assert tiers == pytest.approx({t: n / len(billing) for t, n in Counter(billing).items()})

    out = tmp_path / "run"
    code = main(
        ["run", str(fitted / "scenario.yaml"), "--replications", "2", "--workers", "1",
         "--out", str(out), "--quiet", "--no-charts"]
    )  # fmt: skip
    assert code == 0 and json.loads((out / "summary.json").read_text())["replications"] == 2
    capsys.readouterr()

    # the fitted day's customers behave like the recorded ones: its abandon rate per queue is
    # the recorded one within the spread of single days
    model = load_scenario(fitted / "scenario.yaml")
    days = [simulate(model, np.random.SeedSequence(100 + i)).counts.sum(axis=0) for i in range(12)]
    rates = np.array([kpis(c)["abandon_rate"] for c in days])
    recorded = recorded_tallies(replay_setup(path, recording))
    for q in ("sales", "billing"):
        j = list(model.center.queues).index(q)
        recorded_rate = recorded[q].abandon_rate()
        assert recorded_rate is not None
        assert abs(rates[:, j].mean() - recorded_rate) < 2.5 * rates[:, j].std(ddof=1)


# == bad input ==============================================================================


def test_bad_contacts_csv_is_one_line_per_problem_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    bad = tmp_path / "contacts.csv"
    bad.write_text(
        "arrived,queue,tier,outcome,wait_seconds,talk_seconds\n"
        "2024-06-03T09:00:01,sales,,answered,3.5,120\n"
        "2024-06-03 09:00:02,sales,,gave up,3,\n"
        "2024-06-03T25:00:00,sales,,abandoned,3,\n"
        "2024-06-03T09:00:04,sales,,abandoned,-1,\n"
        "2024-06-03T09:00:05,sales,,abandoned,4,100\n",
        encoding="utf-8",
    )
    code = main(["replay", str(path), "--contacts", str(bad), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4
    assert all(e.startswith("error: contacts.csv") for e in err)
    for line, what in ((3, "outcome"), (4, "arrived"), (5, "wait_seconds"), (6, "talk_seconds")):
        assert any(f":{line}" in e and what in e for e in err), (line, err)


def test_names_the_center_does_not_know_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "arrived,queue,tier,outcome,wait_seconds\n"
        "2024-06-03T09:00:01,helpdesk,,abandoned,3\n"
        "2024-06-03T09:00:02,helpdesk,platinum,abandoned,3\n",
        encoding="utf-8",
    )
    assert main(["replay", str(path), "--contacts", str(contacts), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "queue 'helpdesk' (2 contacts) is not in the center of scenario.yaml" in err
    assert "tier 'platinum' (1 contacts)" in err


def test_a_store_that_cannot_be_read_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario(tmp_path / "s", day_spec(), staffing=STAFFING)
    missing = tmp_path / "nowhere.sqlite3"
    assert main(["replay", str(path), "--store", str(missing), "--quiet"]) == 1
    assert capsys.readouterr().err == f"error: no database at {missing}\n"
    assert not missing.exists()  # never made

    _, trace = simulated_day(path)
    db = tmp_path / "db" / "cc.sqlite3"
    asyncio.run(store_day(trace[:50], db))
    keys = tmp_path / "elsewhere-keys"
    assert main(["replay", str(path), "--store", str(db), "--data-keys", str(keys)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(keys) in err and not keys.exists()
    assert main(["replay", str(path), "--store", str(db), "--timezone", "Mars/Base"]) == 1
    assert capsys.readouterr().err == "error: --timezone: unknown time zone 'Mars/Base'\n"
    assert main(["replay", str(path), "--store", str(db), "--day", "2024-06-04"]) == 1
    assert "no contact entered a queue on 2024-06-04" in capsys.readouterr().err
