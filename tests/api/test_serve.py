"""``contactcenter serve`` in-process, first-run users and secrets, and ``user set``."""

from __future__ import annotations

import asyncio
import io
import re
import stat
from pathlib import Path

import aiohttp
import pytest

from contactcenter.api.serve import PASSWORDS_FILE, chat_secret, serve
from contactcenter.cli import main
from contactcenter.config import Center
from contactcenter.store import Store


async def test_serve_first_run_and_restart(tmp_path: Path, center: Center) -> None:
    db = tmp_path / "var" / "cc.sqlite3"
    lines: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(serve(center, port=0, db_path=db, say=lines.append, stop=stop))
    async with asyncio.timeout(20):
        while not any("serving on" in ln for ln in lines):
            await asyncio.sleep(0.05)
    base = re.search(r"serving on (http://\S+)", "\n".join(lines)).group(1)  # type: ignore[union-attr]
    pw_file = db.parent / PASSWORDS_FILE
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    rows = [ln.split("\t") for ln in pw_file.read_text().splitlines() if not ln.startswith("#")]
    users = {name: (role, pw) for name, role, pw in rows}
    said = "\n".join(lines)
    assert str(pw_file) in said and not any(pw in said for _, pw in users.values())
    assert users["admin"][0] == "admin" and users["supervisor"][0] == "supervisor"
    assert {u for u, (role, _) in users.items() if role == "agent"} == set(center.agents)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
        async with http.post(
            f"{base}/api/login",
            json={"username": "supervisor", "password": users["supervisor"][1]},
        ) as resp:
            assert resp.status == 200
        for page in ("/chat", "/desktop", "/wallboard", "/static/common.js"):
            async with http.get(base + page) as resp:
                assert resp.status == 200, page
    stop.set()
    assert await task == 0

    # a second run keeps users and the chat secret
    secret = chat_secret(db.parent)
    lines.clear()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(center, port=0, db_path=db, say=lines.append, stop=stop))
    async with asyncio.timeout(20):
        while not any("serving on" in ln for ln in lines):
            await asyncio.sleep(0.05)
    assert not any("First run" in ln for ln in lines)
    assert chat_secret(db.parent) == secret
    stop.set()
    await task


def test_user_set_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cc.sqlite3"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["user", "set", "boss", "--role", "supervisor", "--password-stdin",
                 "--db", str(db)]) == 0  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "set", "x", "--role", "admin", "--password-stdin", "--db", str(db)]) == 1

    async def check() -> None:
        store = await Store.open(db)
        try:
            user = await store.verify_user("boss", "s3cret-password")
            assert user is not None and user.role == "supervisor" and user.agent_id is None
            assert await store.verify_user("x", "short") is None
        finally:
            await store.close()

    asyncio.run(check())


def test_user_set_checks_the_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Path(__file__).resolve().parents[2] / "config"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    code = main(["user", "set", "zz", "--role", "agent", "--password-stdin",
                 "--db", str(tmp_path / "cc.sqlite3"), "--config", str(config)])  # fmt: skip
    assert code == 1
