"""One SQLite write transaction on an aiosqlite connection in autocommit mode."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosqlite


@asynccontextmanager
async def immediate(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` (the write lock before anything is read), COMMIT when the block
    ends without error, else ROLLBACK and re-raise.

    A task cancelled while it awaits BEGIN or COMMIT does not stop the statement: it still
    runs on aiosqlite's thread, in order, after the await has returned. So a cancelled BEGIN
    is always followed by a ROLLBACK (queued behind it), and a ROLLBACK that finds nothing to
    undo (the COMMIT went through) is ignored: the cancellation must propagate, and the next
    write must find no transaction open.
    """
    try:
        await db.execute("BEGIN IMMEDIATE")
    except asyncio.CancelledError:
        with suppress(sqlite3.OperationalError):
            await db.execute("ROLLBACK")
        raise
    try:
        yield db
        await db.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.OperationalError):
            await db.execute("ROLLBACK")
        raise
