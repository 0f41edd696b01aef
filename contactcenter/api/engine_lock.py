"""One engine per database: a second ``serve`` on the same file would route the same waiting
contacts twice and close the first one's calls as "cut by a restart".

The lock is an exclusive ``flock`` on ``<database>.lock`` (it holds the owner's PID for the
message), taken before the store is opened and held while the process lives: the kernel lets
go of it when the process ends, however it ends (``kill -9`` included), so a stale file never
blocks a restart. Commands that only change a few rows while the engine runs (``user set``)
do not take it.

The same lock makes a standby (``serve --standby``): a second engine that waits for it holds
no routing state and opens nothing until the serving engine has ended, then takes the lock
and starts as a restart does. Only one process holds a ``flock`` at a time, so two engines
never route the same database at once. That is one machine's lock; on PostgreSQL the lock is
the server's instead (``ServerLock``), so the standby may run on another machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import asyncpg

from contactcenter.store.connection import UNREACHABLE_ERRORS, redacted

log = logging.getLogger(__name__)

ENGINE_LOCK = 0x6363_656E  # "ccen": the advisory locks of the engines serving a database


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text().strip())
        return f" (process {pid})"
    return ""


def lock_problem(db: Path) -> str | None:
    """Why ``db`` is not free to serve now (another engine holds it), or None; writes nothing."""
    path = lock_path(db)
    try:
        fh = path.open("rb")
    except OSError:  # no lock file (or none we may read): nobody took it here
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return f"database {db} is served by another engine{_holder(path)}"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


class EngineLock:
    """Held while this process serves ``db``; ``release`` (or the process's end) lets go."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh: IO[bytes] | None = fh

    @classmethod
    def take(cls, db: Path) -> EngineLock:
        """Take the lock (the database's directory must exist); ``BlockingIOError`` with the
        problem said when another engine holds it."""
        path = lock_path(db)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+b")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            fh.close()
            raise BlockingIOError(
                f"database {db} is served by another engine{_holder(path)}"
            ) from e
        fh.truncate(0)
        fh.write(f"{os.getpid()}\n".encode())
        fh.flush()
        return cls(fh)

    @classmethod
    async def wait(cls, db: Path, stop: asyncio.Event, every: float = 0.05) -> EngineLock | None:
        """Take the lock as soon as the engine holding it has ended (tried every ``every``
        seconds), or None once ``stop`` is set first."""
        while not stop.is_set():
            with contextlib.suppress(BlockingIOError):
                return cls.take(db)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        return None

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def _key(site: str) -> int:
    """The second half of a site's lock key (0: the database's one site)."""
    return zlib.crc32(site.encode()) & 0x7FFF_FFFF if site else 0


def _holder_name() -> str:
    return f"contactcenter {socket.gethostname()} {os.getpid()}"


class ServerLock:
    """The engine's lock on a PostgreSQL database: a session advisory lock, held by a
    connection of its own while the process lives. PostgreSQL lets go of it when that
    session ends (the process killed, its machine lost, the connection cut), so a standby
    anywhere that reaches the server can take over.

    Fencing: the holder looks at its session every ``every`` seconds. A lost session means a
    standby may have taken over, so the holder takes the lock again as soon as the server
    answers; if another engine has it by then, ``on_lost`` is called and this engine must stop
    routing. While the server is out of reach nobody can take it: the engine goes on."""

    def __init__(
        self, url: str, site: str, conn: asyncpg.Connection, on_lost: Callable[[str], None]
    ) -> None:
        self._url = url
        self._site = site
        self._conn: asyncpg.Connection | None = conn
        self._on_lost = on_lost
        self._watch: asyncio.Task[None] | None = None

    @staticmethod
    async def _connect(url: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            url, timeout=5, server_settings={"application_name": _holder_name()}
        )

    @staticmethod
    async def _try(conn: asyncpg.Connection, site: str) -> bool:
        return bool(
            await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", ENGINE_LOCK, _key(site))
        )

    @staticmethod
    async def holder(conn: asyncpg.Connection, site: str) -> str:
        """Who holds the lock, as its ``application_name`` says (" (contactcenter host pid)")."""
        name = await conn.fetchval(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
            " AND l.classid::bigint = $1 AND l.objid::bigint = $2 LIMIT 1",
            ENGINE_LOCK,
            _key(site),
        )
        return f" ({name})" if name else ""

    @staticmethod
    def _served(url: str, site: str) -> str:
        of = f" for site {site}" if site else ""
        return f"database {redacted(url)} is served{of} by another engine"

    @classmethod
    async def problem(cls, url: str, site: str = "") -> str | None:
        """Why ``url`` is not free to serve now (another engine of ``site`` holds it), or
        None."""
        conn = await cls._connect(url)
        try:
            if await cls._try(conn, site):
                return None
            return cls._served(url, site) + await cls.holder(conn, site)
        finally:
            await conn.close()

    @classmethod
    async def take(
        cls, url: str, on_lost: Callable[[str], None], every: float = 1.0, site: str = ""
    ) -> ServerLock:
        """Take the lock of ``site`` (each site sharing a database has its own; "": the one
        site of the database); ``BlockingIOError`` with the problem said when another engine
        holds it (connection errors propagate)."""
        conn = await cls._connect(url)
        try:
            if not await cls._try(conn, site):
                raise BlockingIOError(cls._served(url, site) + await cls.holder(conn, site))
        except BaseException:
            await conn.close()
            raise
        lock = cls(url, site, conn, on_lost)
        lock._watch = asyncio.create_task(lock._watching(every), name="engine-lock")
        return lock

    @classmethod
    async def wait(
        cls,
        url: str,
        stop: asyncio.Event,
        on_lost: Callable[[str], None],
        every: float = 0.05,
        site: str = "",
    ) -> ServerLock | None:
        """Take the lock as soon as the engine holding it has ended (or its server session
        has), or None once ``stop`` is set first. The server out of reach is waited out."""
        while not stop.is_set():
            with contextlib.suppress(BlockingIOError, *UNREACHABLE_ERRORS):
                return await cls.take(url, on_lost, site=site)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        return None

    async def _watching(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            conn = self._conn
            try:
                if conn is None or conn.is_closed():
                    raise ConnectionError("the lock's session is closed")
                await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=max(every, 2.0))
                continue
            except UNREACHABLE_ERRORS as e:  # (a timeout too: an OSError)
                log.warning("engine lock: session lost (%s); taking the lock again", e)
            if conn is not None:
                conn.terminate()
            self._conn = None
            self._conn = await self._again(every)
            if self._conn is None:
                return

    async def _again(self, every: float) -> asyncpg.Connection | None:
        """A new session holding the lock once the server answers; None (and ``on_lost``)
        when another engine took it meanwhile. A waiting standby (which tries every 50 ms)
        is let go first: after a lost session this engine's state is the one in doubt."""
        delay = every
        await asyncio.sleep(every)
        while True:
            try:
                conn = await self._connect(self._url)
            except UNREACHABLE_ERRORS:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if await self._try(conn, self._site):
                log.warning("engine lock: taken again; this engine goes on serving")
                return conn
            who = await self.holder(conn, self._site)
            await conn.close()
            self._on_lost(f"another engine{who} took over {redacted(self._url)}")
            return None

    def release(self) -> None:
        """Let go (the session ends; PostgreSQL frees the lock at once)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()
