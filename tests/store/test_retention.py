"""Retention: what is older than the center keeps it is deleted (chat lines, CRM and private
notes) or nulled (notes, survey comments, call back numbers and names, customers' names on contact
records); open contacts and everything younger stay, and so do the statistics."""

from __future__ import annotations

import asyncio
import time

from contactcenter.config.models import RetentionSettings
from contactcenter.store import CustomerRecord, Store
from contactcenter.store.contact_notes import add_contact_note, contact_notes
from contactcenter.store.retention import apply_retention
from tests.store import stored
from tests.store.conftest import Database
from tests.store.scenes import DAY, callback, contact
from tests.store.stored import every_value, statistics

NOW = 1_800_000_000.0
POLICY = RetentionSettings(
    transcripts_days=365, notes_days=180, callbacks_days=90, contacts_days=730
)
EXPECTED = {
    "transcript_lines": 3,
    "wrap_up_notes": 2,
    "transfer_notes": 2,
    "survey_comments": 2,
    "private_notes": 2,
    "crm_notes": 1,
    "callback_numbers": 1,
    "contact_names": 2,  # the oldest chat's, and the old call back's contact (its label)
    "case_texts": 0,  # no cases here: tests/store/test_cases_store.py
}


async def scene(store: Store) -> dict[str, int]:
    ids = {}
    for cid, age, open_ in (("old", 800, False), ("mid", 400, False), ("recent", 100, False),
                            ("open_old", 800, True)):  # fmt: skip
        await contact(
            store, cid, arrived=NOW - age * DAY, name=f"Name of {cid}", closed=not open_,
            lines=[f"{cid} says hi", f"{cid} again"] if cid == "old" else [f"{cid} says hi"],
            notes=f"{cid} notes", segment_note=f"{cid} for the next agent",
            survey=f"{cid} was nice",
        )  # fmt: skip
        await add_contact_note(store, cid, "a05", f"{cid} private", NOW - age * DAY)
    await store.upsert_customer(CustomerRecord(id="C1", name="Crm Person"))
    await store.add_customer_note("C1", "old CRM note", NOW - 200 * DAY)
    await store.add_customer_note("C1", "new CRM note", NOW - 10 * DAY)
    for cid, age, ended in (("cb_old", 200, True), ("cb_new", 30, True), ("cb_open", 200, False)):
        rec = await callback(
            store, cid, created=NOW - age * DAY, phone=f"+49{age}", name=f"{cid} person",
            ended=ended,
        )  # fmt: skip
        ids[cid] = rec.id
    return ids


async def test_what_is_older_than_kept_goes(database: Database) -> None:
    async with await database.open() as store:
        ids = await scene(store)
        stats = await statistics(database)
        before = await every_value(database)
        dry = await apply_retention(store, POLICY, NOW, dry_run=True, actor="ops")
        assert dry.counts == EXPECTED
        assert await every_value(database) == before  # a dry run changes nothing, not the log

        done = await apply_retention(store, POLICY, NOW, actor="ops")
        assert done.counts == EXPECTED
        assert await statistics(database) == stats  # contact records stay for statistics

        # old and mid lost their lines and notes; old its name; recent and the open one kept all
        for cid in ("old", "mid"):
            assert await store.transcript(cid) == []
            rec = await store.contact(cid)
            assert rec is not None and rec.disposition_notes is None
            assert [s.note for s in await store.segments(cid)] == [None]
            assert [s.comment for s in await store.surveys(cid)] == [None]
            assert [s.score for s in await store.surveys(cid)] == [4]
            assert await contact_notes(store, [cid]) == []
        names = {c: (await store.contact(c)).customer_name for c in ("old", "mid", "recent")}  # type: ignore[union-attr]
        assert names == {"old": None, "mid": "Name of mid", "recent": "Name of recent"}
        for cid in ("recent", "open_old"):
            assert [m.text for m in await store.transcript(cid)] == [f"{cid} says hi"]
            rec = await store.contact(cid)
            assert rec is not None and rec.disposition_notes == f"{cid} notes"
            assert rec.customer_name == f"Name of {cid}"
            assert [s.comment for s in await store.surveys(cid)] == [f"{cid} was nice"]
            assert [n.text for n in await contact_notes(store, [cid])] == [f"{cid} private"]
        crm = await store.customer("C1")
        assert crm is not None and [n.text for n in crm.notes] == ["new CRM note"]
        old_cb = await store.callback(ids["cb_old"])
        assert (old_cb.phone, old_cb.name, old_cb.status) == (None, None, "completed")
        assert (await store.contact("cb_old")).customer_name is None  # type: ignore[union-attr]
        for cid in ("cb_new", "cb_open"):
            cb = await store.callback(ids[cid])
            assert cb.phone is not None and cb.name == f"{cid} person"

        (entry,) = await store.audit_log(limit=1)
        assert (entry.actor, entry.action, entry.target) == ("ops", "retention", "store")
        assert entry.detail["counts"] == EXPECTED and entry.detail["days"]["notes_days"] == 180

        again = await apply_retention(store, POLICY, NOW, actor="ops")
        assert set(again.counts.values()) == {0}


async def test_none_keeps_for_ever(database: Database) -> None:
    async with await database.open() as store:
        await scene(store)
        before = await every_value(database)
        report = await apply_retention(store, RetentionSettings(), NOW, actor="ops")
        assert set(report.counts.values()) == {0}
        log = ("audit_log", "sqlite_sequence")  # the run's entry, and its row number
        assert {v for v in await every_value(database) if v[0] not in log} == {
            v for v in before if v[0] not in log
        }


async def test_a_lookup_hash_beside_a_nulled_column_goes_too(database: Database) -> None:
    """A sealed column may have a ``*_hash`` companion for look-ups (the number of a call back,
    the name on a contact): it would still find the customer, so it is nulled with it."""
    async with await database.open() as store:
        ids = await scene(store)
    postgres = database.backend == "postgresql"
    blob, random16 = ("BYTEA", "decode(md5(random()::text), 'hex')") if postgres else (
        "BLOB", "randomblob(16)"
    )  # fmt: skip
    for table, column in (("callbacks", "phone_hash"), ("contacts", "customer_name_hash")):
        if column not in await stored.columns(database, table):
            await stored.execute(database, f"ALTER TABLE {table} ADD COLUMN {column} {blob}")
    await stored.execute(
        database,
        f"UPDATE callbacks SET phone_hash = {random16}",
        f"UPDATE contacts SET customer_name_hash = {random16}",
    )
    async with await database.open() as store:
        await apply_retention(store, POLICY, NOW, actor="ops")
    hashed = "SELECT {key}, CASE WHEN {column} IS NOT NULL THEN 1 ELSE 0 END FROM {table}"
    numbers = dict(
        await stored.rows(database, hashed.format(key="id", column="phone_hash", table="callbacks"))
    )
    names = dict(await stored.rows(database, hashed.format(
        key="contact_id", column="customer_name_hash", table="contacts")))  # fmt: skip
    assert numbers == {ids["cb_old"]: 0, ids["cb_new"]: 1, ids["cb_open"]: 1}
    assert (names["old"], names["cb_old"], names["mid"], names["open_old"]) == (0, 0, 1, 1)


async def test_it_runs_beside_a_busy_writer(database: Database) -> None:
    """As beside ``serve``: another connection keeps writing contacts and chat lines while
    retention deletes many old lines in small batches; no write fails or waits long."""
    async with await database.open() as store:
        for i in range(40):
            await contact(store, f"old{i}", arrived=NOW - 400 * DAY,
                          lines=[f"line {n}" for n in range(250)])  # fmt: skip
    waits: list[float] = []
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        async with await database.open() as other:
            while not stop.is_set():
                started = time.perf_counter()
                await contact(other, f"new{n}", arrived=NOW, lines=["hello", "again"])
                waits.append(time.perf_counter() - started)
                n += 1
        return n

    async with await database.open() as store:
        busy = asyncio.create_task(writer())
        await asyncio.sleep(0.2)
        report = await apply_retention(store, POLICY, NOW, actor="ops", batch=200)
        stop.set()
        written = await busy
    assert report.counts["transcript_lines"] == 40 * 250
    assert written > 5
    assert max(waits) < 2.0
