"""Signing a chat customer's identity in API tests, as the site's backend would: with the key
of the app under test (``tests/test_identity.py`` checks the signature itself against openssl)."""

from __future__ import annotations

import dataclasses
from typing import Any

from contactcenter.api.chat_identity import ChatIdentity
from contactcenter.api.context import CTX
from tests.api.conftest import Api


def gate(api: Api) -> ChatIdentity:
    app = api.client.app
    assert app is not None
    return app[CTX].chat_identity


def signed(api: Api, customer_id: str, ttl: int = 600) -> dict[str, Any]:
    """The ``identity`` object of a start-chat body for ``customer_id``."""
    return dataclasses.asdict(gate(api).sign(customer_id, ttl))
