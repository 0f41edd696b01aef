"""The CRM: customers, lookups, tier and dedicated agent, notes, history and config seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.config import Customer, load_center
from contactcenter.events import ContactAnswered, ContactQueued, WrapUpEnded
from contactcenter.store import CustomerRecord, Store, UnknownCustomer

CONFIG = Path(__file__).resolve().parents[2] / "config"

ADA = CustomerRecord(
    "C1", "Ada Lovelace", "vip", None, "+4930555000001", "Ada@Example.com", "100001"
)


async def test_upsert_and_read(store: Store) -> None:
    assert await store.customer("C1") is None
    await store.upsert_customer(ADA)
    assert await store.customer("C1") == ADA
    changed = CustomerRecord("C1", "Ada King", "gold", "a01", None, "ada@example.org", None)
    await store.upsert_customer(changed)
    assert await store.customer("C1") == changed


async def test_find_by_phone_email_account(store: Store) -> None:
    await store.upsert_customer(ADA)
    await store.upsert_customer(CustomerRecord("C2", "Bob", phone="+4930555000002"))
    assert await store.find_customer(phone="+4930555000001") == ADA
    assert await store.find_customer(email="ada@example.com") == ADA  # case-insensitive
    assert await store.find_customer(account_number="100001") == ADA
    assert await store.find_customer(phone="+4930555000001", account_number="100001") == ADA
    assert await store.find_customer(phone="+4930555000001", account_number="999") is None
    found = await store.find_customer(phone="+4930555000002")
    assert found is not None and found.id == "C2"
    assert await store.find_customer(email="nobody@example.com") is None
    with pytest.raises(ValueError):
        await store.find_customer()


async def test_tier_dedicated_agent_and_notes(store: Store) -> None:
    await store.upsert_customer(ADA)
    await store.set_customer_tier("C1", "gold")
    await store.set_dedicated_agent("C1", "a07")
    first = await store.add_customer_note("C1", "prefers chat", 1000.0, author="sup1")
    second = await store.add_customer_note("C1", "moved to Berlin", 2000.0)
    c = await store.customer("C1")
    assert c is not None
    assert (c.tier, c.dedicated_agent) == ("gold", "a07")
    assert [(n.id, n.text, n.author, n.wall_time) for n in c.notes] == [
        (first, "prefers chat", "sup1", 1000.0),
        (second, "moved to Berlin", None, 2000.0),
    ]
    await store.upsert_customer(ADA)  # fields replaced, notes kept
    c = await store.customer("C1")
    assert c is not None and c.tier == "vip" and len(c.notes) == 2
    await store.set_dedicated_agent("C1", None)
    c = await store.customer("C1")
    assert c is not None and c.dedicated_agent is None


async def test_unknown_customer_errors(store: Store) -> None:
    with pytest.raises(UnknownCustomer):
        await store.set_customer_tier("nope", "vip")
    with pytest.raises(UnknownCustomer):
        await store.set_dedicated_agent("nope", "a01")
    with pytest.raises(UnknownCustomer):
        await store.add_customer_note("nope", "x", 1.0)


async def test_seed_from_config_only_inserts_absent(store: Store) -> None:
    center = load_center(CONFIG)
    assert len(center.customers) >= 10
    n = await store.seed_customers(center.customers.values(), center.dedicated_agent)
    assert n == len(center.customers)
    c = await store.customer("C1001")
    assert c is not None
    seed = center.customers["C1001"]
    assert (c.name, c.tier, c.phone, c.email, c.account_number) == (
        seed.name,
        seed.tier,
        seed.phone,
        seed.email,
        seed.account_number,
    )
    assert c.dedicated_agent == center.dedicated_agent.get("C1001")
    # the store owns customers at run time: seeding again changes nothing
    await store.set_customer_tier("C1001", "standard")
    extra = Customer(id="C9999", name="New Seed")
    n = await store.seed_customers([*center.customers.values(), extra])
    assert n == 1
    c = await store.customer("C1001")
    assert c is not None and c.tier == "standard"
    assert await store.customer("C9999") == CustomerRecord("C9999", "New Seed", "standard")
    assert await store.seed_customers([]) == 0


async def test_customer_history_newest_first_with_dispositions(store: Store) -> None:
    await store.upsert_customer(ADA)
    for i in range(7):
        cid = f"k{i}"
        await store.create_contact(
            cid, channel="chat", queue="q", arrived_wall=1000.0 + i, customer_id="C1", tier="vip"
        )
        await store.record_events(
            [
                ContactQueued(i, cid, "q", "chat", 100, "vip", i, 1),
                ContactAnswered(i + 1, cid, "q", "chat", "a1", 1.0, 1),
                WrapUpEnded(i + 2, cid, "q", "chat", "a1", f"d{i}", 3.0),
            ],
            1000.5 + i,
        )
    await store.create_contact("other", channel="chat", queue="q", arrived_wall=5000, tier="x")
    history = await store.customer_history("C1")
    assert [h.contact_id for h in history] == ["k6", "k5", "k4", "k3", "k2"]
    assert [h.disposition for h in history] == ["d6", "d5", "d4", "d3", "d2"]
    assert [h.contact_id for h in await store.customer_history("C1", limit=2)] == ["k6", "k5"]
    assert await store.customer_contacts("C1", limit=6) == await store.customer_history("C1", 6)
    assert await store.customer_history("nobody") == []
