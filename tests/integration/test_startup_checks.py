"""``contactcenter serve`` checks what it needs before it writes anything, and when something is
missing says so in one line and exits (a real process each time).

Found in issue 11: on a port already in use it first created a database with users and printed
their passwords, then died with a raw traceback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.server import ROOT, ServerProcess, fresh_server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    return config


def serve(config: Path, db: Path, *args: str) -> tuple[int, list[str]]:
    """Run ``serve`` to its end: (exit code, the lines it wrote)."""
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(config),
         "--db", str(db), "--host", "127.0.0.1", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).splitlines()


def refused(code: int, lines: list[str], *words: str) -> str:
    """The one line of a refused start, which must name ``words``."""
    assert code == 1, lines
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("contactcenter serve: cannot start:"), line
    assert all(w in line for w in words), line
    return line


def listening_tcp() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """``directory`` where nobody may create files (root too: the immutable attribute)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


def test_a_port_in_use_is_refused_before_anything_is_written(tmp_path: Path, config: Path) -> None:
    with listening_tcp() as busy:
        port = busy.getsockname()[1]
        code, lines = serve(config, tmp_path / "var" / "cc.sqlite3", "--port", str(port))
    refused(code, lines, f"127.0.0.1:{port}", "in use")
    assert not (tmp_path / "var").exists()


def test_the_voice_sip_port_in_use_is_refused(tmp_path: Path, config: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy, listening_tcp() as free:
        busy.bind(("127.0.0.1", 0))
        sip = busy.getsockname()[1]
        voice = {"enabled": True, "local": {"ip": "127.0.0.1", "sip_port": sip}}
        (config / "voice.yaml").write_text(yaml.safe_dump({"voice": voice}))
        port = free.getsockname()[1]
        free.close()  # a port that was free a moment ago: the HTTP side is fine
        code, lines = serve(config, tmp_path / "var" / "cc.sqlite3", "--port", str(port))
    refused(code, lines, f"SIP port 127.0.0.1:{sip}", "in use")
    assert not (tmp_path / "var").exists()


def test_a_database_directory_nobody_may_write_is_refused(tmp_path: Path, config: Path) -> None:
    var = tmp_path / "var"
    with read_only(var):
        code, lines = serve(config, var / "cc.sqlite3", "--port", "0")
        refused(code, lines, str(var), "writ")
        assert list(var.iterdir()) == []


def test_a_file_where_the_database_directory_should_be_is_refused(
    tmp_path: Path, config: Path
) -> None:
    (tmp_path / "var").write_text("not a directory")
    code, lines = serve(config, tmp_path / "var" / "db" / "cc.sqlite3", "--port", "0")
    refused(code, lines, str(tmp_path / "var"), "not a directory")


def test_a_file_that_is_no_database_is_refused_untouched(tmp_path: Path, config: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("customer notes, not a database\n")
    code, lines = serve(config, db, "--port", "0")
    refused(code, lines, str(db), "not a")
    assert db.read_text() == "customer notes, not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "notes.txt"]


def test_an_address_this_machine_does_not_have_is_refused(tmp_path: Path, config: Path) -> None:
    code, lines = serve(config, tmp_path / "cc.sqlite3", "--port", "0", "--host", "192.0.2.1")
    refused(code, lines, "192.0.2.1")
    assert not (tmp_path / "cc.sqlite3").exists()


def test_a_bad_config_writes_nothing(tmp_path: Path, config: Path) -> None:
    (config / "queues.yaml").write_text("queues: [not, a, mapping]\n")
    code, lines = serve(config, tmp_path / "var" / "cc.sqlite3", "--port", "0")
    assert code == 1 and lines and not any("Traceback" in ln for ln in lines)
    assert not (tmp_path / "var").exists()


def test_a_second_engine_on_the_same_database_is_refused_until_the_first_is_gone(
    tmp_path: Path,
) -> None:
    """Two engines on one database would route the same waiting contacts twice."""
    with fresh_server(tmp_path, [("root", "admin", None)]) as first:
        first.start()
        assert first.proc is not None
        code, lines = serve(first.config, first.db, "--port", "0")
        refused(code, lines, str(first.db), "another engine", f"process {first.proc.pid}")
        assert "cannot start" not in first.log()  # the first one serves on, untouched
        assert not (first.db.parent / "initial-passwords.txt").exists()  # no users made
        first.kill9()  # the kernel lets go of its lock: a restart is not blocked by the file
        second = ServerProcess(first.config, first.db, tmp_path / "second")
        (tmp_path / "second").mkdir()
        try:
            second.start()
            assert second.stop() == 0
        finally:
            second.finish()


async def test_a_port_taken_after_the_check_is_said_in_one_line(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the check and the bind another program may take the port: the same one line."""
    from contactcenter.api import serve as serving
    from contactcenter.api.preflight import CannotServe
    from contactcenter.config import load_center

    with listening_tcp() as busy:
        port = busy.getsockname()[1]
        monkeypatch.setattr(serving, "check", lambda ports, db: None)  # it was free then
        with pytest.raises(CannotServe, match=f"127.0.0.1:{port} is in use"):
            await serving.serve(
                load_center(config), port=port, db_path=tmp_path / "var" / "cc.sqlite3",
                say=lambda line: None,
            )  # fmt: skip
    assert not serving.lock_problem(tmp_path / "var" / "cc.sqlite3")  # the lock was let go
