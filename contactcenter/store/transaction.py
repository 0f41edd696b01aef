"""One SQLite write transaction on an aiosqlite connection in autocommit mode."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosqlite

from contactcenter.store.errors import StoreUnavailable

UNAVAILABLE = {
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_BUSY: "locked by another process",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_IOERR: "I/O error",
    sqlite3.SQLITE_FULL: "disk full",
    sqlite3.SQLITE_CANTOPEN: "cannot open its files",
}
"""SQLite's primary result codes that say the database cannot be written now (a fault of the
machine, not of the statement), with how they are said."""


def unavailable(err: sqlite3.Error) -> StoreUnavailable | None:
    """``err`` as a ``StoreUnavailable`` when it is a fault of the machine, else None."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        return None
    reason = UNAVAILABLE.get(code & 0xFF)
    if reason is None:
        return None
    return StoreUnavailable(f"cannot write the database: {reason} ({err})")


@asynccontextmanager
async def immediate(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` (the write lock before anything is read), COMMIT when the block
    ends without error, else ROLLBACK and re-raise.

    A task cancelled while it awaits BEGIN or COMMIT does not stop the statement: it still
    runs on aiosqlite's thread, in order, after the await has returned. So a cancelled BEGIN
    is always followed by a ROLLBACK (queued behind it), and a ROLLBACK that finds nothing to
    undo (the COMMIT went through) is ignored: the cancellation must propagate, and the next
    write must find no transaction open.

    A write the machine refuses (disk full, read-only, I/O error) raises ``StoreUnavailable``.
    """
    try:
        await db.execute("BEGIN IMMEDIATE")
    except asyncio.CancelledError:
        with suppress(sqlite3.OperationalError):
            await db.execute("ROLLBACK")
        raise
    except sqlite3.Error as err:
        raise unavailable(err) or err from err
    try:
        yield db
        await db.execute("COMMIT")
    except BaseException as exc:
        with suppress(sqlite3.OperationalError):
            await db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error) and (refused := unavailable(exc)) is not None:
            raise refused from exc
        raise


@asynccontextmanager
async def snapshot(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """A read transaction whose snapshot is taken before the block runs: everything the block
    reads is one commit's state, however other processes write meanwhile (WAL). Ended (also
    when cancelled, as in ``immediate``) so that the next write finds no transaction open."""
    try:
        await db.execute("BEGIN")
        await db.execute_fetchall("SELECT 1 FROM sqlite_master LIMIT 1")  # the snapshot
        yield db
    finally:
        with suppress(sqlite3.OperationalError):
            await db.execute("ROLLBACK")
