"""What ``contactcenter serve`` checks before it writes anything.

A server that finds out late that it cannot run has already created a database, users and
their passwords. So first: every port it will bind is tried (bound as the server will bind it,
and let go at once), and the database is checked without being touched: an existing file must
be a SQLite database this user may read and write, in a directory it may write (SQLite keeps
-wal and -shm files beside it); a new one needs a writable directory, or a place to create it.
A database holding sealed customer data needs the keys file with every key it uses (a new key
would not open them, so none is made then). What fails is said in one line (``CannotServe``).
The configuration is checked before, when it is loaded.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from contactcenter.store.data_keys import problem as data_keys_problem

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file (https://sqlite.org/fileformat.html)."""


class CannotServe(Exception):
    """What keeps ``serve`` from starting, in one line."""


@dataclass(frozen=True, slots=True)
class Port:
    """A port the server will bind; ``what`` names it in a problem (e.g. ``HTTP port``)."""

    what: str
    host: str
    port: int
    udp: bool = False


def check(ports: Iterable[Port], db: Path | None) -> None:
    """Raise ``CannotServe`` naming every problem found (``db``: a SQLite file's; None for a
    database server, checked by connecting)."""
    found = (*map(port_problem, ports), database_problem(db) if db is not None else None)
    problems = [p for p in found if p is not None]
    if problems:
        raise CannotServe("; ".join(problems))


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def port_problem(p: Port) -> str | None:
    """Why ``p`` cannot be bound now, or None."""
    name = f"{p.what} {_where(p.host, p.port)}"
    kind = socket.SOCK_DGRAM if p.udp else socket.SOCK_STREAM
    try:
        addresses = socket.getaddrinfo(p.host, p.port, type=kind, flags=socket.AI_PASSIVE)
        for family, _, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as sock:
                if not p.udp:  # as asyncio binds a server socket
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                if not p.udp:
                    sock.listen()
    except socket.gaierror as e:
        return f"{name}: no such address ({e.strerror})"
    except OverflowError:
        return f"{name}: ports are 0-65535"
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return f"{name} is in use (is another server running?)"
        if e.errno == errno.EADDRNOTAVAIL:
            return f"{name}: {p.host} is not an address of this machine"
        if e.errno == errno.EACCES:
            return f"{name}: permission denied (ports below 1024 need privileges)"
        return f"{name}: {e.strerror}"
    return None


def database_problem(db: Path) -> str | None:
    """Why the database at ``db`` cannot be opened or created here, or None."""
    try:
        if db.exists():
            if not db.is_file():
                return f"database {db} is not a file"
            if not os.access(db, os.R_OK | os.W_OK):
                return f"database {db} is not readable and writable by this user"
            with db.open("rb") as fh:
                head = fh.read(len(SQLITE_HEADER))
            if head and head != SQLITE_HEADER:
                return f"{db} is not a SQLite database"
            directory = db.parent
        else:
            directory = db.parent
            while not directory.exists() and directory != directory.parent:
                directory = directory.parent
            if not directory.is_dir():
                return f"{directory} is not a directory (database {db})"
    except OSError as e:
        return f"database {db}: {e.strerror}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"directory {directory} is not writable by this user (database {db})"
    return None


def sealed_data_problem(db: Path, data_keys: Path | None) -> str | None:
    """Why the customers' data sealed in the database at ``db`` could not be opened with the
    keys file ``data_keys`` (None: beside the database), or None; reads, writes nothing."""
    return data_keys_problem(db, data_keys) if database_problem(db) is None else None
