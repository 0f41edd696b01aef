"""The operator's commands that open the store, run as an operator runs them (a real
``python -m contactcenter`` process) on a database of a real PostgreSQL server
(``tests/postgres.py``): ``erase-customer``, ``retention``, ``keys status`` / ``keys rotate``
change what they say they change (``user set``: ``tests/test_user_set_audit.py``); for each of
them and ``user set``, an unreachable server, a refused login, a missing database or a missing
``--data-keys`` is one line naming the database without its password, exit 1."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from contactcenter.store import Store
from contactcenter.store.sealing import Keyring
from tests.bus.conftest import free_port
from tests.postgres import Postgres
from tests.store.scenes import DAY, contact
from tests.test_personal_data import EXAMPLE, config_with_retention, helenas_year, run_cli

ME = f"cli:{getpass.getuser()}"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return config_with_retention(tmp_path)


@dataclass(frozen=True)
class Pg:
    """The test's PostgreSQL database and its data keys file."""

    url: str
    keys: Path

    def args(self) -> list[str]:
        return ["--db", self.url, "--data-keys", str(self.keys)]

    async def open(self) -> Store:
        return await Store.open(self.url, data_keys=self.keys)

    async def cells(self) -> list[tuple[str, str, Any]]:
        """(table, column, value) of every non-null cell, read past the store."""
        conn = await asyncpg.connect(self.url)
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
            out = []
            for (table,) in tables:
                for record in await conn.fetch(f"SELECT * FROM {table}"):  # names from the catalog
                    out += [(table, c, v) for c, v in record.items() if v is not None]
            return out
        finally:
            await conn.close()


@pytest.fixture
async def pg(postgres: Postgres, tmp_path: Path) -> Pg:
    """A year-old finished chat of Helena's (CRM card with a note, a call back to her number)
    and a chat from yesterday, on a new PostgreSQL database."""
    db = Pg(postgres.new_database(), tmp_path / "data-keys")
    now = time.time()
    async with await db.open() as store:
        await helenas_year(store, now)
        await store.add_customer_note("C1001", "prefers e-mail", now - 400 * DAY, author="a01")
    return db


async def transcript(db: Pg, cid: str) -> list[str]:
    async with await db.open() as store:
        return [m.text for m in await store.transcript(cid)]


def one_line(run: Any, *parts: str) -> str:
    """The failed run's only stderr line; it holds every one of ``parts``."""
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert run.stdout == "" and "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert all(p in line for p in parts), line
    return str(line)


async def test_erase_customer(pg: Pg) -> None:
    named = [c for c in await pg.cells() if "C1001" in str(c[2])]
    assert {t for t, _, _ in named} >= {"customers", "customer_notes", "contacts"}
    done = run_cli("erase-customer", "C1001", "--yes", *pg.args())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"erased C1001 in {pg.url}; its records now say erased-")
    out = done.stdout.splitlines()
    assert "  chat lines deleted: 1" in out and "  CRM card deleted: 1" in out
    assert "  CRM notes deleted: 1" in out
    async with await pg.open() as store:
        assert await store.customer("C1001") is None
        assert await store.customer_history("C1001") == []
        assert [m.text for m in await store.transcript("old")] == []
        old = await store.contact("old")
        assert old is not None and old.disposition_notes is None and old.customer_name is None
        assert old.customer_id is not None and old.customer_id.startswith("erased-")
        assert old.outcome == "ended"  # the statistics stay
        assert [m.text for m in await store.transcript("new")] == ["a new line"]
        (entry,) = await store.audit_log(action="erase_customer")
    assert entry.actor == ME and entry.target == old.customer_id
    assert entry.detail["counts"]["crm_card"] == 1
    assert not [c for c in await pg.cells() if "C1001" in str(c[2])]
    again = run_cli("erase-customer", "C1001", "--yes", *pg.args())
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("nothing of C1001 is held in ")


async def test_erasing_a_customer_with_an_open_contact_is_refused(pg: Pg) -> None:
    async with await pg.open() as store:
        await contact(store, "now", arrived=time.time(), customer_id="C1001", closed=False)
    busy = run_cli("erase-customer", "C1001", "--yes", *pg.args())
    one_line(busy, "contactcenter erase-customer: C1001: the customer has 1 ")
    assert await transcript(pg, "old") == ["an old line"]


async def test_retention(pg: Pg, config: Path) -> None:
    dry = run_cli("retention", "--config", str(config), "--dry-run", *pg.args())
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"retention in {pg.url} (dry run: nothing changed)")
    assert "  chat lines deleted: 1" in dry.stdout.splitlines()
    assert await transcript(pg, "old") == ["an old line"]
    done = run_cli("retention", "--config", str(config), *pg.args())
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert "  chat lines deleted: 1" in out and "  wrap-up notes nulled: 1" in out
    assert "  call backs' numbers and names nulled: 1" in out
    assert await transcript(pg, "old") == [] and await transcript(pg, "new") == ["a new line"]
    async with await pg.open() as store:
        old, new = await store.contact("old"), await store.contact("new")
        assert old is not None and old.disposition_notes is None
        assert new is not None and new.disposition_notes == "new notes"
        (cb,) = await store.callbacks()
        assert cb.phone is None
        (entry,) = await store.audit_log(action="retention")
    assert entry.actor == ME and entry.detail["counts"]["transcript_lines"] == 1
    again = run_cli("retention", "--config", str(config), *pg.args())
    assert "  chat lines deleted: 0" in again.stdout.splitlines()


async def test_keys_status_and_rotate(pg: Pg) -> None:
    old = Keyring.from_json(pg.keys.read_bytes()).active
    before = run_cli("keys", "status", *pg.args())
    assert before.returncode == 0, before.stderr
    assert before.stdout.startswith(f"data keys file {pg.keys} (database {pg.url})")
    (sealing,) = [ln for ln in before.stdout.splitlines() if f"data key  {old}  active" in ln]
    sealed = int(sealing.split("seals ")[1].split()[0])
    assert sealed >= 5  # name, phone, note, line, notes (at least)
    rotated = run_cli("keys", "rotate", *pg.args())
    assert rotated.returncode == 0, rotated.stderr
    new = Keyring.from_json(pg.keys.read_bytes())
    assert set(new.data_keys) == {new.active} != {old}
    assert rotated.stdout == (
        f"new data key {new.active} in {pg.keys}: sealed {sealed} values again; dropped {old}\n"
    )
    after = run_cli("keys", "status", *pg.args())
    assert after.returncode == 0, after.stderr
    assert f"data key  {new.active}  active  seals {sealed} values" in after.stdout
    assert old not in after.stdout and "clear" not in after.stdout
    index = run_cli("keys", "rotate", "--index", *pg.args())
    assert index.returncode == 0, index.stderr
    assert index.stdout.startswith("new index key ")
    async with await pg.open() as store:  # every value opens with the new keys alone
        customer = await store.customer("C1001")
        assert customer is not None and customer.name == "Helena Brandt"
        assert [n.text for n in customer.notes] == ["prefers e-mail"]
        found = await store.find_customer(phone="+4930555010001")
        assert found is not None and found.id == "C1001"  # look-up hashes made again
    assert await transcript(pg, "old") == ["an old line"]


COMMANDS = {  # each command's name as its messages say it: its arguments
    "retention": ["retention", "--config", str(EXAMPLE)],
    "erase-customer": ["erase-customer", "C1001", "--yes"],
    "keys status": ["keys", "status"],
    "keys rotate": ["keys", "rotate"],
    "user set": ["user", "set", "sup9", "--role", "admin", "--password-stdin"],
}
PASSWORD = "a long secret\n"  # user set's, on its stdin


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unreachable_server_is_one_line_without_the_password(name: str, tmp_path: Path) -> None:
    url = f"postgresql://cc:pa55word@127.0.0.1:{free_port()}/center"
    shown = url.replace("pa55word", "***")
    keys = tmp_path / "data-keys"
    run = run_cli(*COMMANDS[name], "--db", url, "--data-keys", str(keys), stdin=PASSWORD)
    line = one_line(run, f"contactcenter {name}: cannot reach the database {shown}: ")
    assert "pa55word" not in line
    unnamed = run_cli(*COMMANDS[name], "--db", url, stdin=PASSWORD)
    line = one_line(unnamed, f"contactcenter {name}: ", f"({shown}) needs its data keys file")
    assert "pa55word" not in line
    assert list(tmp_path.iterdir()) == []  # no keys file, no SQLite file named like the URL


@pytest.mark.parametrize("name", COMMANDS)
def test_a_refused_login_or_a_missing_database_is_one_line(
    name: str, postgres: Postgres, tmp_path: Path
) -> None:
    keys = ["--data-keys", str(tmp_path / "data-keys")]
    stranger = f"postgresql://nobody:pa55word@127.0.0.1:{postgres.port}/postgres"
    refused = run_cli(*COMMANDS[name], "--db", stranger, *keys, stdin=PASSWORD)
    line = one_line(refused, f"contactcenter {name}: cannot use the database "
                    f"postgresql://nobody:***@127.0.0.1:{postgres.port}/postgres: ")  # fmt: skip
    assert 'role "nobody" does not exist' in line and "pa55word" not in line
    missing = postgres.url("no_such_database")
    absent = run_cli(*COMMANDS[name], "--db", missing, *keys, stdin=PASSWORD)
    line = one_line(absent, f"contactcenter {name}: cannot use the database {missing}: ")
    assert '"no_such_database" does not exist' in line
