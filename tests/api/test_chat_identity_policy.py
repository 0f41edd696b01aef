"""A site whose chat is for signed-in customers only (``chat_identity.policy: verified_only``),
whose widget id is its own, and whose pages embed ``/chat`` from another origin."""

from __future__ import annotations

import dataclasses

import pytest

from contactcenter.config import Center, load_center
from contactcenter.config.models import ChatIdentitySettings
from contactcenter.identity import sign
from tests.api.conftest import CONFIG, Api
from tests.api.signing import gate, signed

SHOP = "https://www.northwind.example"


@pytest.fixture(scope="module")
def center() -> Center:
    """The example center with the identity settings a shop would give (the ``api`` fixture
    builds its app from this)."""
    base = load_center(CONFIG)
    identity = ChatIdentitySettings(widget="shop", policy="verified_only", embed_origins=(SHOP,))
    settings = base.settings.model_copy(update={"chat_identity": identity})
    return dataclasses.replace(base, settings=settings)


async def test_a_chat_without_a_signature_is_refused(api: Api) -> None:
    for claim in ({}, {"customer_id": "C1008"}):
        status, data = await api.call(
            "POST", "/api/chat", body={"name": "Jan", "topic": "sales", **claim}
        )
        assert status == 401, data
        assert data["error"]["code"] == "identity_required"
    assert api.engine.router.contacts == {}


async def test_a_signed_chat_is_let_in_and_bound_to_the_sites_widget(api: Api) -> None:
    cid, _ = await api.start_chat(identity=signed(api, "C1008"))
    record = await api.store.contact(cid)
    assert record is not None and record.verified and record.customer_id == "C1008"
    # the same key, but signed for the default widget "web": not this site's token
    keys, now = gate(api).keyring.keys(), int(gate(api).clock())
    web = dataclasses.asdict(sign(keys, "web", "C1008", now + 600))
    status, data = await api.call(
        "POST", "/api/chat", body={"name": "Jan", "topic": "sales", "identity": web}
    )
    assert status == 401 and data["error"]["details"] == [{"reason": "bad_signature"}]


async def test_only_the_chat_page_may_be_framed_by_the_shop(api: Api) -> None:
    chat = await api.client.get("/chat")
    assert f"frame-ancestors 'self' {SHOP};" in chat.headers["Content-Security-Policy"]
    desktop = await api.client.get("/desktop")
    assert "frame-ancestors 'self';" in desktop.headers["Content-Security-Policy"]
