"""The keys file: made private for a new database, followed while running, and never replaced by
a new key when the database holds values sealed under keys the file lacks. On both databases,
but for what only SQLite has: a default place beside its file, and ``serve``'s preflight that
reads the file without opening it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from pathlib import Path

import pytest

from contactcenter.store import CustomerRecord, DataKeysError, Store
from contactcenter.store.data_keys import problem
from contactcenter.store.sealing import Keyring
from tests.postgres import Postgres
from tests.store import stored
from tests.store.conftest import Database

ADA = CustomerRecord("C1", "Ada Lovelace", phone="+493055500001")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def sealed_database(db: Path | str, keys: Path | None = None) -> None:
    async with await Store.open(db, data_keys=keys) as store:
        await store.upsert_customer(ADA)


async def test_a_new_database_gets_a_private_keys_file_beside_it(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    assert mode(keys) == 0o600 and mode(db_path.parent) == 0o700
    ring = Keyring.from_json(keys.read_bytes())
    assert len(ring.data_keys) == len(ring.index_keys) == 1
    assert [p.name for p in db_path.parent.iterdir() if p.name.startswith(".data-keys")] == []


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_new_postgresql_database_gets_a_private_keys_file_where_named(
    database: Database,
) -> None:
    assert not database.keys.parent.exists()
    async with await database.open() as store:
        await store.upsert_customer(ADA)
    keys = database.keys
    assert mode(keys) == 0o600 and mode(keys.parent) == 0o700
    ring = Keyring.from_json(keys.read_bytes())
    assert len(ring.data_keys) == len(ring.index_keys) == 1
    assert [p.name for p in keys.parent.iterdir()] == [keys.name]  # no temporary file left
    listed = await stored.rows(database, "SELECT kid FROM sealing_keys")
    assert {r[0] for r in listed} == {ring.active, ring.index_active}


async def test_the_keys_file_can_live_elsewhere(database: Database, tmp_path: Path) -> None:
    keys = tmp_path / "secrets" / "cc-keys"
    await sealed_database(database.where, keys)
    assert mode(keys) == 0o600 and mode(keys.parent) == 0o700
    assert not database.keys.exists()
    async with await database.open(data_keys=keys) as store:
        assert await store.customer("C1") == ADA
    if database.backend == "sqlite":
        with pytest.raises(DataKeysError, match=str(database.keys)):
            await Store.open(database.where)  # the default place: no file there
    else:
        with pytest.raises(DataKeysError, match="needs its data keys file named"):
            await Store.open(database.where)  # no default place beside a server's database
    assert not database.keys.exists()


async def test_a_missing_keys_file_is_refused_and_not_replaced(database: Database) -> None:
    await sealed_database(database.where, database.keys)
    keys = database.keys
    listed = await stored.rows(database, "SELECT kid, kind FROM sealing_keys")
    keys.unlink()
    before = {p.name: digest(p) for p in keys.parent.iterdir()}
    with pytest.raises(DataKeysError) as err:
        await database.open()
    line = str(err.value)
    assert "\n" not in line and str(keys) in line and "missing" in line
    assert {p.name: digest(p) for p in keys.parent.iterdir()} == before  # nothing made
    assert await stored.rows(database, "SELECT kid, kind FROM sealing_keys") == listed
    if database.backend == "sqlite":
        assert problem(Path(database.where), None) == line  # serve's preflight, not opening


async def test_a_keys_file_lacking_a_used_key_is_refused(database: Database) -> None:
    await sealed_database(database.where, database.keys)
    keys = database.keys
    used = Keyring.from_json(keys.read_bytes())
    other = Keyring.new()
    keys.write_bytes(other.to_json())  # another database's file
    with pytest.raises(DataKeysError, match=f"lacks key.*{used.active}") as err:
        await database.open()
    assert Keyring.from_json(keys.read_bytes()).active == other.active  # left as it is
    if database.backend == "sqlite":
        assert problem(Path(database.where), None) == str(err.value)


async def test_a_spoilt_keys_file_is_named(database: Database) -> None:
    await sealed_database(database.where, database.keys)
    keys = database.keys
    keys.write_text("{")
    with pytest.raises(DataKeysError, match=f"{keys} is not a data keys file: not JSON"):
        await database.open()
    assert keys.read_text() == "{"
    if database.backend == "sqlite":
        expected = f"data keys file {keys} is not a data keys file: not JSON"
        assert problem(Path(database.where), None) == expected


async def test_the_preflight_passes_a_new_database_and_a_matching_file(
    db_path: Path, tmp_path: Path
) -> None:
    assert problem(db_path, None) is None  # nothing there yet
    assert not db_path.exists() and not (db_path.parent / "data-keys").exists()
    await sealed_database(db_path)
    assert problem(db_path, None) is None


async def test_a_readable_keys_file_is_made_private(database: Database) -> None:
    await sealed_database(database.where, database.keys)
    keys = database.keys
    keys.chmod(0o644)
    async with await database.open():
        assert mode(keys) == 0o600


async def test_stores_opening_a_new_database_together_agree_on_one_keyring(
    database: Database, request: pytest.FixtureRequest
) -> None:
    # SQLite said "database is locked" at once (no busy timeout) to about 1 pair in 16
    # switching a new file to WAL together; PostgreSQL: both migrate the empty database and
    # make its keys file at once
    server: Postgres | None = (
        request.getfixturevalue("postgres") if database.backend == "postgresql" else None
    )
    base = database.keys.parent
    for n in range(20 if server is None else 5):
        keys = base / f"pair{n}" / "data-keys"
        other = str(keys.with_name("center.db")) if server is None else server.new_database()
        keys.parent.mkdir(parents=True)
        pair = await asyncio.gather(
            Store.open(other, data_keys=keys), Store.open(other, data_keys=keys)
        )
        for store in pair:
            await store.close()
    first, second = await asyncio.gather(database.open(), database.open())
    try:
        await first.upsert_customer(ADA)
        await second.add_customer_note("C1", "note from the other", 1.0)
        assert (await second.customer("C1")) is not None
        customer = await first.customer("C1")
        assert customer is not None and [n.text for n in customer.notes] == ["note from the other"]
    finally:
        await first.close()
        await second.close()


async def test_a_keys_file_gone_while_running_does_not_stop_the_store(
    database: Database,
) -> None:
    async with await database.open() as store:
        keys = database.keys
        saved = keys.read_bytes()
        keys.unlink()
        await store.upsert_customer(ADA)  # still sealed with the keys in memory
        assert await store.customer("C1") == ADA
    with pytest.raises(DataKeysError, match="missing"):
        await database.open()
    fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, saved)
    os.close(fd)
    async with await database.open() as store:  # the file restored from a backup
        assert await store.customer("C1") == ADA
