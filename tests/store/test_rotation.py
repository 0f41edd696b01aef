"""Key rotation while another store (as ``serve`` would) keeps writing and looking up on the
same database: nothing becomes unreadable or unfindable, and the old key is gone afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from contactcenter.store import CustomerRecord, Store, resealing
from contactcenter.store.resealing import key_use, rotate_data_key, rotate_index_key
from contactcenter.store.sealing import Keyring
from tests.store import stored
from tests.store.conftest import Database


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resealing, "BATCH", 7)  # many batches, for the writer to slip between


@pytest.fixture
async def serving(database: Database) -> AsyncIterator[Store]:
    """The running engine's store."""
    async with await database.open() as s:
        yield s


def keyring(database: Database) -> Keyring:
    return Keyring.from_json(database.keys.read_bytes())


async def listed_keys(database: Database) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in await stored.rows(database, "SELECT kid, kind FROM sealing_keys")}


async def test_data_key_rotation_while_the_engine_writes(
    serving: Store, database: Database
) -> None:
    old = keyring(database).active
    await serving.upsert_customer(CustomerRecord("C1", "Ada", phone="+4930111"))
    await serving.create_contact(
        "k1", channel="chat", queue="support", arrived_wall=1.0, tier="standard",
        customer_name="Ada",
    )  # fmt: skip
    await serving.add_messages([("k1", "customer", f"before {i}", 2.0, None) for i in range(30)])

    async def chatting() -> None:
        for i in range(40):
            await serving.add_message("k1", "customer", f"during {i}", 3.0)
            await asyncio.sleep(0)

    async with await database.open() as rotating:  # contactcenter keys rotate
        rotation, _ = await asyncio.gather(rotate_data_key(rotating), chatting())
    await serving.add_message("k1", "agent", "after", 4.0)

    ring = keyring(database)
    assert set(ring.data_keys) == {rotation.new_key} == {ring.active}
    assert rotation.dropped == (old,) and rotation.resealed >= 30 + 3
    assert await listed_keys(database) == {(rotation.new_key, "data"), (ring.index_active, "index")}
    expected = [f"before {i}" for i in range(30)] + [f"during {i}" for i in range(40)] + ["after"]
    assert [m.text for m in await serving.transcript("k1")] == expected
    async with await database.open() as fresh:  # only the new key in the file now
        assert [m.text for m in await fresh.transcript("k1")] == expected
        customer = await fresh.customer("C1")
        assert customer is not None and customer.name == "Ada"
        contact = await fresh.contact_record("k1")
        assert contact is not None and contact.customer_name == "Ada"
        use = await key_use(fresh)
        assert dict(use.values) == {rotation.new_key: len(expected) + 3}  # + name, phone, name


async def test_a_store_reads_what_a_rotation_sealed_without_writing_first(
    serving: Store, database: Database
) -> None:
    await serving.upsert_customer(CustomerRecord("C1", "Ada", email="ada@example.com"))
    async with await database.open() as rotating:
        await rotate_data_key(rotating)
        await rotate_data_key(rotating)
    assert await serving.customer("C1") == CustomerRecord("C1", "Ada", email="ada@example.com")


async def test_index_key_rotation_while_the_engine_looks_up(
    serving: Store, database: Database
) -> None:
    old = keyring(database).index_active
    for i in range(20):
        await serving.upsert_customer(
            CustomerRecord(f"C{i}", f"Name {i}", phone=f"+49 30 {i:04d}", email=f"c{i}@x.org")
        )
    booked = await serving.add_callback(
        callback_contact_id="cb1", contact_id=None, queue="support", customer_id=None,
        verified=False, phone="+44 20 7946 0958", name=None, tier="standard", source="api",
        requested_by=None, arrived_wall=1.0, created_wall=1.0, due_wall=1.0,
    )  # fmt: skip
    misses: list[str] = []

    async def looking_up() -> None:
        for round_ in range(10):
            for i in range(20):
                found = await serving.find_customer(phone=f"+4930{i:04d}")
                if found is None or found.id != f"C{i}":
                    misses.append(f"round {round_}: phone of C{i}")
            if await serving.open_callback_for("support", "+442079460958") != booked:
                misses.append(f"round {round_}: call back")
            await asyncio.sleep(0)

    async with await database.open() as rotating:
        rotation, _ = await asyncio.gather(rotate_index_key(rotating), looking_up())
    assert misses == []
    assert rotation.dropped == (old,) and rotation.resealed == 20 * 2 + 1
    ring = keyring(database)
    assert set(ring.index_keys) == {rotation.new_key}
    assert await listed_keys(database) == {(ring.active, "data"), (rotation.new_key, "index")}
    await serving.upsert_customer(CustomerRecord("C99", "New", email="New@X.org"))
    async with await database.open() as fresh:
        found = await fresh.find_customer(email="c7@x.org")
        assert found is not None and found.id == "C7"
        found = await fresh.find_customer(email="new@x.org")
        assert found is not None and found.id == "C99"
        assert await fresh.open_callback_for("support", "+44 20 7946 0958") == booked
