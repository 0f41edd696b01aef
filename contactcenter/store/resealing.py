"""Sealing what is stored again: values an older version stored in clear (when a store opens),
and every value and look-up hash when a key is rotated (``contactcenter keys rotate``).

Both work in batches of rows, each batch one write transaction, so a running ``serve`` on the
same database waits for one batch at a time, never for the whole job, and a job cut short
(a crash, ``kill``) goes on where it stopped when run again.

A data key rotation: (1) a new data key becomes the active one in the keys file, written while
holding the database's write lock: every store seals with it from its next write on (stores
look at the file inside their write transactions); (2) every value sealed under another key is
sealed again under it; (3) the keys no value uses any more are dropped from the file and from
the database's list. An index key rotation does the same with the look-up hashes: while both
index keys are in the file, look-ups try both.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from contactcenter.store.connection import Connection, dialect
from contactcenter.store.errors import StoreError
from contactcenter.store.sealing import PREFIX, LookupKind, is_sealed, kid_of

if TYPE_CHECKING:
    from contactcenter.store.store import Store

SEALED: Mapping[str, tuple[str, ...]] = {
    "customers": ("name", "phone", "email", "account_number"),
    "customer_notes": ("text",),
    "contacts": ("customer_name", "disposition_notes"),
    "contact_segments": ("note",),
    "messages": ("text",),
    "callbacks": ("phone", "name"),
    "surveys": ("comment",),
    "cases": ("description",),
    "case_notes": ("text",),
    "case_tasks": ("title",),
    "contact_notes": ("text",),
    "mail_threads": ("customer_address", "subject"),
    "mails": ("sender", "recipients", "subject", "text", "html"),
    "mail_attachments": ("filename", "data"),
}
"""The personal columns, sealed at rest (everything else stays clear: ids, queues, times,
states, codes; an audit entry's detail holds ids and codes, never personal values)."""

HASHED: Mapping[tuple[str, str], tuple[str, LookupKind]] = {
    ("customers", "phone"): ("phone_hash", "phone"),
    ("customers", "email"): ("email_hash", "email"),
    ("customers", "account_number"): ("account_hash", "account"),
    ("callbacks", "phone"): ("phone_hash", "phone"),
}
"""Sealed columns that are looked up, and their look-up hash column."""

BATCH = 500
"""Rows per write transaction."""


# -- values an older version stored in clear -----------------------------------------------


async def seal_clear_rows(store: Store) -> int:
    """Seal the values, and fill the look-up hashes, of the rows an older version wrote in
    clear (``clear_rows``, noted by migration 4); returns how many values were sealed.

    When all are sealed the file is rebuilt (``VACUUM``) and the -wal emptied, so that no
    page of the file, free or not, still holds a clear value (PostgreSQL: the tables that held
    them are rewritten, ``VACUUM FULL``, leaving no dead row version behind)."""
    if not await store._rows("SELECT 1 FROM clear_rows LIMIT 1"):
        return 0  # (the usual case: a read, no write transaction)
    sealed = 0
    pending: list[str] = []
    while True:
        async with store._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT table_name, sealed_upto, last_rowid FROM clear_rows"
                    " WHERE sealed_upto < last_rowid ORDER BY table_name LIMIT 1"
                )
            )
            if not rows:
                pending = [
                    str(r[0])
                    for r in await db.execute_fetchall(
                        "SELECT table_name FROM clear_rows ORDER BY table_name"
                    )
                ]
                break
            table, upto, last = rows[0]
            done, upto = await _seal_batch(store, db, table, upto, last)
            sealed += done
            await db.execute(
                "UPDATE clear_rows SET sealed_upto = ? WHERE table_name = ?", (upto, table)
            )
    if pending:  # all sealed; what the clear values were in must go too
        db = store._conn()
        async with store._lock:
            try:
                if dialect(db) == "postgresql":  # (outside a transaction, as VACUUM must be)
                    for table in pending:
                        if table in SEALED:  # (names from this module, not from the row)
                            await db.execute(f"VACUUM FULL {table}")
                else:
                    await db.execute("VACUUM")
                    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except (sqlite3.Error, asyncpg.PostgresError) as e:
                # e.g. no room for the copy: tried again at next open
                raise StoreError(
                    f"cannot rebuild the database {store.path} after sealing its clear values "
                    f"(it needs free space about its size for a moment): {e}"
                ) from e
        async with store._write() as db:
            await db.execute("DELETE FROM clear_rows")
    return sealed


async def _seal_batch(
    store: Store, db: Connection, table: str, upto: int, last: int
) -> tuple[int, int]:
    """Seal the next rows of ``table`` after rowid ``upto`` (up to ``last``); returns how many
    values were sealed and the last rowid done."""
    columns = SEALED[table]
    rows = list(
        await db.execute_fetchall(
            f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ? AND rowid <= ?"
            " ORDER BY rowid LIMIT ?",
            (upto, last, BATCH),
        )
    )
    keys = store._keys
    sealed = 0
    for row in rows:
        changes: dict[str, object] = {}
        for column, value in zip(columns, row[1:], strict=True):
            if value is None or is_sealed(value):
                continue
            changes[column] = keys.seal(table, column, value)
            if (table, column) in HASHED:
                hash_column, kind = HASHED[(table, column)]
                changes[hash_column] = keys.lookup_hash(kind, value)
        if changes:
            sealed += sum(1 for c in changes if c in columns)
            await db.execute(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in changes)} WHERE rowid = ?",
                (*changes.values(), row[0]),
            )
    return sealed, rows[-1][0] if rows else last


# -- key rotation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: the new key (in ``file``), how many values (or hashes) it sealed
    again under it, and the keys it dropped."""

    new_key: str
    resealed: int
    dropped: tuple[str, ...]
    file: Path | None


async def rotate_data_key(store: Store) -> Rotation:
    """A new active data key; every value sealed again under it; old keys dropped."""
    async with store._write() as db:
        ring = store._keys.ring.with_new_data_key()
        store._keys.replace(ring)
        await db.execute(
            "INSERT INTO sealing_keys (kid, kind) VALUES (?, 'data') ON CONFLICT DO NOTHING",
            (ring.active,),
        )
    active = ring.active
    keys = store._keys

    def reseal(table: str, column: str, value: Any) -> tuple[str, object] | None:
        if value is None or not is_sealed(value) or kid_of(value) == active:
            return None
        return column, keys.seal(table, column, keys.open(table, column, value))

    resealed = 0
    for table, columns in SEALED.items():
        resealed += await _rewrite(store, table, columns, reseal)
    use = await key_use(store)
    async with store._write() as db:
        ring = store._keys.ring
        in_use = {kid for kid, n in use.values.items() if n > 0 and kid is not None}
        dropped = tuple(sorted(set(ring.data_keys) - in_use - {ring.active}))
        store._keys.replace(ring.keeping(data=in_use, index=set(ring.index_keys)))
        await db.executemany("DELETE FROM sealing_keys WHERE kid = ?", [(kid,) for kid in dropped])
    return Rotation(ring.active, resealed, dropped, store._keys.path)


Change = Callable[[str, str, Any], tuple[str, object] | None]
"""(table, column, stored value) -> the column to set and its new value, or None: leave it."""


async def _rewrite(store: Store, table: str, columns: Sequence[str], change: Change) -> int:
    """Apply ``change`` to ``columns`` of every row of ``table``, ``BATCH`` rows a write
    transaction (a running serve waits one batch at most); returns how many values changed."""
    changed, after = 0, 0
    while True:
        async with store._write() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ?"
                    " ORDER BY rowid LIMIT ?",
                    (after, BATCH),
                )
            )
            if not rows:
                return changed
            for row in rows:
                changes = dict(
                    c for column, value in zip(columns, row[1:], strict=True)
                    if (c := change(table, column, value)) is not None
                )  # fmt: skip
                if changes:
                    changed += len(changes)
                    await db.execute(
                        f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in changes)}"
                        " WHERE rowid = ?",
                        (*changes.values(), row[0]),
                    )
            after = rows[-1][0]


async def rotate_index_key(store: Store) -> Rotation:
    """A new active index key; every look-up hash made again with it; old index keys
    dropped. Look-ups keep working throughout (they try every index key in the file)."""
    async with store._write() as db:
        ring = store._keys.ring.with_new_index_key()
        store._keys.replace(ring)
        await db.execute(
            "INSERT INTO sealing_keys (kid, kind) VALUES (?, 'index') ON CONFLICT DO NOTHING",
            (ring.index_active,),
        )
    keys = store._keys

    def rehash(table: str, column: str, value: Any) -> tuple[str, object] | None:
        clear = keys.open(table, column, value)
        if clear is None:
            return None
        hash_column, kind = HASHED[(table, column)]
        return hash_column, keys.ring.lookup_hash(kind, clear)

    rehashed = 0
    for table in {t for t, _ in HASHED}:
        rehashed += await _rewrite(store, table, [c for t, c in HASHED if t == table], rehash)
    async with store._write() as db:
        ring = store._keys.ring
        dropped = tuple(sorted(set(ring.index_keys) - {ring.index_active}))
        store._keys.replace(ring.keeping(data=set(ring.data_keys), index=set()))
        await db.executemany("DELETE FROM sealing_keys WHERE kid = ?", [(kid,) for kid in dropped])
    return Rotation(ring.index_active, rehashed, dropped, store._keys.path)


# -- what the keys seal ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyUse:
    """The keys in the file (ids only) and what they seal: how many stored values each data
    key seals (``None``: values still in clear, from an older version; a key id not among
    ``data_keys``: values the file cannot open), and how many look-up hashes there are."""

    file: Path | None
    active: str
    data_keys: tuple[str, ...]
    index_active: str
    index_keys: tuple[str, ...]
    values: Counter[str | None]
    hashes: int


async def key_use(store: Store) -> KeyUse:
    """Count the sealed values by key (reads every personal column: a full scan)."""
    values: Counter[str | None] = Counter()
    start = len(PREFIX) + 1
    postgres = dialect(store._conn()) == "postgresql"
    for table, columns in SEALED.items():
        for column in columns:
            rest = f"substr({column}, {start})"
            kid = (
                f"split_part({rest}, ':', 1)"
                if postgres
                else f"substr({column}, {start}, instr({rest}, ':') - 1)"
            )
            rows = await store._rows(
                f"SELECT CASE WHEN substr({column}, 1, {len(PREFIX)}) = '{PREFIX}'"
                f" THEN {kid} END, count(*) FROM {table} WHERE {column} IS NOT NULL GROUP BY 1"
            )
            for kid, n in rows:
                values[kid] += n
    hashes = 0
    for (table, _), (hash_column, _) in HASHED.items():
        row = await store._row(f"SELECT count({hash_column}) FROM {table}")
        hashes += int(row[0]) if row is not None else 0
    ring = store._keys.ring
    return KeyUse(
        store._keys.path, ring.active, tuple(sorted(ring.data_keys)), ring.index_active,
        tuple(sorted(ring.index_keys)), values, hashes,
    )  # fmt: skip
