"""The wall clock jumps (NTP stepping it, an operator setting it) while a contact is in
progress: waits and talk times come from the monotonic clock the core runs on, so the record
stays honest; only the wall-time stamps show the jump."""

from __future__ import annotations

import asyncio
from pathlib import Path

from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store
from tests.polling import until
from tests.runtime.conftest import center_with


async def test_wall_clock_jumps_do_not_bend_waits_or_talk_times(tmp_path: Path) -> None:
    wall = [1_800_000_000.0]
    center = center_with()
    store = await Store.open(tmp_path / "cc.sqlite3")
    await store.seed_customers(center.customers.values(), center.dedicated_agent)
    site = Site(center, store, metrics=Metrics(center), wall=lambda: wall[0])
    await site.start()
    try:
        cid = await site.chat.start_chat(name="Jan", topic="sales")
        await asyncio.sleep(0.5)
        wall[0] -= 3600.0  # stepped back an hour while the customer waits
        await site.desktops.opened("a05")
        if site.agents.agent("a05").presence.value == "offline":
            await site.agents.login("a05")
        assert await until(lambda: site.engine.router.contact(cid).agent == "a05")
        await site.agents.accept("a05", cid)
        await asyncio.sleep(0.3)
        wall[0] += 7200.0  # and forward two hours while they talk
        await site.agents.hang_up("a05", cid)
        await site.agents.wrap_up("a05", cid, "resolved")
        rec = await store.contact(cid)
        assert rec is not None and rec.outcome == "completed"
        assert rec.wait_seconds is not None and 0.4 <= rec.wait_seconds < 3, rec.wait_seconds
        assert rec.talk_seconds is not None and 0.2 <= rec.talk_seconds < 3, rec.talk_seconds
        # the stamps say what the wall clock said, jumps and all
        assert rec.answered_wall is not None and rec.answered_wall < rec.arrived_wall
        assert rec.completed_wall is not None and rec.completed_wall > rec.arrived_wall + 3000
    finally:
        await site.stop()
        await store.close()
