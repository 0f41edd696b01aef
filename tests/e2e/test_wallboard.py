"""The wallboard in a real headless Chromium: a supervisor runs the floor from it.

The app runs in this process (``build_app`` over a real ``Site`` and SQLite store, on a loopback
port, in a thread with its own event loop), so a scenario can set up numbers that take time on
a real floor (a call back asked for an hour ago). Everything the page does goes over HTTP and
the wallboard WebSocket, as from ``serve``. Screenshots go to ``test-output/e2e/`` (gitignored)
and are checked through what the page shows: elements' visibility, bounding boxes and values.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from contactcenter.api import Settings, build_app
from contactcenter.config import load_center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store, passwords
from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, expect, login, new_page
from tests.integration.server import PASSWORD, ROOT
from tests.polling import until

USERS = {
    "sup": ("supervisor", None),
    "root": ("admin", None),
    "a05": ("agent", "a05"),
    "a06": ("agent", "a06"),
    "a07": ("agent", "a07"),
}
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}

pytestmark = NEEDS_CHROMIUM

T = TypeVar("T")


@dataclass
class Floor:
    """The running center: its site (to set a scenario up), its address, and HTTP as a user."""

    base: str
    site: Site
    loop: asyncio.AbstractEventLoop
    tokens: dict[str, str] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        """Run ``coro`` on the server's loop (the site lives there) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, method: str, path: str, user: str | None = None, body: Any = None) -> Any:
        """An HTTP call as ``user``; the JSON answer (asserts a 2xx)."""
        status, data = self.request(method, path, user, body)
        assert 200 <= status < 300, (method, path, status, data)
        return data

    def request(
        self, method: str, path: str, user: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if user is not None:
            if user not in self.tokens:
                self.tokens[user] = self.call(
                    "POST", "/api/login", body={"username": user, "password": PASSWORD}
                )["token"]
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def chat(self, topic: str, name: str) -> str:
        """A customer starts a chat (and stays: the chat's grace is long)."""
        return str(
            self.call("POST", "/api/chat", body={"name": name, "topic": topic})["contact_id"]
        )

    def audit(self, action: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.call("GET", f"/api/audit?action={action}", "root")[
            "entries"
        ]
        return entries


@pytest.fixture
def floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Floor]:
    monkeypatch.setattr(passwords, "N", 2**10)  # (the store's own tests cover the real cost)
    center = load_center(ROOT / "config")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="wallboard-server", daemon=True)
    thread.start()

    async def start() -> tuple[Store, Site, web.AppRunner, int]:
        store = await Store.open(tmp_path / "cc.sqlite3")
        await store.seed_customers(center.customers.values(), center.dedicated_agent)
        for user, (role, agent) in USERS.items():
            await store.set_user(user, PASSWORD, role, agent)  # type: ignore[arg-type]
        metrics = Metrics(center)
        site = Site(center, store, metrics=metrics)
        settings = Settings(chat_grace=3600, wallboard_min_interval=0.2, wallboard_refresh=1.0)
        runner = web.AppRunner(build_app(site, store, metrics, settings=settings))
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        port: int = runner.addresses[0][1]
        return store, site, runner, port

    store, site, runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    try:
        yield Floor(f"http://127.0.0.1:{port}", site, loop)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        asyncio.run_coroutine_threadsafe(store.close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium() as b:
        yield b
    for shot in SHOTS.glob("wallboard-*.png"):
        shutil.copy(shot, tmp_path / shot.name)


def open_board(browser: Any, floor: Floor, user: str, viewport: dict[str, int]) -> Any:
    page = new_page(browser, **viewport)
    page.goto(f"{floor.base}/wallboard")
    login(page, user)
    return page


def overflow(page: Any) -> dict[str, Any]:
    """How wide the document is, the visible tables, and what sticks out of its card: a table,
    or anything in one (a cell, a field, a button)."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const out = [], seen = [];
            for (const table of document.querySelectorAll("main table")) {
                if (!table.getClientRects().length) continue;  // hidden
                seen.push(table.dataset.testid);
                const c = table.closest(".card").getBoundingClientRect();
                const head = table.tHead.getBoundingClientRect();
                const shown = head.width > 1 ? "*" : "tbody *";  // (else read aloud only)
                for (const node of [table, ...table.querySelectorAll(shown)]) {
                    const b = node.getBoundingClientRect();
                    if (b.width && (b.left < c.left - 0.5 || b.right > c.right + 0.5))
                        out.push({table: table.dataset.testid, node: node.tagName,
                                  field: node.dataset.field || node.dataset.testid || "",
                                  left: b.left, right: b.right, card: [c.left, c.right]});
                }
            }
            return {scroll_width: document.scrollingElement.scrollWidth, tables: seen,
                    sticking_out: out};
        }"""
    )
    return result


@pytest.mark.parametrize("width", [390, 768, 1024, 1280, 1440])
def test_every_table_fits_its_card_from_a_phone_up(floor: Floor, browser: Any, width: int) -> None:
    """At 390 px the queue table spilled out of its card (and the page scrolled sideways); no
    table may, at any width from a phone to a laptop (the wall display: below)."""
    busy_agent(floor, "a07")
    floor.call("POST", "/api/agent/login", "a06")
    floor.call(
        "PUT", "/api/supervisor/agents/a06/state", "sup", {"state": "away", "reason": "training"}
    )
    floor.chat("support", "Al")
    floor.run(
        floor.site.callbacks.book(
            "support", "+4930555010100", source="api", arrived_wall=time.time() - 3725
        )
    )
    page = open_board(browser, floor, "sup", {**PHONE, "width": width})
    expect(page.locator("tr[data-queue=support_chat] [data-field=waiting]")).to_have_text("1")
    expect(page.locator("[data-testid=wallboard-callback-rows] tr")).to_have_count(1)
    expect(page.locator("[data-testid=agent-rows] tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / f"wallboard-{width}px.png"), full_page=True)
    measured = overflow(page)
    assert measured["scroll_width"] <= width
    assert {"queues-table", "waiting-table", "agents-table", "callbacks-table"} <= set(
        measured["tables"]
    )
    assert measured["sticking_out"] == []


def busy_agent(floor: Floor, agent: str) -> tuple[str, float]:
    """``agent`` logs in and answers a sales chat: (its id, when the agent became busy)."""
    floor.call("POST", "/api/agent/login", agent)
    cid = floor.chat("sales", "Bo")
    assert floor.run(until(lambda: floor.site.agents.open_offer(agent) is not None))
    floor.call("POST", f"/api/agent/contacts/{cid}/accept", agent)
    return cid, time.monotonic()


def seconds_shown(text: str) -> int:
    match = re.fullmatch(r"(\d+) s", text)
    assert match, text
    return int(match.group(1))


def test_a_supervisor_runs_the_floor_from_a_wall_display(floor: Floor, browser: Any) -> None:
    """A scripted floor with known numbers, seen on a 1920x1080 wall display; then each action
    from the page, what the API reports after it, and the audit log."""
    # a07 answers a sales chat; a05 and a06 are available; three chats wait in support chat
    # (none of them has the skill); a call back asked for 3725 s ago waits in support
    _, busy_since = busy_agent(floor, "a07")
    for agent in ("a05", "a06"):
        floor.call("POST", "/api/agent/login", agent)
    chats = [floor.chat("support", name) for name in ("Al", "Bea", "Cy")]
    booked = floor.run(
        floor.site.callbacks.book(
            "support", "+4930555010100", source="api", arrived_wall=time.time() - 3725
        )
    )
    callback = booked.callback_contact_id

    page = open_board(browser, floor, "sup", WALL)

    def row(queue: str) -> Any:
        return page.locator(f"tr[data-queue={queue}]")

    expect(row("support_chat").locator("[data-field=waiting]")).to_have_text("3")
    expect(row("support").locator("[data-field=waiting]")).to_have_text("1")
    expect(row("support").locator("[data-field=oldest]")).to_have_text("1 h 2 min")
    expect(row("support").locator("[data-field=oldest]")).to_have_class(re.compile(r"\bover\b"))
    expect(row("support").locator("[data-field=callbacks]")).to_have_text("1/0")
    expect(row("support").locator("[data-field=target]")).to_have_text("80% in 30 s")
    expect(row("support_email").locator("[data-field=target]")).to_have_text("95% in 24 h")
    expect(row("sales_chat").locator("[data-field=target]")).to_have_text("90% in 10 s")
    known = {"staffed": "3", "available": "2", "on-contact": "1", "acw": "0", "away": "0",
             "offered": "1", "answered": "1", "sl": "100%"}  # fmt: skip
    sales = {f: row("sales_chat").locator(f"[data-field={f}]") for f in known}
    for f, text in known.items():
        expect(sales[f]).to_have_text(text)
    expect(page.locator("[data-testid=waiting-rows] tr")).to_have_count(4)
    a07 = page.locator("[data-testid=agent-rows] tr[data-agent=a07]")
    expect(a07.locator("[data-field=state]")).to_have_text("busy")
    expect(a07.locator("[data-field=contacts]")).to_have_text("1 chat")
    page.wait_for_timeout(3000)  # busy a few seconds: "For" counts from the answer
    shown = seconds_shown(a07.locator("[data-field=for]").inner_text())
    assert abs(shown - (time.monotonic() - busy_since)) <= 1.5
    page.screenshot(path=str(SHOTS / "wallboard-wall.png"))

    # the wall display: no sideways scrolling, every table in its card, the queues in view
    measured = overflow(page)
    assert measured["scroll_width"] <= WALL["width"] and measured["sticking_out"] == []
    box = page.get_by_test_id("queues-table").bounding_box()
    assert box is not None and box["y"] + box["height"] <= WALL["height"]

    # force a06 away (break)
    a06 = page.locator("[data-testid=agent-rows] tr[data-agent=a06]")
    a06.get_by_test_id("agent-state-choice").select_option("away:break")
    a06.get_by_test_id("agent-state-set").click()
    expect(page.get_by_test_id("action-status")).to_have_text("Farid Gomez is now away (break).")
    expect(a06.locator("[data-field=state]")).to_have_text("away (break)")
    expect(sales["away"]).to_have_text("1")
    reported = {a["agent"]: a for a in floor.call("GET", "/api/supervisor/agents", "sup")}
    assert (reported["a06"]["state"], reported["a06"]["reason"]) == ("away", "break")

    # move the first support chat to sales chat (a05 is rung for it at once)
    waiting = page.locator("[data-testid=waiting-rows]")
    first = waiting.locator(f'tr[data-contact="{chats[0]}"]')
    first.get_by_test_id("move-queue").select_option("sales_chat")
    first.get_by_test_id("move-go").click()
    expect(page.get_by_test_id("action-status")).to_contain_text("to Sales chat")
    expect(row("support_chat").locator("[data-field=waiting]")).to_have_text("2")
    expect(sales["offered"]).to_have_text("2")
    queues = {q["queue"]: q for q in floor.call("GET", "/api/supervisor/queues", "sup")}
    assert queues["support_chat"]["waiting"] == 2 and queues["sales_chat"]["offered"] == 2

    # raise the last support chat above the others
    last = waiting.locator(f'tr[data-contact="{chats[2]}"]')
    expect(last.locator("[data-field=place]")).to_have_text("2")
    last.get_by_test_id("priority-input").fill("300")
    last.get_by_test_id("priority-set").click()
    expect(last.locator("[data-field=place]")).to_have_text("1")
    expect(last.get_by_test_id("priority-input")).to_have_value("300")
    reported_waiting = floor.call("GET", "/api/supervisor/waiting", "sup")
    first_in_line = next(w for w in reported_waiting if w["queue"] == "support_chat")
    assert (first_in_line["contact_id"], first_in_line["priority"]) == (chats[2], 300)

    # why does the call back wait? The core's explain, as the page shows it
    waiting.locator(f'tr[data-contact="{callback}"]').get_by_test_id("explain-open").click()
    panel = page.get_by_test_id("explain")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("explain-summary")).to_contain_text("No agent can take it now")
    expect(page.get_by_test_id("explain-summary")).to_contain_text("waited 1 h 2 min")
    core = floor.run(explained(floor, callback))
    rows = page.locator("[data-testid=explain-rows] tr")
    expect(rows).to_have_count(len(core))
    for agent, detail in list(core.items())[:5]:
        expect(rows.locator(f"xpath=self::tr[@data-agent='{agent}']").locator(
            "[data-field=why]")).to_have_text(detail)  # fmt: skip
    page.screenshot(path=str(SHOTS / "wallboard-explain.png"), full_page=True)

    # the audit log holds every action the page made, by the supervisor
    assert [(e["actor"], e["target"], e["detail"]) for e in floor.audit("agent_state")] == [
        ("sup", "a06", {"state": "away", "reason": "break"})
    ]
    assert [(e["actor"], e["target"]) for e in floor.audit("move_contact")] == [("sup", chats[0])]
    assert [(e["actor"], e["target"], e["detail"]["priority"])
            for e in floor.audit("contact_priority")] == [("sup", chats[2], 300)]  # fmt: skip
    assert [(e["actor"], e["target"]) for e in floor.audit("read_explain")] == [("sup", callback)]
    # the call backs (an audited read) were read when their counts changed, not every few s
    assert 1 <= len(floor.audit("read_callbacks")) <= 2

    # live: a new chat shows without a reload
    floor.chat("support", "Di")
    expect(row("support_chat").locator("[data-field=waiting]")).to_have_text("3")
    expect(page.locator("[data-testid=waiting-rows] tr")).to_have_count(4)


async def explained(floor: Floor, contact_id: str) -> dict[str, str]:
    """Agent id -> why not, as the core explains it now (not through the API: no audit)."""
    await floor.site.engine.advance()
    return {c.agent_id: c.detail for c in floor.site.engine.router.explain(contact_id).candidates}


def tab_to(page: Any, testid: str, limit: int = 80) -> int:
    """Press Tab until the focus is on the first element with ``testid``: how many presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == testid:
            return presses
    raise AssertionError(f"Tab never reached {testid}")


def test_the_actions_work_from_the_keyboard(floor: Floor, browser: Any) -> None:
    """Tab to each action and operate it with the keyboard (Enter, typing, arrows); the focus
    is visible, the controls are buttons and fields with names, and live updates never take
    the focus away."""
    floor.call("POST", "/api/agent/login", "a05")
    chat = floor.chat("support", "Al")
    page = open_board(browser, floor, "sup", {"width": 1280, "height": 900})
    row = page.locator(f'[data-testid=waiting-rows] tr[data-contact="{chat}"]')
    expect(row).to_have_count(1)

    # every action is a real button (or field) with a name that says what it acts on
    for name in ("Set the priority of the contact at place 1 in Support chat",
                 "Move the contact at place 1 in Support chat",
                 "Why waiting? the contact at place 1 in Support chat",
                 "Set the state of Elif Fischer"):  # fmt: skip
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
    expect(page.get_by_role("spinbutton", name="Priority of the contact at place 1 in "
                            "Support chat")).to_have_count(1)  # fmt: skip

    # Tab to "Why waiting?", Enter: the explanation opens and takes the focus; Escape closes it
    tab_to(page, "explain-open")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    assert ring[0] != "none" and ring[1] >= 2, ring  # the focus is visible
    page.wait_for_timeout(1500)  # live updates come meanwhile (at least one a second)
    assert page.evaluate("document.activeElement.dataset.testid") == "explain-open"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("explain")).to_be_visible()
    expect(page.get_by_test_id("explain")).to_be_focused()
    expect(page.get_by_test_id("explain-summary")).to_contain_text("escalation step")
    page.screenshot(path=str(SHOTS / "wallboard-keyboard-explain.png"))
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("explain")).to_be_hidden()
    expect(row.get_by_test_id("explain-open")).to_be_focused()
    assert [e["target"] for e in floor.audit("read_explain")] == [chat]

    # the priority: type it, Tab to Set, Enter
    page.keyboard.press("Shift+Tab")  # (the Move button)
    page.keyboard.press("Shift+Tab")  # (the queue to move to)
    page.keyboard.press("Shift+Tab")  # Set
    page.keyboard.press("Shift+Tab")  # the priority
    expect(row.get_by_test_id("priority-input")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("77")
    page.keyboard.press("Tab")
    expect(row.get_by_test_id("priority-set")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("action-status")).to_have_text(
        "The priority of the contact at place 1 in Support chat is now 77."
    )
    (waiting,) = floor.call("GET", "/api/supervisor/waiting", "sup")
    assert (waiting["contact_id"], waiting["priority"]) == (chat, 77)

    # an agent's state: Tab to the choice, arrow down to "Away: break", Tab, Enter
    tab_to(page, "agent-state-choice")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("agent-state-choice")).to_have_value("away:break")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("action-status")).to_have_text("Elif Fischer is now away (break).")
    reported = {a["agent"]: a for a in floor.call("GET", "/api/supervisor/agents", "sup")}
    assert (reported["a05"]["state"], reported["a05"]["reason"]) == ("away", "break")
    assert [(e["actor"], e["target"]) for e in floor.audit("agent_state")] == [("sup", "a05")]
    assert [(e["actor"], e["target"]) for e in floor.audit("contact_priority")] == [("sup", chat)]


def test_a_refusal_is_shown_not_swallowed(floor: Floor, browser: Any) -> None:
    """An agent cannot open the wallboard's actions: the page says the server refused, and the
    API refuses the actions themselves. A supervisor's action the engine refuses says why."""
    chat = floor.chat("support", "Al")
    page = open_board(browser, floor, "a05", PHONE)
    refused = page.get_by_test_id("wallboard-refused")
    expect(refused).to_be_visible()
    expect(refused).to_have_attribute("role", "alert")
    expect(refused).to_contain_text("The wallboard is for supervisors")
    expect(refused).to_contain_text("this needs the supervisor role (HTTP 403)")
    expect(refused).to_contain_text("a05 is logged in as agent")
    expect(page.get_by_test_id("explain-open")).to_have_count(0)
    expect(page.locator("#board")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "wallboard-agent-refused.png"))
    status, body = floor.request(
        "PUT", f"/api/supervisor/contacts/{chat}/priority", "a05", {"priority": 9}
    )
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert floor.audit("contact_priority") == []

    # a supervisor cannot log out an agent who holds a contact: the page says so
    busy_agent(floor, "a07")
    boss = open_board(browser, floor, "sup", PHONE)
    a07 = boss.locator("[data-testid=agent-rows] tr[data-agent=a07]")
    expect(a07.locator("[data-field=state]")).to_have_text("busy")
    a07.get_by_test_id("agent-state-choice").select_option("offline")
    a07.get_by_test_id("agent-state-set").click()
    alert = boss.get_by_test_id("wallboard-error")
    expect(alert).to_contain_text("Setting the agent's state failed: ")
    expect(alert).to_contain_text("(HTTP 409)")
    expect(alert).to_be_in_viewport()  # the notice stays in view where the button is
    boss.screenshot(path=str(SHOTS / "wallboard-phone-refused-action.png"))
    reported = {a["agent"]: a for a in floor.call("GET", "/api/supervisor/agents", "sup")}
    assert reported["a07"]["state"] == "busy"
    assert floor.audit("agent_state") == []
