"""The keyring's file, outside the database (default ``data-keys`` beside it; production: on
another volume or a secrets mount), and the keyring a running store seals with.

The database lists every key id its values are sealed or hashed with (``sealing_keys``, kept
in the transactions that use them). Opening a database whose keys are not in the file is
refused with one line naming the file, and no new key is made then: a new key cannot open what
the lost one sealed. A file is created only for a database that uses no key yet.

A rotation (``rotation.py``, possibly another process) rewrites the file while holding the
database's write lock; a store re-reads the file when it changed (checked inside each write
transaction, so no value is sealed under a key a finished rotation has dropped) and when it
meets a key id it does not know. It keeps the keys it knew before: a value read just before a
rotation still opens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from pathlib import Path

from contactcenter.store.connection import Connection, table_exists
from contactcenter.store.errors import DataKeysError, MissingDataKey
from contactcenter.store.sealing import Keyring, LookupKind, is_sealed

log = logging.getLogger(__name__)

DEFAULT_NAME = "data-keys"

USED_KEYS = "SELECT kid FROM sealing_keys"


def default_path(db: str | os.PathLike[str]) -> Path:
    """Where the keys file of database ``db`` is unless named: beside it."""
    return Path(db).parent / DEFAULT_NAME


def read_keyring(path: Path) -> Keyring:
    """The keyring in ``path``; ``DataKeysError`` naming the file and what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataKeysError(f"data keys file {path}: {e.strerror}") from e
    try:
        return Keyring.from_json(raw)
    except ValueError as e:
        raise DataKeysError(f"data keys file {path} is not a data keys file: {e}") from e


def write_keyring(path: Path, ring: Keyring, *, replace: bool) -> None:
    """Write ``ring`` to ``path``, readable by its owner only (0600), whole or not at all
    (written beside it, fsync'd, then moved in). ``replace=False``: only if there is no file
    yet (``FileExistsError``: another process made one first)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(ring.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # fails if the file exists
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except FileExistsError:
        raise
    except OSError as e:
        raise DataKeysError(f"cannot write data keys file {path}: {e.strerror}") from e


def missing_keys(ring: Keyring | None, path: Path, used: set[str], db: str) -> str | None:
    """Why ``ring`` (None: no file at ``path``) cannot open database ``db``'s values, or
    None. ``used``: the key ids the database names."""
    if not used:
        return None
    if ring is None:
        return (
            f"data keys file {path} is missing, and the database {db} holds values sealed with "
            "its keys: restore it from a backup, or name it with --data-keys"
        )
    lacking = sorted(used - set(ring.data_keys) - set(ring.index_keys))
    if lacking:
        return (
            f"data keys file {path} lacks key(s) {', '.join(lacking)} that the database {db} "
            "uses: restore the right file, or name it with --data-keys"
        )
    return None


def problem(db: Path, keys: Path | None) -> str | None:
    """Why the database at ``db`` cannot be opened with the keys file ``keys`` (None: the
    default), checked without writing anything (for ``serve``'s preflight), or None."""
    path = keys if keys is not None else default_path(db)
    used: set[str] = set()
    if db.is_file():
        # a database closed cleanly has no -wal: read the file as it is, making no -wal or
        # -shm (SQLite would); with a -wal (running, or a crash) read through it
        wal = db.with_name(db.name + "-wal").exists()
        uri = f"{db.resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sealing_keys'"
                ).fetchone()
                if found is not None:
                    used = {str(r[0]) for r in conn.execute(USED_KEYS)}
        except sqlite3.Error:
            return None  # Store.open says what is wrong, before it writes
    try:
        ring = read_keyring(path) if path.exists() else None
    except DataKeysError as e:
        return str(e)
    return missing_keys(ring, path, used, str(db))


async def used_keys(db: Connection) -> set[str]:
    """The key ids the database says its values use (none before the schema has the list)."""
    if not await table_exists(db, "sealing_keys"):
        return set()
    return {str(r[0]) for r in await db.execute_fetchall(USED_KEYS)}


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class DataKeys:
    """The keyring a store uses, as its file holds it (``path`` None: an in-memory database's
    keyring, never written)."""

    def __init__(self, ring: Keyring, path: Path | None) -> None:
        self.ring = ring
        self.path = path
        self._stamp = _stamp(path) if path is not None else None
        self._registered: tuple[str, str] | None = None
        """The (data, index) key ids this store has put in the database's list."""

    @classmethod
    def load(cls, path: Path | None, used: set[str], db: str) -> DataKeys:
        """The keyring from ``path``; made (and written 0600) if there is no file and the
        database ``db`` uses no key (``used``); ``DataKeysError`` if the database uses keys
        the file lacks, or there is no file."""
        if path is None:
            return cls(Keyring.new(), None)
        if not path.exists():
            problem = missing_keys(None, path, used, db)
            if problem is not None:
                raise DataKeysError(problem)
            with contextlib.suppress(FileExistsError):  # else another process made it first
                write_keyring(path, Keyring.new(), replace=False)
        with contextlib.suppress(OSError):  # e.g. a read-only secrets mount: leave it
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        ring = read_keyring(path)
        problem = missing_keys(ring, path, used, db)
        if problem is not None:
            raise DataKeysError(problem)
        return cls(ring, path)

    # -- following the file -----------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the file if it changed since it was read (one ``stat``). A file gone or
        spoilt while running changes nothing: the keys in memory go on working (and the next
        start says what is wrong with the file)."""
        if self.path is None:
            return
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if stamp is None:
            log.warning("data keys file %s is gone; going on with the keys in memory", self.path)
            return
        try:
            self.ring = read_keyring(self.path).merged(self.ring)
        except DataKeysError as e:
            log.warning("%s; going on with the keys in memory", e)

    def reload(self) -> None:
        """Re-read the file, keeping the keys known before (a rotation may have dropped keys
        from the file that a value read just before still needs)."""
        if self.path is None:
            return
        stamp = _stamp(self.path)
        self.ring = read_keyring(self.path).merged(self.ring)
        self._stamp = stamp

    def replace(self, ring: Keyring) -> None:
        """Write ``ring`` as the file (a rotation's step) and use it from now on."""
        if self.path is not None:
            write_keyring(self.path, ring, replace=True)
            self._stamp = _stamp(self.path)
        self.ring = ring

    def unregistered(self) -> tuple[str, str] | None:
        """The active (data, index) key ids if this store has not listed them in the database
        yet (``registered`` once the transaction that listed them committed)."""
        pair = (self.ring.active, self.ring.index_active)
        return None if pair == self._registered else pair

    def registered(self, pair: tuple[str, str]) -> None:
        self._registered = pair

    # -- values -----------------------------------------------------------------------------

    def seal(self, table: str, column: str, value: str | None) -> str | None:
        """``value`` sealed for ``table.column`` (None stays None)."""
        return None if value is None else self.ring.seal(value, f"{table}.{column}")

    def open(self, table: str, column: str, value: str | None) -> str | None:
        """The clear text of a stored value (one an older version stored in clear is returned
        as it is); a key not known is looked for in the file again."""
        if value is None or not is_sealed(value):
            return value
        where = f"{table}.{column}"
        try:
            return self.ring.open(value, where)
        except MissingDataKey as e:
            self.reload()
            try:
                return self.ring.open(value, where)
            except MissingDataKey:
                raise DataKeysError(
                    f"data keys file {self.path} lacks key {e.kid}, which sealed a value of "
                    f"{where}: restore the right file"
                ) from e

    def lookup_hash(self, kind: LookupKind, value: str | None) -> bytes | None:
        """The hash stored beside a new value (None stays None)."""
        return None if value is None else self.ring.lookup_hash(kind, value)

    def lookup_hashes(self, kind: LookupKind, value: str) -> list[bytes]:
        """What a look-up for ``value`` searches for."""
        return self.ring.lookup_hashes(kind, value)
