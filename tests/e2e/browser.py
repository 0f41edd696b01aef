"""What every browser test shares: Debian's ``chromium`` (``.ci/apt-packages.txt``) driven by the
``playwright`` package, headless (``playwright install`` is never run); a page per person, the
login form, and a signed chat identity for the widget. Screenshots go to ``test-output/e2e/``
(gitignored).

A browser test module sets ``pytestmark = NEEDS_CHROMIUM``: without Chromium it skips, or
fails under CI (``tests/peers.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from contactcenter.api.chat_identity import KEYS_FILE
from tests import peers
from tests.integration.server import PASSWORD, ROOT, ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "e2e"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Chromium's switches: no sandbox (a container has none to give), no traffic of its own."""

playwright_api = peers.module("playwright.sync_api", "pip install -e '.[dev]'")
expect = playwright_api.expect
NEEDS_CHROMIUM = peers.required(
    None if Path(CHROMIUM).exists() else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A launched Chromium, closed at the end whatever happened (``SHOTS`` exists by then)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, width: int = 1280, height: int = 720) -> Page:
    """A page in a context of its own (one person: cookies and storage are not shared) of
    ``width`` x ``height`` px; every wait on it gives up after 10 s."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(10_000)
    return page


def login(page: Page, user: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form a desktop, wallboard or quality page opens with."""
    page.get_by_test_id("login-user").fill(user)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def signed_fragment(srv: ServerProcess, customer: str, name: str | None = None) -> str:
    """What a shop's backend puts after ``/chat#`` for a signed-in ``customer`` (valid 10 min),
    signed with ``contactcenter chat-identity sign`` and the keys ``srv``'s database holds."""
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "chat-identity", "sign", "--customer", customer,
         "--keys", str(srv.db.parent / KEYS_FILE), "--ttl", "600",
         *(["--name", name] if name is not None else [])],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    fragment: str = json.loads(done.stdout)["fragment"]
    return fragment


def start_chat(page: Page, base: str, name: str, topic: str, fragment: str = "") -> None:
    """A customer opens the widget (signed in by ``fragment``), gives a name, picks a topic
    and starts the chat: first in line, as nobody is in routing yet."""
    page.goto(f"{base}/chat#{fragment}" if fragment else f"{base}/chat")
    page.get_by_test_id("chat-name").fill(name)
    page.get_by_test_id("chat-topic").select_option(topic)
    page.get_by_test_id("chat-start").click()
    expect(page.get_by_test_id("chat-status")).to_contain_text("number 1")


def into_routing(page: Page, base: str, user: str) -> None:
    """An agent opens the desktop, logs in and goes into routing (available for offers)."""
    page.goto(f"{base}/desktop")
    login(page, user)
    page.get_by_test_id("routing-login").click()
