"""The chat widget with a signed identity, in a real headless Chromium against a real ``serve``:
a shop's account page embeds ``/chat#customer_id=..&expires=..&kid=..&signature=..`` (its
backend signed it; here ``contactcenter chat-identity sign``), and the agent's desktop shows a
verified customer with the CRM's card. A forged link gets no chat, and a page of an origin the
center did not list cannot frame the widget.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
import yaml

from contactcenter.api.chat_identity import KEYS_FILE
from tests import peers
from tests.e2e.test_browser import ARGS, CHROMIUM, playwright_api
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


class Shop:
    """The site that embeds the widget: a page of another origin (a port of its own on
    loopback; Chromium lets only loopback pages frame a loopback server), whose HTML the test
    sets."""

    def __init__(self) -> None:
        shop = self

        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = shop.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.html = ""
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.origin = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def embedding(self, base: str, fragment: str) -> str:
        """Its account page's URL, the page framing ``/chat#fragment`` of ``base``."""
        self.html = (
            "<!doctype html><title>My account</title><h1>Your account</h1>"
            f'<iframe id="chat" src="{base}/chat#{fragment}" width="520" height="700"></iframe>'
        )
        return f"{self.origin}/account"


@pytest.fixture
def shops() -> Iterator[tuple[Shop, Shop]]:
    """The shop the center lists in ``embed_origins``, and a site it does not."""
    listed, stranger = Shop(), Shop()
    try:
        yield listed, stranger
    finally:
        for shop in (listed, stranger):
            shop.http.shutdown()
            shop.http.server_close()


@pytest.fixture
def server(tmp_path: Path, shops: tuple[Shop, Shop]) -> Iterator[ServerProcess]:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_chat_around_the_clock(config)
    center = yaml.safe_load((config / "center.yaml").read_text())
    center["chat_identity"] = {"widget": "web", "embed_origins": [shops[0].origin]}
    (config / "center.yaml").write_text(yaml.safe_dump(center, sort_keys=False))
    db = tmp_path / "var" / "cc.sqlite3"
    set_users(db, config, [("root", "admin", None), ("a05", "agent", "a05")])
    srv = ServerProcess(config, db, tmp_path)
    try:
        yield srv
    finally:
        srv.finish()


def signed_fragment(srv: ServerProcess, customer: str, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "chat-identity", "sign", "--customer", customer,
         "--keys", str(srv.db.parent / KEYS_FILE), "--ttl", "600", "--name", name],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    fragment: str = json.loads(done.stdout)["fragment"]
    return fragment


def test_a_signed_link_in_the_shops_page_opens_a_verified_chat(
    server: ServerProcess, shops: tuple[Shop, Shop]
) -> None:
    expect = playwright_api.expect
    base = server.start()
    account = shops[0].embedding(base, signed_fragment(server, "C1008", "Jan"))
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            shop = browser.new_context(viewport={"width": 700, "height": 900}).new_page()
            agent = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            for page in (shop, agent):
                page.set_default_timeout(10_000)
            shop.goto(account)
            widget = shop.frame_locator("#chat")
            expect(widget.get_by_test_id("chat-signed-in")).to_be_visible()
            expect(widget.get_by_test_id("chat-name")).to_have_value("Jan")
            frame = next(f for f in shop.frames if f.url.startswith(base))
            assert frame.url == f"{base}/chat"  # the signature left the address at once
            widget.get_by_test_id("chat-topic").select_option("sales")
            widget.get_by_test_id("chat-start").click()
            expect(widget.get_by_test_id("chat-status")).to_contain_text("number 1")

            agent.goto(f"{base}/desktop")
            agent.get_by_test_id("login-user").fill("a05")
            agent.get_by_test_id("login-password").fill(PASSWORD)
            agent.get_by_test_id("login-submit").click()
            agent.get_by_test_id("routing-login").click()
            agent.get_by_test_id("offer-accept").click()
            expect(agent.get_by_test_id("customer-identity")).to_have_text(
                "Verified: signed in on the site"
            )
            expect(agent.get_by_test_id("customer-name")).to_have_text("Jan Novak")  # the CRM's
            expect(agent.get_by_test_id("customer-card")).to_contain_text("jan.novak@example.com")
            expect(widget.get_by_test_id("chat-status")).to_contain_text("Elif")
        finally:
            browser.close()


def test_a_forged_link_gets_no_chat_and_an_unlisted_site_cannot_frame_it(
    server: ServerProcess, shops: tuple[Shop, Shop]
) -> None:
    expect = playwright_api.expect
    base = server.start()
    fragment = signed_fragment(server, "C1008", "Jan")
    fields = {k: v[0] for k, v in parse_qs(fragment).items()}
    forged = urlencode({**fields, "customer_id": "C1001"})  # a VIP's id, Jan's signature
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{base}/chat#{forged}")
            page.get_by_test_id("chat-topic").select_option("support")
            page.get_by_test_id("chat-start").click()
            expect(page.locator("#start-error")).to_contain_text("could not confirm")
            expect(page.get_by_test_id("chat-status")).to_be_hidden()

            # the shop's very page, from an origin the center did not list
            stranger = browser.new_context().new_page()
            stranger.goto(shops[1].embedding(base, fragment))  # waits for its frame too
            framed = [f.url for f in stranger.frames[1:]]
            assert framed == ["chrome-error://chromewebdata/"], framed
            expect(stranger.frame_locator("#chat").get_by_test_id("chat-start")).to_have_count(0)
        finally:
            browser.close()
