"""``kill -9`` during each kind of write the engine acknowledges to someone: a chat line (the
customer saw it sent), a call back booking (the customer was told it is booked), a wrap-up
(the agent saw it saved). A child process writes in a loop, printing each acknowledgement;
it is killed mid-stream; every acknowledged write is in the reopened store. On a SQLite file
and on a PostgreSQL database (the engine killed, the server left running: its own crash is
``tests/store/test_durability.py``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from contactcenter.store import Store
from tests.postgres import database_for

CHILD = """
import asyncio, sys
from contactcenter.store import Store

async def main(where: str, kind: str, keys: str) -> None:
    store = await Store.open(where, data_keys=keys)
    await store.create_contact(
        "chat-0", channel="chat", queue="support_chat", arrived_wall=1.7e9,
        customer_id=None, tier="standard", customer_name="Jan", topic="fibre",
    )
    for i in range(1_000_000):
        if kind == "line":
            await store.add_messages([("chat-0", "customer", f"line {i}", 1.7e9 + i, None)])
        elif kind == "callback":
            await store.add_callback(
                callback_contact_id=f"cb-{i}", contact_id=None, queue="support",
                customer_id=None, verified=False, phone=f"+49305550{i:05d}", name=None,
                tier="standard", source="api", requested_by="a05", arrived_wall=1.7e9 + i,
                created_wall=1.7e9 + i, due_wall=1.7e9 + i,
            )
        else:
            cid = f"wrap-{i}"
            await store.create_contact(
                cid, channel="chat", queue="support_chat", arrived_wall=1.7e9 + i,
                customer_id=None, tier="standard", customer_name="Jan", topic="fibre",
            )
            await store.set_disposition_notes(cid, f"notes {i}")
        print(i, flush=True)  # acknowledged: committed before this line

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
"""

ACKED = 60


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("kind", ["line", "callback", "wrapup"])
async def test_every_acknowledged_write_survives_kill_9(
    tmp_path: Path, kind: str, backend: str, request: pytest.FixtureRequest
) -> None:
    db = database_for(request, backend) or str(tmp_path / "cc.sqlite3")
    keys = tmp_path / "data-keys"  # beside the SQLite file; named for PostgreSQL
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db, kind, str(keys)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    acked = 0
    try:
        assert child.stdout is not None
        while acked < ACKED:
            line = child.stdout.readline()
            assert line, f"child ended early: {child.wait()} {child.stderr and child.stderr.read()}"
            acked = int(line) + 1
        os.kill(child.pid, signal.SIGKILL)
        # what it acknowledged before the kill landed, still in the pipe
        for line in child.stdout:
            acked = int(line) + 1
    finally:
        child.kill()
        rc = child.wait(timeout=30)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()
    assert rc == -signal.SIGKILL
    async with await Store.open(db, data_keys=keys) as store:
        if kind == "line":
            texts = [m.text for m in await store.transcript("chat-0")]
            assert texts[:acked] == [f"line {i}" for i in range(acked)]
            assert len(texts) - acked <= 1
        elif kind == "callback":
            phones = sorted(c.phone for c in await store.open_callbacks())
            assert phones[:acked] == [f"+49305550{i:05d}" for i in range(acked)]
            assert len(phones) - acked <= 1
        else:
            for i in range(acked):
                rec = await store.contact(f"wrap-{i}")
                assert rec is not None and rec.disposition_notes == f"notes {i}", i
