"""The keys file: made private for a new database, followed while running, and never replaced by
a new key when the database holds values sealed under keys the file lacks."""

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

ADA = CustomerRecord("C1", "Ada Lovelace", phone="+493055500001")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def sealed_database(db: Path, keys: Path | None = None) -> None:
    async with await Store.open(db, data_keys=keys) as store:
        await store.upsert_customer(ADA)


async def test_a_new_database_gets_a_private_keys_file_beside_it(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    assert mode(keys) == 0o600 and mode(db_path.parent) == 0o700
    ring = Keyring.from_json(keys.read_bytes())
    assert len(ring.data_keys) == len(ring.index_keys) == 1
    assert [p.name for p in db_path.parent.iterdir() if p.name.startswith(".data-keys")] == []


async def test_the_keys_file_can_live_elsewhere(db_path: Path, tmp_path: Path) -> None:
    keys = tmp_path / "secrets" / "cc-keys"
    await sealed_database(db_path, keys)
    assert mode(keys) == 0o600 and mode(keys.parent) == 0o700
    assert not (db_path.parent / "data-keys").exists()
    async with await Store.open(db_path, data_keys=keys) as store:
        assert await store.customer("C1") == ADA
    with pytest.raises(DataKeysError, match=str(db_path.parent / "data-keys")):
        await Store.open(db_path)  # the default place: no file there


async def test_a_missing_keys_file_is_refused_and_not_replaced(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    keys.unlink()
    before = {p.name: digest(p) for p in db_path.parent.iterdir()}
    with pytest.raises(DataKeysError) as err:
        await Store.open(db_path)
    line = str(err.value)
    assert "\n" not in line and str(keys) in line and "missing" in line
    assert {p.name: digest(p) for p in db_path.parent.iterdir()} == before  # nothing made
    assert problem(db_path, None) == line  # what serve's preflight says, without opening


async def test_a_keys_file_lacking_a_used_key_is_refused(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    used = Keyring.from_json(keys.read_bytes())
    keys.write_bytes(Keyring.new().to_json())  # another database's file
    with pytest.raises(DataKeysError, match=f"lacks key.*{used.active}") as err:
        await Store.open(db_path)
    assert problem(db_path, None) == str(err.value)


async def test_a_spoilt_keys_file_is_named(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    keys.write_text("{")
    with pytest.raises(DataKeysError, match=f"{keys} is not a data keys file: not JSON"):
        await Store.open(db_path)
    assert problem(db_path, None) == f"data keys file {keys} is not a data keys file: not JSON"


async def test_the_preflight_passes_a_new_database_and_a_matching_file(
    db_path: Path, tmp_path: Path
) -> None:
    assert problem(db_path, None) is None  # nothing there yet
    assert not db_path.exists() and not (db_path.parent / "data-keys").exists()
    await sealed_database(db_path)
    assert problem(db_path, None) is None


async def test_a_readable_keys_file_is_made_private(db_path: Path) -> None:
    await sealed_database(db_path)
    keys = db_path.parent / "data-keys"
    keys.chmod(0o644)
    async with await Store.open(db_path):
        assert mode(keys) == 0o600


async def test_stores_opening_a_new_database_together_agree_on_one_keyring(
    db_path: Path,
) -> None:
    # SQLite said "database is locked" at once (no busy timeout) to about 1 pair in 16
    # switching a new file to WAL together
    for n in range(20):
        other = db_path.parent / f"pair{n}" / "center.db"
        other.parent.mkdir(parents=True)
        pair = await asyncio.gather(Store.open(other), Store.open(other))
        for store in pair:
            await store.close()
    first, second = await asyncio.gather(Store.open(db_path), Store.open(db_path))
    try:
        await first.upsert_customer(ADA)
        await second.add_customer_note("C1", "note from the other", 1.0)
        assert (await second.customer("C1")) is not None
        customer = await first.customer("C1")
        assert customer is not None and [n.text for n in customer.notes] == ["note from the other"]
    finally:
        await first.close()
        await second.close()


async def test_a_keys_file_gone_while_running_does_not_stop_the_store(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        keys = db_path.parent / "data-keys"
        saved = keys.read_bytes()
        keys.unlink()
        await store.upsert_customer(ADA)  # still sealed with the keys in memory
        assert await store.customer("C1") == ADA
    with pytest.raises(DataKeysError, match="missing"):
        await Store.open(db_path)
    fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, saved)
    os.close(fd)
    async with await Store.open(db_path) as store:  # the file restored from a backup
        assert await store.customer("C1") == ADA
