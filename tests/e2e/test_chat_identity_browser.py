"""The chat widget with a signed identity, in a real headless Chromium against a real ``serve``:
a shop's account page embeds ``/chat#customer_id=..&expires=..&kid=..&signature=..`` (its
backend signed it; here ``contactcenter chat-identity sign``), and the agent's desktop shows a
verified customer with the CRM's card. A forged link gets no chat, and a page of an origin the
center did not list cannot frame the widget.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
import yaml

from tests.e2e.browser import (
    NEEDS_CHROMIUM,
    chromium,
    expect,
    into_routing,
    new_page,
    signed_fragment,
)
from tests.integration.server import ServerProcess, fresh_server

pytestmark = NEEDS_CHROMIUM


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
    """The example center, letting the listed shop frame its widget."""
    with fresh_server(tmp_path, [("root", "admin", None), ("a05", "agent", "a05")]) as srv:
        center = yaml.safe_load((srv.config / "center.yaml").read_text())
        center["chat_identity"] = {"widget": "web", "embed_origins": [shops[0].origin]}
        (srv.config / "center.yaml").write_text(yaml.safe_dump(center, sort_keys=False))
        yield srv


def test_a_signed_link_in_the_shops_page_opens_a_verified_chat(
    server: ServerProcess, shops: tuple[Shop, Shop]
) -> None:
    base = server.start()
    account = shops[0].embedding(base, signed_fragment(server, "C1008", "Jan"))
    with chromium() as browser:
        shop = new_page(browser, 700, 900)
        agent = new_page(browser, 1200, 800)
        shop.goto(account)
        widget = shop.frame_locator("#chat")
        expect(widget.get_by_test_id("chat-signed-in")).to_be_visible()
        expect(widget.get_by_test_id("chat-name")).to_have_value("Jan")
        frame = next(f for f in shop.frames if f.url.startswith(base))
        assert frame.url == f"{base}/chat"  # the signature left the address at once
        widget.get_by_test_id("chat-topic").select_option("sales")
        widget.get_by_test_id("chat-start").click()
        expect(widget.get_by_test_id("chat-status")).to_contain_text("number 1")

        into_routing(agent, base, "a05")
        agent.get_by_test_id("offer-accept").click()
        expect(agent.get_by_test_id("customer-identity")).to_have_text(
            "Verified: signed in on the site"
        )
        expect(agent.get_by_test_id("customer-name")).to_have_text("Jan Novak")  # the CRM's
        expect(agent.get_by_test_id("customer-card")).to_contain_text("jan.novak@example.com")
        expect(widget.get_by_test_id("chat-status")).to_contain_text("Elif")


def test_a_forged_link_gets_no_chat_and_an_unlisted_site_cannot_frame_it(
    server: ServerProcess, shops: tuple[Shop, Shop]
) -> None:
    base = server.start()
    fragment = signed_fragment(server, "C1008", "Jan")
    fields = {k: v[0] for k, v in parse_qs(fragment).items()}
    forged = urlencode({**fields, "customer_id": "C1001"})  # a VIP's id, Jan's signature
    with chromium() as browser:
        page = new_page(browser)
        page.goto(f"{base}/chat#{forged}")
        page.get_by_test_id("chat-topic").select_option("support")
        page.get_by_test_id("chat-start").click()
        expect(page.locator("#start-error")).to_contain_text("could not confirm")
        expect(page.get_by_test_id("chat-status")).to_be_hidden()

        # the shop's very page, from an origin the center did not list
        stranger = new_page(browser)
        stranger.goto(shops[1].embedding(base, fragment))  # waits for its frame too
        framed = [f.url for f in stranger.frames[1:]]
        assert framed == ["chrome-error://chromewebdata/"], framed
        expect(stranger.frame_locator("#chat").get_by_test_id("chat-start")).to_have_count(0)
