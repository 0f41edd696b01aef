"""``GET /api/agent/contacts/{id}/answers`` on the real app: the contact's queue's answers,
rendered with the verified customer's name (never a typed one) and the agent's, audited."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from contactcenter.answers import load_answers
from contactcenter.api import Settings
from contactcenter.config import Center
from contactcenter.routing import ContactState
from tests.api.conftest import CONFIG, Api
from tests.api.signing import signed

GREET = "Hello {}, this is Elif from Northwind Telecom. How can I help you today?"


@pytest.fixture
def api_settings(center: Center) -> Settings:
    return Settings(chat_grace=0.3, answers=load_answers(CONFIG, center))


async def chat_with_a05(api: Api, **body: Any) -> str:
    cid, _ = await api.start_chat(**body)
    await api.ok("POST", "/api/agent/login", "a05")
    async with asyncio.timeout(5):
        while api.engine.router.contact(cid).state is not ContactState.OFFERED:
            await asyncio.sleep(0.02)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    return cid


def texts(body: dict[str, Any]) -> dict[str, str]:
    return {a["shortcut"]: a["text"] for a in body["answers"]}


async def test_a_verified_customer_is_greeted_by_name_and_the_read_is_audited(api: Api) -> None:
    cid = await chat_with_a05(api, name="Jan", identity=signed(api, "C1008"))
    body = await api.ok("GET", f"/api/agent/contacts/{cid}/answers", "a05")
    assert body["language"] == "en"
    assert list(texts(body)) == ["bye", "greet", "upgrade", "wait"]  # sales_chat's
    assert texts(body)["greet"] == GREET.format("Jan Novak")  # the CRM's name
    assert texts(body)["bye"].endswith("Thank you for contacting Northwind Telecom Customer "
                                       "Care, have a nice day!")  # fmt: skip
    [entry] = [e for e in await api.store.audit_log(limit=10) if e.action == "read_answers"]
    assert (entry.actor, entry.target, entry.detail) == ("a05", cid, {"parts": ["customer_name"]})


async def test_a_typed_name_is_not_used(api: Api) -> None:
    cid = await chat_with_a05(api, name="Jan Novak")  # anyone may type any name
    body = await api.ok("GET", f"/api/agent/contacts/{cid}/answers", "a05")
    assert texts(body)["greet"] == GREET.format("there")
    assert not [t for t in texts(body).values() if "Jan" in t or "{" in t or "}" in t]
    [entry] = [e for e in await api.store.audit_log(limit=10) if e.action == "read_answers"]
    assert entry.detail == {"parts": []}


async def test_only_the_contacts_agent_gets_them(api: Api) -> None:
    cid = await chat_with_a05(api, name="Jan")
    status, body = await api.call("GET", f"/api/agent/contacts/{cid}/answers", "a06")
    assert status == 403, body
    status, body = await api.call("GET", f"/api/agent/contacts/{cid}/answers")
    assert status == 401, body
    status, body = await api.call("GET", "/api/agent/contacts/chat-nope/answers", "a05")
    assert status == 404, body


@pytest.fixture
def german_sales(tmp_path: Path) -> Path:
    """The example center with its sales chat served in German."""
    config = tmp_path / "config"
    config.mkdir()
    for name in ("center.yaml", "agents.yaml", "customers.yaml", "answers.yaml"):
        (config / name).write_text((CONFIG / name).read_text())
    queues = yaml.safe_load((CONFIG / "queues.yaml").read_text())
    for q in queues["queues"]:
        if q["id"] == "sales_chat":
            q["language"] = "de"
    (config / "queues.yaml").write_text(yaml.safe_dump(queues))
    return config


async def test_a_queues_language_picks_the_texts(german_sales: Path) -> None:
    from contactcenter.config import load_center

    center = load_center(german_sales)
    answers = load_answers(german_sales, center)
    assert center.queues["sales_chat"].language == "de"
    assert [a.shortcut for a in answers.for_contact("sales_chat", "de")] == ["greet"]
    assert [a.shortcut for a in answers.for_contact("support_chat", "en")][:2] == ["bye", "greet"]
