"""The Grafana files in config/grafana: generated, and valid for Grafana's JSON model.

Grafana itself cannot run here (no Debian package; nothing is downloaded), so the dashboards
are read back through grafana-foundation-sdk's own model of a dashboard (the one its builders
write): a key the model does not know is dropped on the way, a panel or query type it does not
know decodes to a bag of unknown data, so the round trip must give the file back unchanged.
What the panels' queries return is checked on a real Prometheus and engine in
``test_dashboards_live.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import bargauge, prometheus, stat, timeseries
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel

from contactcenter.metrics.dashboards import DATASOURCE_UID, files

from .scenario import ROOT

GRAFANA = ROOT / "config" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
OPTIONS = {"stat": stat.Options, "bargauge": bargauge.Options, "timeseries": timeseries.Options}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_shipped_files_are_generated() -> None:
    expected = files()
    shipped = {
        str(p.relative_to(GRAFANA)): p.read_text(encoding="utf-8")
        for p in GRAFANA.rglob("*")
        if p.is_file()
    }
    assert shipped == expected, (
        "config/grafana is stale: python -m contactcenter.metrics.dashboards config/grafana/"
    )
    assert [p.name for p in DASHBOARDS] == [
        "contactcenter-intraday.json",
        "contactcenter-wallboard.json",
    ]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_reads_back_through_the_sdk_model(path: Path) -> None:
    register_default_plugins()
    data = load(path)
    model = Dashboard.from_json(data)
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == data
    assert model.panels
    for panel in model.panels:
        if isinstance(panel, RowPanel):
            continue
        assert isinstance(panel, Panel)
        assert panel.type_val in OPTIONS, panel.title
        assert isinstance(panel.options, OPTIONS[panel.type_val]), panel.title
        assert panel.targets, panel.title
        for target in panel.targets:
            assert isinstance(target, prometheus.Dataquery), panel.title
            assert target.expr and target.ref_id, panel.title


def test_a_misspelt_key_does_not_survive_the_model() -> None:
    """The check above can fail: a key Grafana's model does not have is lost on the way."""
    register_default_plugins()
    data = load(DASHBOARDS[0])
    data["panels"][1]["targets"][0]["exprr"] = data["panels"][1]["targets"][0].pop("expr")
    assert json.loads(json.dumps(Dashboard.from_json(data), cls=JSONEncoder)) != data


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_layout_and_references(path: Path) -> None:
    data = load(path)
    assert 8 <= len(data["uid"]) <= 40 and "id" not in data
    assert data["time"] == {"from": "now/d", "to": "now"}
    names = [v["name"] for v in data["templating"]["list"]]
    assert names[:2] == ["channel", "queue"]
    panels = data["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    titles = [p["title"] for p in panels]
    assert len(titles) == len(set(titles))
    for p in panels:
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == DATASOURCE_UID
            # per-queue panels follow the variables; the two center-wide ones cannot
            site_wide = "contactcenter_agents{" in t["expr"] or "agent_state_seconds" in t["expr"]
            assert site_wide or '$queue"' in t["expr"], (p["title"], t["expr"])
            assert t["instant"] is (p["type"] != "timeseries"), p["title"]


def test_provisioning_points_at_the_dashboards() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/contactcenter.yaml").read_text())
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/contactcenter.yaml").read_text())
    assert sources["apiVersion"] == providers["apiVersion"] == 1
    (source,) = sources["datasources"]
    assert (source["type"], source["uid"], source["access"]) == (
        "prometheus",
        DATASOURCE_UID,
        "proxy",
    )
    prometheus_yml = yaml.safe_load((ROOT / "config/prometheus/prometheus.yml").read_text())
    assert source["jsonData"]["timeInterval"] == prometheus_yml["global"]["scrape_interval"]
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter.metrics.dashboards", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_generator_writes_a_directory(tmp_path: Path) -> None:
    out = run_generator(str(tmp_path / "grafana"))
    assert out.returncode == 0, out.stderr
    written = {
        str(p.relative_to(tmp_path / "grafana")) for p in (tmp_path / "grafana").rglob("*.*")
    }
    assert written == set(files())


def test_generator_refuses_a_file_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "grafana"
    target.write_text("keep me")
    out = run_generator(str(target))
    assert out.returncode == 2
    assert out.stderr == f"{target}: not a directory\n"
    assert target.read_text() == "keep me"
    usage = run_generator()
    assert usage.returncode == 2 and usage.stderr.startswith("usage: ")
