"""The store on a disk that fills up: every write that returned is on disk, a write that could
not be made fails with a clear error (not a corrupt file), and writing goes on once space
returns. A real, small filesystem (tmpfs mounted for the test, root only)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactcenter.store import Store
from tests.peers import missing

SIZE_KB = 2048


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        missing("mounting a small filesystem needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k,mode=0700", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_fails_writes_clearly_keeps_what_was_written_and_recovers(
    small_disk: Path,
) -> None:
    path = small_disk / "cc.sqlite3"
    store = await Store.open(path)
    acked: list[str] = []
    """Chats whose contact and first line were both written."""
    created = 0
    refused: Exception | None = None
    try:
        for i in range(100_000):
            cid = f"chat-{i:06d}"
            try:
                await store.create_contact(
                    cid, channel="chat", queue="support_chat", arrived_wall=1.7e9 + i,
                    customer_id=None, tier="standard", customer_name="x" * 200, topic="fibre",
                )  # fmt: skip
                created += 1
                await store.add_messages([(cid, "customer", "y" * 2000, 1.7e9 + i, None)])
            except Exception as e:  # the disk is full
                refused = e
                break
            acked.append(cid)
        assert refused is not None, "the disk never filled up"
        assert "full" in str(refused).lower(), repr(refused)  # SQLITE_FULL, said as such
        assert len(acked) > 10
        # the store still answers, and holds every acknowledged write
        for cid in (acked[0], acked[len(acked) // 2], acked[-1]):
            assert await store.contact_record(cid) is not None
            assert len(await store.transcript(cid)) == 1
    finally:
        await store.close()
    # the file is sound
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # space comes back (here: the filesystem grows): writing goes on where it stopped
    subprocess.run(["mount", "-o", f"remount,size={SIZE_KB * 4}k", str(small_disk)], check=True)
    store = await Store.open(path)
    try:
        cid = "chat-after"
        await store.create_contact(
            cid, channel="chat", queue="support_chat", arrived_wall=1.8e9, customer_id=None,
            tier="standard", customer_name="after", topic="fibre",
        )  # fmt: skip
        await store.add_messages([(cid, "customer", "back", 1.8e9, None)])
        assert (await store.contact_record(cid)) is not None
        assert len(await store.contact_records()) == created + 1  # none lost, none half-made
    finally:
        await store.close()
