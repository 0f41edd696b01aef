"""The metrics, rules and dashboard queries against real Prometheus tooling.

Needs ``promtool`` and ``prometheus`` on PATH (Debian package ``prometheus``, listed in
``.ci/apt-packages.txt``). A real server scrapes a loopback HTTP server that serves the
metrics of a scripted shift, evaluates ``rules.yml``, and answers the dashboard queries.
Only loopback traffic.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from contactcenter.config import Center
from contactcenter.metrics import Metrics, exposition
from contactcenter.routing import Router
from tests import peers

from .scenario import (
    CONTACT_IDS,
    CUSTOMER_IDS,
    END,
    EXPECTED_AGENTS,
    EXPECTED_WAITING,
    ROOT,
    center,
    run_shift,
)

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
HOW = (
    "install the Debian package `prometheus` (apt-get install -y prometheus; it is listed in "
    ".ci/apt-packages.txt for CI)"
)
needs_promtool = peers.required(None if PROMTOOL else f"promtool not on PATH: {HOW}")
needs_prometheus = peers.required(None if PROMETHEUS else f"prometheus server not on PATH: {HOW}")

PROM_DIR = ROOT / "config" / "prometheus"
RULES = PROM_DIR / "rules.yml"
RULES_TEST = Path(__file__).parent / "prometheus" / "rules_test.yml"


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_promtool
def test_promtool_check_rules() -> None:
    out = promtool("check", "rules", str(RULES))
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_rule_unit_tests() -> None:
    out = promtool("test", "rules", str(RULES_TEST))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


@needs_promtool
def test_promtool_check_example_config() -> None:
    out = promtool("check", "config", str(PROM_DIR / "prometheus.yml"))
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_lints_exposition() -> None:
    c = center()
    shift = run_shift(c)
    m = Metrics(c)
    m.observe_all(shift.events)
    m.bind_router(shift.router, lambda: END)
    m.observe_survey("sales", "voice", 4)
    out = promtool("check", "metrics", stdin=m.render())
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (
        out.stdout + out.stderr
    )


# == a live server ===========================================================================


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """Metrics of a router, served over loopback HTTP; ``lock`` keeps scrapes out while the
    test changes the router (the runtime gets the same from running on one event loop)."""

    center: Center
    metrics: Metrics
    lock: threading.Lock
    port: int
    scrapes: list[str]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    c = center()
    metrics = Metrics(c)
    metrics.bind_router(Router(c), lambda: 0.0)
    lock = threading.Lock()
    scrapes: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            with lock:
                body, ctype = exposition(metrics.registry, self.headers.get("Accept"))
                scrapes.append(ctype)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    try:
        yield Served(c, metrics, lock, server.server_address[1], scrapes)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Prom:
    url: str
    log: Path

    def get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=5) as resp:
            return json.load(resp)

    def query(self, expr: str) -> list[dict[str, Any]]:
        reply = self.get("/api/v1/query", query=expr)
        assert reply["status"] == "success", (expr, reply)
        result: list[dict[str, Any]] = reply["data"]["result"]
        return result

    def by(self, expr: str, label: str) -> dict[str, float]:
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in self.query(expr)}

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (urllib.error.URLError, ConnectionError, KeyError, AssertionError):
                pass
            time.sleep(0.25)
        tail = self.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"timed out waiting for {what}; prometheus log tail:\n{tail}")


@pytest.fixture(scope="module")
def prom(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prom]:
    peers.require(None if PROMETHEUS else f"prometheus server not on PATH: {HOW}")
    work = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "contactcenter",
                "static_configs": [{"targets": [f"127.0.0.1:{served.port}"]}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = work / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=work,
        )
    p = Prom(f"http://127.0.0.1:{port}", log)
    try:

        def ready() -> bool:
            assert proc.poll() is None, "prometheus exited"
            with urllib.request.urlopen(f"{p.url}/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)

        p.wait_for("the server to be ready", ready)
        yield p
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def dashboard_panels() -> list[dict[str, str]]:
    doc = yaml.safe_load((PROM_DIR / "dashboard-queries.yml").read_text())
    panels: list[dict[str, str]] = doc["panels"]
    return panels


def test_dashboard_file_is_well_formed() -> None:
    panels = dashboard_panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        assert {"id", "title", "unit", "expr"} <= p.keys(), p


@needs_prometheus
def test_live_prometheus_scrapes_rules_and_dashboard(served: Served, prom: Prom) -> None:
    # 1. the zero state is scraped first, so the rules' increase() sees the shift happen
    prom.wait_for(
        "the first scrape",
        lambda: (
            prom.by('up{job="contactcenter"}', "job") == {"contactcenter": 1.0}
            and len(prom.query("contactcenter_contacts_queued_total")) == len(served.center.queues)
        ),
    )
    # 2. the shift happens "between two scrapes", in the live runtime's order: events to the
    #    metrics as they come, the router bound for the scrape-time gauges
    with served.lock:
        shift = run_shift(served.center, sink=served.metrics.observe_all)
        served.metrics.bind_router(shift.router, lambda: END)

    queued = "sum by (queue) (contactcenter_contacts_queued_total)"
    sl = "queue:contactcenter_service_level:ratio5m"
    prom.wait_for("the shift to be scraped", lambda: prom.by(queued, "queue")["sales"] == 6)
    prom.wait_for("the 5m recording rules", lambda: "sales" in prom.by(sl, "queue"))

    panels = {p["id"]: p["expr"] for p in dashboard_panels()}
    assert panels["contacts_queued_total"] == queued
    assert prom.by(queued, "queue") == {
        "vip": 0, "sales": 6, "support": 1, "billing": 2, "complaints": 1, "spanish": 0,
        "sales_chat": 0, "support_chat": 1, "billing_chat": 0, "support_email": 0,
    }  # fmt: skip

    # KPIs: sales offered 6 - 1 moved out = 5; answered within 30 s: 2 (waits 2, 14; 47 late);
    # abandoned 2 (one within 5 s); answer waits 2 + 14 + 47 = 63 over 3
    assert prom.by(panels["service_level_5m"], "queue")["sales"] == pytest.approx(2 / 5)
    excl = prom.by("queue:contactcenter_service_level_excl_short:ratio5m", "queue")
    assert excl["sales"] == pytest.approx(2 / 4)
    assert prom.by("queue:contactcenter_abandon_rate:ratio5m", "queue")["sales"] == pytest.approx(
        2 / 5
    )
    assert prom.by(panels["asa_5m"], "queue")["sales"] == pytest.approx(21)
    # billing: offered 2 (one moved in and taken out for a callback, one still waiting),
    # none answered -> 0; support_chat likewise; complaints moved its only contact on -> absent
    levels = prom.by(sl, "queue")
    assert levels["billing"] == 0 and levels["support_chat"] == 0
    assert "vip" not in levels and "complaints" not in levels  # nothing offered: absent
    assert prom.by("channel:contactcenter_service_level:ratio5m", "channel")[
        "voice"
    ] == pytest.approx(2 / (5 + 2 + 0 + 1))

    # live state, read from the router at scrape time
    waiting = prom.by(panels["contacts_waiting"], "queue")
    oldest = prom.by(panels["oldest_waiting"], "queue")
    for qid in served.center.queues:
        n, age = EXPECTED_WAITING.get(qid, (0, 0.0))
        assert waiting[qid] == n and oldest[qid] == age, qid
    assert prom.by(panels["agents_by_state"], "state") == EXPECTED_AGENTS
    assert prom.by(panels["agents_logged_in"], "") == {"": 2}

    # the waiting alert: support_chat's contact (40 s > 10 s) is pending (for: 1m); billing's
    # (30 s, not above 30 s) and support's (20 s) are not
    alert = 'ALERTS{alertname="ContactCenterOldestWaitingAboveThreshold"}'
    prom.wait_for("the waiting alert", lambda: bool(prom.query(alert)))
    assert prom.by(alert, "queue") == {"support_chat": 1}
    assert prom.query(alert)[0]["metric"]["alertstate"] == "pending"

    # every dashboard query is valid PromQL on the server
    for pid, expr in panels.items():
        prom.query(expr)  # asserts status success
        assert pid

    # no ids reached the server: its label values are config names only
    for label in ("queue", "to_queue", "channel", "state", "reason", "outcome", "step"):
        values = prom.get(f"/api/v1/label/{label}/values")["data"]
        for ident in (*CONTACT_IDS, *CUSTOMER_IDS, "a04", "a05"):
            assert ident not in values, (label, ident)
    assert served.scrapes and all(s for s in served.scrapes)
