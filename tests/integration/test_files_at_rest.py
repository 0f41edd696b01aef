"""What a real ``contactcenter serve`` leaves on disk: its database and files readable by their
owner only, and the first run's passwords in one private file, never in its output.

Found in issue 11: the database and its -wal and -shm files were created 0644, and the first
run printed every password to stdout, from where they went into the server's logs.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from contactcenter.api.serve import PASSWORDS_FILE, SECRET_FILE
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    open_around_the_clock,
    set_users,
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    open_around_the_clock(config)
    return config


@pytest.fixture
def server(tmp_path: Path, config: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(config, tmp_path / "var" / "cc.sqlite3", tmp_path)
    try:
        yield srv
    finally:
        srv.finish()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def passwords(path: Path) -> dict[str, tuple[str, str]]:
    rows = [ln.split("\t") for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return {name: (role, pw) for name, role, pw in rows}


async def test_first_run_writes_passwords_only_to_the_private_file(server: ServerProcess) -> None:
    base = server.start()
    pw_file = server.db.parent / PASSWORDS_FILE
    assert mode(pw_file) == 0o600
    created = passwords(pw_file)
    assert {n for n, (role, _) in created.items() if role == "agent"} >= {"a05", "a06"}
    assert created["admin"][0] == "admin" and created["supervisor"][0] == "supervisor"
    out = server.log()
    assert str(pw_file) in out
    assert not [name for name, (_, pw) in created.items() if pw in out]
    async with aiohttp.ClientSession() as http:
        me = await call(http, "POST", f"{base}/api/login",
                        body={"username": "admin", "password": created["admin"][1]})  # fmt: skip
        assert me["role"] == "admin"
    assert server.stop() == 0


async def test_the_database_and_its_files_are_private(server: ServerProcess, config: Path) -> None:
    set_users(server.db, config, [("root", "admin", None)])  # no first run: quicker
    base = server.start()
    async with aiohttp.ClientSession() as http:  # something in the -wal
        await call(http, "POST", f"{base}/api/chat", body={"name": "Jan", "topic": "sales"})
    var = server.db.parent
    files = [server.db, var / "cc.sqlite3-wal", var / "cc.sqlite3-shm", var / SECRET_FILE]
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(var) == 0o700
    assert server.stop() == 0


def user_set(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "user", "set", "boss", "--role", "supervisor",
         "--password-stdin", "--db", str(db)],
        input="s3cret-password\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_user_set_creates_a_private_database(tmp_path: Path) -> None:
    db = tmp_path / "new" / "cc.sqlite3"
    user_set(db)
    assert mode(db) == 0o600 and mode(db.parent) == 0o700


def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    db = tmp_path / "cc.sqlite3"
    old = sqlite3.connect(db)  # as an older version left them: 0644, in WAL mode, open
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("CREATE TABLE leftover (x)")
    old.commit()
    files = [db, *(db.with_name(db.name + end) for end in ("-wal", "-shm"))]
    for f in files:
        f.chmod(0o644)
    user_set(db)
    assert [mode(f) for f in files] == [0o600] * 3
    old.close()
