"""One SQLite write transaction on an aiosqlite connection in autocommit mode."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosqlite


@asynccontextmanager
async def immediate(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` (the write lock before anything is read), COMMIT when the block
    ends without error, else ROLLBACK and re-raise.

    A task cancelled while awaiting COMMIT does not stop the COMMIT (it runs on aiosqlite's
    thread, before the ROLLBACK): then there is nothing to roll back, and the cancellation,
    not the failed ROLLBACK, must propagate.
    """
    await db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with suppress(sqlite3.OperationalError):
                await db.execute("ROLLBACK")
        raise
