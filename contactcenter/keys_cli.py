"""``contactcenter keys``: the keys that seal customers' data at rest (``store/sealing.py``).

``keys status`` says which keys the file holds and how many stored values each one seals (no
secret is printed); ``keys rotate`` makes a new data key, seals every value again under it and
drops the keys no value uses any more; ``keys rotate --index`` does the same for the look-up
hashes. Both are safe while ``serve`` runs on the same database: it follows the file.

Also what every command that opens the store shares: ``--db`` (a SQLite file or a PostgreSQL
URL), ``--data-keys``, and ``open_store``/``problem``, which make every problem with the
database one line naming it (a URL without its password).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from contactcenter.store import Store, StoreError
from contactcenter.store.connection import (
    UNREACHABLE_ERRORS,
    database_argument,
    redacted,
    shown,
)
from contactcenter.store.data_keys import DEFAULT_NAME
from contactcenter.store.resealing import KeyUse, key_use, rotate_data_key, rotate_index_key

DATA_KEYS_HELP = f"the keys file that seals customers' data (default: {DEFAULT_NAME} beside --db)"


def add_data_keys_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-keys FILE``, for every command that opens the store."""
    parser.add_argument("--data-keys", type=Path, metavar="FILE", help=DATA_KEYS_HELP)


def add_database_argument(parser: argparse.ArgumentParser, default: Path) -> None:
    """``--db PATH|URL``, for every command that opens the store."""
    parser.add_argument(
        "--db",
        type=database_argument,
        default=default,
        metavar="PATH|URL",
        help=f"a SQLite file (default {default}) or a PostgreSQL URL "
        "(postgresql://user[:password]@host[:port]/database; --data-keys then needed)",
    )
    parser.add_argument("--site", help="the site, of a PostgreSQL database shared by sites")


def _said(err: BaseException, url: str) -> str:
    """``err`` on one line, the URL's password (should the driver repeat it) left out."""
    text = " ".join(str(err).split()) or type(err).__name__
    password = urlsplit(url).password
    for secret in {password, unquote(password)} if password else ():
        text = text.replace(secret, "***")
    return text


async def open_store(
    db: Path | str, data_keys: Path | None, *, existing: bool = False, site: str | None = None
) -> Store:
    """The store at ``db`` for a command; a problem opening it is a ``StoreError`` of one line
    naming the database. ``existing``: a SQLite file must be there already (never a new, empty
    one); a PostgreSQL database is made by its server's administrator, never here. ``site``:
    the site's part of a PostgreSQL database shared by sites."""
    if isinstance(db, str):
        try:
            return await Store.open(db, data_keys=data_keys, site=site)
        except ValueError as err:  # a site name that cannot be
            raise StoreError(str(err)) from err
        except UNREACHABLE_ERRORS as err:
            raise StoreError(f"cannot reach the database {redacted(db)}: {_said(err, db)}") from err
        except asyncpg.PostgresError as err:  # e.g. a refused login, no such database
            raise StoreError(f"cannot use the database {redacted(db)}: {_said(err, db)}") from err
    if existing and not db.is_file():
        raise StoreError(f"no database at {db}")
    try:
        return await Store.open(db, data_keys=data_keys, site=site)
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{db}: {err}") from err


def problem(err: Exception, db: Path | str) -> str | None:
    """What a command says (one line) of ``err`` raised while it worked on ``db``; None for an
    error that is not a problem of the database (a bug: its traceback is wanted)."""
    if isinstance(err, StoreError):
        return str(err)
    if isinstance(db, str):
        if isinstance(err, UNREACHABLE_ERRORS):
            return f"lost the database {redacted(db)}: {_said(err, db)}"
        if isinstance(err, asyncpg.PostgresError):
            return f"the database {redacted(db)}: {_said(err, db)}"
    elif isinstance(err, sqlite3.Error):
        return f"{db}: {err}"
    return None


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``keys status`` and ``keys rotate`` under ``contactcenter``."""
    from contactcenter.api.serve import DEFAULT_DB

    keys = sub.add_parser("keys", help="the keys that seal customers' data at rest")
    commands = keys.add_subparsers(dest="keys_command", required=True)
    status = commands.add_parser("status", help="the keys and how many values each one seals")
    rotate = commands.add_parser(
        "rotate",
        help="a new data key: every value sealed again under it, old keys dropped (safe while "
        "serve runs)",
    )
    rotate.add_argument(
        "--index",
        action="store_true",
        help="rotate the look-up hashes' key instead (phone, e-mail, account number)",
    )
    for parser in (status, rotate):
        add_database_argument(parser, DEFAULT_DB)
        add_data_keys_argument(parser)
    status.set_defaults(func=_status)
    rotate.set_defaults(func=_rotate)


def status_lines(use: KeyUse, db: Path | str) -> list[str]:
    """What ``keys status`` says: key ids and counts, never a key (nor a password)."""
    lines = [f"data keys file {use.file} (database {shown(db)})"]
    for kid in sorted(use.data_keys, key=lambda k: k != use.active):
        active = "active" if kid == use.active else "      "
        lines.append(f"  data key  {kid}  {active}  seals {use.values[kid]} values")
    for kid in sorted(use.index_keys, key=lambda k: k != use.index_active):
        active = "active" if kid == use.index_active else "      "
        lines.append(f"  index key {kid}  {active}  ({use.hashes} look-up hashes in all)")
    lacking = {k: n for k, n in use.values.items() if k is not None and k not in use.data_keys}
    for kid, n in sorted(lacking.items()):
        lines.append(f"  {n} values sealed under {kid}, which the file lacks")
    if use.values[None]:
        lines.append(f"  {use.values[None]} values still in clear (from an older version)")
    return lines


def _status(args: argparse.Namespace) -> int:
    async def run() -> list[str]:
        async with await open_store(args.db, args.data_keys, site=args.site) as store:
            return status_lines(await key_use(store), args.db)

    return _run("keys status", args.db, run)


def _rotate(args: argparse.Namespace) -> int:
    async def run() -> list[str]:
        async with await open_store(args.db, args.data_keys, site=args.site) as store:
            if args.index:
                done = await rotate_index_key(store)
                what, made = "index key", f"made {done.resealed} look-up hashes again"
            else:
                done = await rotate_data_key(store)
                what, made = "data key", f"sealed {done.resealed} values again"
        dropped = ", ".join(done.dropped) or "none"
        return [f"new {what} {done.new_key} in {done.file}: {made}; dropped {dropped}"]

    return _run("keys rotate", args.db, run)


def _run(command: str, db: Path | str, run: Callable[[], Coroutine[Any, Any, list[str]]]) -> int:
    """Run ``run`` and write its lines; a problem of the database is one line on stderr and
    exit 1."""
    try:
        lines = asyncio.run(run())
    except Exception as err:
        if (said := problem(err, db)) is None:
            raise
        sys.stderr.write(f"contactcenter {command}: {said}\n")
        return 1
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0
