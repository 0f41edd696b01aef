"""Who a chat's customer is: only an identity the site's backend signed buys tier, dedicated
agent and the CRM card; an unsigned customer id is a claim the agent sees as not verified; a
token that fails is refused (401), counted and logged without the id or the signature.

Found in issue 11: a customer id and a matching e-mail typed into the widget were "verified",
so anyone who knew a VIP's id and e-mail got VIP routing, the dedicated agent and the history.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from contactcenter.identity import MAX_LIFETIME_SECONDS, IdentityKeys, new_keys, sign
from tests.api.conftest import Api
from tests.api.signing import gate, signed
from tests.polling import until

VIP = "C1001"  # tier vip, dedicated agent a01 (config/customers.yaml, config/agents.yaml)
VIP_EMAIL = "helena.brandt@example.com"


async def chats(api: Api) -> list[str]:
    """The chats the engine routes and the store keeps open."""
    routed = [c.id for c in api.engine.router.contacts.values() if c.channel == "chat"]
    return routed + [oc.contact_id for oc in await api.store.open_contacts("chat")]


async def test_an_id_and_email_anyone_can_know_buy_nothing(api: Api) -> None:
    status, data = await api.call(
        "POST", "/api/chat",
        body={"name": "Mallory", "topic": "support", "customer_id": VIP, "email": VIP_EMAIL},
    )  # fmt: skip
    assert status == 422, data
    assert data["error"]["code"] == "invalid_body" and "email" in str(data["error"]["details"])
    assert await chats(api) == []


async def test_an_unsigned_customer_id_is_only_a_claim(api: Api) -> None:
    cid, _ = await api.start_chat(name="Mallory", topic="support", customer_id=VIP)
    view = api.engine.router.contact(cid)
    assert view.tier == "standard"
    assert api.engine.router.contacts[cid].preferred_agent is None
    assert api.engine.router.contacts[cid].customer_id is None
    record = await api.store.contact(cid)
    assert record is not None and record.customer_id == VIP and not record.verified


async def test_a_signed_identity_gets_tier_and_dedicated_agent(api: Api) -> None:
    cid, _ = await api.start_chat(name="Helena", topic="support", identity=signed(api, VIP))
    assert api.engine.router.contact(cid).tier == "vip"
    assert api.engine.router.contacts[cid].preferred_agent == "a01"
    assert api.engine.router.contacts[cid].customer_id == VIP
    record = await api.store.contact(cid)
    assert record is not None and record.customer_id == VIP and record.verified


def _forged(api: Api, how: str) -> dict[str, Any]:
    """A token for ``VIP`` that must fail, and how."""
    ours = gate(api)
    keys, now = ours.keyring.keys(), int(ours.clock())
    if how == "tampered_id":  # signed for another customer, then the id changed
        return {**signed(api, "C1008"), "customer_id": VIP}
    if how == "expired":
        return dataclasses.asdict(sign(keys, "web", VIP, now - 1))
    if how == "lifetime_too_long":
        return dataclasses.asdict(sign(keys, "web", VIP, now + MAX_LIFETIME_SECONDS + 60))
    if how == "wrong_widget":
        return dataclasses.asdict(sign(keys, "partner-site", VIP, now + 600))
    if how == "unknown_kid":
        stranger = IdentityKeys((("k9", new_keys().secrets[0][1]),))
        return dataclasses.asdict(sign(stranger, "web", VIP, now + 600))
    assert how == "foreign_secret"  # the right key id, someone else's secret
    other = IdentityKeys(((keys.signing_kid, new_keys().secrets[0][1]),))
    return dataclasses.asdict(sign(other, "web", VIP, now + 600))


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("tampered_id", "bad_signature"),
        ("expired", "expired"),
        ("lifetime_too_long", "lifetime_too_long"),
        ("wrong_widget", "bad_signature"),
        ("unknown_kid", "unknown_key"),
        ("foreign_secret", "bad_signature"),
    ],
)
async def test_a_token_that_fails_is_refused_not_downgraded(
    api: Api, how: str, reason: str
) -> None:
    status, data = await api.call(
        "POST", "/api/chat", body={"name": "M", "topic": "support", "identity": _forged(api, how)}
    )
    assert status == 401, data
    assert data["error"]["code"] == "identity_invalid"
    assert data["error"]["details"] == [{"reason": reason}]
    assert await chats(api) == []  # no anonymous chat instead


async def test_refusals_are_counted_and_logged_without_id_or_signature(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    forged = _forged(api, "tampered_id")
    with caplog.at_level(logging.INFO):
        status, _ = await api.call(
            "POST", "/api/chat", body={"name": "M", "topic": "support", "identity": forged}
        )
        assert status == 401
        await api.start_chat(identity=signed(api, "C1008"))
        await api.start_chat(customer_id="C1009")
        await api.start_chat()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "bad_signature" in logged
    assert forged["signature"] not in logged and VIP not in logged
    assert "C1008" not in logged and "C1009" not in logged

    text = await (await api.client.get("/metrics")).text()
    counted = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("contactcenter_chat_identities_total{")
    }
    assert counted["bad_signature"] == 1 and counted["verified"] == 1
    assert counted["claimed"] == 1 and counted["anonymous"] == 1 and counted["expired"] == 0
    assert VIP not in text and "C1008" not in text and forged["signature"] not in text


async def test_identity_and_claim_together_are_refused(api: Api) -> None:
    body = {"name": "J", "topic": "sales", "customer_id": "C1008", "identity": signed(api, VIP)}
    status, data = await api.call("POST", "/api/chat", body=body)
    assert status == 422 and data["error"]["code"] == "invalid_body"
    assert await chats(api) == []


async def _earlier_contact(api: Api, customer_id: str) -> None:
    """A verified chat of the customer, over (its customer left): the customer's history."""
    cid, _ = await api.start_chat(topic="billing", identity=signed(api, customer_id))
    assert await until(lambda: cid not in api.engine.router.contacts)  # no socket: abandoned


async def _pop(api: Api, **chat: Any) -> dict[str, Any]:
    """The customer card agent a12 sees for a new chat (a12 is in the support queue)."""
    cid, _ = await api.start_chat(topic="support", **chat)
    await api.ok("POST", "/api/agent/login", "a12")
    assert await until(lambda: api.engine.router.contact(cid).agent == "a12")
    card: dict[str, Any] = (await api.ok("GET", f"/api/agent/contacts/{cid}", "a12"))["customer"]
    return card


async def test_an_unverified_claim_of_a_vip_shows_none_of_the_vips_data(api: Api) -> None:
    # the VIP has history, and it must not show
    await _earlier_contact(api, VIP)
    card = await _pop(api, name="Mallory", customer_id=VIP)
    assert card["verified"] is False and card["claimed_customer_id"] == VIP
    assert card["customer_id"] is None and card["tier"] == "standard"
    assert card["name"] == "Mallory"  # what the customer typed, not the CRM's name
    assert card["email"] is None and card["phone"] is None and card["last_contacts"] == []


async def test_a_verified_customer_shows_the_card_and_history(api: Api) -> None:
    gold = "C1007"  # Amelie Fournier, tier gold, dedicated agent a12
    await _earlier_contact(api, gold)
    card = await _pop(api, name="Amelie", identity=signed(api, gold))
    assert card["verified"] is True and card["customer_id"] == gold
    assert card["email"] == "amelie.f@example.com" and card["name"] == "Amelie Fournier"
    assert card["tier"] == "gold" and len(card["last_contacts"]) == 1


async def _claim(api: Api, customer_id: str) -> str:
    """A stranger's unsigned claim of ``customer_id``, over (they left)."""
    cid, _ = await api.start_chat(name="Mallory", topic="billing", customer_id=customer_id)
    assert await until(lambda: cid not in api.engine.router.contacts)
    return cid


async def test_a_strangers_claim_never_joins_the_customers_history(api: Api) -> None:
    gold = "C1007"
    await _earlier_contact(api, gold)
    claimed = await _claim(api, gold)
    card = await _pop(api, name="Amelie", identity=signed(api, gold))
    shown = [c["contact_id"] for c in card["last_contacts"]]
    assert claimed not in shown and len(shown) == 1, card["last_contacts"]


async def test_a_signed_customer_the_crm_does_not_know_is_still_verified(api: Api) -> None:
    """The site's backend vouches for a customer the CRM has no card for (a new sign-up)."""
    card = await _pop(api, name="Nina", identity=signed(api, "C9999"))
    assert card["verified"] is True and card["customer_id"] == "C9999", card
    assert card["claimed_customer_id"] is None and card["name"] == "Nina"
