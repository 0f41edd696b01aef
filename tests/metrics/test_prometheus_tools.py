"""The metrics, rules and dashboard queries against real Prometheus tooling.

Needs ``promtool`` and ``prometheus`` on PATH (Debian package ``prometheus``, listed in
``.ci/apt-packages.txt``). A real server scrapes a loopback HTTP server that serves the
metrics of a scripted shift and evaluates ``rules.yml``; promtool lints the exposition and runs
the rules' unit tests. The dashboards' queries and the alerts on a real engine:
``test_dashboards_live.py``. Only loopback traffic.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contactcenter.config import Center
from contactcenter.metrics import Metrics, exposition
from contactcenter.routing import Router

from .promserver import PROMTOOL, Prom, needs_prometheus, needs_promtool, prometheus
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


@pytest.fixture(scope="module")
def prom(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prom]:
    with prometheus(tmp_path_factory.mktemp("prometheus"), served.port, [RULES]) as p:
        yield p


@needs_prometheus
def test_live_prometheus_scrapes_and_records(served: Served, prom: Prom) -> None:
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

    assert prom.by(queued, "queue") == {
        "vip": 0, "sales": 6, "support": 1, "billing": 2, "complaints": 1, "spanish": 0,
        "sales_chat": 0, "support_chat": 1, "billing_chat": 0, "support_email": 0, "case_tasks": 0,
    }  # fmt: skip

    # KPIs: sales offered 6 - 1 moved out = 5; answered within 30 s: 2 (waits 2, 14; 47 late);
    # abandoned 2 (one within 5 s); answer waits 2 + 14 + 47 = 63 over 3
    assert prom.by(sl, "queue")["sales"] == pytest.approx(2 / 5)
    excl = prom.by("queue:contactcenter_service_level_excl_short:ratio5m", "queue")
    assert excl["sales"] == pytest.approx(2 / 4)
    assert prom.by("queue:contactcenter_abandon_rate:ratio5m", "queue")["sales"] == pytest.approx(
        2 / 5
    )
    asa = "queue:contactcenter_answer_wait_seconds:mean5m"
    assert prom.by(asa, "queue")["sales"] == pytest.approx(21)
    # billing: offered 2 (one moved in and taken out for a callback, one still waiting),
    # none answered -> 0; support_chat likewise; complaints moved its only contact on -> absent
    levels = prom.by(sl, "queue")
    assert levels["billing"] == 0 and levels["support_chat"] == 0
    assert "vip" not in levels and "complaints" not in levels  # nothing offered: absent
    assert prom.by("channel:contactcenter_service_level:ratio5m", "channel")[
        "voice"
    ] == pytest.approx(2 / (5 + 2 + 0 + 1))

    # live state, read from the router at scrape time
    waiting = prom.by("contactcenter_contacts_waiting", "queue")
    oldest = prom.by("contactcenter_oldest_waiting_age_seconds", "queue")
    for qid in served.center.queues:
        n, age = EXPECTED_WAITING.get(qid, (0, 0.0))
        assert waiting[qid] == n and oldest[qid] == age, qid
    assert prom.by("contactcenter_agents", "state") == EXPECTED_AGENTS

    # the waiting alert: support_chat's contact (40 s > 10 s) is pending (for: 1m); billing's
    # (30 s, not above 30 s) and support's (20 s) are not
    alert = 'ALERTS{alertname="ContactCenterOldestWaitingAboveThreshold"}'
    prom.wait_for("the waiting alert", lambda: bool(prom.query(alert)))
    assert prom.by(alert, "queue") == {"support_chat": 1}
    assert prom.query(alert)[0]["metric"]["alertstate"] == "pending"

    # no ids reached the server: its label values are config names only
    for label in ("queue", "to_queue", "channel", "state", "reason", "outcome", "step"):
        values = prom.get(f"/api/v1/label/{label}/values")["data"]
        for ident in (*CONTACT_IDS, *CUSTOMER_IDS, "a04", "a05"):
            assert ident not in values, (label, ident)
    assert served.scrapes and all(s for s in served.scrapes)
