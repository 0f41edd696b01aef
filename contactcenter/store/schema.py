"""The database schema as an ordered list of migrations.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``; the version lives in
SQLite's ``PRAGMA user_version`` (PostgreSQL: the table ``schema_version``) and is set in the
same transaction as the step's statements, so a step is applied completely or not at all, and
reopening a database applies only what is missing. Never edit a released step: append a new
one.

One list serves both databases: on PostgreSQL each statement is translated (``postgresql``):
SQLite's storage classes become PostgreSQL's types (INTEGER: BIGINT, REAL: DOUBLE PRECISION,
BLOB: BYTEA, AUTOINCREMENT keys: identity columns), and each table gets SQLite's implicit
``rowid`` as a column of its own.

Tables are STRICT (SQLite >= 3.37): a value of the wrong type is an error, not a surprise;
migrations may drop columns (SQLite >= 3.35).
Contacts, messages, callbacks and surveys deliberately have no foreign key to customers or
contacts: a record that must not be lost is never refused because of a gap elsewhere.
"""

from __future__ import annotations

import re

from contactcenter.store.connection import Connection, dialect
from contactcenter.store.errors import SchemaTooNew, StoreError
from contactcenter.store.transaction import immediate

Migration = tuple[str, ...]

MIGRATIONS: tuple[Migration, ...] = (
    # 1: everything the first release stores
    (
        """CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            tier TEXT NOT NULL,
            dedicated_agent TEXT,
            phone TEXT,
            email TEXT,
            account_number TEXT
        ) STRICT""",
        "CREATE INDEX customers_phone ON customers (phone)",
        "CREATE INDEX customers_email ON customers (email COLLATE NOCASE)",
        "CREATE INDEX customers_account ON customers (account_number)",
        """CREATE TABLE customer_notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id TEXT NOT NULL REFERENCES customers (id)
                ON DELETE CASCADE ON UPDATE CASCADE,
            text TEXT NOT NULL,
            author TEXT,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX customer_notes_customer ON customer_notes (customer_id, id)",
        """CREATE TABLE contacts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            queue TEXT NOT NULL,
            first_queue TEXT NOT NULL,
            tier TEXT NOT NULL,
            customer_id TEXT,
            customer_name TEXT,
            topic TEXT,
            arrived_wall REAL NOT NULL,
            queued_wall REAL,
            offered_wall REAL,
            answered_wall REAL,
            abandoned_wall REAL,
            removed_wall REAL,
            completed_wall REAL,
            ended_wall REAL,
            agent_id TEXT,
            offers INTEGER NOT NULL DEFAULT 0,
            rejections INTEGER NOT NULL DEFAULT 0,
            transfers INTEGER NOT NULL DEFAULT 0,
            transferred_from TEXT,
            transferred_to TEXT,
            wait_seconds REAL,
            talk_seconds REAL,
            wrap_up_seconds REAL,
            disposition TEXT,
            disposition_notes TEXT,
            breached INTEGER NOT NULL DEFAULT 0,
            removed_reason TEXT,
            end_reason TEXT,
            outcome TEXT
        ) STRICT""",
        "CREATE INDEX contacts_arrival ON contacts (arrived_wall, seq)",
        "CREATE INDEX contacts_customer ON contacts (customer_id, arrived_wall, seq)",
        # the contacts still waiting: small, and what a restart reads
        """CREATE INDEX contacts_waiting ON contacts (channel, arrived_wall, seq)
            WHERE answered_wall IS NULL AND abandoned_wall IS NULL
              AND removed_wall IS NULL AND completed_wall IS NULL AND ended_wall IS NULL""",
        """CREATE TABLE agent_state_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id TEXT NOT NULL,
            previous TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX agent_state_log_agent ON agent_state_log (agent_id, id)",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL,
            sender TEXT NOT NULL CHECK (sender IN ('customer', 'agent', 'system')),
            text TEXT NOT NULL,
            wall_time REAL NOT NULL,
            agent_id TEXT
        ) STRICT""",
        "CREATE INDEX messages_contact ON messages (contact_id, id)",
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
            agent_id TEXT
        ) STRICT""",
        """CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES users (username)
                ON DELETE CASCADE ON UPDATE CASCADE,
            expires_wall REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX sessions_user ON sessions (username)",
        "CREATE INDEX sessions_expiry ON sessions (expires_wall)",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL,
            wall_time REAL NOT NULL
        ) STRICT""",
        """CREATE TABLE callbacks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL,
            queue TEXT NOT NULL,
            customer_id TEXT,
            phone TEXT,
            due_wall REAL NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            done_wall REAL
        ) STRICT""",
        "CREATE INDEX callbacks_due ON callbacks (due_wall, id) WHERE done = 0",
        """CREATE TABLE surveys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
            comment TEXT,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX surveys_contact ON surveys (contact_id, id)",
    ),
    # 2: segments of a contact, verified identity, call backs as contacts of their own with
    # their attempts, and the engine's last sign of life (for closing calls a crash cut)
    (
        "ALTER TABLE contacts ADD COLUMN verified INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE contacts ADD COLUMN kind TEXT NOT NULL DEFAULT 'inbound'",
        "ALTER TABLE contacts ADD COLUMN previous_contact_id TEXT",
        "ALTER TABLE contacts ADD COLUMN segment INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE contacts ADD COLUMN hold_seconds REAL NOT NULL DEFAULT 0",
        """CREATE TABLE contact_segments (
            contact_id TEXT NOT NULL,
            segment INTEGER NOT NULL,
            queue TEXT NOT NULL,
            queued_wall REAL,
            offered_wall REAL,
            offers INTEGER NOT NULL DEFAULT 0,
            agent_id TEXT,
            answered_wall REAL,
            wait_seconds REAL,
            ended_wall REAL,
            talk_seconds REAL,
            hold_seconds REAL NOT NULL DEFAULT 0,
            end_reason TEXT,
            to_queue TEXT,
            to_agent TEXT,
            note TEXT,
            wrap_ended_wall REAL,
            wrap_up_seconds REAL,
            disposition TEXT,
            PRIMARY KEY (contact_id, segment)
        ) STRICT""",
        # contacts of the first release: one segment each
        """INSERT INTO contact_segments (contact_id, segment, queue, queued_wall, offered_wall,
            offers, agent_id, answered_wall, wait_seconds, ended_wall, talk_seconds, end_reason,
            wrap_ended_wall, wrap_up_seconds, disposition)
            SELECT contact_id, 1, queue, coalesce(queued_wall, arrived_wall), offered_wall,
            offers, agent_id, answered_wall, wait_seconds,
            coalesce(completed_wall, abandoned_wall, removed_wall, ended_wall), talk_seconds,
            CASE WHEN completed_wall IS NOT NULL THEN 'completed'
                 WHEN abandoned_wall IS NOT NULL THEN 'abandoned'
                 WHEN removed_wall IS NOT NULL THEN 'removed' ELSE end_reason END,
            CASE WHEN completed_wall IS NOT NULL THEN ended_wall END, wrap_up_seconds,
            disposition FROM contacts""",
        "DROP INDEX callbacks_due",
        "ALTER TABLE callbacks ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled'",
        "ALTER TABLE callbacks ADD COLUMN callback_contact_id TEXT",
        "ALTER TABLE callbacks ADD COLUMN source TEXT NOT NULL DEFAULT 'ivr'",
        "ALTER TABLE callbacks ADD COLUMN tier TEXT",
        "ALTER TABLE callbacks ADD COLUMN name TEXT",
        "ALTER TABLE callbacks ADD COLUMN verified INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE callbacks ADD COLUMN arrived_wall REAL",
        "ALTER TABLE callbacks ADD COLUMN created_wall REAL",
        "ALTER TABLE callbacks ADD COLUMN ended_wall REAL",
        "ALTER TABLE callbacks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE callbacks ADD COLUMN outcome TEXT",
        "ALTER TABLE callbacks ADD COLUMN requested_by TEXT",
        """UPDATE callbacks SET status = CASE WHEN done = 1 THEN 'completed' ELSE 'scheduled' END,
            outcome = CASE WHEN done = 1 THEN 'completed' END,
            ended_wall = CASE WHEN done = 1 THEN coalesce(done_wall, due_wall) END,
            arrived_wall = due_wall, created_wall = due_wall""",
        "ALTER TABLE callbacks DROP COLUMN done",
        "ALTER TABLE callbacks DROP COLUMN done_wall",
        "CREATE INDEX callbacks_open ON callbacks (arrived_wall, id) WHERE ended_wall IS NULL",
        "CREATE INDEX callbacks_number ON callbacks (queue, phone)",
        """CREATE TABLE callback_attempts (
            callback_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            agent_id TEXT,
            started_wall REAL NOT NULL,
            ended_wall REAL,
            outcome TEXT,
            PRIMARY KEY (callback_id, attempt)
        ) STRICT""",
        """CREATE TABLE engine_state (
            key TEXT PRIMARY KEY,
            value REAL NOT NULL
        ) STRICT""",
    ),
    # 3: every answered call's time in the IVR, however it ended
    (
        """CREATE TABLE ivr_visits (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            call TEXT NOT NULL,
            flow TEXT NOT NULL,
            started_wall REAL NOT NULL,
            ended_wall REAL NOT NULL,
            outcome TEXT NOT NULL,
            node TEXT,
            reason TEXT,
            contact_id TEXT,
            customer_id TEXT
        ) STRICT""",
        "CREATE INDEX ivr_visits_time ON ivr_visits (started_wall)",
    ),
    # 4: personal values sealed at rest (store/sealing.py). Keyed hashes replace the indexes
    # on clear phone numbers, e-mails and account numbers; the database lists the key ids its
    # values use (a missing keys file is then noticed, not papered over with a new key); and
    # the rows an older version wrote in clear are noted, to be sealed when the store opens.
    (
        "DROP INDEX customers_phone",
        "DROP INDEX customers_email",
        "DROP INDEX customers_account",
        "DROP INDEX callbacks_number",
        "ALTER TABLE customers ADD COLUMN phone_hash BLOB",
        "ALTER TABLE customers ADD COLUMN email_hash BLOB",
        "ALTER TABLE customers ADD COLUMN account_hash BLOB",
        "ALTER TABLE callbacks ADD COLUMN phone_hash BLOB",
        "CREATE INDEX customers_phone_hash ON customers (phone_hash)",
        "CREATE INDEX customers_email_hash ON customers (email_hash)",
        "CREATE INDEX customers_account_hash ON customers (account_hash)",
        """CREATE INDEX callbacks_open_number ON callbacks (queue, phone_hash)
            WHERE ended_wall IS NULL""",
        """CREATE TABLE sealing_keys (
            kid TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('data', 'index'))
        ) STRICT""",
        # rows with sealed_upto < rowid <= last_rowid may hold clear values
        """CREATE TABLE clear_rows (
            table_name TEXT PRIMARY KEY,
            sealed_upto INTEGER NOT NULL,
            last_rowid INTEGER NOT NULL
        ) STRICT""",
        """INSERT INTO clear_rows SELECT 'customers', 0, rowid FROM customers
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'customer_notes', 0, rowid FROM customer_notes
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'contacts', 0, rowid FROM contacts
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'contact_segments', 0, rowid FROM contact_segments
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'messages', 0, rowid FROM messages
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'callbacks', 0, rowid FROM callbacks
            ORDER BY rowid DESC LIMIT 1""",
        """INSERT INTO clear_rows SELECT 'surveys', 0, rowid FROM surveys
            ORDER BY rowid DESC LIMIT 1""",
    ),
    # 5: today's KPI tally (counts only, per local day), so a restart keeps "today"
    (
        """CREATE TABLE daily_tally (
            day TEXT PRIMARY KEY,
            tally TEXT NOT NULL,
            wall REAL NOT NULL
        ) STRICT""",
    ),
    # 6: a survey answer says what it is about (the queue and agent of the contact's last
    # segment an agent answered, its channel), and a contact takes one answer (older rows,
    # which have no queue, are left as they are)
    (
        "ALTER TABLE surveys ADD COLUMN queue TEXT",
        "ALTER TABLE surveys ADD COLUMN channel TEXT",
        "ALTER TABLE surveys ADD COLUMN agent_id TEXT",
        "CREATE UNIQUE INDEX surveys_one_answer ON surveys (contact_id) WHERE queue IS NOT NULL",
        "CREATE INDEX surveys_time ON surveys (wall_time)",
    ),
    # 7: complaint cases (contactcenter/cases.py): linked to a customer and the contact they
    # were opened from, with every change (who, when, what), notes and follow-up tasks. The
    # description, notes and task texts are personal (sealed); ids, codes and times are clear.
    (
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id TEXT NOT NULL,
            contact_id TEXT NOT NULL,
            category TEXT NOT NULL,
            severity TEXT NOT NULL,
            status TEXT NOT NULL,
            owner TEXT NOT NULL,
            department TEXT,
            description TEXT,
            opened_wall REAL NOT NULL,
            acknowledged_wall REAL,
            resolved_wall REAL,
            closed_wall REAL,
            updated_wall REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX cases_customer ON cases (customer_id, id)",
        "CREATE INDEX cases_working ON cases (status, id) WHERE closed_wall IS NULL",
        """CREATE TABLE case_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            actor TEXT NOT NULL,
            wall_time REAL NOT NULL,
            action TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL
        ) STRICT""",
        "CREATE INDEX case_history_case ON case_history (case_id, id)",
        """CREATE TABLE case_notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX case_notes_case ON case_notes (case_id, id)",
        """CREATE TABLE case_tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            title TEXT,
            due_wall REAL NOT NULL,
            created_by TEXT NOT NULL,
            created_wall REAL NOT NULL,
            done_by TEXT,
            done_wall REAL
        ) STRICT""",
        "CREATE INDEX case_tasks_case ON case_tasks (case_id, id)",
        "CREATE INDEX case_tasks_due ON case_tasks (due_wall) WHERE done_wall IS NULL",
    ),
    # 8: agents' private notes on a contact (store/contact_notes.py), shown on the customer's
    # later contacts; the text is personal (sealed), agent and time are clear
    (
        """CREATE TABLE contact_notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            text TEXT,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX contact_notes_contact ON contact_notes (contact_id, id)",
    ),
    # 9: a post-call survey that got no score (no key, no key that is a score, or the caller
    # hung up during it), about the same queue and agent an answer would be; no personal data
    (
        """CREATE TABLE unanswered_surveys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL UNIQUE,
            reason TEXT NOT NULL,
            wall_time REAL NOT NULL,
            queue TEXT,
            channel TEXT,
            agent_id TEXT
        ) STRICT""",
        "CREATE INDEX unanswered_surveys_time ON unanswered_surveys (wall_time)",
    ),
    # 10: what the supervisors' per-agent assessment reads (store/assessment.py): each offer
    # that ended unanswered, whose it was and why (the contact's record counts them, not whose
    # they were), and indexes to read a day of segments and of an agent's states
    (
        """CREATE TABLE rejected_offers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL,
            queue TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            wall_time REAL NOT NULL
        ) STRICT""",
        "CREATE INDEX rejected_offers_time ON rejected_offers (wall_time)",
        "CREATE INDEX contact_segments_ended ON contact_segments (ended_wall)",
        "CREATE INDEX agent_state_log_time ON agent_state_log (agent_id, wall_time)",
    ),
    # 11: a due follow-up task becomes routed work once: the contact that routes it (channel
    # task) is kept with it; a case notes when it first passed each target of its severity, so
    # each breach is announced once, also across restarts
    (
        "ALTER TABLE case_tasks ADD COLUMN contact_id TEXT",
        "ALTER TABLE case_tasks ADD COLUMN routed_wall REAL",
        "CREATE UNIQUE INDEX case_tasks_contact ON case_tasks (contact_id)"
        " WHERE contact_id IS NOT NULL",
        "CREATE INDEX case_tasks_unrouted ON case_tasks (due_wall)"
        " WHERE done_wall IS NULL AND contact_id IS NULL",
        "ALTER TABLE cases ADD COLUMN acknowledge_breached_wall REAL",
        "ALTER TABLE cases ADD COLUMN resolve_breached_wall REAL",
    ),
    # 12: e-mail threads (store/mail.py): a thread per conversation with its reference, its
    # mails in and out (the outbox: not yet sent) with attachments; a Message-ID is stored
    # once. Addresses, subjects, bodies and attachments are personal (sealed).
    (
        """CREATE TABLE mail_threads (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            reference TEXT NOT NULL UNIQUE,
            mailbox TEXT NOT NULL,
            queue TEXT NOT NULL,
            customer_id TEXT,
            customer_address TEXT,
            subject TEXT,
            contact_id TEXT NOT NULL,
            opened_wall REAL NOT NULL,
            closed_wall REAL
        ) STRICT""",
        "CREATE INDEX mail_threads_contact ON mail_threads (contact_id)",
        """CREATE TABLE mails (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            thread_id INTEGER NOT NULL REFERENCES mail_threads (id) ON DELETE CASCADE,
            contact_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            in_reply_to TEXT,
            refs TEXT,
            sender TEXT,
            recipients TEXT,
            subject TEXT,
            text TEXT,
            html TEXT,
            automatic TEXT,
            defects TEXT,
            agent_id TEXT,
            uidvalidity INTEGER,
            uid INTEGER,
            wall_time REAL NOT NULL,
            sent_wall REAL
        ) STRICT""",
        "CREATE INDEX mails_thread ON mails (thread_id, id)",
        "CREATE INDEX mails_outbox ON mails (id) WHERE direction != 'in' AND sent_wall IS NULL",
        """CREATE TABLE mail_attachments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mail_id INTEGER NOT NULL REFERENCES mails (id) ON DELETE CASCADE,
            filename TEXT,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            data TEXT
        ) STRICT""",
        "CREATE INDEX mail_attachments_mail ON mail_attachments (mail_id, id)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

_IDENTITY = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
_ROWID = ",\n    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE)"
_PG_TYPES = (
    (re.compile(r"\)\s*STRICT$"), _ROWID),
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), _IDENTITY),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\b(\w+) COLLATE NOCASE\b"), r"lower(\1)"),
)
"""SQLite's words for PostgreSQL's. Every table gets a ``rowid`` (SQLite's implicit one, made
explicit), so what the store does by rowid (batches, insertion order) reads the same."""

MIGRATION_LOCK = 0x6363_5F73_6368  # "cc_sch": PostgreSQL advisory lock of a migration


def postgresql(statement: str) -> str:
    """``statement`` as PostgreSQL says it."""
    for pattern, replacement in _PG_TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


SHARED_TABLES = frozenset({
    "customers", "customer_notes", "contact_notes", "cases", "case_history", "case_notes",
    "case_tasks", "sealing_keys",
})  # fmt: skip
"""What the sites sharing one PostgreSQL database share (``site_schema``): the CRM, cases,
agents' notes on customers' contacts, and the list of keys their values are sealed with."""

_TARGET = re.compile(
    r"\s*(?:CREATE (?:UNIQUE )?INDEX \w+ ON|CREATE TABLE|ALTER TABLE|INSERT INTO|UPDATE"
    r"|(DROP INDEX))\s+(\w+)"
)
_SITE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def is_shared(statement: str) -> bool:
    """Whether a migration statement acts on a shared table (``SHARED_TABLES``); an index is
    its table's (its name begins with the table's)."""
    m = _TARGET.match(statement)
    if m is None:
        raise ValueError(f"a migration statement of no known table: {statement[:60]!r}")
    name = m.group(2)
    if m.group(1):  # DROP INDEX name
        return any(name.startswith(f"{t}_") for t in SHARED_TABLES)
    return name in SHARED_TABLES


def site_schema(site: str) -> str:
    """The PostgreSQL schema of ``site``'s own tables (contacts, users, ...): ``site_<name>``;
    ``ValueError`` unless the name is 1-40 of a-z, 0-9, ``_`` and ``-``."""
    if _SITE.fullmatch(site) is None:
        raise ValueError(
            f"site {site!r}: 1-40 lower-case letters, digits, '_' or '-', first a letter or digit"
        )
    return "site_" + site.replace("-", "_")


async def _version_in(db: Connection, table: str) -> int | None:
    """The version recorded in ``table`` (schema-qualified, or as the search path finds it);
    None when there is no such table."""
    if not list(await db.execute_fetchall("SELECT 1 WHERE to_regclass(?) IS NOT NULL", (table,))):
        return None
    rows = list(await db.execute_fetchall(f"SELECT version FROM {table}"))
    return int(rows[0][0]) if rows else 0


async def _record(db: Connection, table: str, version: int) -> None:
    await db.execute(f"CREATE TABLE IF NOT EXISTS {table} (version BIGINT NOT NULL)")
    await db.execute(f"DELETE FROM {table}")
    await db.execute(f"INSERT INTO {table} (version) VALUES (?)", (version,))


def _too_new(version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"database schema version {version} is newer than this program's {SCHEMA_VERSION}"
    )


async def schema_version(db: Connection) -> int:
    """The version the database is at (0: empty)."""
    if dialect(db) == "postgresql":
        return await _version_in(db, "schema_version") or 0
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def _set_version(db: Connection, version: int) -> None:
    if dialect(db) == "postgresql":
        await _record(db, "schema_version", version)
    else:
        await db.execute(f"PRAGMA user_version = {version:d}")


async def migrate(db: Connection, site: str | None = None) -> int:
    """Apply the missing migrations, each in its own transaction; returns how many ran.

    ``db`` must be in autocommit mode (``isolation_level=None``). ``BEGIN IMMEDIATE`` takes the
    write lock before the version is read (PostgreSQL: an advisory lock held to the end of the
    transaction), so two processes opening one database do not race.

    ``site`` (PostgreSQL only): the database is shared by sites. The shared tables live in
    ``public`` (their version in ``public.shared_schema_version``), each site's own in its
    schema (``site_schema``; its version in that schema's ``schema_version``), so a second
    site's first start adds its tables and leaves the shared ones as they are.
    """
    postgres = dialect(db) == "postgresql"
    if site is not None:
        if not postgres:
            raise StoreError("sites share a PostgreSQL database only; a SQLite file is one site's")
        return await _migrate_site(db, site_schema(site))
    applied = 0
    while True:
        async with immediate(db):
            if postgres:
                await db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                if await _version_in(db, "public.shared_schema_version") is not None:
                    raise StoreError("this database is shared by sites: name this one's (--site)")
            version = await schema_version(db)
            if version > SCHEMA_VERSION:
                raise _too_new(version)
            if version == SCHEMA_VERSION:
                return applied
            for statement in MIGRATIONS[version]:
                await db.execute(postgresql(statement) if postgres else statement)
            await _set_version(db, version + 1)
        applied += 1


async def _migrate_site(db: Connection, schema: str) -> int:
    applied = 0
    while True:
        async with immediate(db):
            await db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            if await _version_in(db, "public.schema_version") is not None:
                raise StoreError("this database serves one site (it was started without --site)")
            await db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            own = await _version_in(db, f"{schema}.schema_version") or 0
            shared = await _version_in(db, "public.shared_schema_version") or 0
            for version in (own, shared):
                if version > SCHEMA_VERSION:
                    raise _too_new(version)
            step = min(own, shared)
            if step == SCHEMA_VERSION:
                return applied
            for statement in MIGRATIONS[step]:
                common = is_shared(statement)
                if (shared if common else own) > step:
                    continue  # (done by another site's start)
                path = "public" if common else f"{schema}, public"
                await db.execute(f"SET LOCAL search_path = {path}")
                await db.execute(postgresql(statement))
            await db.execute(f"SET LOCAL search_path = {schema}, public")
            await _record(db, f"{schema}.schema_version", max(own, step + 1))
            await _record(db, "public.shared_schema_version", max(shared, step + 1))
        applied += 1
