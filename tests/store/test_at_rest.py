"""Customers' personal data at rest: the database file and its -wal hold none of it in clear
(PostgreSQL: its rows as stored), the store still hands it back, and look-ups by phone, e-mail
and account number still work.

Found in issue 11: names, numbers, e-mails, chat lines and notes were stored in clear in
SQLite (anyone with a copy of the file, or of a backup, read them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.events import ContactQueued
from contactcenter.store import CustomerRecord, Store, UnreadableValue
from tests.store import stored
from tests.store.conftest import Database

ADA = CustomerRecord(
    "C1", "Ada Lovelace", "vip", None, "+49 30 5550-0001", "Ada.Lovelace@Example.com", "AC-100001"
)
SECRETS = {
    "name": b"Ada Lovelace",
    "phone": b"5550-0001",
    "phone digits": b"49305550",
    "e-mail": b"Lovelace@Example",
    "e-mail folded": b"lovelace@example",
    "account": b"AC-100001",
    "note": b"prefers the analytical engine",
    "chat line": b"my card ending 4242 was charged twice",
    "contact name": b"Charles Babbage",
    "wrap-up note": b"refund promised by Friday",
    "segment note": b"angry about the refund",
    "callback number": b"+44 20 7946 0958",
    "callback digits": b"442079460958",
    "callback name": b"Augusta King",
    "survey comment": b"slow but friendly Lovelace",
}


async def write_everything(store: Store) -> int:
    """One of every personal value the store keeps; returns the call back's id."""
    await store.upsert_customer(ADA)
    await store.add_customer_note("C1", "prefers the analytical engine", 1000.0, author="sup1")
    await store.create_contact(
        "k1", channel="chat", queue="support", arrived_wall=1000.0, customer_id="C1",
        tier="vip", customer_name="Charles Babbage", verified=True,
    )  # fmt: skip
    await store.add_message("k1", "customer", "my card ending 4242 was charged twice", 1001.0)
    await store.add_messages([("k1", "agent", "my card ending 4242 was charged twice", 1002.0,
                               "a01")])  # fmt: skip
    await store.set_disposition_notes("k1", "refund promised by Friday")
    queued = ContactQueued(5.0, "k1", "support", "chat", 0, "vip", 5.0, 1)
    await store.record_events([queued], 1003.0)
    await store.set_segment_note("k1", 1, "angry about the refund")
    await store.add_survey("k1", 4, "slow but friendly Lovelace", 1004.0)
    booked = await store.add_callback(
        callback_contact_id="cb1", contact_id="k1", queue="support", customer_id="C1",
        verified=True, phone="+44 20 7946 0958", name="Augusta King", tier="vip", source="api",
        requested_by="sup1", arrived_wall=1005.0, created_wall=1005.0, due_wall=1005.0,
    )  # fmt: skip
    return booked.id


def raw_bytes(db: Path) -> dict[str, bytes]:
    files = {"database": db, "wal": db.with_name(db.name + "-wal")}
    return {what: f.read_bytes() for what, f in files.items() if f.exists()}


def found_in_clear(db: Path) -> list[tuple[str, str]]:
    return [
        (what, where)
        for where, data in raw_bytes(db).items()
        for what, secret in SECRETS.items()
        if secret in data
    ]


async def test_no_personal_value_is_in_the_files(db_path: Path) -> None:
    """SQLite's own files, every byte of them (free pages, the -wal)."""
    store = await Store.open(db_path)
    await write_everything(store)
    wal = raw_bytes(db_path)
    assert len(wal.get("wal", b"")) > 0  # the writes are there, not yet checkpointed
    assert found_in_clear(db_path) == []
    await store.close()
    assert found_in_clear(db_path) == []  # after the last close's checkpoint too


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


async def test_no_personal_value_is_in_the_rows_as_stored(database: Database) -> None:
    """Every cell of every table, read past the store by a plain connection (on PostgreSQL
    this is what its server keeps: it has no file of the store's own to read)."""
    async with await database.open() as store:
        await write_everything(store)
        cells = await stored.every_cell(database)
        assert len(cells) > 50  # the values are there, sealed
        leaks = [
            (what, table, column)
            for table, column, value in cells
            for what, secret in SECRETS.items()
            if secret in _as_bytes(value) or secret.lower() in _as_bytes(value).lower()
        ]
        assert leaks == []
        sealed = await stored.rows(database, "SELECT name, phone FROM customers")
        assert [tuple(v[:5] for v in row) for row in sealed] == [("enc1:", "enc1:")]


async def test_the_store_gives_the_clear_values_back(database: Database) -> None:
    store = await database.open()
    cb = await write_everything(store)
    await store.close()
    async with await database.open() as again:
        customer = await again.customer("C1")
        assert customer is not None
        assert (customer.name, customer.phone, customer.email, customer.account_number) == (
            ADA.name, ADA.phone, ADA.email, ADA.account_number,
        )  # fmt: skip
        assert [n.text for n in customer.notes] == ["prefers the analytical engine"]
        contact = await again.contact_record("k1")
        assert contact is not None
        assert (contact.customer_name, contact.disposition_notes) == (
            "Charles Babbage", "refund promised by Friday",
        )  # fmt: skip
        assert [m.text for m in await again.transcript("k1")] == [
            "my card ending 4242 was charged twice"
        ] * 2
        assert [s.note for s in await again.segments("k1")] == ["angry about the refund"]
        assert [s.comment for s in await again.surveys("k1")] == ["slow but friendly Lovelace"]
        booked = await again.callback(cb)
        assert (booked.phone, booked.name) == ("+44 20 7946 0958", "Augusta King")
        made = await again.contact_record("cb1")
        assert made is not None and made.customer_name == "Augusta King"
        assert [c.customer_name for c in await again.customer_history("C1", 10)] == [
            "Augusta King", "Charles Babbage",
        ]  # fmt: skip


@pytest.mark.parametrize(
    "key",
    [
        {"phone": "+49 30 5550-0001"},
        {"phone": "+493055500001"},
        {"phone": " +49 (30) 5550 0001 "},
        {"email": "ada.lovelace@example.com"},
        {"email": "  ADA.LOVELACE@EXAMPLE.COM"},
        {"account_number": "AC-100001"},
        {"account_number": " AC-100001 "},
        {"phone": "+493055500001", "account_number": "AC-100001"},
    ],
)
async def test_look_ups_find_the_customer(store: Store, key: dict[str, str]) -> None:
    await store.upsert_customer(ADA)
    await store.upsert_customer(CustomerRecord("C2", "Bob", phone="+4930555000002"))
    assert await store.find_customer(**key) == ADA


async def test_look_ups_do_not_find_others(store: Store) -> None:
    await store.upsert_customer(ADA)
    assert await store.find_customer(phone="493055500001") is None  # the + is part of it
    assert await store.find_customer(email="ada@example.com") is None
    assert await store.find_customer(account_number="ac-100001") is None
    assert await store.find_customer(phone="+493055500001", account_number="AC-1") is None


async def test_a_changed_number_is_found_by_the_new_one_only(store: Store) -> None:
    await store.upsert_customer(ADA)
    await store.upsert_customer(CustomerRecord("C1", "Ada", phone="+1 555 0100"))
    assert await store.find_customer(phone="+49 30 5550-0001") is None
    found = await store.find_customer(phone="+15550100")
    assert found is not None and found.id == "C1"


async def test_open_callback_for_a_number(store: Store) -> None:
    cb = await write_everything(store)
    found = await store.open_callback_for("support", "+442079460958")
    assert found is not None and found.id == cb
    assert await store.open_callback_for("sales", "+442079460958") is None
    await store.update_callback(cb, status="completed", ended_wall=2000.0)
    assert await store.open_callback_for("support", "+44 20 7946 0958") is None


async def test_a_changed_sealed_value_is_an_error_not_garbage(
    store: Store, database: Database
) -> None:
    await write_everything(store)
    # flip one character of the name's ciphertext (the last but one: in the tag, before the
    # base64 padding)
    await stored.execute(
        database,
        "UPDATE customers SET name = substr(name, 1, length(name) - 2) ||"
        " CASE substr(name, length(name) - 1, 1) WHEN 'A' THEN 'B' ELSE 'A' END ||"
        " substr(name, length(name))",
    )
    with pytest.raises(UnreadableValue, match=r"customers\.name"):
        await store.customer("C1")
    await stored.execute(database, "UPDATE messages SET text = substr(text, 1, 30)")  # cut short
    with pytest.raises(UnreadableValue, match=r"messages\.text"):
        await store.transcript("k1")


async def test_a_value_moved_to_another_column_is_refused(store: Store, database: Database) -> None:
    await write_everything(store)
    await stored.execute(database, "UPDATE customers SET email = phone")
    with pytest.raises(UnreadableValue, match=r"customers\.email"):
        await store.customer("C1")
    await stored.execute(
        database, "UPDATE contacts SET customer_name = (SELECT name FROM customers)"
    )
    with pytest.raises(UnreadableValue, match=r"contacts\.customer_name"):
        await store.contact_record("k1")


async def test_values_an_older_version_left_in_clear_are_sealed_when_it_opens(
    database: Database,
) -> None:
    async with await database.open() as store:
        await write_everything(store)
    # as a version from before sealing wrote them, noted by the migration that began sealing
    await stored.execute(
        database,
        "INSERT INTO customers (id, name, tier, phone, email)"
        " VALUES ('C9', 'Grace Hopper', 'standard', '+1 555 0199', 'grace@example.com')",
        "INSERT INTO clear_rows (table_name, sealed_upto, last_rowid)"
        " SELECT 'customers', 0, max(rowid) FROM customers",
    )
    async with await database.open() as store:
        grace = CustomerRecord("C9", "Grace Hopper", "standard", None, "+1 555 0199",
                               "grace@example.com")  # fmt: skip
        assert await store.customer("C9") == grace
        assert await store.find_customer(phone="+15550199") == grace
        assert await store.find_customer(email="Grace@Example.com") == grace
        ada = await store.customer("C1")  # sealed before: left as it was
        assert ada is not None and ada.name == ADA.name and ada.phone == ADA.phone
    cells = await stored.every_cell(database)
    assert [c for c in cells if b"Grace" in _as_bytes(c[2]) or b"0199" in _as_bytes(c[2])] == []
    assert await stored.rows(database, "SELECT * FROM clear_rows") == []
