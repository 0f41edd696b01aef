"""The supervisors' per-agent assessment over HTTP, on a recorded morning of two agents
(``tests/store/agent_day.py``; its figures are worked out in ``test_assessment_store.py``): the
day, its intervals, one agent, who may read it, and bad queries."""

from __future__ import annotations

import json

from tests.api.conftest import Api
from tests.store.agent_day import record_day

PATH = "/api/supervisor/agents/assessment"


async def test_a_day_per_agent(api: Api) -> None:
    await record_day(api.store)
    got = await api.ok("GET", f"{PATH}?date=2024-03-05", "sup")
    assert (got["date"], got["by"], got["interval_minutes"]) == ("2024-03-05", "day", 30)
    assert [(a["agent_id"], a["name"]) for a in got["agents"]] == [
        ("a05", "Elif Fischer"),
        ("a06", "Farid Gomez"),
    ]
    (a05,) = got["agents"][0]["periods"]
    assert a05 == {
        "start": "2024-03-05T00:00:00+01:00",
        "handled": 2, "aht_seconds": 210.0, "talk_seconds": 195.0, "acw_seconds": 15.0,
        "occupancy": 0.8, "csat_answers": 1, "csat_average": 4.0,
        "first_contacts": 1, "resolved_first": 0, "fcr": 0.0,
        "transfers": 1, "no_answers": 1,
        "queues": [{"queue": "sales", "name": "Sales", "handled": 2}],
    }  # fmt: skip
    (a06,) = got["agents"][1]["periods"]
    assert (a06["aht_seconds"], a06["occupancy"], a06["csat_average"], a06["fcr"]) == (
        227.5, 0.75, 3.5, 1.0,
    )  # fmt: skip
    # sums and means only: nothing names a contact or a customer
    text = json.dumps(got)
    assert not any(secret in text for secret in ("C9001", "C9002", "C9003", '"c1"', '"c2"'))


async def test_the_intervals_of_one_agent(api: Api) -> None:
    await record_day(api.store)
    got = await api.ok("GET", f"{PATH}?date=2024-03-05&by=interval&agent=a05", "sup")
    (a05,) = got["agents"]
    periods = {p["start"]: p for p in a05["periods"]}
    assert list(periods) == ["2024-03-05T09:00:00+01:00", "2024-03-05T09:30:00+01:00"]
    first, second = periods.values()
    assert (first["handled"], first["aht_seconds"], first["occupancy"]) == (1, 120.0, 0.7667)
    assert (second["handled"], second["aht_seconds"], second["occupancy"]) == (1, 300.0, 0.84)
    assert (second["transfers"], second["no_answers"]) == (1, 1)
    # another day: nobody did anything
    empty = await api.ok("GET", f"{PATH}?date=2024-03-04&by=interval", "sup")
    assert empty["agents"] == []


async def test_only_supervisors_and_good_queries(api: Api) -> None:
    status, _ = await api.call("GET", PATH, "a05")
    assert status == 403
    status, _ = await api.call("GET", PATH)
    assert status == 401
    for query, code, message in (
        ("date=05.03.2024", "invalid_date", "date: not a date (YYYY-MM-DD)"),
        ("by=week", "invalid_by", "by must be day or interval"),
        ("agent=zz", "unknown_agent", "agent: not an agent of this center"),
    ):
        status, body = await api.call("GET", f"{PATH}?{query}", "sup")
        assert (status, body["error"]["code"], body["error"]["message"]) == (422, code, message)
    today = await api.ok("GET", PATH, "sup")  # today, by day, every agent
    assert today["by"] == "day" and today["agents"] == []
