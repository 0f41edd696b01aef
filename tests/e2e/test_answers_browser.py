"""Standard answers on the agent desktop, in a real headless Chromium against a real ``serve``:
the agent types ``/greet`` and Tab, and the signed-in customer's widget gets the greeting with
the customer's name (the CRM's) and the agent's; the searchable list inserts another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import (
    NEEDS_CHROMIUM,
    SHOTS,
    chromium,
    expect,
    into_routing,
    new_page,
    signed_fragment,
    start_chat,
)
from tests.integration.server import ServerProcess, fresh_server

pytestmark = NEEDS_CHROMIUM

GREETING = "Hello Jan Novak, this is Elif from Northwind Telecom. How can I help you today?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with fresh_server(tmp_path, [("root", "admin", None), ("a05", "agent", "a05")]) as srv:
        yield srv


def test_slash_greet_and_tab_sends_the_greeting_with_both_names(server: ServerProcess) -> None:
    base = server.start()
    fragment = signed_fragment(server, "C1008")
    with chromium() as browser:
        customer = new_page(browser, 390, 800)
        agent = new_page(browser, 1200, 800)
        start_chat(customer, base, "Jan", "sales", fragment)
        into_routing(agent, base, "a05")
        agent.get_by_test_id("offer-accept").click()
        expect(agent.get_by_test_id("customer-name")).to_have_text("Jan Novak")
        expect(agent.get_by_test_id("answers-open")).to_have_attribute("data-count", "4")

        # /greet + Tab expands in the reply box; Enter sends it
        box = agent.get_by_test_id("agent-input")
        box.click()
        box.press_sequentially("/greet")
        box.press("Tab")
        expect(box).to_have_value(GREETING)
        expect(box).to_be_focused()
        box.press("Enter")
        expect(customer.locator("#transcript li.agent")).to_have_text(GREETING)

        # the list: searched, picked with the keyboard; a shortcut is never sent as typed
        box.fill("Sure! /upg")
        box.press("Enter")
        expect(box).to_have_value(
            "Sure! I can upgrade your plan right away: the new speed applies from tomorrow, "
            "and your next invoice shows the change pro rata."
        )
        box.fill("")
        agent.get_by_test_id("answers-open").click()
        search = agent.get_by_test_id("answers-search")
        expect(search).to_be_focused()
        search.fill("moment")
        expect(agent.get_by_test_id("answer")).to_have_count(1)
        agent.screenshot(path=str(SHOTS / "desktop-answers.png"))
        search.press("Enter")
        expect(box).to_have_value("Thank you. Please give me a moment while I look into this.")
        box.fill("/nosuch")
        box.press("Enter")
        expect(agent.get_by_test_id("answers-panel")).to_be_visible()
        expect(agent.get_by_test_id("answers-list")).to_have_text("No answer matches.")
        expect(customer.locator("#transcript li.agent")).to_have_count(1)
