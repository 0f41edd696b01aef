"""Scenario input: the shipped example loads; bad input names the file, the field, the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario
from tests.sim.files import ROOT, base_spec, write_scenario


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(i) for i in info.value.issues]


def test_example_planning_scenario_loads() -> None:
    model = load_scenario(ROOT / "config" / "planning" / "scenario.yaml")
    fc = model.forecast
    assert fc.interval_seconds == 1800
    assert fc.label(0) == "07:00" and fc.label(fc.intervals - 1) == "20:30"
    assert 95_000 <= fc.contacts.sum() <= 105_000
    assert set(model.center.queues) <= set(fc.queues)
    forecast = [j for j, q in enumerate(fc.queues) if q != "case_tasks"]
    assert (fc.contacts[:, forecast] > 0).all()  # every queue forecast has traffic all day
    assert fc.contacts[:, fc.queues.index("case_tasks")].sum() == 0  # tasks: none unless given
    assert model.staffing is not None
    sizes = {g.name: len(g.agents) for g in model.groups}
    for j, g in enumerate(model.staffing.groups):
        assert 0 < model.staffing.counts[:, j].max() <= sizes[g]
    assert len(model.center.agents) > 1000  # the template agents were cloned


def test_groups_clone_template_agents(tmp_path: Path) -> None:
    model = load_scenario(write_scenario(tmp_path))
    sales = model.group("sales")
    assert len(sales.agents) == 10
    template = model.center.agents["a05"]
    clone = model.center.agents[sales.agents[0]]
    assert clone.skills == template.skills and clone.queues == template.queues
    assert clone.dedicated_customers == () and clone.extension is None
    assert model.group("sales").queues == ("sales", "sales_chat")  # tier-1 memberships
    assert model.staffing is not None
    assert model.staffing.groups == ("sales", "billing", "chat")
    assert model.staffing.counts.tolist() == [[6, 7, 2], [6, 7, 2]]


def test_unknown_and_invalid_scenario_keys(tmp_path: Path) -> None:
    spec = base_spec()
    spec["shrinkage"] = 1.5
    spec["patiense"] = {"distribution": "none"}
    spec["handle_time"] = {"distribution": "lognormal"}
    spec["queues"] = {"sales": {"callbacks": {"accept_probability": 1.2}}}
    found = errors(write_scenario(tmp_path, spec))
    assert any(
        e.startswith("scenario.yaml: queues.sales.callbacks.accept_probability:") for e in found
    ), found
    assert any(e.startswith("scenario.yaml: shrinkage:") for e in found), found
    assert any("scenario.yaml: patiense:" in e and "Extra inputs" in e for e in found), found
    assert any("scenario.yaml: handle_time:" in e and "cv" in e for e in found), found


def test_cross_checks_against_the_center(tmp_path: Path) -> None:
    spec = base_spec()
    spec["tiers"] = {"vip": 0.5, "platinum": 0.2}
    spec["queues"] = {"nowhere": {"patience": {"distribution": "none"}}}
    spec["agent_groups"] = {
        "sales": {"template": "a99", "count": 3},
        "billing": {"agents": ["a22", "zz"]},
        "chat": {"agents": ["a22"]},
    }
    found = errors(write_scenario(tmp_path, spec))
    assert any("queues.nowhere: unknown queue" in e for e in found), found
    assert any("agent_groups.sales.template: unknown agent 'a99'" in e for e in found), found
    assert any("agent_groups.billing.agents[1]: unknown agent 'zz'" in e for e in found), found
    assert any("agent_groups.chat.agents" in e and "also in group" in e for e in found), found


def test_tier_shares_must_sum_to_one(tmp_path: Path) -> None:
    spec = base_spec()
    spec["tiers"] = {"vip": 0.5, "platinum": 0.2}
    found = errors(write_scenario(tmp_path, spec))
    assert any("scenario.yaml: tiers.platinum: unknown tier" in e for e in found), found
    assert any("scenario.yaml: tiers: tier shares must sum to 1" in e for e in found), found


def test_bad_forecast_rows_name_file_column_and_line(tmp_path: Path) -> None:
    forecast = (
        "interval_start,queue,contacts,aht_seconds\n"
        "09:00,sales,60,240\n"
        "09:30,sales,lots,240\n"
        "9.75,sales,60,240\n"
        "10:00,nowhere,60,240\n"
        "10:30,sales,60,0\n"
    )
    found = errors(write_scenario(tmp_path, forecast=forecast))
    assert "forecast.csv:3: contacts: not a number: 'lots'" in found
    assert any(e.startswith("forecast.csv:4: interval_start: expected HH:MM") for e in found)
    assert "forecast.csv:5: queue: unknown queue 'nowhere'" in found
    assert any(e.startswith("forecast.csv:6: aht_seconds: must be") for e in found)


def test_missing_forecast_column(tmp_path: Path) -> None:
    found = errors(write_scenario(tmp_path, forecast="interval_start,queue,contacts\n"))
    assert found == ["forecast.csv:1: aht_seconds: missing column"]


def test_bad_staffing_table(tmp_path: Path) -> None:
    staffing = "interval_start,sales,billing,chat,night\n09:00,6,7.5,2,1\n09:30,60,7,2,1\n"
    found = errors(write_scenario(tmp_path, staffing=staffing))
    assert "staffing.csv:2: night: unknown agent group 'night'" in found, found
    assert "staffing.csv:2: billing: agents must be a whole number, got '7.5'" in found, found


def test_staffing_larger_than_the_group(tmp_path: Path) -> None:
    staffing = "interval_start,sales,billing,chat\n09:00,6,7,2\n09:30,60,7,2\n"
    found = errors(write_scenario(tmp_path, staffing=staffing))
    assert any(e.startswith("staffing.csv: sales: needs 60 agents") for e in found), found


def test_bad_roster(tmp_path: Path) -> None:
    spec = base_spec()
    del spec["staffing"]
    spec["roster"] = "roster.csv"
    roster = (
        "agent,group,count,start,end\n"
        ",sales,4,09:00,10:00\n"
        "a29,,,09:00,08:00\n"
        ",sales,20,09:00,10:00\n"
        "a01,,,09:00,10:00\n"
    )
    found = errors(write_scenario(tmp_path, spec, staffing=None, extra={"roster.csv": roster}))
    assert "roster.csv:3: end: shift ends before it starts" in found, found
    assert "roster.csv:4: count: group 'sales' has only 6 agents free" in found, found
    assert "roster.csv:5: agent: agent 'a01' is in no agent group" in found, found


def test_bad_yaml_and_center(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("center: [unclosed\n", encoding="utf-8")
    (found,) = errors(path)
    assert found.startswith("scenario.yaml:") and "YAML syntax error" in found
    spec = base_spec()
    spec["center"] = str(tmp_path / "no-such-center")
    found_center = errors(write_scenario(tmp_path / "x", spec))
    assert any("not a directory" in e for e in found_center), found_center


def test_an_agent_group_gets_a_strict_queue_rank(tmp_path: Path) -> None:
    """``queue_rank`` on a group gives every agent of it that strict queue priority; a rank of
    a queue the center does not have is an error naming the group."""
    spec = base_spec()
    groups = spec["agent_groups"]
    assert isinstance(groups, dict)
    groups["sales"] = {"template": "a05", "count": 10, "queue_rank": {"sales_chat": 1, "sales": 2}}
    model = load_scenario(write_scenario(tmp_path / "ok", spec))
    for aid in model.group("sales").agents:
        assert model.center.agents[aid].queue_rank == {"sales_chat": 1, "sales": 2}
    assert all(not model.center.agents[a].queue_rank for a in model.group("billing").agents)
    groups["sales"] = {"template": "a05", "count": 10, "queue_rank": {"nope": 1}}
    with pytest.raises(ScenarioError) as err:
        load_scenario(write_scenario(tmp_path / "bad", spec))
    assert "unknown queue 'nope'" in str(err.value.issues[0])
