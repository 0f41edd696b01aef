"""A customer's erasure: afterwards no row of any table holds their id, name, number, e-mail,
account or the text of their chats, read raw or through the store; another customer's data
and every contact's statistics are as they were; again is harmless; open work refuses it."""

from __future__ import annotations

import pytest

from contactcenter.ivr.outcomes import IvrOutcome, IvrVisit
from contactcenter.store import CustomerRecord, Store
from contactcenter.store.cases import add_case_note, add_case_task, open_case
from contactcenter.store.contact_notes import add_contact_note, contact_notes
from contactcenter.store.erasure import CustomerBusy, erase_customer
from tests.store.conftest import Database
from tests.store.scenes import DAY, callback, contact
from tests.store.stored import columns, every_value, rows, statistics

NOW = 1_800_000_000.0
HELENA = CustomerRecord(
    id="C1001", name="Helena Brandt", tier="vip", phone="+4930555010001",
    email="helena.brandt@example.com", account_number="100001",
)  # fmt: skip
MARCUS = CustomerRecord(id="C1002", name="Marcus Weil", phone="+4930555010002")
LINES = ["Hi, it is Helena, account 100001", "write to helena.brandt@example.com"]
FREE_TEXT = ["Helena is upset about roaming", "Helena wants the loyalty offer", "lovely agent"]
PRIVATE_NOTE = "Helena hinted she may cancel"
SECRETS = [
    HELENA.id, HELENA.name, "+4930555010001", "4930555010001", HELENA.email, "100001",
    *LINES, *FREE_TEXT, "prefers calls after six", PRIVATE_NOTE,
]  # fmt: skip


async def scene(store: Store) -> dict[str, int]:
    """Helena's data in every place it can be, and Marcus's beside it."""
    await store.upsert_customer(HELENA)
    await store.upsert_customer(MARCUS)
    await store.add_customer_note(HELENA.id, "prefers calls after six", NOW - 9 * DAY)
    await contact(
        store, "h-chat", arrived=NOW - 8 * DAY, customer_id=HELENA.id, name=HELENA.name,
        lines=LINES, notes=FREE_TEXT[0], segment_note=FREE_TEXT[1], survey=FREE_TEXT[2],
    )  # fmt: skip
    await add_contact_note(store, "h-chat", "a05", PRIVATE_NOTE, NOW - 8 * DAY)
    await contact(store, "h-claim", arrived=NOW - 7 * DAY, customer_id=HELENA.id, name="H.")
    # calls nobody identified, labelled by the voice edge with her CRM name, or her number
    await contact(store, "v-named", arrived=NOW - 6 * DAY, channel="voice", name=HELENA.name)
    await contact(store, "v-number", arrived=NOW - 5 * DAY, channel="voice",
                  name="+49 30 555010001")  # fmt: skip
    ids = {
        "h-cb": (await callback(store, "h-cb", created=NOW - 4 * DAY, phone=HELENA.phone or "",
                                name=HELENA.name, customer_id=HELENA.id)).id,
        "v-cb": (await callback(store, "v-cb", created=NOW - 3 * DAY, phone="+4930555010001",
                                contact_id="v-number")).id,
        "m-cb": (await callback(store, "m-cb", created=NOW - 3 * DAY, phone=MARCUS.phone or "",
                                name=MARCUS.name, customer_id=MARCUS.id)).id,
    }  # fmt: skip
    await contact(store, "m-chat", arrived=NOW - 2 * DAY, customer_id=MARCUS.id,
                  name=MARCUS.name, lines=["Marcus here"], notes="Marcus notes")  # fmt: skip
    await add_contact_note(store, "m-chat", "a05", "Marcus likes e-mail", NOW - 2 * DAY)
    visit = IvrVisit("leg-1", "main", NOW - 6 * DAY, NOW - 6 * DAY + 30, IvrOutcome("queued"),
                     contact_id="v-named", customer_id=HELENA.id)  # fmt: skip
    await store.add_ivr_visit(visit)
    case = await open_case(store, customer_id=HELENA.id, contact_id="h-chat", category="billing",
                           severity="high", description=FREE_TEXT[0], owner="a05",
                           wall_time=NOW - 8 * DAY)  # fmt: skip
    await add_case_note(store, case, FREE_TEXT[1], author="a05", wall_time=NOW - 8 * DAY)
    await add_case_task(store, case, "call Helena Brandt", NOW, actor="a05", wall_time=NOW - DAY)
    await store.audit("sup", "customer_tier", HELENA.id, {"tier": "gold"}, NOW - DAY)
    await store.audit("a05", "read_screen_pop", "h-chat",
                      {"customer": HELENA.id, "parts": ["card"]}, NOW - DAY)  # fmt: skip
    await store.audit("a05", "read_screen_pop", "m-chat",
                      {"customer": MARCUS.id, "parts": ["card"]}, NOW - DAY)  # fmt: skip
    return ids


async def leaks(database: Database) -> list[tuple[str, str, str]]:
    found = []
    for table, column, value in await every_value(database):
        found += [(table, column, s) for s in SECRETS if s.casefold() in value.casefold()]
    return found


async def test_nothing_of_the_customer_is_left(database: Database) -> None:
    async with await database.open() as store:
        ids = await scene(store)
        stats = await statistics(database)
        marcus = await every_value(database)
        done = await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW)
        assert done.counts == {
            "crm_card": 1, "crm_notes": 1, "contacts": 4, "transcript_lines": 2, "notes": 2,
            "private_notes": 1, "survey_comments": 1, "names": 6, "callbacks": 2, "cases": 1,
            "case_texts": 3, "ids_replaced": 6, "audit_entries": 2,
        }  # fmt: skip
        # through the store, which opens sealed values
        assert await store.customer(HELENA.id) is None
        assert await store.find_customer(phone=HELENA.phone) is None
        assert await store.find_customer(email=HELENA.email) is None
        assert await store.find_customer(account_number=HELENA.account_number) is None
        for cid in ("h-chat", "h-claim", "v-named", "v-number", "h-cb", "v-cb"):
            rec = await store.contact(cid)
            assert rec is not None
            assert (rec.customer_name, rec.disposition_notes) == (None, None), cid
            assert await store.transcript(cid) == []
            assert [s.note for s in await store.segments(cid)] in ([None], [])
        assert [s.comment for s in await store.surveys("h-chat")] == [None]
        for key in ("h-cb", "v-cb"):
            cb = await store.callback(ids[key])
            assert (cb.phone, cb.name) == (None, None)
        assert {(await store.contact(c)).customer_id for c in ("h-chat", "h-claim", "h-cb")} == {  # type: ignore[union-attr]
            done.marker
        }
        # in the database itself, every table and column; no look-up hash of her number is left
        assert await leaks(database) == []
        hashes = [c for c in await columns(database, "callbacks") if c.endswith("_hash")]
        assert hashes
        for column in hashes:
            found = await rows(database, f"SELECT {column} FROM callbacks WHERE id IN (?, ?)",
                               (ids["h-cb"], ids["v-cb"]))  # fmt: skip
            assert found == [(None,), (None,)], column
        # the statistics, and Marcus, are as they were
        assert await statistics(database) == stats
        assert {v for v in marcus if "Marcus" in v[2] or MARCUS.id in v[2]} <= set(
            await every_value(database)
        )
        assert (await store.callback(ids["m-cb"])).phone == MARCUS.phone
        assert [m.text for m in await store.transcript("m-chat")] == ["Marcus here"]
        assert await contact_notes(store, ["h-chat"]) == []
        assert [n.text for n in await contact_notes(store, ["m-chat"])] == ["Marcus likes e-mail"]
        # the erasure is in the log (the marker, never the id); entries about her name it too
        (entry, *_) = await store.audit_log(limit=10)
        assert (entry.actor, entry.action, entry.target) == ("dpo", "erase_customer", done.marker)
        assert entry.detail["counts"] == done.counts
        assert [e.target for e in await store.audit_log(action="customer_tier")] == [done.marker]
        assert len(await store.audit_log(target=MARCUS.id)) == 0
        assert [e.detail["customer"] for e in await store.audit_log(action="read_screen_pop")] == [
            MARCUS.id, done.marker,
        ]  # fmt: skip


async def test_erasing_again_changes_nothing(database: Database) -> None:
    async with await database.open() as store:
        await scene(store)
        await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW)
        before = await every_value(database)
        again = await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW + 1)
        assert set(again.counts.values()) == {0}
        log = ("audit_log", "sqlite_sequence")
        assert {v for v in await every_value(database) if v[0] not in log} == {
            v for v in before if v[0] not in log
        }


@pytest.mark.parametrize("what", ["contact", "call back to her number", "just ended"])
async def test_open_work_refuses_it(database: Database, what: str) -> None:
    async with await database.open() as store:
        await scene(store)
        if what == "contact":
            await contact(store, "h-now", arrived=NOW, customer_id=HELENA.id, closed=False)
        elif what == "just ended":  # 2 minutes after arrival: its last lines may be on the way
            await contact(store, "h-now", arrived=NOW - 150, customer_id=HELENA.id)
        else:
            await callback(store, "v-now", created=NOW, phone="+4930555010001", ended=False)
        before = await every_value(database)
        with pytest.raises(CustomerBusy) as refused:
            await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW)
        assert (refused.value.open_contacts, refused.value.open_callbacks) == (
            (1, 1) if what.startswith("call back") else (1, 0)
        )
        assert "still open" in str(refused.value)
        assert await every_value(database) == before
        if what == "just ended":  # once its lines are known to be written: settled
            await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW, settle=0)
            assert await store.transcript("h-now") == []


async def test_a_list_that_showed_the_customer_names_the_marker(store: Store) -> None:
    """An entry for a list that was read names each id shown (``detail.shown``): found by the
    customer's id as its target before, by the marker after, and never by her id again."""
    await store.upsert_customer(HELENA)
    await store.upsert_customer(MARCUS)
    both = {"shown": [HELENA.id, MARCUS.id]}
    await store.audit("a05", "read_customers", "customers", both, NOW - DAY)
    await store.audit("a05", "read_customers", "customers", {"shown": [MARCUS.id]}, NOW - DAY)
    await store.audit("a05", "read_customers", "customers", {"shown": []}, NOW - DAY)
    assert [e.detail for e in await store.audit_log(target=HELENA.id)] == [both]
    assert len(await store.audit_log(target=MARCUS.id)) == 2
    assert await store.audit_log(target="C10") == []  # an element, not a part of the text
    done = await erase_customer(store, HELENA.id, actor="dpo", wall_time=NOW)
    assert done.counts["audit_entries"] == 1
    assert await store.audit_log(target=HELENA.id) == []
    (entry,) = await store.audit_log(target=done.marker, action="read_customers")
    assert entry.detail == {"shown": [done.marker, MARCUS.id]}
    assert len(await store.audit_log(target=MARCUS.id)) == 2
