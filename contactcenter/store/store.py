"""The store: one SQLite file, reached through aiosqlite from the asyncio runtime (embedded,
the default), or a PostgreSQL database (``postgresql://`` URL, through asyncpg).

Durability: the file runs in WAL mode with ``synchronous=FULL`` (PostgreSQL: a synchronous
commit), so every committed transaction is on disk (fsync'd) when the call that made it
returns; a contact whose ``create_contact`` returned survives ``kill -9`` and a power cut
(PostgreSQL: of the engine or of the server). Each public call is one
transaction; calls are serialized on the one connection by an asyncio lock, so concurrent
coroutines never see or commit each other's half-done work.

Personal values (customers' names, numbers, e-mails and account numbers, notes, chat lines,
call back numbers and names, survey comments) are sealed at rest (``sealing.py``) under keys
kept outside the database (``data_keys.py``); what is looked up (phone, e-mail, account, a call
back's number) is found through keyed hashes. Callers see clear values only. Ids, queues,
times and states stay clear: routing and reports need them.

Wall-clock times (``*_wall``, ``wall_time``) are passed in by the caller; the store never
reads a clock. Persistence only: no routing or business rules live here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from contactcenter.config.models import Customer
from contactcenter.events import Event
from contactcenter.ivr.outcomes import IvrOutcome, IvrVisit
from contactcenter.store import passwords
from contactcenter.store.connection import (
    INTEGRITY_ERRORS,
    Connection,
    Cursor,
    PgConnection,
    Row,
    dialect,
    is_url,
    redacted,
)
from contactcenter.store.data_keys import DataKeys, default_path, used_keys
from contactcenter.store.data_keys import problem as data_keys_problem
from contactcenter.store.errors import (
    DataKeysError,
    DuplicateContact,
    DuplicateSurvey,
    StoreError,
    StoreUnavailable,
    UnknownCallback,
    UnknownContact,
    UnknownCustomer,
    UnknownUser,
)
from contactcenter.store.lifecycle import statements
from contactcenter.store.records import (
    ROLES,
    SENDERS,
    AgentStateRecord,
    AuditRecord,
    CallbackAttempt,
    CallbackRecord,
    ContactRecord,
    CustomerNote,
    CustomerRecord,
    Message,
    OpenContact,
    Role,
    SegmentRecord,
    Sender,
    SessionRecord,
    SurveyRecord,
    UserRecord,
)
from contactcenter.store.resealing import seal_clear_rows
from contactcenter.store.schema import migrate, site_schema
from contactcenter.store.sealing import Keyring, LookupKind
from contactcenter.store.transaction import immediate, snapshot

KNOWN_SESSIONS = 10_000
"""Sessions a store remembers for an outage of its database (the most recently used)."""

NewMessage = tuple[str, str, str, float, str | None]
"""A chat line to add: (contact id, sender, text, wall time, agent id or None)."""

_CONTACT_COLUMNS = ", ".join(f.name for f in fields(ContactRecord))
_SEGMENT_COLUMNS = ", ".join(f.name for f in fields(SegmentRecord))
_CALLBACK_COLUMNS = ", ".join(f.name for f in fields(CallbackRecord))
_SURVEY_COLUMNS = ", ".join(f.name for f in fields(SurveyRecord))
_ABOUT = (
    "coalesce(s.queue, c.queue), c.channel, s.agent_id FROM (SELECT ? AS id) k"
    " LEFT JOIN contacts c ON c.contact_id = k.id LEFT JOIN contact_segments s"
    " ON s.contact_id = k.id AND s.segment = (SELECT max(segment) FROM contact_segments"
    " WHERE contact_id = k.id AND answered_wall IS NOT NULL AND agent_id IS NOT NULL)"
)
"""What a survey's outcome is about (queue, channel, agent of the last segment an agent
answered), selected for the contact id given as its one parameter."""
_CUSTOMER_COLUMNS = "id, name, tier, dedicated_agent, phone, email, account_number"
_HASH_COLUMNS = "phone_hash, email_hash, account_hash"
_WAITING = (
    "answered_wall IS NULL AND abandoned_wall IS NULL AND removed_wall IS NULL"
    " AND completed_wall IS NULL AND ended_wall IS NULL"
)


def _check_sender(sender: str) -> None:
    if sender not in SENDERS:
        raise ValueError(f"sender must be one of {', '.join(SENDERS)}, not {sender!r}")


def _make_private(path: Path) -> None:
    """The database file exists, readable and writable by its owner only, as do its -wal and
    -shm files if they exist (customers' data is in all three)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with suppress(FileNotFoundError):
                if part.stat().st_mode & 0o077:
                    part.chmod(0o600)
    except OSError as e:
        raise StoreError(f"cannot create or protect the database {path}: {e.strerror}") from e


async def _sessions_reader(where: str) -> Connection:
    """A read-only connection for session look-ups. In WAL mode it reads the last commit
    without waiting for the main connection's write in progress (and its fsync), so every API
    request can ask for its session, and a session ended by another process (``contactcenter
    user set``) is refused at once."""
    db = await aiosqlite.connect(where, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA query_only = ON")
    except BaseException:
        await db.close()
        raise
    return db


async def _journal_to_wal(db: Connection, patience: float = 10.0) -> str:
    """Switch to WAL; the journal mode it got. SQLite answers "database is locked" at once,
    without its busy timeout, when another connection is switching a new database at the same
    moment (two processes starting together), so that answer is retried for ``patience``
    seconds."""
    waited = 0.0
    while True:
        try:
            async with db.execute("PRAGMA journal_mode = WAL") as cur:
                row = await cur.fetchone()
            return str(row[0]).lower() if row is not None else ""
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or waited >= patience:
                raise
            await asyncio.sleep(0.02)
            waited += 0.02


async def _commits_flushed(db: PgConnection, url: str, settings: dict[str, str]) -> PgConnection:
    """PostgreSQL's ``synchronous = FULL``: a COMMIT returns once it is on disk, so that what
    a call committed survives a crash of the server, also where the server's or database's
    default turns that off (a stronger setting, e.g. ``remote_apply``, is kept). ``db``, or
    (closing it) a connection with that setting, which it keeps when it reconnects."""
    rows = list(await db.execute_fetchall("SELECT current_setting('synchronous_commit')"))
    if not rows or rows[0][0] != "off":
        return db
    await db.close()
    return await PgConnection.connect(url, settings={**settings, "synchronous_commit": "on"})


class Store:
    """Customers, contact records and their segments, transcripts, users, sessions, audit,
    call backs and their attempts, surveys, and the engine's last sign of life.

    Open with ``await Store.open(path)`` (or ``async with await Store.open(path) as store``).
    """

    def __init__(
        self,
        db: Connection,
        path: str,
        sessions_db: Connection | None = None,
        keys: DataKeys | None = None,
    ) -> None:
        """Use ``Store.open``; this only wraps already prepared connections."""
        self._db: Connection | None = db
        self._sessions_db = sessions_db
        """A second connection that only reads sessions (below)."""
        self.path = path
        """The SQLite file, or the PostgreSQL URL without its password."""
        self._lock = asyncio.Lock()
        self._known_sessions: OrderedDict[str, SessionRecord] = OrderedDict()
        """The sessions last found, by token hash (``session``: kept through an outage)."""
        self._keys = keys or DataKeys(Keyring.new(), None)
        """The keyring personal values are sealed with (``data_keys.py``)."""

    # -- life cycle -------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        data_keys: str | os.PathLike[str] | None = None,
        site: str | None = None,
    ) -> Store:
        """Open (creating file and parent directories) and migrate the database at ``path``.

        The file is created readable by its owner only (0600; SQLite gives its -wal and -shm
        files the same mode), a new directory 0700; files an older version left readable to
        others are made private. Deleted content is overwritten (``secure_delete``).

        ``data_keys``: the keys file (default ``data-keys`` beside the database), made for a
        database that uses no key yet; ``DataKeysError`` (naming the file) before anything is
        written if the database uses keys the file does not hold. Values an older version
        stored in clear are sealed here, in batches (``resealing.seal_clear_rows``).

        ``path`` may instead be a ``postgresql://`` URL (``open_postgresql``, with ``site``).
        """
        where = os.fspath(path)
        if is_url(where):
            return await cls.open_postgresql(where, data_keys=data_keys, site=site)
        if site is not None:
            raise StoreError("sites share a PostgreSQL database only; a SQLite file is one site's")
        memory = where == ":memory:"
        keys_file = None
        if not memory:
            keys_file = Path(data_keys) if data_keys is not None else default_path(where)
            if (missing := data_keys_problem(Path(where), keys_file)) is not None:
                raise DataKeysError(missing)  # said before anything is made or written
            _make_private(Path(where))
        db = await aiosqlite.connect(where, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await db.execute("PRAGMA busy_timeout = 10000")
            mode = await _journal_to_wal(db)
            if mode != "wal" and where != ":memory:":
                raise StoreError(f"could not switch {where} to WAL journal mode (got {mode!r})")
            await db.execute("PRAGMA synchronous = FULL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA secure_delete = ON")
            keys = DataKeys.load(keys_file, await used_keys(db), where)
            await migrate(db)
            sessions_db = None if memory else await _sessions_reader(where)
        except BaseException:
            await db.close()
            raise
        return await _sealed(cls(db, where, sessions_db, keys))

    @classmethod
    async def open_postgresql(
        cls, url: str, *, data_keys: str | os.PathLike[str] | None = None, site: str | None = None
    ) -> Store:
        """Open and migrate the PostgreSQL database at ``url``. Its keys file must be named
        (there is no directory "beside" a server's database); ``DataKeysError`` before
        anything is written if the database uses keys the file does not hold.

        ``site``: the database is shared by sites, this store is that site's: its contacts,
        users and the rest of its own in a schema of its own, the CRM and cases shared with
        the other sites (``schema.migrate``; every site uses the same data keys file)."""
        if data_keys is None:
            raise DataKeysError(
                f"a PostgreSQL store ({redacted(url)}) needs its data keys file named (--data-keys)"
            )
        keys_file = Path(data_keys)
        path = {} if site is None else {"search_path": f"{site_schema(site)}, public"}
        db = await PgConnection.connect(url, settings=path or None)
        sessions_db: PgConnection | None = None
        try:
            db = await _commits_flushed(db, url, path)
            keys = DataKeys.load(keys_file, await used_keys(db), redacted(url))
            await migrate(db, site)
            read_only = {"default_transaction_read_only": "on", **path}
            sessions_db = await PgConnection.connect(url, settings=read_only)
        except BaseException:
            await db.close()
            if sessions_db is not None:
                await sessions_db.close()
            raise
        return await _sealed(cls(db, redacted(url), sessions_db, keys))

    async def close(self) -> None:
        """Close the connections (idempotent); waits for a running call to finish."""
        async with self._lock:
            if self._sessions_db is not None:
                sessions_db, self._sessions_db = self._sessions_db, None
                await sessions_db.close()
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _conn(self) -> Connection:
        if self._db is None:
            raise StoreError("the store is closed")
        return self._db

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Connection]:
        """One write transaction, committed (and fsync'd) when the block ends without error.

        Inside it the keys file is looked at (a key rotation writes it holding this same write
        lock), so what the block seals is sealed under the key the file says is active; the
        database's list of keys in use gets those keys in the same commit."""
        async with self._lock:
            async with immediate(self._conn()) as db:
                self._keys.refresh()
                listed = self._keys.unregistered()
                if listed is not None:
                    await db.executemany(
                        "INSERT INTO sealing_keys (kid, kind) VALUES (?, ?)"
                        " ON CONFLICT (kid) DO NOTHING",
                        [(listed[0], "data"), (listed[1], "index")],
                    )
                yield db
            if listed is not None:
                self._keys.registered(listed)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Connection]:
        """The connection, for reads that must not interleave with another call."""
        async with self._lock:
            yield self._conn()

    async def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        async with self._read() as db:
            return list(await db.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def _lookup(self) -> AsyncIterator[Connection]:
        """A read by look-up hash: one snapshot, taken before the keys file is looked at, so
        the look-up hashes with every index key the rows it reads may use, also while another
        process rotates the index key (which writes the file before it rewrites a hash)."""
        async with self._lock, snapshot(self._conn()) as db:
            self._keys.refresh()
            yield db

    # -- sealed values ----------------------------------------------------------------------

    def _seal(self, table: str, column: str, value: str | None) -> str | None:
        return self._keys.seal(table, column, value)

    def _open(self, table: str, column: str, value: str | None) -> str | None:
        return self._keys.open(table, column, value)

    def _contact(self, row: Row) -> ContactRecord:
        values = dict(zip(row.keys(), row, strict=True))
        values["breached"] = bool(values["breached"])
        values["verified"] = bool(values["verified"])
        for column in ("customer_name", "disposition_notes"):
            values[column] = self._open("contacts", column, values[column])
        return ContactRecord(**values)

    def _callback(self, row: Row) -> CallbackRecord:
        values = dict(zip(row.keys(), row, strict=True))
        values["verified"] = bool(values["verified"])
        for column in ("phone", "name"):
            values[column] = self._open("callbacks", column, values[column])
        return CallbackRecord(**values)

    def _segment(self, row: Row) -> SegmentRecord:
        values = dict(zip(row.keys(), row, strict=True))
        values["note"] = self._open("contact_segments", "note", values["note"])
        return SegmentRecord(**values)

    def _message(self, row: Row) -> Message:
        text = self._open("messages", "text", row["text"])
        assert text is not None  # NOT NULL
        return Message(
            row["id"], row["contact_id"], row["sender"], text, row["wall_time"], row["agent_id"]
        )

    def _customer_row(
        self, c: CustomerRecord | Customer, dedicated: str | None
    ) -> tuple[object, ...]:
        """A customer's row as stored: ``_CUSTOMER_COLUMNS`` sealed, then the look-up hashes."""
        k, seal = self._keys, self._seal
        return (
            c.id, seal("customers", "name", c.name), c.tier, dedicated,
            seal("customers", "phone", c.phone), seal("customers", "email", c.email),
            seal("customers", "account_number", c.account_number),
            k.lookup_hash("phone", c.phone), k.lookup_hash("email", c.email),
            k.lookup_hash("account", c.account_number),
        )  # fmt: skip

    # -- customers (CRM) --------------------------------------------------------------------

    async def upsert_customer(self, customer: CustomerRecord) -> None:
        """Insert or replace a customer's fields (its notes are kept; see ``add_customer_note``)."""
        async with self._write() as db:
            await db.execute(
                f"INSERT INTO customers ({_CUSTOMER_COLUMNS}, {_HASH_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier,"
                " dedicated_agent = excluded.dedicated_agent, phone = excluded.phone,"
                " email = excluded.email, account_number = excluded.account_number,"
                " phone_hash = excluded.phone_hash, email_hash = excluded.email_hash,"
                " account_hash = excluded.account_hash",
                self._customer_row(customer, customer.dedicated_agent),
            )

    async def seed_customers(
        self, customers: Iterable[Customer], dedicated_agents: Mapping[str, str] | None = None
    ) -> int:
        """Insert config seed customers that are not in the store yet; returns how many.

        Customers already stored are left alone (the store owns them at run time).
        ``dedicated_agents`` (customer id -> agent id, e.g. ``Center.dedicated_agent``) fills
        ``dedicated_agent`` of the inserted ones.
        """
        dedicated = dedicated_agents or {}
        seeds = list(customers)
        if not seeds:
            return 0
        async with self._write() as db:
            count = "SELECT count(*) FROM customers"
            before = await _scalar(db, count)
            await db.executemany(
                f"INSERT INTO customers ({_CUSTOMER_COLUMNS}, {_HASH_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                [self._customer_row(c, dedicated.get(c.id)) for c in seeds],
            )
            return await _scalar(db, count) - before

    async def _customer(
        self, match: Callable[[], tuple[str, Sequence[object]]], *, by_hash: bool = False
    ) -> CustomerRecord | None:
        """The first customer ``match()`` selects (a WHERE clause and its parameters), with its
        notes; ``by_hash``: a look-up by hash, in one snapshot (``_lookup``: ``match`` is
        called inside it)."""
        async with self._lookup() if by_hash else self._read() as db:
            where, params = match()
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE {where}"
                    " ORDER BY rowid LIMIT 1",
                    params,
                )
            )
            if not rows:
                return None
            row = rows[0]
            notes = await db.execute_fetchall(
                "SELECT id, text, wall_time, author FROM customer_notes WHERE customer_id = ?"
                " ORDER BY id",
                (row["id"],),
            )
        name = self._open("customers", "name", row["name"])
        assert name is not None  # NOT NULL
        return CustomerRecord(
            id=row["id"],
            name=name,
            tier=row["tier"],
            dedicated_agent=row["dedicated_agent"],
            phone=self._open("customers", "phone", row["phone"]),
            email=self._open("customers", "email", row["email"]),
            account_number=self._open("customers", "account_number", row["account_number"]),
            notes=tuple(
                CustomerNote(n[0], str(self._open("customer_notes", "text", n[1])), n[2], n[3])
                for n in notes
            ),
        )

    async def customer(self, customer_id: str) -> CustomerRecord | None:
        """The customer with that id, with its notes, or None."""
        return await self._customer(lambda: ("id = ?", (customer_id,)))

    async def find_customer(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        account_number: str | None = None,
    ) -> CustomerRecord | None:
        """The customer matching every given key, or None. Keys are compared normalised
        (``sealing.normalise``: an e-mail ignores case and spaces around it, a phone number
        all but its digits and leading ``+``), through their look-up hashes.

        At least one key is required; when several customers match, the first stored wins.
        """
        given: tuple[tuple[str, LookupKind, str | None], ...] = (
            ("phone_hash", "phone", phone),
            ("email_hash", "email", email),
            ("account_hash", "account", account_number),
        )
        keys = [(column, kind, value) for column, kind, value in given if value is not None]
        if not keys:
            raise ValueError("find_customer needs phone, email or account_number")

        def match() -> tuple[str, list[object]]:
            where: list[str] = []
            params: list[object] = []
            for column, kind, value in keys:
                hashes = self._keys.lookup_hashes(kind, value)
                where.append(f"{column} IN ({', '.join('?' * len(hashes))})")
                params += hashes
            return " AND ".join(where), params

        return await self._customer(match, by_hash=True)

    async def _update_customer(self, sql: str, params: Sequence[object], customer_id: str) -> None:
        async with self._write() as db:
            cur = await db.execute(sql, params)
            if cur.rowcount == 0:
                raise UnknownCustomer(customer_id)

    async def set_customer_tier(self, customer_id: str, tier: str) -> None:
        """Change a customer's tier; ``UnknownCustomer`` if there is no such customer."""
        await self._update_customer(
            "UPDATE customers SET tier = ? WHERE id = ?", (tier, customer_id), customer_id
        )

    async def set_dedicated_agent(self, customer_id: str, agent_id: str | None) -> None:
        """Set (or with None clear) the customer's dedicated agent."""
        await self._update_customer(
            "UPDATE customers SET dedicated_agent = ? WHERE id = ?",
            (agent_id, customer_id),
            customer_id,
        )

    async def add_customer_note(
        self, customer_id: str, text: str, wall_time: float, *, author: str | None = None
    ) -> int:
        """Append a note to a customer; returns the note id."""
        try:
            async with self._write() as db:
                cur = await db.execute(
                    "INSERT INTO customer_notes (customer_id, text, author, wall_time)"
                    " VALUES (?, ?, ?, ?) RETURNING id",
                    (customer_id, self._seal("customer_notes", "text", text), author, wall_time),
                )
                return await _new_id(cur)
        except INTEGRITY_ERRORS as e:
            raise UnknownCustomer(customer_id) from e

    async def customer_history(self, customer_id: str, limit: int = 5) -> list[ContactRecord]:
        """The customer's last ``limit`` contacts (with dispositions), newest first."""
        rows = await self._rows(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE customer_id = ?"
            " ORDER BY arrived_wall DESC, seq DESC LIMIT ?",
            (customer_id, limit),
        )
        return [self._contact(r) for r in rows]

    async def customer_contacts(self, customer_id: str, limit: int = 5) -> list[ContactRecord]:
        """Same as ``customer_history`` (the name the HTTP API uses)."""
        return await self.customer_history(customer_id, limit)

    # -- contacts ---------------------------------------------------------------------------

    async def create_contact(
        self,
        contact_id: str,
        *,
        channel: str,
        queue: str,
        arrived_wall: float,
        customer_id: str | None = None,
        tier: str,
        customer_name: str | None = None,
        topic: str | None = None,
        verified: bool = False,
    ) -> None:
        """Record a new contact bound for ``queue``; it is committed to disk when this returns.

        From here on it counts as waiting (``waiting_contacts``) until it is answered,
        abandoned, removed, completed or ended. ``verified``: ``customer_id`` was verified (it
        may drive routing). ``DuplicateContact`` if the id exists.
        """
        try:
            async with self._write() as db:
                await _insert_contact(
                    db, contact_id, channel, queue, arrived_wall, customer_id, tier,
                    self._seal("contacts", "customer_name", customer_name), topic, verified,
                    "inbound", None,
                )  # fmt: skip
        except INTEGRITY_ERRORS as e:
            raise DuplicateContact(contact_id) from e

    async def record_events(self, events: Sequence[Event], wall_time: float) -> None:
        """Apply domain events to the contact records, their segments and the agent state log
        in one transaction.

        Every step is stamped ``wall_time``; events of contacts never created are ignored.
        """
        todo = [st for e in events for st in statements(e, wall_time)]
        if not todo:
            return
        async with self._write() as db:
            for sql, params in todo:
                await db.execute(sql, params)

    async def set_disposition_notes(self, contact_id: str, notes: str) -> None:
        """The agent's free-text wrap-up notes for a contact."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE contacts SET disposition_notes = ? WHERE contact_id = ?",
                (self._seal("contacts", "disposition_notes", notes), contact_id),
            )
            if cur.rowcount == 0:
                raise UnknownContact(contact_id)

    async def mark_ended(self, contact_id: str, wall_time: float, reason: str) -> bool:
        """Close a contact that ended outside the routing core (e.g. lost in a crash).

        Returns False (and changes nothing) if it had ended already. A contact still waiting
        or talking gets outcome ``ended``.
        """
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE contacts SET ended_wall = ?, end_reason = ?,"
                " outcome = CASE WHEN outcome IS NULL OR outcome = 'answered' THEN 'ended'"
                " ELSE outcome END WHERE contact_id = ? AND ended_wall IS NULL",
                (wall_time, reason, contact_id),
            )
            if cur.rowcount > 0:
                return True
            async with db.execute(
                "SELECT 1 FROM contacts WHERE contact_id = ?", (contact_id,)
            ) as found:
                if await found.fetchone() is None:
                    raise UnknownContact(contact_id)
            return False

    async def contact_record(self, contact_id: str) -> ContactRecord | None:
        """The contact's record, or None."""
        row = await self._row(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE contact_id = ?", (contact_id,)
        )
        return self._contact(row) if row is not None else None

    async def contact(self, contact_id: str) -> ContactRecord | None:
        """Same as ``contact_record`` (the name the HTTP API uses)."""
        return await self.contact_record(contact_id)

    async def contact_records(
        self, since_wall: float | None = None, limit: int = 1000
    ) -> list[ContactRecord]:
        """Contacts that arrived at or after ``since_wall`` (all if None), oldest first."""
        rows = await self._rows(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE arrived_wall >= ?"
            " ORDER BY arrived_wall, seq LIMIT ?",
            (since_wall if since_wall is not None else float("-inf"), limit),
        )
        return [self._contact(r) for r in rows]

    async def waiting_contacts(self, channel: str = "chat") -> list[ContactRecord]:
        """Contacts of ``channel`` still waiting (created or queued; not answered, abandoned,
        removed, completed or ended), in arrival order: ``arrived_wall``, then creation."""
        rows = await self._rows(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE channel = ? AND {_WAITING}"
            " ORDER BY arrived_wall, seq",
            (channel,),
        )
        return [self._contact(r) for r in rows]

    async def segments(self, contact_id: str) -> list[SegmentRecord]:
        """Each agent's part of the contact, in order."""
        rows = await self._rows(
            f"SELECT {_SEGMENT_COLUMNS} FROM contact_segments WHERE contact_id = ?"
            " ORDER BY segment",
            (contact_id,),
        )
        return [self._segment(r) for r in rows]

    async def set_segment_note(self, contact_id: str, segment: int, note: str) -> None:
        """The note an agent leaves on its segment (e.g. for the agent it transfers to)."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE contact_segments SET note = ? WHERE contact_id = ? AND segment = ?",
                (self._seal("contact_segments", "note", note), contact_id, segment),
            )
            if cur.rowcount == 0:
                raise UnknownContact(contact_id)

    async def add_hold(self, contact_id: str, seconds: float, segment: int | None = None) -> None:
        """The customer spent ``seconds`` on hold in ``segment`` (default: the current one)."""
        async with self._write() as db:
            await db.execute(
                "UPDATE contacts SET hold_seconds = hold_seconds + ? WHERE contact_id = ?",
                (seconds, contact_id),
            )
            await db.execute(
                "UPDATE contact_segments SET hold_seconds = hold_seconds + ?"
                " WHERE contact_id = ? AND segment = coalesce(?, (SELECT segment FROM contacts"
                " WHERE contact_id = ?))",
                (seconds, contact_id, segment, contact_id),
            )

    async def open_contacts(self, channel: str) -> list[OpenContact]:
        """Contacts of ``channel`` (inbound ones) that are not over, in arrival order, with
        their current segment: what a restart finds in progress."""
        rows = await self._rows(
            "SELECT c.contact_id, c.channel, c.kind, c.queue, c.tier, c.customer_id, c.verified,"
            " c.arrived_wall, c.segment, s.agent_id, s.answered_wall IS NOT NULL,"
            " s.ended_wall IS NOT NULL FROM contacts c LEFT JOIN contact_segments s"
            " ON s.contact_id = c.contact_id AND s.segment = c.segment"
            " WHERE c.channel = ? AND c.kind = 'inbound' AND c.ended_wall IS NULL"
            " AND c.completed_wall IS NULL AND c.abandoned_wall IS NULL"
            " AND c.removed_wall IS NULL ORDER BY c.arrived_wall, c.seq",
            (channel,),
        )
        out = []
        for r in rows:
            ended = bool(r[11])
            agent, answered = (None, False) if ended else (r[9], bool(r[10]))
            out.append(
                OpenContact(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8], agent,
                            answered, ended)
            )  # fmt: skip
        return out

    async def close_contact(
        self, contact_id: str, wall_time: float, reason: str, outcome: str
    ) -> bool:
        """End a contact the routing core no longer has (a crash cut it, or it ended outside
        routing): its record and current segment are closed at ``wall_time`` with ``reason``
        and ``outcome``; talk time counts up to then. False if it had ended already."""
        # the greatest of values (none NULL): SQLite's max of several, PostgreSQL's greatest
        greatest = "greatest" if dialect(self._conn()) == "postgresql" else "max"
        async with self._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT c.ended_wall, c.completed_wall, c.segment, s.answered_wall,"
                    f" s.ended_wall, {greatest}(c.arrived_wall, coalesce(c.queued_wall, 0),"
                    " coalesce(c.offered_wall, 0), coalesce(s.answered_wall, 0))"
                    " FROM contacts c LEFT JOIN contact_segments s"
                    " ON s.contact_id = c.contact_id AND s.segment = c.segment"
                    " WHERE c.contact_id = ?",
                    (contact_id,),
                )
            )
            if not rows:
                raise UnknownContact(contact_id)
            ended, completed, segment, answered, segment_ended, latest = rows[0]
            if ended is not None:
                return False
            # (a sign of life older than what happened to it: it ended no earlier than that)
            wall_time = max(wall_time, latest)
            talk = None
            if answered is not None and segment_ended is None and completed is None:
                talk = max(0.0, wall_time - answered)
            await db.execute(
                "UPDATE contacts SET ended_wall = ?, end_reason = ?, outcome = ?,"
                " talk_seconds = coalesce(coalesce(talk_seconds, 0) + ?, talk_seconds)"
                " WHERE contact_id = ?",
                (wall_time, reason, outcome, talk, contact_id),
            )
            await db.execute(
                "UPDATE contact_segments SET ended_wall = coalesce(ended_wall, ?),"
                " end_reason = coalesce(end_reason, ?), talk_seconds = coalesce(talk_seconds, ?)"
                " WHERE contact_id = ? AND segment = ?",
                (wall_time, reason, talk, contact_id, segment),
            )
            return True

    async def end_segment(self, contact_id: str, wall_time: float, reason: str) -> None:
        """End the contact's current segment (not the contact) at ``wall_time``: e.g. a call
        back's attempt that a crash cut; its talk time counts up to then."""
        async with self._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT s.segment, s.answered_wall FROM contacts c JOIN contact_segments s"
                    " ON s.contact_id = c.contact_id AND s.segment = c.segment"
                    " WHERE c.contact_id = ? AND s.ended_wall IS NULL",
                    (contact_id,),
                )
            )
            if not rows:
                return
            segment, answered = rows[0]
            talk = None if answered is None else max(0.0, wall_time - answered)
            await db.execute(
                "UPDATE contact_segments SET ended_wall = ?, end_reason = ?, talk_seconds = ?"
                " WHERE contact_id = ? AND segment = ?",
                (wall_time, reason, talk, contact_id, segment),
            )
            await db.execute(
                "UPDATE contacts SET talk_seconds = coalesce(talk_seconds, 0) + coalesce(?, 0),"
                " agent_id = NULL WHERE contact_id = ?",
                (talk, contact_id),
            )

    async def agent_states(
        self, agent_id: str | None = None, limit: int = 100
    ) -> list[AgentStateRecord]:
        """The agent state log (of one agent, or all), newest first."""
        where, params = ("WHERE agent_id = ?", [agent_id]) if agent_id is not None else ("", [])
        rows = await self._rows(
            "SELECT id, agent_id, previous, state, reason, wall_time FROM agent_state_log"
            f" {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [AgentStateRecord(*r) for r in rows]

    async def last_agent_states(self) -> dict[str, AgentStateRecord]:
        """Each agent's latest logged state change (what a restart restores)."""
        rows = await self._rows(
            "SELECT id, agent_id, previous, state, reason, wall_time FROM agent_state_log"
            " WHERE id IN (SELECT max(id) FROM agent_state_log GROUP BY agent_id)"
        )
        return {r["agent_id"]: AgentStateRecord(*r) for r in rows}

    async def log_agent_state(
        self, agent_id: str, previous: str, state: str, reason: str | None, wall_time: float
    ) -> None:
        """Log a state change the routing core did not make (e.g. not back after a restart)."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO agent_state_log (agent_id, previous, state, reason, wall_time)"
                " VALUES (?, ?, ?, ?, ?)",
                (agent_id, previous, state, reason, wall_time),
            )

    async def mark_alive(self, wall_time: float) -> None:
        """The engine's latest sign of life (a crash happened after the last one)."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO engine_state (key, value) VALUES ('alive_wall', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (wall_time,),
            )

    async def last_alive(self) -> float | None:
        row = await self._row("SELECT value FROM engine_state WHERE key = 'alive_wall'")
        return float(row[0]) if row is not None else None

    async def save_tally(self, day: str, tally: str, wall_time: float) -> None:
        """Today's KPI tally as JSON (counts only) for the center's local ``day``
        (``YYYY-MM-DD``); written with the sign of life, so a restart finds it."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO daily_tally (day, tally, wall) VALUES (?, ?, ?)"
                " ON CONFLICT (day) DO UPDATE SET tally = excluded.tally, wall = excluded.wall",
                (day, tally, wall_time),
            )

    async def tally(self, day: str) -> str | None:
        """The tally last saved for ``day`` (None: none)."""
        row = await self._row("SELECT tally FROM daily_tally WHERE day = ?", (day,))
        return str(row[0]) if row is not None else None

    # -- IVR visits -------------------------------------------------------------------------

    async def add_ivr_visit(self, visit: IvrVisit) -> None:
        """One call's time in the menu, however it ended (see ``contactcenter.ivr.outcomes``)."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO ivr_visits (call, flow, started_wall, ended_wall, outcome, node,"
                " reason, contact_id, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (visit.call, visit.flow, visit.started_wall, visit.ended_wall, str(visit.outcome),
                 visit.node, visit.reason, visit.contact_id, visit.customer_id),
            )  # fmt: skip

    async def ivr_visits(self, since_wall: float = 0.0) -> list[IvrVisit]:
        """The visits that started at or after ``since_wall``, oldest first."""
        rows = await self._rows(
            "SELECT call, flow, started_wall, ended_wall, outcome, node, reason, contact_id,"
            " customer_id FROM ivr_visits WHERE started_wall >= ? ORDER BY seq",
            (since_wall,),
        )
        return [IvrVisit(r[0], r[1], r[2], r[3], IvrOutcome(r[4]), *r[5:]) for r in rows]

    # -- chat transcripts -------------------------------------------------------------------

    async def add_message(
        self,
        contact_id: str,
        sender: Sender,
        text: str,
        wall_time: float,
        agent_id: str | None = None,
    ) -> int:
        """Add one chat line; returns its message id. Prefer ``add_messages`` for many."""
        _check_sender(sender)
        async with self._write() as db:
            cur = await db.execute(
                "INSERT INTO messages (contact_id, sender, text, wall_time, agent_id)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (contact_id, sender, self._seal("messages", "text", text), wall_time, agent_id),
            )
            return await _new_id(cur)

    async def add_messages(self, messages: Iterable[NewMessage]) -> None:
        """Add many chat lines, in the given order, in one transaction (one fsync).

        Each is ``(contact_id, sender, text, wall_time, agent_id)``; a bad sender rejects the
        whole batch with ``ValueError`` before anything is written.
        """
        batch = list(messages)
        for m in batch:
            _check_sender(m[1])
        if not batch:
            return
        async with self._write() as db:
            await db.executemany(
                "INSERT INTO messages (contact_id, sender, text, wall_time, agent_id)"
                " VALUES (?, ?, ?, ?, ?)",
                [(c, s, self._seal("messages", "text", t), w, a) for c, s, t, w, a in batch],
            )

    async def transcript(self, contact_id: str) -> list[Message]:
        """The contact's chat lines in the order they were added."""
        rows = await self._rows(
            "SELECT id, contact_id, sender, text, wall_time, agent_id FROM messages"
            " WHERE contact_id = ? ORDER BY id",
            (contact_id,),
        )
        return [self._message(r) for r in rows]

    # -- users and sessions -----------------------------------------------------------------

    async def set_user(
        self, username: str, password: str, role: Role, agent_id: str | None = None
    ) -> None:
        """Create or replace a login (password stored as a scrypt hash only).

        Replacing a user ends all of its sessions.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        hashed = await asyncio.to_thread(passwords.hash_password, password)
        async with self._write() as db:
            await db.execute("DELETE FROM sessions WHERE username = ?", (username,))
            await db.execute(
                "INSERT INTO users (username, password_hash, role, agent_id) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
                " role = excluded.role, agent_id = excluded.agent_id",
                (username, hashed, role, agent_id),
            )

    async def verify_user(self, username: str, password: str) -> UserRecord | None:
        """The user if ``password`` is right; None for a wrong password or unknown user
        (both take the time of one hash)."""
        row = await self._row(
            "SELECT username, password_hash, role, agent_id FROM users WHERE username = ?",
            (username,),
        )
        if row is None:
            await asyncio.to_thread(passwords.burn_time, password)
            return None
        ok = await asyncio.to_thread(passwords.verify_password, password, row["password_hash"])
        return UserRecord(row["username"], row["role"], row["agent_id"]) if ok else None

    async def users(self) -> list[UserRecord]:
        """All logins by name (without password hashes)."""
        rows = await self._rows("SELECT username, role, agent_id FROM users ORDER BY username")
        return [UserRecord(r["username"], r["role"], r["agent_id"]) for r in rows]

    async def user(self, username: str) -> UserRecord | None:
        """The login of that name (None: no such user)."""
        row = await self._row(
            "SELECT username, role, agent_id FROM users WHERE username = ?", (username,)
        )
        return UserRecord(row["username"], row["role"], row["agent_id"]) if row else None

    async def create_session(self, username: str, token_hash: str, expires_wall: float) -> None:
        """Store a session by the hash of its token (never the token itself)."""
        try:
            async with self._write() as db:
                await db.execute(
                    "INSERT INTO sessions (token_hash, username, expires_wall) VALUES (?, ?, ?)",
                    (token_hash, username, expires_wall),
                )
        except INTEGRITY_ERRORS as e:
            if await self._row("SELECT 1 FROM users WHERE username = ?", (username,)) is None:
                raise UnknownUser(username) from e
            raise StoreError("a session with that token hash exists") from e

    async def _session_rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        """Rows read on the sessions connection (the main one for an in-memory database)."""
        if self._sessions_db is None:
            return await self._rows(sql, params)
        return list(await self._sessions_db.execute_fetchall(sql, params))

    async def session(self, token_hash: str, now_wall: float | None = None) -> SessionRecord | None:
        """The session with that token hash (None if unknown, or expired at ``now_wall``), as
        last committed by any process.

        While the database cannot be reached (a PostgreSQL server gone), a session this store
        found before is taken as it was then (until it expires), so agents and supervisors
        already at work go on; an unknown one is ``StoreUnavailable``."""
        try:
            rows = await self._session_rows(
                "SELECT s.token_hash, s.username, s.expires_wall, u.role, u.agent_id"
                " FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ?",
                (token_hash,),
            )
        except StoreUnavailable:
            found = self._known_sessions.get(token_hash)
            if found is None:
                raise
        else:
            if not rows:
                self._known_sessions.pop(token_hash, None)
                return None
            found = SessionRecord(*rows[0])
            self._known_sessions[token_hash] = found
            self._known_sessions.move_to_end(token_hash)
            while len(self._known_sessions) > KNOWN_SESSIONS:
                self._known_sessions.popitem(last=False)
        if now_wall is not None and found.expires_wall <= now_wall:
            return None
        return found

    async def live_sessions(self, token_hashes: Iterable[str], now_wall: float) -> set[str]:
        """Those of ``token_hashes`` whose sessions exist and hold at ``now_wall``."""
        wanted = list(token_hashes)
        live: set[str] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            rows = await self._session_rows(
                "SELECT token_hash FROM sessions WHERE expires_wall > ?"
                f" AND token_hash IN ({', '.join('?' * len(chunk))})",
                (now_wall, *chunk),
            )
            live.update(r["token_hash"] for r in rows)
        return live

    async def session_user(self, token_hash: str, *, now: float) -> UserRecord | None:
        """The user of an unexpired session (what the HTTP API asks per request)."""
        s = await self.session(token_hash, now)
        return UserRecord(s.username, s.role, s.agent_id) if s is not None else None

    async def delete_session(self, token_hash: str) -> None:
        """End a session (no error if there is none)."""
        async with self._write() as db:
            await db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    async def delete_expired_sessions(self, now_wall: float) -> int:
        """Drop sessions expired at ``now_wall``; returns how many."""
        async with self._write() as db:
            cur = await db.execute("DELETE FROM sessions WHERE expires_wall <= ?", (now_wall,))
            return int(cur.rowcount)

    # -- audit ------------------------------------------------------------------------------

    async def audit(
        self, actor: str, action: str, target: str, detail: Mapping[str, Any], wall_time: float
    ) -> None:
        """Append to the audit log (``detail`` stored as JSON; odd values as ``str``)."""
        async with self._write() as db:
            await self._append_audit(db, actor, action, target, detail, wall_time)

    async def _append_audit(
        self,
        db: Connection,
        actor: str,
        action: str,
        target: str,
        detail: Mapping[str, Any],
        wall_time: float,
    ) -> None:
        """The audit entry as part of the caller's write transaction (e.g. an erasure and its
        entry commit together)."""
        encoded = json.dumps(dict(detail), default=str, sort_keys=True, separators=(",", ":"))
        await db.execute(
            "INSERT INTO audit_log (actor, action, target, detail, wall_time)"
            " VALUES (?, ?, ?, ?, ?)",
            (actor, action, target, encoded, wall_time),
        )

    async def audit_log(
        self,
        limit: int = 100,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since_wall: float | None = None,
        until_wall: float | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """The latest audit entries matching every filter given, newest first.

        ``target`` matches an entry's target or an id in its ``shown`` list (one entry for a
        list that was read); ``since_wall`` and ``until_wall`` bound the time (inclusive);
        ``before_id`` pages on to older entries.
        """
        where: list[str] = []
        params: list[object] = []
        for column, value in (("actor", actor), ("action", action)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if target is not None:
            shown = (  # the target is an element of the detail's "shown" list
                "(detail::jsonb -> 'shown') @> to_jsonb(?::text)"
                if dialect(self._conn()) == "postgresql"
                else "EXISTS (SELECT 1 FROM json_each(detail, '$.shown') WHERE value = ?)"
            )
            where.append(f"(target = ? OR {shown})")
            params += [target, target]
        for clause, bound in (("wall_time >= ?", since_wall), ("wall_time <= ?", until_wall),
                              ("id < ?", before_id)):  # fmt: skip
            if bound is not None:
                where.append(clause)
                params.append(bound)
        rows = await self._rows(
            "SELECT id, actor, action, target, detail, wall_time FROM audit_log"
            f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            AuditRecord(
                r["id"],
                r["actor"],
                r["action"],
                r["target"],
                json.loads(r["detail"]),
                r["wall_time"],
            )
            for r in rows
        ]

    # -- callbacks --------------------------------------------------------------------------

    async def add_callback(
        self,
        *,
        callback_contact_id: str,
        contact_id: str | None,
        queue: str,
        customer_id: str | None,
        verified: bool,
        phone: str,
        name: str | None,
        tier: str,
        source: str,
        requested_by: str | None,
        arrived_wall: float,
        created_wall: float,
        due_wall: float,
    ) -> CallbackRecord:
        """Book a call back and create the contact that will make it, in one transaction
        (committed when this returns, before the customer is told). ``arrived_wall`` is the
        original arrival: the call back keeps that place in the queue."""
        booked_from = contact_id or callback_contact_id
        try:
            async with self._write() as db:
                await _insert_contact(
                    db, callback_contact_id, "voice", queue, arrived_wall, customer_id, tier,
                    self._seal("contacts", "customer_name", name or phone), None, verified,
                    "callback", contact_id,
                )  # fmt: skip
                cur = await db.execute(
                    "INSERT INTO callbacks (contact_id, callback_contact_id, queue, customer_id,"
                    " verified, phone, phone_hash, name, tier, status, source, requested_by,"
                    " arrived_wall, created_wall, due_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " 'scheduled', ?, ?, ?, ?, ?) RETURNING id",
                    (
                        booked_from, callback_contact_id, queue, customer_id, int(verified),
                        self._seal("callbacks", "phone", phone),
                        self._keys.lookup_hash("phone", phone),
                        self._seal("callbacks", "name", name), tier, source, requested_by,
                        arrived_wall, created_wall, due_wall,
                    ),
                )  # fmt: skip
                callback_id = await _new_id(cur)
                rows = list(
                    await db.execute_fetchall(
                        f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id = ?", (callback_id,)
                    )
                )
            return self._callback(rows[0])
        except INTEGRITY_ERRORS as e:
            raise DuplicateContact(callback_contact_id) from e

    async def callback(self, callback_id: int) -> CallbackRecord:
        row = await self._row(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id = ?", (callback_id,)
        )
        if row is None:
            raise UnknownCallback(callback_id)
        return self._callback(row)

    async def open_callbacks(self) -> list[CallbackRecord]:
        """Call backs not ended yet, in their order in the queue (original arrival, then id)."""
        rows = await self._rows(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE ended_wall IS NULL"
            " ORDER BY arrived_wall, id"
        )
        return [self._callback(r) for r in rows]

    async def open_callback_for(self, queue: str, phone: str) -> CallbackRecord | None:
        """The call back still pending for that number in that queue (no duplicates); numbers
        compare by their digits and leading ``+`` (``sealing.normalise``)."""
        async with self._lookup() as db:
            hashes = self._keys.lookup_hashes("phone", phone)
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE queue = ?"
                    f" AND phone_hash IN ({', '.join('?' * len(hashes))})"
                    " AND ended_wall IS NULL ORDER BY id LIMIT 1",
                    (queue, *hashes),
                )
            )
        return self._callback(rows[0]) if rows else None

    async def callbacks(
        self, *, since_wall: float | None = None, limit: int = 200
    ) -> list[CallbackRecord]:
        """Call backs created at or after ``since_wall`` (all if None), newest first."""
        rows = await self._rows(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE created_wall >= ?"
            " ORDER BY created_wall DESC, id DESC LIMIT ?",
            (since_wall if since_wall is not None else float("-inf"), limit),
        )
        return [self._callback(r) for r in rows]

    async def update_callback(
        self,
        callback_id: int,
        *,
        status: str,
        due_wall: float | None = None,
        attempts: int | None = None,
        outcome: str | None = None,
        ended_wall: float | None = None,
    ) -> None:
        """Persist a call back's new status (and what changed with it)."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE callbacks SET status = ?, due_wall = coalesce(?, due_wall),"
                " attempts = coalesce(?, attempts), outcome = coalesce(?, outcome),"
                " ended_wall = coalesce(?, ended_wall) WHERE id = ?",
                (status, due_wall, attempts, outcome, ended_wall, callback_id),
            )
            if cur.rowcount == 0:
                raise UnknownCallback(callback_id)

    async def start_attempt(
        self, callback_id: int, attempt: int, agent_id: str | None, wall_time: float
    ) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO callback_attempts (callback_id, attempt, agent_id, started_wall)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (callback_id, attempt) DO NOTHING",
                (callback_id, attempt, agent_id, wall_time),
            )

    async def end_attempt(
        self, callback_id: int, attempt: int, outcome: str, wall_time: float
    ) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE callback_attempts SET outcome = ?, ended_wall = ?"
                " WHERE callback_id = ? AND attempt = ? AND ended_wall IS NULL",
                (outcome, wall_time, callback_id, attempt),
            )

    async def attempts(self, callback_id: int) -> list[CallbackAttempt]:
        rows = await self._rows(
            "SELECT callback_id, attempt, agent_id, started_wall, ended_wall, outcome"
            " FROM callback_attempts WHERE callback_id = ? ORDER BY attempt",
            (callback_id,),
        )
        return [CallbackAttempt(*r) for r in rows]

    # -- surveys ----------------------------------------------------------------------------

    async def add_survey(
        self, contact_id: str, score: int, comment: str | None, wall_time: float
    ) -> SurveyRecord:
        """Store a contact's survey answer (``score`` 1-5, else ``ValueError``) with the queue
        and agent of its last segment an agent answered and its channel, read in the same
        transaction; ``DuplicateSurvey`` if the contact has an answer already."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValueError(f"score must be an integer 1-5, not {score!r}")
        async with self._write() as db:
            async with db.execute(
                "SELECT 1 FROM surveys WHERE contact_id = ?", (contact_id,)
            ) as found:
                if await found.fetchone() is not None:
                    raise DuplicateSurvey(contact_id)
            cur = await db.execute(
                "INSERT INTO surveys (contact_id, score, comment, wall_time, queue, channel,"
                f" agent_id) SELECT ?, ?, ?, ?, {_ABOUT} RETURNING id",
                (contact_id, score, self._seal("surveys", "comment", comment), wall_time,
                 contact_id),
            )  # fmt: skip
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {_SURVEY_COLUMNS} FROM surveys WHERE id = ?", (await _new_id(cur),)
                )
            )
        return self._survey(rows[0])

    async def add_unanswered_survey(self, contact_id: str, reason: str, wall_time: float) -> None:
        """Keep that a contact's survey got no score (``reason``, e.g. ``no_response``), about
        what an answer would be; ``DuplicateSurvey`` if it has an answer or an outcome already."""
        async with self._write() as db:
            async with db.execute(
                "SELECT 1 FROM surveys WHERE contact_id = ?"
                " UNION ALL SELECT 1 FROM unanswered_surveys WHERE contact_id = ?",
                (contact_id, contact_id),
            ) as found:
                if await found.fetchone() is not None:
                    raise DuplicateSurvey(contact_id)
            await db.execute(
                "INSERT INTO unanswered_surveys (contact_id, reason, wall_time, queue, channel,"
                f" agent_id) SELECT ?, ?, ?, {_ABOUT}",
                (contact_id, reason, wall_time, contact_id),
            )

    async def surveys(self, contact_id: str) -> list[SurveyRecord]:
        """The survey answers given for a contact, oldest first."""
        rows = await self._rows(
            f"SELECT {_SURVEY_COLUMNS} FROM surveys WHERE contact_id = ? ORDER BY id",
            (contact_id,),
        )
        return [self._survey(r) for r in rows]

    def _survey(self, row: Row) -> SurveyRecord:
        values = dict(zip(row.keys(), row, strict=True))
        values["comment"] = self._open("surveys", "comment", values["comment"])
        return SurveyRecord(**values)


async def _insert_contact(
    db: Connection,
    contact_id: str,
    channel: str,
    queue: str,
    arrived_wall: float,
    customer_id: str | None,
    tier: str,
    customer_name: str | None,
    topic: str | None,
    verified: bool,
    kind: str,
    previous_contact_id: str | None,
) -> None:
    await db.execute(
        "INSERT INTO contacts (contact_id, channel, queue, first_queue, tier, customer_id,"
        " customer_name, topic, arrived_wall, verified, kind, previous_contact_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            contact_id, channel, queue, queue, tier, customer_id, customer_name, topic,
            arrived_wall, int(verified), kind, previous_contact_id,
        ),
    )  # fmt: skip


async def _sealed(store: Store) -> Store:
    """``store`` once the values an older version stored in clear are sealed (closed, and
    the error raised, if that fails)."""
    try:
        await seal_clear_rows(store)
    except BaseException:
        await store.close()
        raise
    return store


async def _scalar(db: Connection, sql: str) -> int:
    """The one integer ``sql`` selects."""
    rows = await db.execute_fetchall(sql)
    return int(next(iter(rows))[0])


async def _new_id(cur: Cursor) -> int:
    """The id an ``INSERT ... RETURNING id`` gave."""
    row = await cur.fetchone()
    if row is None:  # pragma: no cover - an INSERT that returned gives its row
        raise StoreError("no id after insert")
    return int(row[0])
