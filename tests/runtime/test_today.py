"""The wallboard's "today" is the center's calendar day (``timezone`` in center.yaml; the
example center is in Europe/Berlin): it starts afresh at the first read or event after local
midnight, and a restart on the same database brings back what today already counted.

The sites here run on a wall clock the test sets, so midnight comes without waiting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contactcenter.config import ConfigError
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.runtime.site import RuntimeSettings
from contactcenter.runtime.today import DayTally, center_zone
from contactcenter.store import Store
from tests.polling import until
from tests.runtime.conftest import center_with

BERLIN_23_50 = datetime(2024, 3, 5, 22, 50, tzinfo=UTC).timestamp()
"""23:50 on 5 March in Berlin (UTC+1), 22:50 UTC."""
BERLIN_00_10 = BERLIN_23_50 + 20 * 60
"""00:10 on 6 March in Berlin, still 5 March in UTC."""


class WallClock:
    """The wall clock the site reads; the test moves it."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


Start = Callable[..., Awaitable[Site]]


@pytest.fixture
async def start_site(tmp_path: Path) -> AsyncIterator[Start]:
    """``await start_site(clock)``: a started site of the example center on ``tmp_path``'s
    database; ``await stop(site)`` is a clean stop. Whatever is still running is stopped."""
    running: list[tuple[Site, Store]] = []

    async def start(clock: WallClock, every: float = 2.0) -> Site:
        center = center_with()
        store = await Store.open(tmp_path / "cc.sqlite3")
        await store.seed_customers(center.customers.values(), center.dedicated_agent)
        site = Site(center, store, metrics=Metrics(center), wall=clock,
                    settings=RuntimeSettings(alive_every_seconds=every))  # fmt: skip
        await site.start()
        running.append((site, store))
        return site

    yield start
    for site, store in running:
        await site.stop()
        await store.close()


async def stop(site: Site) -> None:
    await site.stop()
    await site.store.close()


def row(site: Site, queue: str = "sales_chat") -> tuple[int, int, int]:
    (r,) = [r for r in site.wallboard.queues() if r["queue"] == queue]
    return r["offered"], r["answered"], r["abandoned"]


async def answered_chat(site: Site, agent: str = "a07") -> None:
    if site.engine.router.agent(agent).activity == "offline":
        await site.agents.login(agent)
    cid = await site.chat.start_chat(name="Bo", topic="sales")
    assert await until(lambda: site.agents.open_offer(agent) is not None)
    await site.agents.accept(agent, cid)
    await site.agents.hang_up(agent, cid)
    await site.agents.wrap_up(agent, cid, "resolved")


async def abandoned_chat(site: Site) -> None:
    cid = await site.chat.start_chat(name="Ada", topic="sales")
    await site.chat.customer_left(cid)


async def test_local_midnight_starts_today_afresh_though_utc_is_still_the_same_day(
    start_site: Start,
) -> None:
    clock = WallClock(BERLIN_23_50)
    site = await start_site(clock)
    await abandoned_chat(site)
    await answered_chat(site)
    assert row(site) == (2, 1, 1)
    clock.at = BERLIN_23_50 + 9 * 60  # 23:59 in Berlin: still today
    assert row(site) == (2, 1, 1)

    clock.at = BERLIN_00_10  # a read after midnight shows the new day
    assert row(site) == (0, 0, 0)
    (r,) = [r for r in site.wallboard.queues() if r["queue"] == "sales_chat"]
    assert r["service_level"] is None and r["asa_seconds"] is None and r["aht_seconds"] is None
    await abandoned_chat(site)
    assert row(site) == (1, 0, 1)


async def test_an_event_after_midnight_counts_in_the_new_day(start_site: Start) -> None:
    clock = WallClock(BERLIN_23_50)
    site = await start_site(clock)
    await abandoned_chat(site)
    clock.at = BERLIN_00_10
    await abandoned_chat(site)  # nobody read in between: the event itself turns the day
    assert row(site) == (1, 0, 1)


async def test_a_clean_restart_brings_today_back_and_a_waiting_chat_counts_once(
    start_site: Start,
) -> None:
    clock = WallClock(BERLIN_23_50 - 3600)
    site = await start_site(clock)
    await abandoned_chat(site)
    await answered_chat(site)
    await site.chat.start_chat(name="Cy", topic="sales")  # still waiting at the stop
    assert row(site) == (3, 1, 1)
    await stop(site)

    clock.at += 60
    site = await start_site(clock)
    assert row(site) == (3, 1, 1)
    assert [r["waiting"] for r in site.wallboard.queues() if r["queue"] == "sales_chat"] == [1]
    await abandoned_chat(site)  # and it goes on counting
    assert row(site) == (4, 1, 2)


async def test_the_sign_of_life_saves_today_counts_only_and_yesterday_is_not_restored(
    start_site: Start, tmp_path: Path
) -> None:
    clock = WallClock(BERLIN_23_50)
    site = await start_site(clock, every=0.05)
    await abandoned_chat(site)
    await answered_chat(site)

    async def saved() -> dict[str, int] | None:
        text = await site.store.tally("2024-03-05")
        return None if text is None else json.loads(text)["queues"].get("sales_chat")

    assert await until(lambda: _entered(saved, 2))
    text = await site.store.tally("2024-03-05")
    assert text is not None and "chat-" not in text and "a07" not in text and "Bo" not in text
    await stop(site)

    clock.at = BERLIN_00_10  # restarted after midnight: yesterday's counts stay yesterday's
    site = await start_site(clock)
    assert row(site) == (0, 0, 0)


async def _entered(saved: Callable[[], Awaitable[dict[str, int] | None]], n: int) -> bool:
    counts = await saved()
    return counts is not None and counts.get("entered") == n


def test_the_day_turns_at_midnight_in_the_centers_zone_not_elsewhere() -> None:
    clock = WallClock(BERLIN_23_50)
    zones = {z: DayTally({"sales": 30.0}, 5.0, ZoneInfo(z), clock) for z in ("Europe/Berlin",
             "UTC", "America/New_York")}  # fmt: skip
    for day in zones.values():
        day.current().queue("sales").entered = 1
    clock.at = BERLIN_00_10
    assert {z: d.current().queue("sales").offered for z, d in zones.items()} == {
        "Europe/Berlin": 0,
        "UTC": 1,
        "America/New_York": 1,
    }
    assert {z: d.day for z, d in zones.items()} == {
        "Europe/Berlin": "2024-03-06",
        "UTC": "2024-03-05",
        "America/New_York": "2024-03-05",
    }


def test_an_unknown_time_zone_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"center.yaml: timezone: unknown time zone 'Mars/Base'"):
        center_zone("Mars/Base")


async def test_an_unreadable_saved_tally_is_said_and_today_counts_from_zero(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = WallClock(BERLIN_23_50)
    async with await Store.open(tmp_path / "cc.sqlite3") as store:
        await store.save_tally("2024-03-05", '{"queues": {"sales": {"entered": "x"}}}', clock())
        day = DayTally({"sales": 30.0}, 5.0, ZoneInfo("Europe/Berlin"), clock)
        await day.restore(store)
    assert day.current().queue("sales").offered == 0
    assert "today's saved tally (2024-03-05) is unreadable" in caplog.text
    assert "entered is 'x', not a whole number" in caplog.text
