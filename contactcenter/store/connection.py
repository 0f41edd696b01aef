"""The store's two databases behind the few calls it makes: SQLite through aiosqlite (the
embedded default) and PostgreSQL through asyncpg (``postgresql://`` URLs).

The store's SQL is written once, in the subset both understand (``?`` placeholders,
``ON CONFLICT``, ``RETURNING``), and runs on an aiosqlite connection as it is. A
``PgConnection`` offers the same calls (``execute`` as an awaitable and an async context
manager giving a cursor, ``execute_fetchall``, ``executemany``) on an asyncpg connection,
numbering the placeholders as PostgreSQL wants. Rows of both index by position and by name.
Where the two really differ (schema types, catalog look-ups, JSON), the store asks ``dialect``.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol, Self

import asyncpg

from contactcenter.store.errors import StoreUnavailable

Dialect = Literal["sqlite", "postgresql"]

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(where: str) -> bool:
    """Whether ``where`` names a PostgreSQL database rather than a SQLite file."""
    return where.startswith(URL_SCHEMES)


def redacted(url: str) -> str:
    """``url`` without its password, to be said in messages and logs."""
    return re.sub(r"^(\w+://[^:@/]*):[^@/]*@", r"\1:***@", url)


def shown(db: Path | str) -> str:
    """The database as messages say it: a file's path, a URL without its password."""
    return redacted(db) if isinstance(db, str) else str(db)


def database_argument(text: str) -> Path | str:
    """A command's ``--db``: a PostgreSQL URL as given, else a SQLite file's path."""
    return text if is_url(text) else Path(text)


class Row(Protocol):
    """A result row: by position, by column name, and its column names (``sqlite3.Row`` and
    ``asyncpg.Record`` both are)."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> Iterable[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    async def fetchone(self) -> Row | None: ...
    async def fetchall(self) -> Iterable[Row]: ...


class Connection(Protocol):
    """What the store calls on its connection, whichever the database."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> Any: ...
    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None, /
    ) -> Iterable[Row]: ...
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> Any: ...
    async def close(self) -> None: ...


def dialect(db: Connection) -> Dialect:
    return "postgresql" if isinstance(db, PgConnection) else "sqlite"


async def table_exists(db: Connection, name: str) -> bool:
    """Whether the database has a table ``name`` (PostgreSQL: as its search path finds it)."""
    if dialect(db) == "postgresql":
        sql = "SELECT 1 WHERE to_regclass(?) IS NOT NULL"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return bool(list(await db.execute_fetchall(sql, (name,))))


async def columns(db: Connection, table: str) -> set[str]:
    """The names of ``table``'s columns (PostgreSQL: the table its search path finds)."""
    if dialect(db) == "postgresql":
        rows = await db.execute_fetchall(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?)"
            " AND attnum > 0 AND NOT attisdropped",
            (table,),
        )
        return {str(r[0]) for r in rows}
    return {str(r[1]) for r in await db.execute_fetchall(f"PRAGMA table_info({table})")}


INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)
"""A statement refused by a constraint (unique, not null, check, foreign key), either database."""

UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)
"""PostgreSQL cannot be reached or the connection is lost (not a fault of the statement)."""

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?")


def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1, $2, ...`` (PostgreSQL's style); a
    ``?`` inside a quoted literal, a quoted name or a comment is left alone."""
    n = 0

    def number(m: re.Match[str]) -> str:
        nonlocal n
        if m.group(0) != "?":
            return m.group(0)
        n += 1
        return f"${n}"

    return _TOKENS.sub(number, sql)


def _numeric(text: str) -> int | float:
    """PostgreSQL's ``numeric`` (what ``sum`` of integers gives) as SQLite gives it: an int
    when whole, else a float."""
    return float(text) if "." in text or "e" in text.lower() or "n" in text.lower() else int(text)


def _gives_rows(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head == "SELECT" or head.startswith("WITH") or "RETURNING" in sql.upper()


class PgCursor:
    """The rows and row count of one statement, as aiosqlite's cursor offers them."""

    def __init__(self, rows: list[asyncpg.Record], status: str | None) -> None:
        self._rows = rows
        self._next = 0
        tail = (status or "").rpartition(" ")[2]
        self.rowcount = int(tail) if tail.isdigit() else -1

    async def fetchone(self) -> asyncpg.Record | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None


class _Statement:
    """``PgConnection.execute``'s result: awaited, or used as ``async with``, like aiosqlite's."""

    def __init__(self, conn: PgConnection, sql: str, parameters: Sequence[Any]) -> None:
        self._run = conn._run(sql, parameters)

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *_exc: object) -> None:
        return None


class PgConnection:
    """An asyncpg connection offering the calls the store makes on aiosqlite's."""

    def __init__(
        self, conn: asyncpg.Connection, url: str, settings: dict[str, str] | None = None
    ) -> None:
        self._conn = conn
        self._url = url
        self._settings = settings
        self._closed = False
        self._turn = asyncio.Lock()
        """asyncpg runs one statement at a time on a connection and refuses a second; callers
        that share one (API requests reading sessions) queue here, as on aiosqlite's thread."""

    @staticmethod
    async def _open(url: str, settings: dict[str, str] | None, timeout: float) -> Any:
        conn = await asyncpg.connect(url, timeout=timeout, server_settings=settings)
        try:
            await conn.set_type_codec(
                "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
            )
        except BaseException:
            await conn.close()
            raise
        return conn

    @classmethod
    async def connect(
        cls, url: str, *, timeout: float = 10.0, settings: dict[str, str] | None = None
    ) -> PgConnection:
        """Connect to ``url``; ``settings``: the session's settings (kept on reconnecting)."""
        return cls(await cls._open(url, settings, timeout), url, settings)

    async def _live(self) -> Any:
        """The connection, a new one when the old one was lost (the server restarted, the
        network cut it): the statement that found it lost failed, the next one goes on."""
        if self._conn.is_closed() and not self._closed:
            self._conn = await self._open(self._url, self._settings, timeout=5.0)
        return self._conn

    async def _run(self, sql: str, parameters: Sequence[Any]) -> PgCursor:
        query = numbered(sql)
        async with self._turn:
            with _reached():
                conn = await self._live()
                if _gives_rows(sql):
                    rows = await conn.fetch(query, *parameters)
                    return PgCursor(rows, str(len(rows)))
                return PgCursor([], await conn.execute(query, *parameters))

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> _Statement:
        return _Statement(self, sql, tuple(parameters or ()))

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None, /
    ) -> list[asyncpg.Record]:
        return await (await self._run(sql, tuple(parameters or ()))).fetchall()

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        async with self._turn:
            with _reached():
                conn = await self._live()
                await conn.executemany(numbered(sql), [tuple(p) for p in parameters])

    async def close(self) -> None:
        self._closed = True
        await self._conn.close()


@contextmanager
def _reached() -> Iterator[None]:
    """A statement that finds the server out of reach raises ``StoreUnavailable``: a fault of
    the machine, not of the statement (the store's writers hold back and retry on it)."""
    try:
        yield
    except UNREACHABLE_ERRORS as e:
        raise StoreUnavailable(f"cannot reach the database: {e}") from e
