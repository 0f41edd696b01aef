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
never route the same database at once. It is one machine's lock: a standby on another machine
needs a database server's lock instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO


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
