"""``contactcenter retention`` and ``contactcenter erase-customer``: keeping customers' personal
data within what the center may hold (``store/retention.py``, ``store/erasure.py``); and the
audit entry of ``contactcenter user set``.

Both work on the database a running ``serve`` uses, beside it: retention in small batches,
an erasure in one short transaction. Both are in the audit log under the operating-system user
who ran them (``cli:<user>``); a problem is one line naming the database (a SQLite file, or a
PostgreSQL URL without its password) and the reason, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from pathlib import Path

from contactcenter.config import Center, ConfigError, load_center
from contactcenter.keys_cli import (
    add_data_keys_argument,
    add_database_argument,
    open_store,
    problem,
)
from contactcenter.store import Store
from contactcenter.store.connection import shown
from contactcenter.store.erasure import CustomerBusy, Erasure, erase_customer
from contactcenter.store.retention import RetentionReport, apply_retention

WHAT = {
    "transcript_lines": "chat lines deleted",
    "wrap_up_notes": "wrap-up notes nulled",
    "transfer_notes": "notes for the next agent nulled",
    "survey_comments": "survey comments nulled",
    "crm_notes": "CRM notes deleted",
    "callback_numbers": "call backs' numbers and names nulled",
    "contact_names": "customers' names on contact records nulled",
    "crm_card": "CRM card deleted",
    "contacts": "contacts found (records kept, anonymous)",
    "notes": "wrap-up and transfer notes nulled",
    "names": "names (and numbers) on contact records nulled",
    "callbacks": "call backs' numbers and names nulled",
    "cases": "complaint cases found (kept, anonymous)",
    "case_texts": "complaint cases' descriptions, notes and task texts removed",
    "ids_replaced": "customer ids replaced by the marker",
    "audit_entries": "audit entries naming the customer now name the marker",
}


def actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        return f"cli:uid-{os.getuid()}"


async def log_user_set(store: Store, username: str, role: str, agent: str | None) -> None:
    """The audit entry of ``contactcenter user set``: a login made, or its role or password
    changed (never the password)."""
    await store.audit(actor(), "user_set", username, {"role": role, "agent": agent}, time.time())


def _say(*lines: str) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def _warn(line: str) -> None:
    sys.stderr.write(f"{line}\n")


def _fail(command: str, message: str) -> int:
    _warn(f"contactcenter {command}: {message}")
    return 1


async def _open(args: argparse.Namespace) -> Store:
    """The existing database (never a new, empty file: that would report nothing to do)."""
    return await open_store(args.db, args.data_keys, existing=True, site=args.site)


def _problem(command: str, err: Exception, db: Path | str) -> int:
    """``err`` as one line and exit 1 when it is a problem of the database; else raised."""
    if (said := problem(err, db)) is None:
        raise err
    return _fail(command, said)


def _lines(counts: dict[str, int]) -> list[str]:
    return [f"  {WHAT.get(k, k)}: {n}" for k, n in counts.items()]


def _retention(args: argparse.Namespace) -> int:
    try:
        center = load_center(args.config)
    except ConfigError as err:
        _warn(str(err))
        return 1
    settings = center.settings.retention

    async def run() -> RetentionReport:
        async with await _open(args) as store:
            return await apply_retention(
                store, settings, time.time(), actor=actor(), dry_run=args.dry_run
            )

    try:
        report = asyncio.run(run())
    except Exception as err:
        return _problem("retention", err, args.db)
    kept = {k: v for k, v in settings.model_dump().items() if v is not None}
    if not kept:
        _say(f"{args.config}: no retention set (center.yaml, retention:): everything is kept")
    mode = " (dry run: nothing changed)" if args.dry_run else ""
    kept_for = ", ".join(f"{k} {v:g}" for k, v in kept.items())
    _say(f"retention in {shown(args.db)}{mode}: {kept_for}")
    _say(*_lines(report.counts))
    return 0


def _in_config(center: Center, customer_id: str) -> list[str]:
    where = ["customers.yaml"] if customer_id in center.customers else []
    where += [
        f"agents.yaml ({a.id}'s dedicated customers)"
        for a in center.agents.values()
        if customer_id in a.dedicated_customers
    ]
    return where


def _erase(args: argparse.Namespace) -> int:
    customer_id: str = args.customer_id
    center = None
    if args.config is not None:
        try:
            center = load_center(args.config)
        except ConfigError as err:
            _warn(str(err))
            return 1
    if not args.yes:
        if not sys.stdin.isatty():
            return _fail("erase-customer", "give --yes to erase without being asked")
        answer = input(f"Erase everything personal of customer {customer_id}? Type the id: ")
        if answer.strip() != customer_id:
            return _fail("erase-customer", "not confirmed; nothing was erased")

    async def run() -> Erasure:
        async with await _open(args) as store:
            return await erase_customer(store, customer_id, actor=actor(), wall_time=time.time())

    try:
        done = asyncio.run(run())
    except CustomerBusy as err:
        return _fail("erase-customer", f"{customer_id}: {err}")
    except Exception as err:
        return _problem("erase-customer", err, args.db)
    if not any(done.counts.values()):
        _say(f"nothing of {customer_id} is held in {shown(args.db)} (erased before, or never "
             "known)")  # fmt: skip
    else:
        _say(f"erased {customer_id} in {shown(args.db)}; its records now say {done.marker}")
        _say(*_lines(done.counts))
    for place in _in_config(center, customer_id) if center is not None else []:
        _warn(f"{args.config}/{place} still names {customer_id}: remove it there, or the next "
              "start brings the card back")  # fmt: skip
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser], db: Path) -> None:
    """The two commands, on ``contactcenter``'s sub-command parser; ``db``: the default
    database (``serve``'s)."""
    retention = sub.add_parser(
        "retention", help="delete or anonymise customers' data older than the center keeps it"
    )
    retention.add_argument("--config", type=Path, default=Path("config"),
                           help="the center's config directory (center.yaml, retention:); "
                           "default config")  # fmt: skip
    add_database_argument(retention, db)
    add_data_keys_argument(retention)
    retention.add_argument("--dry-run", action="store_true",
                           help="count what would go, change nothing")  # fmt: skip
    retention.set_defaults(func=_retention)
    erase = sub.add_parser(
        "erase-customer", help="erase a customer's personal data (statistics stay)"
    )
    erase.add_argument("customer_id")
    add_database_argument(erase, db)
    add_data_keys_argument(erase)
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.add_argument("--config", type=Path,
                       help="also say where this config still names the customer")  # fmt: skip
    erase.set_defaults(func=_erase)
