"""A real Prometheus server for the tests: started on a free loopback port, scraping one
loopback target every second and evaluating rule files, stopped by its PID.

Needs ``prometheus`` on PATH (Debian package ``prometheus``, in ``.ci/apt-packages.txt``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import peers

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
HOW = (
    "install the Debian package `prometheus` (apt-get install -y prometheus; it is listed in "
    ".ci/apt-packages.txt for CI)"
)
needs_promtool = peers.required(None if PROMTOOL else f"promtool not on PATH: {HOW}")
needs_prometheus = peers.required(None if PROMETHEUS else f"prometheus server not on PATH: {HOW}")
JOB = "contactcenter"
_WAITING = (urllib.error.URLError, ConnectionError, KeyError, AssertionError)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Prom:
    url: str
    log: Path

    def get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=5) as resp:
            return json.load(resp)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query (at ``at``, Unix seconds; default now); asserts it succeeded."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        reply = self.get("/api/v1/query", **params)
        assert reply["status"] == "success", (expr, reply)
        result: list[dict[str, Any]] = reply["data"]["result"]
        return result

    def by(self, expr: str, *labels: str, at: float | None = None) -> dict[Any, float]:
        """Result values keyed by the ``labels``' values (one label: the value itself)."""
        out: dict[Any, float] = {}
        for r in self.query(expr, at):
            key = tuple(r["metric"].get(label, "") for label in labels)
            out[key[0] if len(key) == 1 else key] = float(r["value"][1])
        return out

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except _WAITING:
                pass
            time.sleep(0.25)
        self.fail(what)

    async def until(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        """``wait_for`` that lets the event loop run (and serve the scrapes) meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except _WAITING:
                pass
            await asyncio.sleep(0.25)
        self.fail(what)

    def fail(self, what: str) -> None:
        tail = self.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"timed out waiting for {what}; prometheus log tail:\n{tail}")


def every_second(rules: Path, work: Path) -> Path:
    """A copy of ``rules`` whose groups all run at the global evaluation interval (the shipped
    1h and 1d groups run once a minute, longer than a test should wait)."""
    doc = yaml.safe_load(rules.read_text())
    for group in doc["groups"]:
        group.pop("interval", None)
    copy = work / rules.name
    copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    return copy


@contextmanager
def prometheus(work: Path, target_port: int, rule_files: list[Path]) -> Iterator[Prom]:
    """A Prometheus scraping ``127.0.0.1:<target_port>/metrics`` every second as job
    ``contactcenter``, evaluating ``rule_files`` every second; ready when yielded."""
    peers.require(None if PROMETHEUS else f"prometheus server not on PATH: {HOW}")
    assert PROMETHEUS is not None
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}
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
