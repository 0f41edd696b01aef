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


async def _pop(api: Api, **chat: object) -> dict[str, object]:
    cid, _ = await api.start_chat(topic="support", **chat)  # type: ignore[arg-type]
    await api.ok("POST", "/api/agent/login", "a12")
    for _ in range(100):
        if api.engine.router.contact(cid).agent == "a12":
            break
        import asyncio

        await asyncio.sleep(0.02)
    card: dict[str, object] = (await api.ok("GET", f"/api/agent/contacts/{cid}", "a12"))["customer"]
    return card


async def test_an_unverified_claim_shows_no_customer_data(api: Api) -> None:
    card = await _pop(api, name="Mallory", customer_id=VIP)
    assert card["verified"] is False and card["claimed_customer_id"] == VIP
    assert card["name"] == "Mallory"  # what the customer typed, not the CRM's name
    assert card["email"] is None and card["phone"] is None and card["last_contacts"] == []
    assert card["customer_id"] is None


async def test_a_verified_customer_shows_the_card(api: Api) -> None:
    card = await _pop(api, name="Helena", customer_id=VIP, email=VIP_EMAIL)
    assert card["verified"] is True and card["customer_id"] == VIP
    assert card["email"] == VIP_EMAIL and card["name"] == "Helena Brandt"
