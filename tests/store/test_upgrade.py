"""A database an older version (release 3, schema 3) left with everything in clear: opened by
this version it reads the same, its look-ups work, and neither the file nor its -wal holds a
clear value any more (also values the old version had overwritten, in free space)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from contactcenter.store import CustomerRecord, Store, StoreError, resealing
from contactcenter.store.resealing import key_use
from contactcenter.store.schema import MIGRATIONS

LINES = 1234  # more than two batches
CLEAR = [
    b"Ada Lovelace", b"+493055500001", b"ada@example.com", b"AC-100001", b"likes tea",
    b"Charles Babbage", b"refund by Friday", b"angry customer", b"+442079460958",
    b"Augusta King", b"friendly but slow", b"secret line 0007", b"+4900000000009999", b"Zed Gone",
]  # fmt: skip


def release_3_database(where: Path) -> Path:
    """A schema-3 database with clear rows in every personal column, as a release-3 engine
    left it when it was killed: part of it only in the -wal."""
    live = where / "live"
    live.mkdir()
    db = live / "cc.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA secure_delete = OFF")  # as many SQLite builds have it
    for step in MIGRATIONS[:3]:
        for statement in step:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO customers VALUES ('C1', 'Ada Lovelace', 'vip', NULL, '+493055500001',"
        " 'ada@example.com', 'AC-100001'), ('C0', 'Zed Gone', 'standard', NULL,"
        " '+4900000000009999', NULL, NULL)"
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # in the file itself
    conn.execute("DELETE FROM customers WHERE id = 'C0'")  # still there, in free space
    conn.execute(
        "INSERT INTO customer_notes (customer_id, text, wall_time) VALUES ('C1', 'likes tea', 1)"
    )
    conn.execute(
        "INSERT INTO contacts (contact_id, channel, queue, first_queue, tier, customer_id,"
        " customer_name, arrived_wall, disposition_notes) VALUES ('k1', 'chat', 'support',"
        " 'support', 'vip', 'C1', 'Charles Babbage', 10, 'refund by Friday')"
    )
    conn.execute(
        "INSERT INTO contact_segments (contact_id, segment, queue, note)"
        " VALUES ('k1', 1, 'support', 'angry customer')"
    )
    conn.executemany(
        "INSERT INTO messages (contact_id, sender, text, wall_time)"
        " VALUES ('k1', 'customer', ?, ?)",
        [(f"secret line {i:04d}", 10 + i) for i in range(LINES)],
    )
    conn.execute(
        "INSERT INTO callbacks (contact_id, queue, phone, due_wall, name, arrived_wall,"
        " created_wall) VALUES ('k1', 'support', '+442079460958', 20, 'Augusta King', 20, 20)"
    )
    conn.execute(
        "INSERT INTO surveys (contact_id, score, comment, wall_time)"
        " VALUES ('k1', 4, 'friendly but slow', 30)"
    )
    crashed = where / "var"  # copied while open: the -wal is part of it
    crashed.mkdir()
    for name in ("cc.sqlite3", "cc.sqlite3-wal", "cc.sqlite3-shm"):
        shutil.copy(live / name, crashed / name)
    conn.close()
    return crashed / "cc.sqlite3"


def clear_values_in(db: Path) -> list[bytes]:
    data = b"".join(f.read_bytes() for f in (db, db.with_name(db.name + "-wal")) if f.exists())
    return [v for v in CLEAR if v in data]


async def test_an_old_database_opens_reads_the_same_and_holds_no_clear_value(
    tmp_path: Path,
) -> None:
    db = release_3_database(tmp_path)
    assert clear_values_in(db) == CLEAR  # the test would see them
    async with await Store.open(db) as store:
        assert clear_values_in(db) == []
        ada = await store.customer("C1")
        assert ada == CustomerRecord(
            "C1", "Ada Lovelace", "vip", None, "+493055500001", "ada@example.com", "AC-100001",
            notes=ada.notes if ada is not None else (),
        )  # fmt: skip
        assert ada is not None and [n.text for n in ada.notes] == ["likes tea"]
        assert await store.find_customer(phone="+49 30 5550 0001") == ada
        assert await store.find_customer(email="ADA@example.com") == ada
        assert await store.find_customer(account_number="AC-100001") == ada
        assert await store.find_customer(phone="+4900000000009999") is None
        assert await store.customer("C0") is None
        contact = await store.contact_record("k1")
        assert contact is not None
        assert (contact.customer_name, contact.disposition_notes) == (
            "Charles Babbage", "refund by Friday",
        )  # fmt: skip
        assert [s.note for s in await store.segments("k1")] == ["angry customer"]
        lines = await store.transcript("k1")
        assert [m.text for m in lines] == [f"secret line {i:04d}" for i in range(LINES)]
        (cb,) = await store.open_callbacks()
        assert (cb.phone, cb.name) == ("+442079460958", "Augusta King")
        assert await store.open_callback_for("support", "+44 20 7946 0958") == cb
        assert [s.comment for s in await store.surveys("k1")] == ["friendly but slow"]
        use = await key_use(store)
        assert None not in use.values  # nothing left in clear
        assert use.hashes == 4  # the customer's three, the call back's number
        await store.add_message("k1", "agent", "a new line", 99.0)
    assert clear_values_in(db) == []


async def test_an_upgrade_cut_short_goes_on_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = release_3_database(tmp_path)
    batches = 0
    real = resealing._seal_batch

    async def dies_in_the_messages(*args: object) -> tuple[int, int]:
        nonlocal batches
        batches += 1
        if batches == 7:  # one batch each of five tables (by name), one of messages, then...
            raise StoreError("killed")
        return await real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(resealing, "_seal_batch", dies_in_the_messages)
    with pytest.raises(StoreError, match="killed"):
        await Store.open(db)
    with sqlite3.connect(db) as conn:
        upto = dict(conn.execute("SELECT table_name, sealed_upto FROM clear_rows").fetchall())
        ((sealed,),) = conn.execute("SELECT count(*) FROM messages WHERE text LIKE 'enc1:%'")
    assert (upto["messages"], sealed) == (resealing.BATCH, resealing.BATCH)
    assert upto["customers"] == 1 and upto["surveys"] == 0
    monkeypatch.setattr(resealing, "_seal_batch", real)
    async with await Store.open(db) as store:
        lines = await store.transcript("k1")
        assert [m.text for m in lines] == [f"secret line {i:04d}" for i in range(LINES)]
        assert None not in (await key_use(store)).values
    assert clear_values_in(db) == []


async def test_no_room_to_rebuild_is_one_clear_error_and_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = release_3_database(tmp_path)
    real = aiosqlite.Connection.execute

    def no_room(self: aiosqlite.Connection, sql: str, *args: object) -> object:
        if sql == "VACUUM":
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, sql, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(aiosqlite.Connection, "execute", no_room)
    with pytest.raises(StoreError, match=f"cannot rebuild the database {db}.*disk is full"):
        await Store.open(db)
    monkeypatch.setattr(aiosqlite.Connection, "execute", real)
    assert clear_values_in(db) != []  # all sealed, but free pages still hold some
    async with await Store.open(db) as store:
        assert len(await store.transcript("k1")) == LINES
    assert clear_values_in(db) == []
