"""The chat's menu in a real headless Chromium against a real ``serve``: a customer who picks
no topic in the widget answers the chat flow's menu by typing, and reaches an agent on the
desktop; another is answered by an automatic reply and the chat ends self-served.

The config is the example's with the chat schedule open around the clock (the test runs at any
hour; hours and holidays are checked on an injected clock in ``tests/api/test_chat_ivr.py``).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, expect, into_routing, new_page
from tests.integration.server import ServerProcess, fresh_server
from tests.scrape import by_label

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with fresh_server(tmp_path, [("root", "admin", None), ("a12", "agent", "a12")]) as srv:
        yield srv


def test_the_widget_walks_the_menu_to_an_agent_and_to_an_automatic_reply(
    server: ServerProcess,
) -> None:
    base = server.start()
    with chromium() as browser:
        customer = new_page(browser, 390, 800)
        agent = new_page(browser, 1200, 800)

        # no topic picked: the menu asks
        customer.goto(f"{base}/chat")
        customer.get_by_test_id("chat-name").fill("Ann")
        expect(customer.get_by_test_id("chat-topic")).to_have_value("")
        customer.get_by_test_id("chat-start").click()
        menu = customer.locator("#transcript li.system")
        expect(menu.first).to_have_text(
            "Hi, welcome to Northwind Telecom! What can we help you with?"
        )
        expect(menu.nth(5)).to_have_text("5 - Where is my invoice?")
        expect(customer.get_by_test_id("chat-status")).to_contain_text("Type the number")
        customer.screenshot(path=str(SHOTS / "chat-menu.png"))
        customer.get_by_test_id("chat-input").fill("technical support")
        customer.get_by_test_id("chat-send").click()
        expect(customer.get_by_test_id("chat-status")).to_contain_text("number 1")

        # the agent who serves support chat gets it, with what the customer chose
        into_routing(agent, base, "a12")
        expect(agent.get_by_test_id("offer")).to_be_visible()
        expect(agent.get_by_test_id("offer-customer")).to_have_text("Ann")
        agent.get_by_test_id("offer-accept").click()
        expect(agent.get_by_test_id("customer-name")).to_have_text("Ann")
        expect(agent.locator("[data-testid=agent-transcript] li.customer")).to_have_text(
            "technical support"
        )
        expect(customer.get_by_test_id("chat-status")).to_contain_text("You are chatting")
        agent.get_by_test_id("agent-input").fill("Hi Ann, how can I help?")
        agent.get_by_test_id("agent-send").click()
        expect(customer.locator("#transcript li.agent")).to_have_text("Hi Ann, how can I help?")
        customer.get_by_test_id("chat-end").click()
        expect(customer.get_by_test_id("chat-status")).to_contain_text("You ended the chat")

        # a new chat: the invoice question is answered by the menu itself
        customer.get_by_test_id("chat-again").click()
        customer.get_by_test_id("chat-start").click()
        expect(menu.nth(5)).to_have_text("5 - Where is my invoice?")
        customer.get_by_test_id("chat-input").fill("invoice")
        customer.get_by_test_id("chat-send").click()
        expect(customer.locator("#transcript")).to_contain_text("My account > Invoices")
        expect(menu.last).to_have_text("2 - Talk to an agent")
        customer.get_by_test_id("chat-input").fill("1")
        customer.get_by_test_id("chat-send").click()
        expect(customer.get_by_test_id("chat-status")).to_contain_text("This chat has ended")
        expect(customer.locator("#transcript")).to_contain_text("Glad we could help!")
        expect(customer.get_by_test_id("chat-again")).to_be_visible()
        customer.screenshot(path=str(SHOTS / "chat-self-served.png"), full_page=True)
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    counted = by_label(text, "contactcenter_chat_menu_outcomes_total", "outcome")
    assert (counted["queued"], counted["self_served"]) == (1, 1)
