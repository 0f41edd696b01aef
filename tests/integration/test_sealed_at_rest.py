"""A real ``contactcenter serve`` and the keys that seal customers' data at rest: a chat's lines
and name never reach the database files in clear, ``contactcenter keys rotate`` runs beside
the serving engine without losing a line, and a database whose keys file is missing is refused
in one line, with nothing written (no new key would open the old values).

Found in issue 11: personal fields (names, numbers, chat text, notes) were stored in clear.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import aiohttp

from contactcenter.store import Store
from contactcenter.store.sealing import Keyring
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    frame,
    open_around_the_clock,
    set_users,
)

NAME = "Ottilie Quendt"
BEFORE = "my IBAN is DE02 1203 0000 0000 2020 51"
AFTER = "and my card ends in 7312"


def cli(*args: str, given: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", *args],
        input=given, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip


def files_in(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def in_clear(db: Path, *values: str) -> list[str]:
    data = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    return [v for v in values if v.encode() in data]


def setup(tmp_path: Path) -> ServerProcess:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_around_the_clock(config)
    db = tmp_path / "var" / "cc.sqlite3"
    set_users(db, config, [("root", "admin", None)])
    return ServerProcess(config, db, tmp_path)


async def history(http: aiohttp.ClientSession, base: str, chat: str, token: str) -> list[str]:
    """The transcript the serving engine reads back from its store (a reconnecting
    customer's ``history`` frame)."""
    ws = await http.ws_connect(f"{base}/api/chat/{chat}/ws?token={token}")
    try:
        got = await frame(ws, "history")
        return [m["text"] for m in got["messages"]]
    finally:
        await ws.close()


async def test_rotation_beside_a_serving_engine_and_nothing_in_clear(tmp_path: Path) -> None:
    srv = setup(tmp_path)
    keys = srv.db.parent / "data-keys"
    try:
        base = srv.start()
        old = Keyring.from_json(keys.read_bytes()).active
        async with aiohttp.ClientSession() as http:
            started = await call(http, "POST", f"{base}/api/chat",
                                 body={"name": NAME, "topic": "sales"})  # fmt: skip
            chat, token = started["contact_id"], started["token"]
            ws = await http.ws_connect(f"{base}/api/chat/{chat}/ws?token={token}")
            await ws.send_json({"type": "message", "text": BEFORE})
            assert await history(http, base, chat, token) == [BEFORE]

            rotated = cli("keys", "rotate", "--db", str(srv.db))
            assert rotated.returncode == 0, rotated.stderr
            new = Keyring.from_json(keys.read_bytes())
            assert set(new.data_keys) == {new.active} != {old}
            assert f"new data key {new.active} in {keys}" in rotated.stdout
            assert old in rotated.stdout  # dropped

            await ws.send_json({"type": "message", "text": AFTER})
            assert await history(http, base, chat, token) == [BEFORE, AFTER]
            await ws.close()
            assert in_clear(srv.db, NAME, BEFORE, AFTER, "Jan Novak", "+4930555010008") == []
            status = cli("keys", "status", "--db", str(srv.db))
            assert status.returncode == 0, status.stderr
            assert f"data key  {new.active}  active  seals" in status.stdout
            assert old not in status.stdout and "clear" not in status.stdout
            assert new.to_json().decode() not in status.stdout
        assert srv.stop() == 0
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        async with await Store.open(srv.db) as store:
            assert [m.text for m in await store.transcript(chat)] == [BEFORE, AFTER]
    finally:
        srv.finish()


def test_serve_refuses_a_database_whose_keys_file_is_missing(tmp_path: Path) -> None:
    srv = setup(tmp_path)
    try:
        srv.start()  # seeds the config's customers: sealed values
        assert srv.stop() == 0
    finally:
        srv.finish()
    keys = srv.db.parent / "data-keys"
    keys.rename(tmp_path / "kept-elsewhere")
    before = files_in(srv.db.parent)
    done = cli("serve", "--config", str(srv.config), "--db", str(srv.db), "--port", "0")
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 1 and len(lines) == 1, lines
    assert lines[0].startswith("contactcenter serve: cannot start: data keys file"), lines
    assert str(keys) in lines[0] and "missing" in lines[0]
    assert files_in(srv.db.parent) == before  # no new key, no user, no file
    user = cli("user", "set", "boss", "--role", "admin", "--password-stdin", "--db", str(srv.db),
               given="a-long-password\n")  # fmt: skip
    assert user.returncode == 1 and user.stderr.splitlines() == [
        f"contactcenter user set: {lines[0].removeprefix('contactcenter serve: cannot start: ')}"
    ], user
    assert files_in(srv.db.parent) == before
    # named where it is now, it opens
    elsewhere = ["--data-keys", str(tmp_path / "kept-elsewhere")]
    status = cli("keys", "status", "--db", str(srv.db), *elsewhere)
    assert status.returncode == 0 and "seals" in status.stdout, status
