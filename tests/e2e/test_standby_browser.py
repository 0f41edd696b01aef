"""A takeover as the people see it, in a real headless Chromium: an agent and a customer are in
a chat when the serving engine is killed with -9; both pages say they are reconnecting, the
standby takes over on the same address, both pages reconnect by themselves, and the
conversation goes on where it was (the agent's next line reaches the customer, the
customer's reaches the agent)."""

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
    start_chat,
)
from tests.integration.server import ServerProcess, fresh_server

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def active(tmp_path: Path) -> Iterator[ServerProcess]:
    with fresh_server(tmp_path, [("sup", "supervisor", None), ("a05", "agent", "a05")]) as srv:
        yield srv


@pytest.fixture
def standby(active: ServerProcess) -> Iterator[ServerProcess]:
    with active.standby() as srv:
        yield srv


def test_desktop_and_chat_reconnect_to_the_standby_and_the_chat_goes_on(
    active: ServerProcess, standby: ServerProcess
) -> None:
    base = active.start()
    standby.launch(port=active.port)
    standby.waiting()
    with chromium() as browser:
        customer = new_page(browser, 390, 844)
        agent = new_page(browser, 1200, 800)
        start_chat(customer, base, "Jan", "sales")
        into_routing(agent, base, "a05")
        agent.get_by_test_id("offer-accept").click()
        box = agent.get_by_test_id("agent-input")
        box.fill("Hello Jan, how can I help?")
        box.press("Enter")
        expect(customer.locator("#transcript li.agent")).to_have_text("Hello Jan, how can I help?")

        active.kill9()
        expect(agent.get_by_test_id("desktop-error")).to_have_text("Connection lost, reconnecting…")
        expect(customer.get_by_test_id("chat-status")).to_contain_text("Reconnecting")
        standby.serving(60)  # same port: the pages' address is unchanged

        # both pages reconnect by themselves; the conversation is where it was
        expect(agent.get_by_test_id("desktop-error")).to_have_text("", timeout=30_000)
        expect(customer.get_by_test_id("chat-status")).not_to_contain_text(
            "Reconnecting", timeout=30_000
        )
        box.fill("Still here after a hiccup.")
        box.press("Enter")
        expect(customer.locator("#transcript li.agent").last).to_have_text(
            "Still here after a hiccup.", timeout=30_000
        )
        customer.get_by_test_id("chat-input").fill("Great, my router blinks red.")
        customer.get_by_test_id("chat-send").click()
        expect(agent.get_by_text("Great, my router blinks red.")).to_be_visible(timeout=30_000)
        agent.screenshot(path=str(SHOTS / "standby-desktop.png"))
        customer.screenshot(path=str(SHOTS / "standby-chat.png"))
    assert standby.stop() == 0
