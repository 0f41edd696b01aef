"""``contactcenter keys``: the keys that seal customers' data at rest (``store/sealing.py``).

``keys status`` says which keys the file holds and how many stored values each one seals (no
secret is printed); ``keys rotate`` makes a new data key, seals every value again under it and
drops the keys no value uses any more; ``keys rotate --index`` does the same for the look-up
hashes. Both are safe while ``serve`` runs on the same database: it follows the file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from contactcenter.store import Store, StoreError
from contactcenter.store.data_keys import DEFAULT_NAME
from contactcenter.store.resealing import KeyUse, key_use, rotate_data_key, rotate_index_key

DATA_KEYS_HELP = f"the keys file that seals customers' data (default: {DEFAULT_NAME} beside --db)"


def add_data_keys_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-keys FILE``, for every command that opens the store."""
    parser.add_argument("--data-keys", type=Path, metavar="FILE", help=DATA_KEYS_HELP)


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
        parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"default {DEFAULT_DB}")
        add_data_keys_argument(parser)
    status.set_defaults(func=_status)
    rotate.set_defaults(func=_rotate)


def status_lines(use: KeyUse, db: Path) -> list[str]:
    """What ``keys status`` says: key ids and counts, never a key."""
    lines = [f"data keys file {use.file} (database {db})"]
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
        async with await Store.open(args.db, data_keys=args.data_keys) as store:
            return status_lines(await key_use(store), args.db)

    return _run("keys status", run)


def _rotate(args: argparse.Namespace) -> int:
    async def run() -> list[str]:
        async with await Store.open(args.db, data_keys=args.data_keys) as store:
            if args.index:
                done = await rotate_index_key(store)
                what, made = "index key", f"made {done.resealed} look-up hashes again"
            else:
                done = await rotate_data_key(store)
                what, made = "data key", f"sealed {done.resealed} values again"
        dropped = ", ".join(done.dropped) or "none"
        return [f"new {what} {done.new_key} in {done.file}: {made}; dropped {dropped}"]

    return _run("keys rotate", run)


def _run(command: str, run: Callable[[], Coroutine[Any, Any, list[str]]]) -> int:
    """Run ``run`` and write its lines; a store error is one line on stderr and exit 1."""
    try:
        lines = asyncio.run(run())
    except StoreError as err:
        sys.stderr.write(f"contactcenter {command}: {err}\n")
        return 1
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0
