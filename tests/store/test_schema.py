"""Opening a store: migrations, reopening, pragmas, and a database from the future."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from contactcenter.store import CustomerRecord, SchemaTooNew, Store, StoreError, UnknownCustomer
from contactcenter.store.connection import numbered
from contactcenter.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from tests.store.conftest import Database

TABLES = {
    "customers",
    "customer_notes",
    "contacts",
    "agent_state_log",
    "messages",
    "users",
    "sessions",
    "audit_log",
    "callbacks",
    "surveys",
    "contact_segments",
    "callback_attempts",
    "engine_state",
    "ivr_visits",
    "sealing_keys",
    "clear_rows",
    "daily_tally",
    "cases",
    "case_history",
    "case_notes",
    "case_tasks",
    "unanswered_surveys",
    "contact_notes",
    "rejected_offers",
    "mail_threads",
    "mails",
    "mail_attachments",
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows} - {"sqlite_sequence"}


async def _tables_of(database: Database) -> set[str]:
    """The store's tables, as the database's catalog lists them (PostgreSQL keeps the schema
    version in a table of its own: SQLite in ``PRAGMA user_version``)."""
    if database.backend == "sqlite":
        return _tables(Path(database.where))
    conn = await asyncpg.connect(database.where)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    finally:
        await conn.close()
    return {r[0] for r in rows} - {"schema_version"}


async def _run(database: Database, *statements: str) -> None:
    """SQL on the test's database with a plain connection of its own (not the store's), each
    statement as that database says it (``?`` placeholders, none bound)."""
    if database.backend == "sqlite":
        with sqlite3.connect(database.where) as db:
            for statement in statements:
                db.execute(statement)
        return
    conn = await asyncpg.connect(database.where)
    try:
        async with conn.transaction():
            for statement in statements:
                await conn.execute(numbered(statement))
    finally:
        await conn.close()


async def test_open_creates_file_dirs_and_applies_migrations(db_path: Path) -> None:
    assert not db_path.parent.exists()
    store = await Store.open(db_path)
    try:
        assert await schema_version(store._conn()) == SCHEMA_VERSION == len(MIGRATIONS)
    finally:
        await store.close()
    assert db_path.is_file()
    assert _tables(db_path) == TABLES


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_open_creates_the_schema_in_an_empty_postgresql_database(
    database: Database,
) -> None:
    assert await _tables_of(database) == set()
    async with await database.open() as store:
        assert await schema_version(store._conn()) == SCHEMA_VERSION == len(MIGRATIONS)
    assert await _tables_of(database) == TABLES
    conn = await asyncpg.connect(database.where)
    try:
        assert await conn.fetch("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    finally:
        await conn.close()


async def test_reopen_is_idempotent_and_keeps_data(database: Database) -> None:
    async with await database.open() as store:
        await store.upsert_customer(CustomerRecord("C1", "Ada"))
    for _ in range(2):
        async with await database.open() as store:
            assert await migrate(store._conn()) == 0
            assert await schema_version(store._conn()) == SCHEMA_VERSION
            assert await store.customer("C1") == CustomerRecord("C1", "Ada")
    assert await _tables_of(database) == TABLES


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_durability_pragmas(store: Store) -> None:
    db = store._conn()

    async def pragma(name: str) -> object:
        async with db.execute(f"PRAGMA {name}") as cur:
            row = await cur.fetchone()
        assert row is not None
        return row[0]

    assert await pragma("journal_mode") == "wal"
    assert await pragma("foreign_keys") == 1
    assert await pragma("synchronous") == 2  # FULL


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_commits_wait_for_the_disk(database: Database) -> None:
    """PostgreSQL's ``synchronous = FULL``: a commit returns once it is flushed, also where the
    database's default says otherwise; and foreign keys are kept (PostgreSQL always does)."""
    name = database.where.rpartition("/")[2]
    await _run(database, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    async with await database.open() as store:
        rows = await store._conn().execute_fetchall("SELECT current_setting('synchronous_commit')")
        assert [r[0] for r in rows] == ["on"]
        with pytest.raises(UnknownCustomer):
            await store.add_customer_note("nobody", "a note", 1.0)  # refused by its key
    conn = await asyncpg.connect(database.where)
    try:
        assert await conn.fetchval("SHOW synchronous_commit") == "off"  # as set for others
    finally:
        await conn.close()


async def test_newer_database_is_refused(database: Database) -> None:
    async with await database.open():
        pass
    if database.backend == "sqlite":
        await _run(database, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        await _run(database, f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew):
        await database.open()


async def test_closed_store_refuses_calls(database: Database) -> None:
    store = await database.open()
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.customer("C1")


async def test_a_first_release_database_is_migrated_with_its_data(db_path: Path) -> None:
    """Version 1 -> 2: each contact gets its one segment; call backs get a status. (SQLite
    only: PostgreSQL databases were first made by a later release.)"""
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO contacts (contact_id, channel, queue, first_queue, tier, arrived_wall,"
            " queued_wall, answered_wall, agent_id, wait_seconds, completed_wall, talk_seconds,"
            " ended_wall, wrap_up_seconds, disposition, outcome, offers)"
            " VALUES ('c1', 'chat', 'q', 'q', 'standard', 100, 100, 105, 'a1', 5, 160, 55,"
            " 170, 10, 'resolved', 'completed', 1)"
        )
        db.execute(
            "INSERT INTO callbacks (contact_id, queue, phone, due_wall, done, done_wall)"
            " VALUES ('v1', 'support', '+49301', 200, 0, NULL), ('v2', 'support', '+49302',"
            " 210, 1, 300)"
        )
    async with await Store.open(db_path) as store:
        assert await schema_version(store._conn()) == SCHEMA_VERSION
        (seg,) = await store.segments("c1")
        assert (seg.queue, seg.agent_id, seg.answered_wall, seg.ended_wall) == ("q", "a1", 105, 160)
        assert (seg.talk_seconds, seg.end_reason, seg.disposition) == (55, "completed", "resolved")
        rec = await store.contact_record("c1")
        assert rec is not None and (rec.segment, rec.kind, rec.verified) == (1, "inbound", False)
        (pending,) = await store.open_callbacks()
        assert (pending.contact_id, pending.status, pending.arrived_wall) == (
            "v1",
            "scheduled",
            200,
        )
        done = await store.callback(2)
        assert (done.status, done.outcome, done.ended_wall) == ("completed", "completed", 300)
