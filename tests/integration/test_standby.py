"""A standby engine (``serve --standby``) takes over from a serving engine killed with -9.

Real processes on loopback, the example center, one database: the active engine serves, the
standby waits (it neither serves nor opens the database meanwhile), customers start chats with
nobody to answer, and more keep coming while the active engine is killed with SIGKILL; the
standby serves on the same port within seconds, and every chat that was acknowledged waits in
it. The chats are there in their original order with waits that span the
takeover, the customers carry on with their old tokens, and an agent who logs in is offered
them in that order.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.server import ServerProcess, call, frame, fresh_server, login
from tests.postgres import database_for

USERS = [("root", "admin", None), ("boss", "supervisor", None), ("a05", "agent", "a05")]
QUEUE = "sales_chat"  # a05 is its only chat agent among these users
CHATS = 3
BURST = 20
"""Billing chats acknowledged before the kill (more keep coming while it happens)."""
TAKEOVER_LIMIT = 15.0
"""Seconds from the kill to the standby serving (bench/scale.py measures 0.1-0.2 s; the bound
allows a loaded CI machine)."""


@pytest.fixture
def active(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The serving engine, on SQLite unless the test asks for ``postgresql`` (the lock is then
    the server's, as for a standby on another machine)."""
    url = database_for(request, getattr(request, "param", "sqlite"))
    with fresh_server(tmp_path, USERS, url) as srv:
        yield srv


BOTH = pytest.mark.parametrize("active", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def standby(active: ServerProcess) -> Iterator[ServerProcess]:
    with active.standby() as srv:
        yield srv


@BOTH
async def test_a_standby_takes_over_a_killed_engine_with_every_waiting_chat(
    active: ServerProcess, standby: ServerProcess
) -> None:
    base = active.start()
    standby.launch(port=active.port)
    standby.waiting()
    assert active.proc is not None
    assert re.search(
        rf"served by another engine \((process|contactcenter \S+) {active.proc.pid}\)",
        standby.log(),
    )
    chats: list[tuple[str, str, float]] = []  # (contact id, token, acknowledged at)
    async with aiohttp.ClientSession() as http:
        for n in range(CHATS):
            async with http.post(
                f"{base}/api/chat", json={"name": f"Customer {n}", "topic": "sales"}
            ) as resp:
                assert resp.status == 201, await resp.text()
                started = await resp.json()
            chats.append((started["contact_id"], started["token"], time.time()))
            await asyncio.sleep(0.2)
        # fenced: the standby has neither served nor bound anything while the active serves
        assert "serving on" not in standby.log()

        # under load: customers keep starting billing chats while the engine is killed
        burst: list[str] = []  # acknowledged (201) ones
        stop_burst = asyncio.Event()

        async def customers() -> None:
            n = 0
            while not stop_burst.is_set():
                n += 1
                try:
                    async with http.post(
                        f"{base}/api/chat", json={"name": f"Burst {n}", "topic": "billing"}
                    ) as resp:
                        if resp.status == 201:
                            burst.append((await resp.json())["contact_id"])
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)  # the engine is gone: nothing acknowledged

        load = asyncio.create_task(customers())
        while len(burst) < BURST:
            await asyncio.sleep(0.01)
        active.kill9()
        killed = time.monotonic()
        base = await asyncio.to_thread(standby.serving, TAKEOVER_LIMIT + 30)
        takeover = time.monotonic() - killed
        assert standby.port == active.port
        assert takeover < TAKEOVER_LIMIT, takeover
        assert "Taking over" in standby.log()
        stop_burst.set()
        await load

        sup = await login(http, base, "boss")
        queues = await call(http, "GET", f"{base}/api/supervisor/queues", sup)
        rows = {r["queue"]: r for r in queues}
        assert rows[QUEUE]["waiting"] == CHATS, rows[QUEUE]
        # nothing acknowledged is lost: every burst chat that got its 201 is waiting
        assert rows["billing_chat"]["waiting"] >= len(burst)
        for cid in burst:
            ex = await call(http, "GET", f"{base}/api/supervisor/contacts/{cid}/explain", sup)
            assert (ex["queue"], ex["state"]) == ("billing_chat", "waiting"), ex
        for cid, _, acked in chats:  # honest waits: the takeover's time is waiting time
            ex = await call(http, "GET", f"{base}/api/supervisor/contacts/{cid}/explain", sup)
            assert ex["state"] == "waiting" and ex["wait_seconds"] >= time.time() - acked - 1.0

        sockets = []
        for place, (cid, token, _) in enumerate(chats, start=1):
            ws = await http.ws_connect(f"{base}/api/chat/{cid}/ws?token={token}")
            sockets.append(ws)
            status = await frame(ws, "status")
            assert (status["state"], status["position"]) == ("waiting", place), status

        auth = await login(http, base, "a05")
        desk = await http.ws_connect(f"{base}/api/agent/ws", headers=auth)
        await frame(desk, "snapshot")
        await call(http, "POST", f"{base}/api/agent/login", auth)
        offered = []
        for _ in chats:
            offer = await frame(desk, "offer")
            offered.append(offer["contact_id"])
            contact = f"{base}/api/agent/contacts/{offer['contact_id']}"
            await call(http, "POST", f"{contact}/accept", auth)
            await call(http, "POST", f"{contact}/hangup", auth)
            await call(http, "POST", f"{contact}/wrapup", auth, {"disposition": "resolved"})
        assert offered == [cid for cid, _, _ in chats]
        for ws in [*sockets, desk]:
            await ws.close()
    assert standby.stop() == 0


def test_a_waiting_standby_stops_cleanly_and_writes_nothing(
    active: ServerProcess, standby: ServerProcess
) -> None:
    active.start()
    before = sorted(p.name for p in active.db.parent.iterdir())
    standby.launch(port=active.port)
    standby.waiting()
    assert standby.proc is not None
    os.kill(standby.proc.pid, signal.SIGTERM)
    assert standby.proc.wait(timeout=20) == 0, standby.log()
    assert sorted(p.name for p in active.db.parent.iterdir()) == before
    assert "serving on" not in standby.log()
    assert active.stop() == 0


def test_two_standbys_started_together_one_serves_and_the_other_waits(
    active: ServerProcess, standby: ServerProcess
) -> None:
    """With no engine serving yet, ``--standby`` serves; started at once, two of them never
    both serve or both fail: one serves, the other waits (and takes over in turn)."""
    active.extra.append("--standby")
    active.launch()
    standby.launch(port=0)
    deadline = time.monotonic() + 60
    while True:
        logs = (active.log(), standby.log())
        serving = [("serving on" in log) for log in logs]
        waiting = [("Standby: database" in log) for log in logs]
        if any(serving) and any(waiting):
            break
        assert active.proc is not None and active.proc.poll() is None, logs[0]
        assert standby.proc is not None and standby.proc.poll() is None, logs[1]
        assert time.monotonic() < deadline, logs
        time.sleep(0.05)
    assert serving.count(True) == 1 and waiting.count(True) == 1
    first, second = (active, standby) if serving[0] else (standby, active)
    first.serving()
    first.kill9()
    second.serving(60)
    assert second.stop() == 0
