"""CSAT (and the FCR part of the quality page) end to end in a real headless Chromium against
a real ``serve``: a customer on a phone (390 px) ends a chat an agent answered, the widget asks
for a score, the customer gives 4 and a comment with the keyboard alone; the supervisors'
quality page shows 4.0 for the agent and the queue (and no first contact: the chat was
anonymous), ``/metrics`` has the observation, a second answer and another chat's customer are
refused, and the database file holds no clear comment."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from tests.integration.server import ServerProcess, fresh_server
from tests.scrape import by_label

pytestmark = NEEDS_CHROMIUM
COMMENT = "Quick and friendly, thanks Elif"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    users = [("sup", "supervisor", None), ("a05", "agent", "a05")]
    with fresh_server(tmp_path, users) as srv:
        yield srv


def post(url: str, body: Any) -> tuple[int, Any]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_customer_scores_a_chat_and_the_supervisor_sees_it(
    server: ServerProcess, tmp_path: Path
) -> None:
    base = server.start()
    with chromium() as browser:
        phone = new_page(browser, 390, 844)
        agent = new_page(browser, 1200, 800)
        boss = new_page(browser, 390, 844)

        start_chat(phone, base, "Jan", "sales")
        chat = json.loads(phone.evaluate("sessionStorage.getItem('cc-chat')"))

        into_routing(agent, base, "a05")
        agent.get_by_test_id("offer-accept").click()
        expect(phone.get_by_test_id("chat-status")).to_contain_text("Elif")
        expect(phone.get_by_test_id("chat-survey")).to_be_hidden()  # not while chatting

        # the customer ends the chat: the survey appears, the first score has the focus
        phone.get_by_test_id("chat-end").click()
        survey = phone.get_by_test_id("chat-survey")
        expect(survey).to_be_visible()
        expect(phone.get_by_test_id("chat-survey-question")).to_have_text(
            "How satisfied are you with the help you got?"
        )
        first = phone.locator("input[name=score][value='1']")
        expect(first).to_be_focused()
        # on the phone every score is on screen and nothing sticks out sideways
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        for score in range(1, 6):
            box = phone.locator(f"input[name=score][value='{score}']").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        phone.screenshot(path=str(SHOTS / "csat-1-survey-390.png"), full_page=True)

        # keyboard alone: arrows pick 4, Tab to the comment, type, Tab to Send, Enter
        for _ in range(3):
            phone.keyboard.press("ArrowRight")
        expect(phone.locator("input[name=score][value='4']")).to_be_checked()
        phone.keyboard.press("Tab")
        expect(phone.get_by_test_id("chat-survey-comment")).to_be_focused()
        phone.keyboard.type(COMMENT)
        phone.keyboard.press("Tab")
        expect(phone.get_by_test_id("chat-survey-send")).to_be_focused()
        phone.keyboard.press("Enter")
        expect(phone.get_by_test_id("chat-survey-thanks")).to_be_visible()
        expect(survey).to_be_hidden()
        phone.screenshot(path=str(SHOTS / "csat-2-thanks-390.png"), full_page=True)

        # the supervisor's quality page (on a phone too): 4.0 for a05 and for sales_chat
        boss.goto(f"{base}/quality")
        login(boss, "sup")
        agents = boss.get_by_test_id("csat-agents")
        row = agents.locator("tr[data-key=a05]")
        expect(row.locator("[data-field=average]")).to_have_text("4.0")
        expect(row.locator("[data-field=answers]")).to_have_text("1")
        expect(row.locator("th")).to_have_text("Elif Fischer")
        # each column's name: in the header, and beside its value on a phone
        expect(agents.locator("thead th")).to_have_text(
            ["Agent", "Answers", "Average (1-5)", "Satisfied (4-5)", "Asked, no score"]
        )
        expect(row.locator("[data-field=unanswered]")).to_have_text("0")
        expect(row.locator("[data-field=average]")).to_have_attribute("data-label", "Average (1-5)")
        queue = boss.get_by_test_id("csat-queues").locator("tr[data-key=sales_chat]")
        expect(queue.locator("[data-field=average]")).to_have_text("4.0")
        expect(queue.locator("[data-field=satisfied]")).to_have_text("100%")
        assert COMMENT not in boss.content()
        # the chat was anonymous: no first contact to resolve (verified customers only)
        fcr = boss.get_by_test_id("fcr-queues")
        expect(fcr.locator("thead th")).to_have_text(
            ["Queue", "First contacts", "Resolved", "FCR", "Window open"]
        )
        expect(fcr.locator("tbody td")).to_have_text("No first contacts this day.")
        expect(boss.get_by_test_id("fcr-rule")).to_contain_text("within 7 days")
        assert boss.evaluate("document.documentElement.scrollWidth") <= 390
        boss.screenshot(path=str(SHOTS / "csat-3-quality-390.png"), full_page=True)

        # an agent may not read it
        agent.goto(f"{base}/quality")
        expect(agent.get_by_test_id("quality-refused")).to_be_visible()

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    counts = by_label(text, "contactcenter_survey_score_count", "queue")
    assert counts["sales_chat"] == 1
    assert by_label(text, "contactcenter_survey_score_sum", "queue")["sales_chat"] == 4

    cid = chat["contact_id"]
    status, body = post(f"{base}/api/chat/{cid}/survey", {"token": chat["token"], "score": 1})
    assert (status, body["error"]["code"]) == (409, "already_answered")
    status, other = post(f"{base}/api/chat", {"name": "Eve", "topic": "support"})
    assert status == 201
    status, body = post(f"{base}/api/chat/{cid}/survey", {"token": other["token"], "score": 1})
    assert (status, body["error"]["code"]) == (403, "bad_token")

    assert server.stop() == 0
    for part in server.db.parent.glob(server.db.name + "*"):
        assert COMMENT.encode() not in part.read_bytes(), part.name
    for shot in SHOTS.glob("csat-*.png"):
        shutil.copy(shot, tmp_path / shot.name)
