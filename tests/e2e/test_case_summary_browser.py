"""The quality page's complaint cases section in a real headless Chromium against a real
``serve``: with an escalated billing case and an overdue service case in the store, a
supervisor on a phone (390 px) sees per category how many are open, overdue and escalated."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from contactcenter.cases import CaseStatus
from contactcenter.store import Store
from contactcenter.store.cases import move_case, open_case
from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, expect, login, new_page
from tests.integration.server import fresh_server

pytestmark = NEEDS_CHROMIUM


async def two_cases(db: Path) -> None:
    now = time.time()
    async with await Store.open(db) as store:
        billing = await open_case(
            store, customer_id="C1008", contact_id="c-1", category="billing", severity="low",
            description="charged twice", owner="a05", wall_time=now,
        )  # fmt: skip
        await move_case(store, billing, CaseStatus.ESCALATED, actor="a05", wall_time=now)
        await open_case(
            store, customer_id="C1001", contact_id="c-2", category="service", severity="high",
            description="no line", owner="a05", wall_time=now - 2 * 3600,
        )  # fmt: skip


def test_a_supervisor_sees_open_overdue_and_escalated_cases_per_category(tmp_path: Path) -> None:
    with fresh_server(tmp_path, [("sup", "supervisor", None)]) as server:
        asyncio.run(two_cases(server.db))
        base = server.start()
        with chromium() as browser:
            page = new_page(browser, 390, 844)
            page.goto(f"{base}/quality")
            login(page, "sup")
            rows = page.get_by_test_id("cases-summary-rows")
            expect(rows.locator("tr")).to_have_count(4)  # every category of cases.yaml

            def cells(category: str) -> list[str]:
                row = rows.locator(f'tr[data-category="{category}"]')
                return [row.locator("th").inner_text(), *row.locator("td").all_inner_texts()]

            expect(rows.locator('tr[data-category="service"] td').nth(1)).to_have_text("1")
            assert cells("billing") == ["Billing dispute", "1", "0", "1"]
            assert cells("service") == ["Service outage or quality", "1", "1", "0"]
            assert cells("contract") == ["Contract and cancellation", "0", "0", "0"]
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page is {width} px wide on a 390 px phone"
            page.screenshot(path=str(SHOTS / "cases-summary-390.png"), full_page=True)
