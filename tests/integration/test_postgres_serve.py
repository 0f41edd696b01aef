"""``serve --db postgresql://...``: the engine on a PostgreSQL server instead of a SQLite file.

What runs on it (chats kept across a kill -9, a standby taking over) is tested with the rest
of the standby tests (``test_standby.py``, both databases); here: a server that cannot be
reached at start is one clear line, with nothing written and no password said.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from contactcenter.store import Store
from tests.bus.conftest import free_port
from tests.integration.server import ROOT, call, frame, fresh_server, login
from tests.postgres import Postgres, running_postgres

USERS = [("root", "admin", None), ("boss", "supervisor", None), ("a05", "agent", "a05")]


def test_an_unreachable_server_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    state = tmp_path / "var"
    url = f"postgresql://cc:s3cret-pw@127.0.0.1:{free_port()}/center"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(ROOT / "config"),
         "--port", str(free_port()), "--db", url, "--state-dir", str(state)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("contactcenter serve: cannot start: cannot reach the database")
    assert "postgresql://cc:***@127.0.0.1" in lines[0]
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not state.exists()  # nothing written


async def test_the_engine_rides_out_a_stopped_server_and_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    """The real server stopped mid-run: the engine stays up, says so (healthz, metrics, one
    log line), promises no new chat it cannot keep (503), and routing goes on: an agent
    already logged in makes herself available, is offered the first waiting chat, answers
    it and talks with the customer. Once the server is back the engine takes its lock again
    and writes what it held back; every chat it acknowledged is there."""
    with running_postgres() as pg, fresh_server(tmp_path, USERS, pg.new_database()) as srv:
        base = srv.start()
        async with aiohttp.ClientSession() as http:
            before = [await _chat(http, base, n) for n in range(3)]
            agent = await login(http, base, "a05")
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=agent)
            await frame(desk, "snapshot")
            pg.stop()
            down = time.monotonic()
            status = 201
            while status == 201:  # until a write finds the server gone
                assert time.monotonic() - down < 30, srv.log()
                async with http.post(
                    f"{base}/api/chat", json={"name": "Late", "topic": "sales"}
                ) as resp:
                    status = resp.status
                    if status == 201:
                        before.append((await resp.json())["contact_id"])
            assert status == 503, status
            health = await _health(http, base, 503, deadline=30)
            assert any("database" in p for p in health["problems"]), health
            async with http.get(f"{base}/metrics") as resp:
                metrics = await resp.text()
            assert re.search(r"^contactcenter_store_write_failures_total [1-9]", metrics, re.M)
            assert srv.proc is not None and srv.proc.poll() is None  # still up

            # routing goes on: the agent at work answers the first waiting chat
            first = before[0]
            await call(http, "POST", f"{base}/api/agent/login", agent)
            offer = await frame(desk, "offer")
            assert offer["contact_id"] == first, offer
            await call(http, "POST", f"{base}/api/agent/contacts/{first}/accept", agent)

            pg.start()
            await _health(http, base, 200, deadline=60)
            after = await _chat(http, base, 9)
            sup = await login(http, base, "boss")
            ex = await call(http, "GET", f"{base}/api/supervisor/contacts/{first}/explain", sup)
            assert ex["state"] == "active", ex
            for cid in [*before[1:], after]:  # (the agent, available, may be offered more)
                ex = await call(http, "GET", f"{base}/api/supervisor/contacts/{cid}/explain", sup)
                assert ex["state"] in ("waiting", "offered"), ex
            await desk.close()
        # what was held back was written: the answer is in the contact's record
        async with await Store.open(
            pg.url(srv.db.rsplit("/", 1)[1]), data_keys=tmp_path / "var" / "data-keys"
        ) as store:
            record = await store.contact_record(first)
        assert record is not None and record.agent_id == "a05" and record.answered_wall, record
        assert "database takes writes again" in srv.log()
        assert srv.stop() == 0
    assert "Traceback" not in srv.log()


async def _chat(http: aiohttp.ClientSession, base: str, n: int) -> str:
    async with http.post(
        f"{base}/api/chat", json={"name": f"Customer {n}", "topic": "sales"}
    ) as resp:
        assert resp.status == 201, await resp.text()
        cid: str = (await resp.json())["contact_id"]
        return cid


async def _health(
    http: aiohttp.ClientSession, base: str, want: int, deadline: float
) -> dict[str, Any]:
    """/healthz once it answers ``want`` (within ``deadline`` seconds)."""
    end = time.monotonic() + deadline
    while True:
        async with http.get(f"{base}/healthz") as resp:
            if resp.status == want:
                body: dict[str, Any] = await resp.json()
                return body
        assert time.monotonic() < end, f"/healthz never answered {want}"
        await asyncio.sleep(0.2)


async def test_an_engine_whose_lock_was_taken_over_stops(
    tmp_path: Path, postgres: Postgres
) -> None:
    """Fencing: the serving engine's lock session is cut at the server (as a network cut
    would) while a standby waits; the standby takes the lock and serves, and the engine that
    lost it notices within seconds, finds the lock taken, and stops instead of routing on."""
    with fresh_server(tmp_path, USERS, postgres.new_database()) as active:
        active.start()
        with active.standby() as standby:
            standby.launch(port=0)
            standby.waiting()
            assert active.proc is not None
            name = f"contactcenter %{active.proc.pid}"
            conn = await asyncpg.connect(active.db)
            try:
                cut = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name LIKE $1",
                    name,
                )
            finally:
                await conn.close()
            assert cut == 1
            await asyncio.to_thread(standby.serving, 60)
            assert active.proc.wait(timeout=30) == 0, active.log()
            assert "took over" in active.log() and "Stopping" in active.log()
            assert standby.stop() == 0
