"""Asterisk's queue_log as a recorded day (``sim.queue_log``, ``contactcenter-sim queue-log``):
a realistic sample with every kind of line converts to the documented contacts CSV
(``tests/sim/data/contacts.csv``), which replays; a simulated day written as a queue_log
converts back to its contacts and replays to nearly its KPIs (whole seconds); malformed
lines are named."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from contactcenter.config import ConfigError
from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactQueued,
    ContactRemoved,
    Event,
)
from sim.cli import main
from sim.queue_log import read_queue_log
from sim.recording import RecordedContact, read_contacts
from sim.replay import replay_once, replay_setup
from sim.statistics import kpis
from tests.sim.files import CENTER, write_scenario
from tests.sim.recorded_day import midnight
from tests.sim.test_replay import STAFFING, day_spec, simulated_day

DATA = Path(__file__).parent / "data"
UTC = ZoneInfo("UTC")


def at(clock: str) -> float:
    h, m, s = (int(x) for x in clock.split(":"))
    return h * 3600.0 + m * 60 + s


def test_the_sample_converts_caller_by_caller() -> None:
    got = read_queue_log(DATA / "queue_log", UTC)
    assert got.day == date(2024, 6, 3)
    C = RecordedContact
    assert got.contacts == (
        C(at("08:00:00"), "support", None, "answered", 38.0, 240.0),  # after a ring no answer
        C(at("08:00:00"), "support", None, "abandoned", 61.0),
        C(at("08:06:40"), "billing", None, "answered", 2.0, 300.0),  # the agent hung up
        C(at("08:08:20"), "sales", None, "removed", 300.0),  # queue timeout
        C(at("08:15:00"), "support", None, "removed", 45.0),  # pressed a key
        C(at("08:16:40"), "support", None, "answered", 10.0, 180.0),  # blind transfer
        C(at("08:18:20"), "billing", None, "answered", 5.0, 200.0),  # attended transfer
        C(at("08:23:20"), "sales", None, "abandoned", 1.0),  # while ringing
        C(at("08:23:20"), "sales", None, "answered", 20.0, 120.0),  # same second, file order
        C(at("08:28:20"), "billing", None, "removed", 0.0),  # nobody in the queue
        C(at("08:30:00"), "support", None, "removed", 30.0),  # key out of support ...
        C(at("08:30:31"), "billing", None, "answered", 29.0, 200.0),  # ... into billing
        C(at("08:36:40"), "support", None, "answered", 12.0),  # still talking at the end
        C(at("08:38:20"), "sales", None, "unfinished", 50.0),  # still waiting at the end
    )
    # the same callers in another zone: local times move, nothing else
    berlin = read_queue_log(DATA / "queue_log", ZoneInfo("Europe/Berlin"))
    assert [c.arrived - 7200 for c in berlin.contacts] == [c.arrived for c in got.contacts]


def test_the_command_writes_the_documented_csv_and_it_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "contacts.csv"
    assert main(["queue-log", str(DATA / "queue_log"), "--out", str(out), "--timezone", "UTC"]) == 0
    assert "14 contacts of 2024-06-03" in capsys.readouterr().out
    assert out.read_text() == (DATA / "contacts.csv").read_text()

    scenario = write_scenario(
        tmp_path / "s",
        {
            "center": str(CENTER),
            "staffing": "staffing.csv",
            "replications": 4,
            "seed": 2,
            "agent_groups": {"desk": {"agents": ["a05", "a14", "a22"]}},
        },
        staffing="interval_start,desk\n08:00,3\n",
    )
    code = main(
        ["replay", str(scenario), "--contacts", str(out), "--out", str(tmp_path / "r"),
         "--workers", "1", "--quiet", "--no-charts", "--fit", str(tmp_path / "fit")]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "replayed 2024-06-03 from contacts.csv: 14 contacts" in text
    doc = json.loads((tmp_path / "r" / "replay.json").read_text())
    recorded = {q: row["recorded"] for q, row in doc["queues"].items()}
    assert recorded == {
        "sales": {"offered": 4, "answered": 1, "abandoned": 1, "sl_offered": 0.25, "asa": 20.0},
        "support": {
            "offered": 6,
            "answered": 3,
            "abandoned": 1,
            "sl_offered": 0.333333,
            "asa": 20.0,
        },
        "billing": {"offered": 4, "answered": 3, "abandoned": 0, "sl_offered": 0.75, "asa": 12.0},
    }
    # the same 14 callers meet the desk's three agents in the replay (a billing caller whose
    # patience is drawn may wait long enough to overflow to support)
    replayed = {q: row["replayed"]["offered"]["mean"] for q, row in doc["queues"].items()}
    assert replayed["sales"] == 4 and sum(replayed.values()) == 14
    assert doc["patience"]["sales"]["abandoned"] == 1
    assert (tmp_path / "fit" / "patience-sales.csv").is_file()


def test_malformed_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "queue_log"
    bad.write_text(
        "1717401600|1.1|support|NONE|ENTERQUEUE||+1555|1\n"
        "garbage\n"
        "1717401610|1.1|support|PJSIP/1|CONNECT|ten|1.2|1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        read_queue_log(bad, UTC)
    lines = [str(i) for i in err.value.issues]
    assert lines[0].startswith("queue_log:2") and "epoch|callid" in lines[0]
    assert lines[1].startswith("queue_log:3") and "'ten'" in lines[1]
    two_days = tmp_path / "two_days"
    two_days.write_text(
        "1717401600|1.1|support|NONE|ENTERQUEUE||+1555|1\n"
        "1717488000|2.1|support|NONE|ENTERQUEUE||+1555|1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"several days \(2024-06-03, 2024-06-04\)"):
        read_queue_log(two_days, UTC)
    assert len(read_queue_log(two_days, UTC, date(2024, 6, 4)).contacts) == 1


# == a whole simulated day as a queue_log ===================================================


def queue_log_of(trace: list[list[Event]]) -> str:
    """The lines Asterisk would write for the simulated day (whole-second epochs and
    durations, pauses and ring attempts among them); a call back taken is a key-out."""
    base = midnight(UTC)
    lines: list[tuple[int, str]] = []
    answered: dict[str, int] = {}
    entered: dict[str, str] = {}
    """Contact -> the queue it entered: Asterisk logs a caller under it all along (the
    core's overflow is not Asterisk's)."""
    for events in trace:
        for e in events:
            epoch = math.floor(base + e.at)
            cid = f"{1717300000 + int(getattr(e, 'contact_id', '0') or 0)}.7"
            q = entered.get(getattr(e, "contact_id", ""), "")
            if isinstance(e, ContactQueued) and e.contact_id not in entered:
                entered[e.contact_id] = e.queue
                lines.append((epoch, f"{cid}|{e.queue}|NONE|ENTERQUEUE||+15550000|1"))
                lines.append((epoch, f"NONE|{e.queue}|PJSIP/2001|PAUSE|Lunch"))
            elif isinstance(e, ContactAnswered) and e.segment == 1:
                hold = round(e.wait_seconds)
                answered[e.contact_id] = hold
                agent = f"PJSIP/{e.agent_id}"
                lines.append((epoch, f"{cid}|{q}|{agent}|RINGNOANSWER|0"))
                lines.append((epoch, f"{cid}|{q}|{agent}|CONNECT|{hold}|1.1|0"))
            elif isinstance(e, ContactCompleted):
                hold, talk = answered.pop(e.contact_id), round(e.handle_seconds)
                agent = f"PJSIP/{e.agent_id}"
                lines.append((epoch, f"{cid}|{q}|{agent}|COMPLETECALLER|{hold}|{talk}|1"))
            elif isinstance(e, ContactAbandoned):
                lines.append((epoch, f"{cid}|{q}|NONE|ABANDON|1|1|{round(e.wait_seconds)}"))
            elif isinstance(e, ContactRemoved):
                wait = round(e.wait_seconds)
                lines.append((epoch, f"{cid}|{q}|NONE|EXITWITHKEY|1|1|1|{wait}"))
    lines.sort(key=lambda line: line[0])  # (stable: the order events happened in)
    return "".join(f"{epoch}|{rest}\n" for epoch, rest in lines)


def test_a_simulated_day_as_a_queue_log_converts_back_and_replays(tmp_path: Path) -> None:
    spec = day_spec()
    spec["callbacks"] = {"accept_probability": 0.0}
    spec["retrials"] = {"probability": 0.0}
    spec["tiers"] = {"standard": 1.0}  # (queue_log has no tiers)
    path = write_scenario(tmp_path / "s", spec, staffing=STAFFING)
    day, trace = simulated_day(path)
    log = tmp_path / "queue_log"
    log.write_text(queue_log_of(trace), encoding="utf-8")
    got = read_queue_log(log, UTC)
    assert got.day == date(2024, 6, 3)
    outcomes = Counter(c.outcome for c in got.contacts)
    per_queue = kpis(day.counts.sum(axis=0))
    assert outcomes["answered"] == per_queue["answered"].sum() > 200
    assert outcomes["abandoned"] == per_queue["abandoned"].sum() > 50
    assert len(got.contacts) == per_queue["offered"].sum()
    assert all(c.arrived == int(c.arrived) and c.wait == int(c.wait) for c in got.contacts)

    setup = replay_setup(path, got)
    again = replay_once(setup.model, setup.day, np.random.SeedSequence(1))
    replayed = kpis(again.counts.sum(axis=0))
    queues = list(setup.model.center.queues)
    for q in ("sales", "billing", "support_chat"):
        j = queues.index(q)
        assert replayed["offered"][j] == per_queue["offered"][j]
        # whole seconds move some waits by under a second: nearly the day's KPIs
        assert replayed["abandoned"][j] == pytest.approx(per_queue["abandoned"][j], abs=2)
        assert replayed["sl_offered"][j] == pytest.approx(per_queue["sl_offered"][j], abs=0.02)
        assert replayed["asa"][j] == pytest.approx(per_queue["asa"][j], abs=0.5)
    assert (
        read_contacts(DATA / "contacts.csv").contacts
        == read_queue_log(DATA / "queue_log", UTC).contacts
    )
