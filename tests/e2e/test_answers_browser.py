"""Standard answers on the agent desktop, in a real headless Chromium against a real ``serve``:
the agent types ``/greet`` and Tab, and the signed-in customer's widget gets the greeting with
the customer's name (the CRM's) and the agent's; the searchable list inserts another."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactcenter.api.chat_identity import KEYS_FILE
from tests import peers
from tests.e2e.test_browser import ARGS, CHROMIUM, SHOTS, playwright_api
from tests.integration.server import (
    PASSWORD,
    ROOT,
    ServerProcess,
    open_chat_around_the_clock,
    set_users,
)

pytestmark = peers.required(
    None if Path(CHROMIUM).exists() else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)

GREETING = "Hello Jan Novak, this is Elif from Northwind Telecom. How can I help you today?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_chat_around_the_clock(config)
    db = tmp_path / "var" / "cc.sqlite3"
    set_users(db, config, [("root", "admin", None), ("a05", "agent", "a05")])
    srv = ServerProcess(config, db, tmp_path)
    try:
        yield srv
    finally:
        srv.finish()


def signed_fragment(srv: ServerProcess, customer: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "chat-identity", "sign", "--customer", customer,
         "--keys", str(srv.db.parent / KEYS_FILE), "--ttl", "600"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    fragment: str = json.loads(done.stdout)["fragment"]
    return fragment


def test_slash_greet_and_tab_sends_the_greeting_with_both_names(server: ServerProcess) -> None:
    expect = playwright_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = server.start()
    fragment = signed_fragment(server, "C1008")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            customer = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
            agent = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            for page in (customer, agent):
                page.set_default_timeout(10_000)
            customer.goto(f"{base}/chat#{fragment}")
            customer.get_by_test_id("chat-name").fill("Jan")
            customer.get_by_test_id("chat-topic").select_option("sales")
            customer.get_by_test_id("chat-start").click()
            expect(customer.get_by_test_id("chat-status")).to_contain_text("number 1")

            agent.goto(f"{base}/desktop")
            agent.get_by_test_id("login-user").fill("a05")
            agent.get_by_test_id("login-password").fill(PASSWORD)
            agent.get_by_test_id("login-submit").click()
            agent.get_by_test_id("routing-login").click()
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
        finally:
            browser.close()
