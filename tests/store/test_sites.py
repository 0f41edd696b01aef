"""Sites sharing one PostgreSQL database (``Store.open(url, site=...)``): each site's own
records (contacts, users, sessions, ...) in a schema of its own, the CRM and cases shared,
and writes of two sites to the same customer at once all kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contactcenter.store import Store, StoreError
from contactcenter.store.cases import add_case_note, case, open_case
from contactcenter.store.records import CustomerRecord
from contactcenter.store.schema import site_schema
from tests.postgres import Postgres

T0 = 1_700_000_000.0


@pytest.fixture
def url(postgres: Postgres) -> str:
    return postgres.new_database()


async def test_two_sites_share_the_crm_and_cases_and_keep_their_own_contacts_and_users(
    url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "data-keys"
    # both sites' first starts at once: one migrates the shared tables, both their own
    north, south = await asyncio.gather(
        Store.open(url, data_keys=keys, site="north"),
        Store.open(url, data_keys=keys, site="south"),
    )
    async with north, south:
        await north.upsert_customer(CustomerRecord("C1", "Ann Lee", phone="+15550001"))
        found = await south.find_customer(phone="+15550001")
        assert found is not None and found.name == "Ann Lee"
        await south.add_customer_note("C1", "called the south office", T0, author="s1")
        c1 = await north.customer("C1")
        assert c1 is not None and [n.text for n in c1.notes] == ["called the south office"]

        for site, store in (("north", north), ("south", south)):
            await store.create_contact(
                f"{site}-1", channel="chat", queue="support_chat", arrived_wall=T0,
                customer_id="C1", tier="standard",
            )  # fmt: skip
        assert [c.contact_id for c in await north.waiting_contacts()] == ["north-1"]
        assert [c.contact_id for c in await south.waiting_contacts()] == ["south-1"]

        await north.set_user("pat", "north-password", "supervisor", None)
        await south.set_user("pat", "south-password", "agent", "a01")
        assert (await north.verify_user("pat", "north-password")) is not None
        assert (await north.verify_user("pat", "south-password")) is None
        south_pat = await south.user("pat")
        assert south_pat is not None and south_pat.role == "agent"

        case_id = await open_case(
            north, customer_id="C1", contact_id="north-1", category="billing",
            severity="normal", description="charged twice", owner="pat", wall_time=T0,
        )  # fmt: skip
        shared = await case(south, case_id)
        assert shared.customer_id == "C1"


async def test_writes_of_two_sites_to_one_customer_at_once_are_all_kept(
    url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "data-keys"
    north = await Store.open(url, data_keys=keys, site="north")
    south = await Store.open(url, data_keys=keys, site="south")
    async with north, south:
        await north.upsert_customer(CustomerRecord("C1", "Ann Lee", tier="standard"))
        case_id = await open_case(
            north, customer_id="C1", contact_id="n-1", category="billing", severity="normal",
            description="charged twice", owner="pat", wall_time=T0,
        )  # fmt: skip
        n = 40

        async def site_writes(store: Store, site: str) -> None:
            for i in range(n):
                await asyncio.gather(
                    store.add_customer_note("C1", f"{site} note {i}", T0 + i, author=site),
                    add_case_note(store, case_id, f"{site} case note {i}", author=site,
                                  wall_time=T0 + i),
                    store.set_customer_tier("C1", "vip" if i % 2 else "standard"),
                )  # fmt: skip

        await asyncio.gather(site_writes(north, "north"), site_writes(south, "south"))
        c1 = await south.customer("C1")
        assert c1 is not None
        notes = sorted(note.text for note in c1.notes)
        want = sorted(f"{s} note {i}" for s in ("north", "south") for i in range(n))
        assert notes == want  # every note once: none lost, none twice
        texts = sorted(note.text for note in (await case(north, case_id)).notes)
        assert texts == sorted(f"{s} case note {i}" for s in ("north", "south") for i in range(n))
        assert c1.tier == "vip"  # both sites' last write (i = 39) was vip


async def test_a_site_reopens_its_own_schema_and_mixing_modes_is_refused(
    url: str, tmp_path: Path, postgres: Postgres
) -> None:
    keys = tmp_path / "data-keys"
    async with await Store.open(url, data_keys=keys, site="north-east") as store:
        await store.create_contact(
            "ne-1", channel="chat", queue="support_chat", arrived_wall=T0, tier="standard"
        )
    async with await Store.open(url, data_keys=keys, site="north-east") as store:
        assert [c.contact_id for c in await store.waiting_contacts()] == ["ne-1"]
    assert site_schema("north-east") == "site_north_east"
    with pytest.raises(StoreError, match="shared by sites"):
        await Store.open(url, data_keys=keys)
    single = postgres.new_database()
    await (await Store.open(single, data_keys=keys)).close()
    with pytest.raises(StoreError, match="serves one site"):
        await Store.open(single, data_keys=keys, site="north")
    with pytest.raises(StoreError, match="PostgreSQL"):
        await Store.open(tmp_path / "c.db", site="north")
    with pytest.raises(ValueError, match="site 'North Pole'"):
        site_schema("North Pole")
