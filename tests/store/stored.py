"""What a test's database holds as stored (sealed values as they are, look-up hashes, ids),
read and changed beside the store through a plain connection of its own: ``sqlite3`` on the
SQLite file, ``asyncpg`` on the PostgreSQL database. For tests that look past the store (is
anything in clear? what did a tamperer change?) on both backends."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

import asyncpg

from contactcenter.store.connection import numbered

if TYPE_CHECKING:
    from tests.store.conftest import Database

STATISTICS = (
    "SELECT seq, contact_id, channel, queue, first_queue, tier, arrived_wall,"
    " queued_wall, offered_wall, answered_wall, abandoned_wall, removed_wall,"
    " completed_wall, ended_wall, agent_id, wait_seconds, talk_seconds,"
    " wrap_up_seconds, disposition, outcome, verified FROM contacts ORDER BY seq"
)
"""What the statistics read of each contact: times, queue, outcome, durations."""


async def rows(database: Database, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """``sql``'s rows (``?`` placeholders) read as stored."""
    if database.backend == "sqlite":
        with closing(sqlite3.connect(database.where)) as conn:
            return [tuple(r) for r in conn.execute(sql, tuple(params))]
    conn = await asyncpg.connect(database.where)
    try:
        return [tuple(r) for r in await conn.fetch(numbered(sql), *params)]
    finally:
        await conn.close()


async def execute(database: Database, *statements: str) -> None:
    """Run ``statements`` (committed), as someone with access to the database would."""
    if database.backend == "sqlite":
        with closing(sqlite3.connect(database.where)) as conn, conn:
            for sql in statements:
                conn.execute(sql)
        return
    conn = await asyncpg.connect(database.where)
    try:
        async with conn.transaction():
            for sql in statements:
                await conn.execute(sql)
    finally:
        await conn.close()


async def tables(database: Database) -> list[str]:
    if database.backend == "sqlite":
        found = await rows(database, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        found = await rows(
            database, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    return sorted(str(r[0]) for r in found)


async def columns(database: Database, table: str) -> set[str]:
    if database.backend == "sqlite":
        return {str(r[1]) for r in await rows(database, f"PRAGMA table_info({table})")}
    found = await rows(
        database,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ?",
        (table,),
    )
    return {str(r[0]) for r in found}


async def every_cell(database: Database) -> list[tuple[str, str, Any]]:
    """(table, column, value as stored) of every non-null cell of every table."""
    out: list[tuple[str, str, Any]] = []
    if database.backend == "sqlite":
        with closing(sqlite3.connect(database.where)) as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            names = [r[0] for r in found]
            for table in names:
                cur = conn.execute(f"SELECT * FROM {table}")  # table names from the schema
                cols = [d[0] for d in cur.description]
                for row in cur:
                    out += [(table, c, v) for c, v in zip(cols, row, strict=True) if v is not None]
        return out
    conn = await asyncpg.connect(database.where)
    try:
        names = [
            r[0]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        for table in names:
            for record in await conn.fetch(f"SELECT * FROM {table}"):
                out += [(table, c, v) for c, v in record.items() if v is not None]
    finally:
        await conn.close()
    return out


async def every_value(database: Database) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every non-null, non-empty cell of every table (as
    ``tests/store/scenes.every_value`` reads a SQLite file), sorted: PostgreSQL keeps no row
    order."""
    return sorted((t, c, str(v)) for t, c, v in await every_cell(database) if v)


async def statistics(database: Database) -> list[tuple[Any, ...]]:
    return await rows(database, STATISTICS)
