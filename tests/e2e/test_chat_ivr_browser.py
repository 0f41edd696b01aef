"""The chat's menu in a real headless Chromium against a real ``serve``: a customer who picks
no topic in the widget answers the chat flow's menu by typing, and reaches an agent on the
desktop; another is answered by an automatic reply and the chat ends self-served.

The config is the example's with the chat schedule open around the clock (the test runs at any
hour; hours and holidays are checked on an injected clock in ``tests/api/test_chat_ivr.py``).
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import peers
from tests.e2e.test_browser import ARGS, CHROMIUM, SHOTS, playwright_api
from tests.integration.server import (
    PASSWORD,
    ROOT,
    ServerProcess,
    open_chat_around_the_clock,
    set_users,
)
from tests.scrape import by_label

pytestmark = peers.required(
    None if Path(CHROMIUM).exists() else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_chat_around_the_clock(config)
    db = tmp_path / "var" / "cc.sqlite3"
    set_users(db, config, [("root", "admin", None), ("a12", "agent", "a12")])
    srv = ServerProcess(config, db, tmp_path)
    try:
        yield srv
    finally:
        srv.finish()


def test_the_widget_walks_the_menu_to_an_agent_and_to_an_automatic_reply(
    server: ServerProcess,
) -> None:
    expect = playwright_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = server.start()
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            customer = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
            agent = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            for page in (customer, agent):
                page.set_default_timeout(10_000)

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
            agent.goto(f"{base}/desktop")
            agent.get_by_test_id("login-user").fill("a12")
            agent.get_by_test_id("login-password").fill(PASSWORD)
            agent.get_by_test_id("login-submit").click()
            agent.get_by_test_id("routing-login").click()
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
        finally:
            browser.close()
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    counted = by_label(text, "contactcenter_chat_menu_outcomes_total", "outcome")
    assert (counted["queued"], counted["self_served"]) == (1, 1)
