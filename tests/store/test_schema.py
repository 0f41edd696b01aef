"""Opening a store: migrations, reopening, pragmas, and a database from the future."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contactcenter.store import CustomerRecord, SchemaTooNew, Store, StoreError
from contactcenter.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version

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
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows} - {"sqlite_sequence"}


async def test_open_creates_file_dirs_and_applies_migrations(db_path: Path) -> None:
    assert not db_path.parent.exists()
    store = await Store.open(db_path)
    try:
        assert await schema_version(store._conn()) == SCHEMA_VERSION == len(MIGRATIONS)
    finally:
        await store.close()
    assert db_path.is_file()
    assert _tables(db_path) == TABLES


async def test_reopen_is_idempotent_and_keeps_data(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        await store.upsert_customer(CustomerRecord("C1", "Ada"))
    for _ in range(2):
        async with await Store.open(db_path) as store:
            assert await migrate(store._conn()) == 0
            assert await schema_version(store._conn()) == SCHEMA_VERSION
            assert await store.customer("C1") == CustomerRecord("C1", "Ada")
    assert _tables(db_path) == TABLES


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


async def test_newer_database_is_refused(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew):
        await Store.open(db_path)


async def test_closed_store_refuses_calls(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.customer("C1")
