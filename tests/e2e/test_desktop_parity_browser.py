"""The agent desktop on par with the tools agents know, in a real headless Chromium against a
real ``serve``, by keyboard alone: the state's timer counts from the server's change; an offer
changes the tab's title, sounds, takes the focus to Accept and Alt+A accepts it; wrap-up shows
its countdown and keeps Done disabled until a disposition from the contact's own queue's list
is chosen. Screenshots at 1280 and 390 px are taken and checked: not blank, the key elements
inside the viewport, no sideways scrolling."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from PIL import Image

from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, expect, new_page
from tests.integration.server import PASSWORD, ServerProcess, fresh_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = NEEDS_CHROMIUM

BILLING = ["payment-arranged", "refund-issued", "invoice-explained", "resolved", "no-resolution"]
WRAP_SECONDS = 60
KEY_ELEMENTS = (
    "agent-state", "state-timer", "customer-card", "customer-verified", "wrapup-countdown",
    "wrapup-disposition", "wrapup-submit", "private-note-add",
)  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """a20 (Billing chat's first tier) alone; billing_chat's wrap-up lasts a minute here."""
    with fresh_server(tmp_path, [("root", "admin", None), ("a20", "agent", "a20")]) as srv:
        path = srv.config / "queues.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        (billing,) = [q for q in doc["queues"] if q["id"] == "billing_chat"]
        billing["wrap_up_seconds"] = WRAP_SECONDS
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "utf-8")
        yield srv


def focused(page: Page) -> str | None:
    testid: str | None = page.evaluate("document.activeElement?.dataset?.testid ?? null")
    return testid


def tab_to(page: Page, testid: str, limit: int = 40) -> None:
    """Tab forward until ``testid`` has the focus (the tab order reaches it), with a visible
    focus ring."""
    for _ in range(limit):
        if focused(page) == testid:
            break
        page.keyboard.press("Tab")
    assert focused(page) == testid, f"Tab never reached {testid}"
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert ring == ["solid", "3px"], ring


def counts_to(page: Page, seconds: int, within: float = 10.0) -> None:
    """The state timer reaches ``seconds`` (a busy machine may run the page's ticks late)."""
    deadline = time.monotonic() + within
    while timer_seconds(page, "Available") < seconds:
        assert time.monotonic() < deadline, page.get_by_test_id("state-timer").inner_text()
        page.wait_for_timeout(200)


def timer_seconds(page: Page, label: str) -> int:
    text = page.get_by_test_id("state-timer").inner_text()
    found = re.fullmatch(rf"{re.escape(label)} (\d\d):(\d\d)", text)
    assert found, text
    return int(found[1]) * 60 + int(found[2])


def check_shot(page: Page, name: str, width: int) -> None:
    """A screenshot of the viewport, saved and checked: the page's own colours (not blank),
    every key element inside the viewport's width, nothing to scroll sideways."""
    png = page.screenshot(path=str(SHOTS / name))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size[0] == width
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "blank screenshot"
    assert max(n for n, _ in colours) < 0.9 * image.size[0] * image.size[1]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    for testid in KEY_ELEMENTS:
        box = page.get_by_test_id(testid).bounding_box()
        assert box is not None, testid
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (testid, box)


def start_billing_chat(page: Page, base: str) -> None:
    page.goto(f"{base}/chat")
    page.get_by_test_id("chat-name").fill("Ola")
    page.get_by_test_id("chat-topic").select_option("billing")
    page.get_by_test_id("chat-start").click()


def test_offer_alert_timer_and_wrap_up_by_keyboard(server: ServerProcess) -> None:
    base = server.start()
    with chromium() as browser:
        agent = new_page(browser, 1280, 900)
        customer = new_page(browser, 390, 800)
        agent.goto(f"{base}/desktop")
        tab_to(agent, "login-user")
        agent.keyboard.type("a20")
        agent.keyboard.press("Tab")
        agent.keyboard.type(PASSWORD)
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("agent-state")).to_have_text("offline")
        expect(agent.get_by_test_id("away-reason")).to_be_visible()
        reasons = agent.get_by_test_id("away-reason").locator("option")
        assert "Team meeting" in reasons.all_inner_texts()  # center.yaml's label, not its code
        assert agent.get_by_label("Away reason").count() == 1  # a visible label names it
        tab_to(agent, "routing-login")
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("agent-state")).to_have_text("available")

        # time in state: from the server's change, counting every second
        first = timer_seconds(agent, "Available")
        assert first <= 1
        counts_to(agent, first + 2)
        agent.reload()  # a new page is told the time so far, not zero
        expect(agent.get_by_test_id("agent-state")).to_have_text("available")
        expect(agent.get_by_test_id("state-timer")).not_to_have_text("Available 00:00")
        assert timer_seconds(agent, "Available") >= first + 2
        tab_to(agent, "go-available")  # a key pressed: the browser lets the page sound now

        # the offer: the tab's title, the sound, the focus on Accept; Alt+A takes it
        start_billing_chat(customer, base)
        expect(agent.get_by_test_id("offer")).to_be_visible()
        expect(agent).to_have_title("● Offer: Billing chat")
        accept = agent.get_by_test_id("offer-accept")
        expect(accept).to_be_focused()
        expect(accept).to_have_attribute("title", "Accept (Alt+A)")
        expect(accept).to_contain_text("Alt+A")
        expect(agent.get_by_test_id("offer-decline")).to_contain_text("Alt+D")
        expect(agent.get_by_test_id("offer")).to_have_attribute("data-alert", "sound")
        expect(agent.get_by_test_id("state-timer")).to_have_text(re.compile(r"^Ringing 00:0\d$"))
        agent.screenshot(path=str(SHOTS / "desktop-parity-offer.png"))
        agent.keyboard.press("Alt+A")
        expect(agent.get_by_test_id("offer")).to_be_hidden()
        expect(agent).to_have_title("Agent desktop")
        expect(agent.get_by_test_id("agent-input")).to_be_focused()
        expect(agent.get_by_test_id("customer-verified")).to_have_text("unverified")
        expect(customer.get_by_test_id("chat-status")).to_contain_text("Tara")
        agent.keyboard.type("Let me look at your invoice")
        agent.keyboard.press("Enter")
        expect(customer.get_by_test_id("chat-transcript")).to_contain_text("Let me look")
        tab_to(agent, "private-note-text")
        agent.keyboard.type("Asked twice about the May invoice")
        tab_to(agent, "private-note-add")
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("private-note")).to_contain_text("May invoice")
        expect(customer.get_by_test_id("chat-transcript")).not_to_contain_text("May invoice")

        # wrap-up: its countdown, Done disabled until one of billing_chat's dispositions
        tab_to(agent, "agent-hangup")
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("wrapup-form")).to_be_visible()
        countdown = agent.get_by_test_id("wrapup-countdown")
        expect(countdown).to_have_text(re.compile(r"^Wrap-up ends in 00:5\d \(of 01:00\)$"))
        done = agent.get_by_test_id("wrapup-submit")
        expect(done).to_be_disabled()
        disposition = agent.get_by_test_id("wrapup-disposition")
        expect(disposition).to_be_focused()
        options = disposition.locator("option")
        assert options.evaluate_all("os => os.map(o => o.value)") == ["", *BILLING]
        before = countdown.inner_text()
        agent.wait_for_timeout(1300)
        assert countdown.inner_text() < before  # 00:58 after 00:59: it counts down

        check_shot(agent, "desktop-parity-1280.png", 1280)
        agent.set_viewport_size({"width": 390, "height": 844})
        check_shot(agent, "desktop-parity-390.png", 390)

        agent.keyboard.press("ArrowDown")  # the first disposition of the list
        expect(disposition).to_have_value("payment-arranged")
        expect(done).to_be_enabled()
        tab_to(agent, "wrapup-submit")
        agent.keyboard.press("Enter")
        expect(agent.get_by_test_id("wrapup-form")).to_have_count(0)
        expect(agent.get_by_test_id("agent-state")).to_have_text("available")
        expect(agent.get_by_test_id("state-timer")).to_have_text(re.compile(r"^Available 00:0\d$"))
        assert agent.get_by_test_id("desktop-error").inner_text() == ""
