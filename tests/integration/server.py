"""A real ``contactcenter serve`` as a child process on loopback, for tests that crash and
restart it: users set with the CLI, started and stopped (or killed) by PID, and small async
HTTP/WebSocket helpers to talk to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "restart-password-1"


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "contactcenter", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )


def open_around_the_clock(config: Path) -> None:
    """Open every schedule of ``config`` (a copy of the example) at every hour of every day,
    holidays gone: ``serve`` runs the phone's and the chat's menus on the real clock, and a test
    must not depend on the hour or the date it runs at (hours and holidays are tested on an
    injected clock, ``tests/api/test_chat_ivr.py`` and ``tests/ivr``)."""
    path = config / "ivr" / "hours.yaml"
    hours = yaml.safe_load(path.read_text())
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for name in hours["schedules"]:
        hours["schedules"][name] = {"weekly": {day: ["00:00-24:00"] for day in days}}
    path.write_text(yaml.safe_dump(hours, sort_keys=False))


def set_users(
    db: Path | str,
    config: Path,
    users: Sequence[tuple[str, str, str | None]],
    extra: Sequence[str] = (),
) -> None:
    """``contactcenter user set`` for every user (the first alone: it creates the database);
    ``extra``: more options (``--data-keys``)."""
    for batch in (users[:1], users[1:]):
        procs = []
        for name, role, agent in batch:
            args = ["user", "set", name, "--role", role, "--password-stdin", "--db", str(db),
                    *extra]  # fmt: skip
            if agent is not None:
                args += ["--agent", agent, "--config", str(config)]
            procs.append(_cli(*args))
        for p in procs:
            out, _ = p.communicate(PASSWORD + "\n", timeout=120)
            assert p.returncode == 0, out


class ServerProcess:
    """``python -m contactcenter serve`` as a child process, started and stopped by PID."""

    def __init__(self, config: Path, db: Path | str, logs: Path, extra: Sequence[str] = ()) -> None:
        self.config = config
        self.db = db
        self.logs = logs
        self.extra = list(extra)
        """More ``serve`` options (e.g. ``--restart-grace``)."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.port = 0
        self.log_path = logs / "serve-0.log"

    def start(self, port: int = 0, timeout: float = 60.0) -> str:
        """Start the server (port 0: any free one) and wait until /healthz says ok."""
        self.launch(port)
        return self.serving(timeout)

    def launch(self, port: int = 0) -> None:
        """Start the server process and return at once (``serving`` waits for it)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.runs += 1
        self.log_path = self.logs / f"serve-{self.runs}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "contactcenter", "serve", "--config", str(self.config),
                 "--host", "127.0.0.1", "--port", str(port), "--db", str(self.db),
                 *self.extra],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=env,
            )  # fmt: skip

    def serving(self, timeout: float = 60.0) -> str:
        """Wait until the launched server says where it serves and /healthz says ok."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        base = None
        while base is None:
            m = re.search(r"serving on (http://127\.0\.0\.1:(\d+))", self.log())
            if m is not None:
                base, self.port = m.group(1), int(m.group(2))
                break
            assert self.proc.poll() is None, f"server exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"server did not start:\n{self.log()}"
            time.sleep(0.05)
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return base
            except OSError:
                pass
            assert self.proc.poll() is None, f"server exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"server not healthy:\n{self.log()}"
            time.sleep(0.05)

    @contextlib.contextmanager
    def standby(self) -> Iterator[ServerProcess]:
        """A second server of the same config and database, with ``--standby`` (its logs in a
        directory of their own), not launched yet; killed by its PID at the end."""
        logs = self.logs / f"standby-{len(list(self.logs.glob('standby-*')))}"
        logs.mkdir()
        srv = ServerProcess(self.config, self.db, logs, extra=[*self.extra, "--standby"])
        try:
            yield srv
        finally:
            srv.finish()

    def waiting(self, timeout: float = 60.0) -> None:
        """Wait until the launched standby says it waits for the serving engine."""
        deadline = time.monotonic() + timeout
        while "Standby: database" not in self.log():
            assert self.proc is not None and self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or a power cut of the process."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM (a clean shutdown); the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.finish()
                raise
        return self.proc.returncode

    def finish(self) -> None:
        """Whatever happened: the child is gone when this returns (SIGKILL by its PID)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


async def frame(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 15.0, **match: Any
) -> dict[str, Any]:
    """The next frame of ``kind`` (with ``match``ing fields); other frames are skipped."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, f"socket ended waiting for {kind}: {msg}"
            data: dict[str, Any] = json.loads(msg.data)
            if data.get("type") == kind and all(data.get(k) == v for k, v in match.items()):
                return data


async def login(http: aiohttp.ClientSession, base: str, user: str) -> dict[str, str]:
    async with http.post(
        f"{base}/api/login", json={"username": user, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["token"]
    return {"Authorization": f"Bearer {token}"}


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> Any:
    async with http.request(method, url, headers=headers, json=body) as resp:
        text = await resp.text()
        assert 200 <= resp.status < 300, (method, url, resp.status, text)
        return json.loads(text)


@contextlib.contextmanager
def fresh_server(
    tmp_path: Path, users: Sequence[tuple[str, str, str | None]], database: str | None = None
) -> Iterator[ServerProcess]:
    """A server (not started yet) on a copy of the example config (its chat open around the
    clock) and a new database holding ``users`` (``database``: a PostgreSQL URL, its files in
    ``var/``; else a SQLite file); killed by its PID at the end, whatever happened."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    open_around_the_clock(config)
    state = tmp_path / "var"
    db: Path | str = database or state / "cc.sqlite3"
    extra: list[str] = []
    if database is not None:
        extra = ["--data-keys", str(state / "data-keys")]
    set_users(db, config, users, extra)
    if database is not None:
        extra += ["--state-dir", str(state)]
    srv = ServerProcess(config, db, tmp_path, extra)
    try:
        yield srv
    finally:
        srv.finish()
