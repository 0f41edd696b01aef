"""A real PostgreSQL server for the tests: Debian's ``postgresql`` binaries, a fresh cluster
(``initdb``) in a temporary directory, listening on a free loopback port only, stopped by its
PID. Each test gets a database of its own (``new_database``).

PostgreSQL refuses to run as root, so under root the cluster's directory belongs to Debian's
``postgres`` user and the server runs as that user.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import processes
from tests.bus.conftest import free_port
from tests.peers import require

HOW = "apt-get install postgresql"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory (``/usr/lib/postgresql/N/bin``)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _as_postgres() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when this is root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


@dataclass
class Postgres:
    """One PostgreSQL cluster in ``workdir``, on ``port`` of 127.0.0.1, user ``cc`` (trust)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    durable: bool = True
    """False: the server does not wait for the disk (``fsync=off``): for the suite's shared
    server, whose tests never lose the machine; what must survive a crash of the server is
    tested on a durable one of its own."""
    _names: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://cc@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        ids = _as_postgres()

        def become() -> None:
            if ids is not None:
                os.setgid(ids[1])
                os.setuid(ids[0])

        return subprocess.run(
            args, preexec_fn=become, capture_output=True, check=False, cwd=self.workdir
        )

    def init(self) -> None:
        bindir = binaries()
        require(None if bindir else f"PostgreSQL is not installed ({HOW})")
        assert bindir is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "run").mkdir(exist_ok=True)
        if (ids := _as_postgres()) is not None:
            for p in (self.workdir, self.workdir / "run"):
                os.chown(p, *ids)
        done = self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "cc",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        assert done.returncode == 0, f"initdb failed:\n{done.stdout.decode()}{done.stderr.decode()}"

    def start(self, timeout: float = 30.0) -> None:
        bindir = binaries()
        require(None if bindir else f"PostgreSQL is not installed ({HOW})")
        assert bindir is not None
        if not self.data.exists():
            self.init()
        assert self.proc is None or self.proc.poll() is not None, "already running"
        ids = _as_postgres()
        log = (self.workdir / "postgres.log").open("ab")

        def become() -> None:
            os.setsid()
            if ids is not None:
                os.setgid(ids[1])
                os.setuid(ids[0])

        self.proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.workdir / "run"),
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
                *([] if self.durable else ["-c", "fsync=off"]),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=become,
        )
        log.close()

        def serving() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
            except OSError:
                return False
            return (
                self._run(
                    [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
                ).returncode
                == 0
            )

        processes.wait_serving(self.proc, serving, self.log, "postgres", timeout)

    def stop(self) -> None:
        """A fast shutdown (SIGINT: sessions ended, then a clean stop) by PID, SIGKILL of
        what is left after 10 s."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def kill(self) -> None:
        """The server gone at once (SIGKILL to its process group), as a lost machine."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        time.sleep(0.1)

    def log(self) -> str:
        path = self.workdir / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        bindir = binaries()
        assert bindir is not None
        name = f"t{os.getpid()}_{next(self._names)}"
        done = self._run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "cc", name]
        )
        assert done.returncode == 0, f"createdb failed: {done.stderr.decode()}"
        return self.url(name)


def database_for(request: pytest.FixtureRequest, backend: str) -> str | None:
    """For a test run on ``backend``: a new database of the session's PostgreSQL server
    (``postgres`` fixture) for "postgresql", None (a SQLite file of the test's) for "sqlite"."""
    if backend == "sqlite":
        return None
    server: Postgres = request.getfixturevalue("postgres")
    return server.new_database()


@contextmanager
def running_postgres(*, durable: bool = True) -> Iterator[Postgres]:
    """A started server in a new directory under the system's temporary directory (pytest's
    own are closed to other users, and the server may run as ``postgres``); stopped and its
    directory removed at the end."""
    with processes.running_in_own_dir(
        "cc-postgres-", lambda workdir: Postgres(workdir, durable=durable)
    ) as server:
        yield server
