"""A chat's claim to be a CRM customer: screen-pop on a match, priority only when verified."""

from __future__ import annotations

from tests.api.conftest import Api

VIP = "C1001"  # tier vip, dedicated agent a01 (config/customers.yaml, config/agents.yaml)
VIP_EMAIL = "helena.brandt@example.com"


async def test_customer_id_alone_does_not_buy_vip_priority(api: Api) -> None:
    cid, _ = await api.start_chat(name="Mallory", topic="support", customer_id=VIP)
    view = api.engine.router.contact(cid)
    assert view.tier == "standard"
    assert api.engine.router.contacts[cid].preferred_agent is None
    record = await api.store.contact_record(cid)
    assert record is not None and record.customer_id == VIP  # still on the agent's screen-pop


async def test_wrong_email_is_not_verified(api: Api) -> None:
    cid, _ = await api.start_chat(
        name="Mallory", topic="support", customer_id=VIP, email="mallory@example.com"
    )
    assert api.engine.router.contact(cid).tier == "standard"


async def test_matching_id_and_email_get_tier_and_dedicated_agent(api: Api) -> None:
    cid, _ = await api.start_chat(
        name="Helena Brandt", topic="support", customer_id=VIP, email=VIP_EMAIL.upper()
    )
    assert api.engine.router.contact(cid).tier == "vip"
    assert api.engine.router.contacts[cid].preferred_agent == "a01"
