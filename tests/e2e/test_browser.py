"""End to end in a real headless Chromium (``tests/e2e/browser.py``): ``contactcenter serve``
as a subprocess, a customer in the chat widget, an agent on the desktop, a supervisor on the
wallboard."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import (
    NEEDS_CHROMIUM,
    SHOTS,
    chromium,
    expect,
    into_routing,
    login,
    new_page,
    start_chat,
)
from tests.integration.server import fresh_server

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The example center on ``serve``, its address; afterwards it must shut down cleanly."""
    users = [("a05", "agent", None), ("a06", "agent", None), ("sup", "supervisor", None),
             ("root", "admin", None)]  # fmt: skip
    with fresh_server(tmp_path, users) as srv:
        yield srv.start()
        assert srv.stop() == 0, srv.log()


def test_chat_desktop_wallboard(server: str, tmp_path: Path) -> None:
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
    with chromium() as browser:
        customer = new_page(browser, 520, 760)
        agent = new_page(browser, 1200, 800)
        boss = new_page(browser, 1300, 900)

        # a customer opens the widget and writes (also some HTML that must stay text)
        start_chat(customer, server, "Eve <b>Bold</b>", "sales")
        customer.get_by_test_id("chat-input").fill("Hello, I need help")
        customer.get_by_test_id("chat-send").click()
        customer.get_by_test_id("chat-input").fill(evil)
        customer.get_by_test_id("chat-send").click()
        expect(customer.locator("#transcript li.customer")).to_have_count(2)
        customer.screenshot(path=str(SHOTS / "1-chat-waiting.png"))

        # the agent logs in on the desktop, goes into routing and gets the offer
        into_routing(agent, server, "a05")
        expect(agent.get_by_test_id("offer")).to_be_visible()
        expect(agent.get_by_test_id("offer-customer")).to_have_text("Eve <b>Bold</b>")
        expect(agent.get_by_test_id("offer-countdown")).to_contain_text(" s")
        agent.screenshot(path=str(SHOTS / "2-desktop-offer.png"))
        agent.get_by_test_id("offer-accept").click()
        expect(agent.get_by_test_id("customer-name")).to_have_text("Eve <b>Bold</b>")
        lines = agent.locator("[data-testid=agent-transcript] li.customer")
        expect(lines).to_have_count(2)
        expect(lines.nth(1)).to_have_text(evil)
        expect(customer.get_by_test_id("chat-status")).to_contain_text("Elif")

        # they exchange messages
        agent.get_by_test_id("agent-input").fill("Hi Eve, how can I help?")
        agent.get_by_test_id("agent-send").click()
        expect(customer.locator("#transcript li.agent")).to_have_text("Hi Eve, how can I help?")
        customer.get_by_test_id("chat-input").fill("That's all, thanks")
        customer.get_by_test_id("chat-send").click()
        expect(lines).to_have_count(3)
        expect(agent.get_by_test_id("wrapup-form")).to_be_hidden()
        agent.screenshot(path=str(SHOTS / "3-desktop-chat.png"))
        customer.screenshot(path=str(SHOTS / "4-chat-talking.png"))

        # the HTML stayed text everywhere
        for page in (customer, agent):
            assert page.evaluate("window.__pwned") is None
            assert page.locator(".transcript img, .transcript script").count() == 0
        assert agent.locator("[data-testid=customer-card] b").count() == 0

        # the customer leaves; the agent wraps up
        customer.get_by_test_id("chat-end").click()
        expect(customer.get_by_test_id("chat-status")).to_contain_text("You ended the chat")
        expect(agent.get_by_test_id("wrapup-form")).to_be_visible()
        agent.get_by_test_id("wrapup-disposition").select_option("resolved")
        agent.get_by_test_id("wrapup-notes").fill("explained the plan")
        agent.screenshot(path=str(SHOTS / "5-desktop-wrapup.png"))
        agent.get_by_test_id("wrapup-submit").click()
        expect(agent.get_by_test_id("tab")).to_have_count(0)
        expect(agent.get_by_test_id("agent-state")).to_have_text("available")

        # the wallboard counts it
        boss.goto(f"{server}/wallboard")
        login(boss, "sup")
        row = boss.locator("tr[data-queue=sales_chat]")
        expect(row.locator("[data-field=answered]")).to_have_text("1")
        expect(row.locator("[data-field=offered]")).to_have_text("1")
        expect(row.locator("[data-field=sl]")).to_have_text("100%")
        expect(boss.get_by_test_id("agents-available")).to_have_text("1")
        boss.screenshot(path=str(SHOTS / "6-wallboard.png"), full_page=True)
    for shot in SHOTS.iterdir():
        shutil.copy(shot, tmp_path / shot.name)


def test_warm_transfer_wallboard_actions_and_a_call_back_from_the_chat(
    server: str, tmp_path: Path
) -> None:
    """Two agents on their desktops: a05 consults a06 (warm transfer) with a note, a06 takes
    the chat over and sees the note; a supervisor raises a waiting customer's priority on the
    wallboard; that customer asks to be called back from the widget; the supervisor cancels
    the call back."""
    with chromium() as browser:
        customer, waiting, a05, a06, boss = (new_page(browser, 1200, 900) for _ in range(5))

        for page, user in ((a05, "a05"), (a06, "a06")):
            page.goto(f"{server}/desktop")
            login(page, user)
            expect(page.get_by_test_id("agent-state")).to_have_text("offline")
        a05.get_by_test_id("routing-login").click()
        expect(a05.get_by_test_id("agent-state")).to_have_text("available")

        customer.goto(f"{server}/chat")
        customer.get_by_test_id("chat-name").fill("Ann")
        customer.get_by_test_id("chat-topic").select_option("sales")
        customer.get_by_test_id("chat-start").click()
        a05.get_by_test_id("offer-accept").click()
        customer.get_by_test_id("chat-input").fill("I want the fibre plan")
        customer.get_by_test_id("chat-send").click()
        expect(a05.locator("[data-testid=agent-transcript] li.customer")).to_have_count(1)

        # a06 goes available; a05 consults a06 with a note
        a06.get_by_test_id("routing-login").click()
        expect(a06.get_by_test_id("agent-state")).to_have_text("available")
        a05.get_by_test_id("transfer-open").click()
        a05.get_by_test_id("transfer-agent").select_option("a06")
        a05.get_by_test_id("transfer-note").fill("verified; wants 1 Gbit")
        a05.get_by_test_id("transfer-warm").click()
        expect(a06.get_by_test_id("consult-offer")).to_be_visible()
        expect(customer.locator("#transcript li.system").last).to_contain_text("please hold")
        a06.get_by_test_id("consult-accept").click()
        expect(a05.get_by_test_id("consult-status")).to_contain_text("colleague is on")
        a05.screenshot(path=str(SHOTS / "7-desktop-consult.png"))
        a05.get_by_test_id("consult-complete").click()
        expect(a05.get_by_test_id("wrapup-form")).to_be_visible()
        expect(a06.get_by_test_id("transfer-note-shown")).to_have_text("verified; wants 1 Gbit")
        expect(a06.locator("[data-testid=agent-transcript] li.customer")).to_have_text(
            "I want the fibre plan"
        )
        a06.get_by_test_id("agent-input").fill("Hi Ann, Farid here")
        a06.get_by_test_id("agent-send").click()
        expect(customer.locator("#transcript li.agent").last).to_have_text("Hi Ann, Farid here")
        expect(customer.get_by_test_id("chat-status")).to_contain_text("Farid")
        a06.screenshot(path=str(SHOTS / "8-desktop-taken-over.png"))

        # a customer waits in support chat (nobody there); the supervisor raises them
        start_chat(waiting, server, "Bo", "support")
        boss.goto(f"{server}/wallboard")
        login(boss, "sup")
        rows = boss.locator("[data-testid=waiting-rows] tr")
        expect(rows).to_have_count(1)
        chat_id = rows.first.get_attribute("data-contact")
        row = boss.locator(f'[data-testid=waiting-rows] tr[data-contact="{chat_id}"]')
        row.get_by_test_id("priority-input").fill("250")
        row.get_by_test_id("priority-set").click()
        expect(row.get_by_test_id("priority-input")).to_have_value("250")

        # ... who asks to be called back instead; the supervisor cancels it
        waiting.get_by_test_id("chat-callback-open").click()
        waiting.get_by_test_id("chat-callback-number").fill("+49 30 555 0101")
        waiting.get_by_test_id("chat-callback-send").click()
        expect(waiting.get_by_test_id("chat-status")).to_contain_text("call you back")
        expect(row).to_have_count(0)  # the chat left; the call back waits in support
        expect(rows.locator("td").first).to_have_text("support")
        booked = boss.locator("[data-testid=wallboard-callback-rows] tr")
        expect(booked).to_have_count(1)
        expect(booked.locator("[data-field=status]")).to_have_text(re.compile("queued|scheduled"))
        expect(boss.locator("tr[data-queue=support] [data-field=callbacks]")).to_have_text("1/0")
        boss.screenshot(path=str(SHOTS / "9-wallboard-callback.png"), full_page=True)
        booked.get_by_test_id("callback-cancel").click()
        expect(booked).to_have_count(0)
