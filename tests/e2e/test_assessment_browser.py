"""The supervisors' per-agent assessment in a real headless Chromium against a real ``serve``
whose database holds a known morning (``tests/store/agent_day.py``; the figures are worked out
by hand in ``tests/store/test_assessment_store.py``): the page shows each agent's figures for
the day with names, sorts by a column (mouse, keyboard, and the "Sort by" list a phone uses),
shows one agent's intervals, fits a 390 px screen, and refuses an agent."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactcenter.store import Store
from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, expect, login, new_page
from tests.integration.server import ServerProcess, fresh_server
from tests.store.agent_day import record_day

pytestmark = NEEDS_CHROMIUM
PAGE = "/assessment?date=2024-03-05"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    users = [("sup", "supervisor", None), ("a05", "agent", "a05")]
    with fresh_server(tmp_path, users) as srv:
        yield srv


async def recorded(db: Path) -> None:
    async with await Store.open(db) as store:
        await record_day(store)


def test_the_supervisor_reads_each_agents_day(server: ServerProcess, tmp_path: Path) -> None:
    asyncio.run(recorded(server.db))
    base = server.start()
    with chromium() as browser:
        boss = new_page(browser, 1280, 800)
        boss.goto(base + PAGE)
        login(boss, "sup")
        agents = boss.get_by_test_id("assessment-agents")
        names = agents.locator("tbody th")
        expect(names).to_have_text(["Elif Fischer", "Farid Gomez"])
        a05, a06 = agents.locator("tr[data-key=a05]"), agents.locator("tr[data-key=a06]")
        shows = {
            a05: {"handled": "2", "aht": "3m 30s", "talk": "3m 15s", "acw": "15s",
                  "occupancy": "80%", "csat": "4.0", "answers": "1", "fcr": "0%",
                  "first": "1", "transfers": "1", "no_answers": "1", "queues": "Sales"},
            a06: {"handled": "2", "aht": "3m 48s", "talk": "3m 38s", "acw": "10s",
                  "occupancy": "75%", "csat": "3.5", "answers": "2", "fcr": "100%",
                  "first": "2", "transfers": "0", "no_answers": "0", "queues": "Sales"},
        }  # fmt: skip
        for row, cells in shows.items():
            for field, text in cells.items():
                expect(row.locator(f"[data-field={field}]")).to_have_text(text)
        assert boss.evaluate("document.documentElement.scrollWidth") <= 1280
        boss.screenshot(path=str(SHOTS / "assessment-1-day.png"), full_page=True)

        # sort by AHT: highest first, then (keyboard, the button keeps the focus) lowest first
        aht = agents.locator("button[data-sort=aht]")
        aht.click()
        expect(names).to_have_text(["Farid Gomez", "Elif Fischer"])
        expect(agents.locator("th:has(button[data-sort=aht])")).to_have_attribute(
            "aria-sort", "descending"
        )
        expect(aht).to_be_focused()
        boss.keyboard.press("Enter")
        expect(names).to_have_text(["Elif Fischer", "Farid Gomez"])

        # one agent's intervals: 09:00-09:30 (c1) and 09:30-10:00 (c2 handed on, c3 declined)
        boss.get_by_test_id("assessment-by").select_option("interval")
        boss.get_by_test_id("assessment-agent").select_option("a05")
        boss.get_by_test_id("assessment-show").click()
        intervals = boss.get_by_test_id("assessment-intervals-a05")
        expect(intervals.locator("tbody th")).to_have_text(["09:00", "09:30"])
        first, second = intervals.locator("tbody tr").nth(0), intervals.locator("tbody tr").nth(1)
        expect(first.locator("[data-field=aht]")).to_have_text("2m 00s")
        expect(first.locator("[data-field=occupancy]")).to_have_text("77%")
        expect(second.locator("[data-field=aht]")).to_have_text("5m 00s")
        expect(second.locator("[data-field=occupancy]")).to_have_text("84%")
        expect(second.locator("[data-field=no_answers]")).to_have_text("1")
        expect(boss.locator("[data-agent=a06]")).to_have_count(0)

        # a phone: every figure on screen beside its name, sorted with the "Sort by" list
        phone = new_page(browser, 390, 844)
        phone.goto(base + PAGE)
        login(phone, "sup")
        table = phone.get_by_test_id("assessment-agents")
        expect(table.locator("tr[data-key=a06] [data-field=occupancy]")).to_have_text("75%")
        phone.get_by_test_id("assessment-sort").select_option("occupancy:desc")
        expect(table.locator("tbody th")).to_have_text(["Elif Fischer", "Farid Gomez"])
        phone.get_by_test_id("assessment-sort").select_option("occupancy:asc")
        expect(table.locator("tbody th")).to_have_text(["Farid Gomez", "Elif Fischer"])
        cell = table.locator("tr[data-key=a05] [data-field=no_answers]")
        expect(cell).to_have_attribute("data-label", "No-answers")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        phone.screenshot(path=str(SHOTS / "assessment-2-day-390.png"), full_page=True)

        # an agent may not read it
        agent = new_page(browser)
        agent.goto(base + PAGE)
        login(agent, "a05")
        expect(agent.get_by_test_id("assessment-refused")).to_be_visible()

    assert server.stop() == 0
    for shot in SHOTS.glob("assessment-*.png"):
        shutil.copy(shot, tmp_path / shot.name)
