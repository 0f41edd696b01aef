"""The database turns read-only under a running engine (the immutable attribute on the file
and its write-ahead log: every write fails with EPERM, for root too; as an operator's chattr,
or a filesystem remounted read-only, would do).

What a user must get: conversations go on (chat lines are relayed, an agent can hang up);
what must be stored before it is acknowledged is refused with a clear 503 (a new chat), never
a 500 and never a traceback in the log; ``/healthz`` says the database cannot be written; and
when the file is writable again, everything the engine held back is written, in order, and the
file is sound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from contactcenter.store import Store
from tests.integration.server import call, frame, fresh_server, login
from tests.peers import missing
from tests.polling import until

USERS = [("root", "admin", None), ("a06", "agent", "a06")]


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``paths`` may not be written while the block runs (open descriptors included)."""
    if os.geteuid() != 0:
        missing("the immutable attribute needs root")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"cannot set the immutable attribute here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


async def health(http: aiohttp.ClientSession, base: str) -> tuple[int, dict[str, object]]:
    async with http.get(f"{base}/healthz") as resp:
        return resp.status, json.loads(await resp.text())


async def test_a_database_turning_read_only_refuses_clearly_and_catches_up(
    tmp_path: Path,
) -> None:
    with fresh_server(tmp_path, USERS) as srv:
        base = srv.start()
        db = srv.db
        async with aiohttp.ClientSession() as http:
            a06 = await login(http, base, "a06")
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=a06)
            await frame(desk, "snapshot")
            await call(http, "POST", f"{base}/api/agent/login", a06)
            started = await call(http, "POST", f"{base}/api/chat",
                                 body={"name": "Ann", "topic": "sales"})  # fmt: skip
            chat, token = started["contact_id"], started["token"]
            customer = await http.ws_connect(f"{base}/api/chat/{chat}/ws?token={token}")
            await frame(desk, "offer", contact_id=chat)
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/accept", a06)
            await customer.send_json({"type": "message", "text": "before"})
            await frame(desk, "message", contact_id=chat, text="before")
            await asyncio.sleep(0.5)  # the line is on disk

            with immutable(db, db.with_name(db.name + "-wal")):
                # the conversation goes on: lines both ways
                await customer.send_json({"type": "message", "text": "during"})
                await frame(desk, "message", contact_id=chat, text="during")
                await call(http, "POST", f"{base}/api/agent/contacts/{chat}/messages", a06,
                           {"text": "still here"})  # fmt: skip
                await frame(customer, "message", sender="agent", text="still here")
                # a new chat cannot be promised: a clear 503, nothing half made
                async with http.post(
                    f"{base}/api/chat", json={"name": "Bo", "topic": "sales"}
                ) as resp:
                    assert resp.status == 503, await resp.text()
                    refusal = await resp.json()
                    assert refusal["error"]["code"] == "store_unavailable", refusal
                    assert resp.headers.get("Retry-After")
                # the agent may still end the chat: routing does not stop
                await call(http, "POST", f"{base}/api/agent/contacts/{chat}/hangup", a06)
                await frame(desk, "completed", contact_id=chat)
                await asyncio.sleep(2.5)  # several retries refused in turn
                status, body = await health(http, base)
                assert status == 503 and body["status"] == "degraded", body
                assert any("database" in str(p) and "writ" in str(p)
                           for p in body["problems"]), body  # type: ignore[attr-defined]  # fmt: skip
                metrics = await (await http.get(f"{base}/metrics")).text()
                assert "contactcenter_store_write_failures_total" in metrics

            async def healthy() -> bool:
                return (await health(http, base))[0] == 200

            assert await until(healthy, 15), srv.log()[-3000:]
            # and what was held back is on disk now
            again = await call(http, "POST", f"{base}/api/chat",
                               body={"name": "Bo", "topic": "sales"})  # fmt: skip
            assert again["contact_id"]
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/wrapup", a06,
                       {"disposition": "resolved"})  # fmt: skip
            await customer.close()
            await desk.close()
        assert srv.stop() == 0
        log = srv.log()
        assert "Traceback" not in log, log[-4000:]
        assert "cannot write" in log, log[-4000:]

    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    async with await Store.open(db) as store:
        lines = [m.text for m in await store.transcript(chat)]
        assert lines == ["before", "during", "still here"]
        rec = await store.contact(chat)
        assert rec is not None and rec.completed_wall is not None, rec
        assert (rec.agent_id, rec.disposition) == ("a06", "resolved")
        assert await store.contact(again["contact_id"]) is not None
        # the hang-up's audit entry was held back, not lost (nor refused to the agent)
        changes = [(e.actor, e.target) for e in await store.audit_log(limit=100)
                   if e.action == "hang_up"]  # fmt: skip
        assert changes == [("a06", chat)], changes
