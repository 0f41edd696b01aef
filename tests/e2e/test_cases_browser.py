"""Complaint cases on the agent desktop, in a real headless Chromium against a real ``serve``:
the agent opens a case from a signed-in customer's chat with the keyboard alone; the customer's
next chat shows the open case on the screen-pop; the customer card never shows a stray
``null``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser import (
    NEEDS_CHROMIUM,
    SHOTS,
    chromium,
    expect,
    login,
    new_page,
    signed_fragment,
)
from tests.integration.server import ServerProcess, fresh_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = NEEDS_CHROMIUM

COMPLAINT = "Charged twice for roaming in May"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with fresh_server(tmp_path, [("root", "admin", None), ("a05", "agent", "a05")]) as srv:
        yield srv


def start_chat(page: Page, base: str, fragment: str) -> None:
    """Jan, signed in on the shop, starts a sales chat."""
    page.goto(f"{base}/chat#{fragment}")
    page.get_by_test_id("chat-name").fill("Jan")
    page.get_by_test_id("chat-topic").select_option("sales")
    page.get_by_test_id("chat-start").click()


def test_a_case_opened_in_a_chat_shows_on_the_next_chat(server: ServerProcess) -> None:
    base = server.start()
    with chromium() as browser:
        first = new_page(browser, 390, 800)
        agent = new_page(browser, 1200, 800)
        start_chat(first, base, signed_fragment(server, "C1008"))
        expect(first.get_by_test_id("chat-status")).to_contain_text("number 1")
        agent.goto(f"{base}/desktop")
        login(agent, "a05")
        agent.get_by_test_id("routing-login").click()
        agent.get_by_test_id("offer-accept").click()
        card = agent.get_by_test_id("customer-card")
        expect(agent.get_by_test_id("customer-name")).to_have_text("Jan Novak")
        assert "null" not in card.inner_text()  # no earlier segments, no open case: no "null"
        expect(agent.get_by_test_id("open-cases")).to_have_count(0)

        # keyboard alone: focus "Open case…", Enter; pick with arrows, Tab on, type, submit
        opener = agent.get_by_test_id("case-open")
        opener.focus()
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("case-form")).to_be_visible()
        expect(agent.get_by_test_id("case-category")).to_be_focused()
        agent.keyboard.press("ArrowDown")  # billing -> service
        expect(agent.get_by_test_id("case-category")).to_have_value("service")
        agent.keyboard.press("Tab")
        expect(agent.get_by_test_id("case-severity")).to_be_focused()
        agent.keyboard.press("End")  # the last severity: high
        expect(agent.get_by_test_id("case-severity")).to_have_value("high")
        agent.keyboard.press("Tab")
        agent.keyboard.type(COMPLAINT)
        agent.keyboard.press("Tab")
        expect(agent.get_by_test_id("case-submit")).to_be_focused()
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("case-status")).to_contain_text("opened (Service outage")
        expect(agent.get_by_test_id("case-form")).to_be_hidden()
        expect(opener).to_be_focused()
        # (the list is drawn after the status line, from the customer's cases read again)
        expect(agent.get_by_test_id("open-case")).to_have_count(1)
        case = agent.get_by_test_id("open-case")
        expect(case).to_contain_text("Service outage or quality")
        expect(case).to_contain_text("high · open")
        expect(case).to_contain_text(COMPLAINT)
        agent.screenshot(path=str(SHOTS / "cases-1-opened.png"))

        # the chat ends and is wrapped up
        agent.get_by_test_id("agent-hangup").click()
        agent.get_by_test_id("wrapup-disposition").select_option("resolved")  # none chosen yet
        agent.get_by_test_id("wrapup-submit").click()
        expect(agent.get_by_test_id("tab")).to_have_count(0)

        # Jan chats again: the screen-pop shows the case still open
        later = new_page(browser, 390, 800)
        start_chat(later, base, signed_fragment(server, "C1008"))
        agent.get_by_test_id("offer-accept").click()
        expect(agent.get_by_test_id("customer-name")).to_have_text("Jan Novak")
        shown = agent.get_by_test_id("open-case")
        expect(shown).to_have_count(1)
        expect(shown).to_contain_text("Service outage or quality")
        expect(shown).to_contain_text(COMPLAINT)
        assert "null" not in agent.get_by_test_id("customer-card").inner_text()
        agent.screenshot(path=str(SHOTS / "cases-2-next-chat.png"))
