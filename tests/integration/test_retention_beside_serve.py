"""``contactcenter retention`` and ``erase-customer`` on the database a real ``serve`` is using,
while customers chat: the commands finish, no request of the server fails or waits long, and
its log holds no error."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import yaml

from contactcenter.store import Store
from tests.integration.server import ROOT, frame, fresh_server
from tests.store.scenes import DAY, contact

OLD_CHATS, LINES = 60, 200
"""Year-old chats and their lines, for retention to delete."""


async def seed(db: Path) -> None:
    now = time.time()
    async with await Store.open(db) as store:
        for i in range(OLD_CHATS):
            await contact(store, f"old-{i}", arrived=now - 400 * DAY, customer_id="C1003",
                          lines=[f"old line {n}" for n in range(LINES)], notes="old")  # fmt: skip


async def command(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "contactcenter", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def chatting(base: str, stop: asyncio.Event, waits: list[float]) -> int:
    """Customers start chats and write, one request after another, until ``stop``."""
    sent = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.perf_counter()
            async with http.post(f"{base}/api/chat", json={"name": "Ola", "topic": "support"}) as r:
                assert r.status == 201, await r.text()
                chat = await r.json()
            waits.append(time.perf_counter() - started)
            url = f"{base}/api/chat/{chat['contact_id']}/ws?token={chat['token']}"
            async with http.ws_connect(url) as ws:
                await frame(ws, "status")
                for n in range(5):
                    started = time.perf_counter()
                    await ws.send_json({"type": "message", "text": f"line {n}"})
                    await frame(ws, "message", sender="customer")
                    waits.append(time.perf_counter() - started)
                    sent += 1
            await asyncio.sleep(1.5)  # under the limit of new chats an address may start
    return sent


async def test_commands_beside_a_running_server(tmp_path: Path) -> None:
    with fresh_server(tmp_path, [("root", "admin", None)]) as srv:
        center = yaml.safe_load((srv.config / "center.yaml").read_text())
        center["retention"] = {"transcripts_days": 365, "notes_days": 365}
        (srv.config / "center.yaml").write_text(yaml.safe_dump(center))
        await seed(srv.db)
        base = srv.start()
        stop, waits = asyncio.Event(), []
        chats = asyncio.create_task(chatting(base, stop, waits))
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        code, out, err = await command("retention", "--config", str(srv.config),
                                       "--db", str(srv.db))  # fmt: skip
        took = time.perf_counter() - started
        assert code == 0, err
        assert f"  chat lines deleted: {OLD_CHATS * LINES}" in out.splitlines()
        code, out, err = await command("erase-customer", "C1003", "--db", str(srv.db), "--yes")
        assert code == 0, err
        assert f"  contacts found (records kept, anonymous): {OLD_CHATS}" in out.splitlines()
        stop.set()
        sent = await chats
        assert srv.stop() == 0
    log = srv.log()
    assert "Traceback" not in log and "locked" not in log, log[-3000:]
    assert sent >= 5 and waits
    assert max(waits) < 2.0, f"a request waited {max(waits):.2f} s (retention took {took:.1f} s)"
