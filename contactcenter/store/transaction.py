"""One write transaction (or one read snapshot) on the store's connection in autocommit mode,
SQLite's or PostgreSQL's."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from contactcenter.store.connection import Connection, dialect
from contactcenter.store.errors import StoreUnavailable

WRITE_LOCK = 0x6363_5F77_7274  # "cc_wrt": held by a write transaction on PostgreSQL

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


def unavailable(err: BaseException) -> StoreUnavailable | None:
    """``err`` as a ``StoreUnavailable`` when it is a fault of the machine, else None (a
    PostgreSQL connection says it itself: ``connection._reached``)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        return None
    reason = UNAVAILABLE.get(code & 0xFF)
    if reason is None:
        return None
    return StoreUnavailable(f"cannot write the database: {reason} ({err})")


@asynccontextmanager
async def immediate(db: Connection) -> AsyncIterator[Connection]:
    """``BEGIN IMMEDIATE`` (the write lock before anything is read; PostgreSQL: ``BEGIN`` and
    the advisory lock ``WRITE_LOCK``, so writers of one database take turns there too, e.g. a
    key rotation and the engine), COMMIT when the block ends without error, else ROLLBACK and
    re-raise.

    A task cancelled while it awaits BEGIN or COMMIT does not stop the statement: it still
    runs on aiosqlite's thread, in order, after the await has returned. So a cancelled BEGIN
    is always followed by a ROLLBACK (queued behind it), and a ROLLBACK that finds nothing to
    undo (the COMMIT went through) is ignored: the cancellation must propagate, and the next
    write must find no transaction open.

    A write the machine refuses (disk full, read-only, I/O error, PostgreSQL out of reach)
    raises ``StoreUnavailable``.
    """
    postgres = dialect(db) == "postgresql"
    try:
        await db.execute("BEGIN" if postgres else "BEGIN IMMEDIATE")
        if postgres:  # one writer at a time, as SQLite's write lock (to COMMIT or ROLLBACK)
            await db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
    except asyncio.CancelledError:
        with suppress(Exception):
            await db.execute("ROLLBACK")
        raise
    except Exception as err:
        raise unavailable(err) or err from err
    try:
        yield db
        await db.execute("COMMIT")
    except BaseException as exc:
        with suppress(Exception):
            await db.execute("ROLLBACK")
        if (refused := unavailable(exc)) is not None:
            raise refused from exc
        raise


@asynccontextmanager
async def snapshot(db: Connection) -> AsyncIterator[Connection]:
    """A read transaction whose snapshot is taken before the block runs: everything the block
    reads is one commit's state, however other processes write meanwhile (WAL). Ended (also
    when cancelled, as in ``immediate``) so that the next write finds no transaction open."""
    try:
        if dialect(db) == "postgresql":
            await db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            await db.execute_fetchall("SELECT 1")  # the snapshot
        else:
            await db.execute("BEGIN")
            await db.execute_fetchall("SELECT 1 FROM sqlite_master LIMIT 1")  # the snapshot
        yield db
    finally:
        with suppress(Exception):
            await db.execute("ROLLBACK")
