"""A day the live engine recorded (a real site on a real, sealed store: chats, an agent who
accepts, talks, wraps up, a customer who gives up) replays through the planner with the
logins the store recorded: the same decisions, waits within the agent's clicks."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import pytest

from sim.cli import main
from tests.polling import until
from tests.runtime.conftest import SiteFactory, make_site  # noqa: F401  (the fixture)
from tests.sim.files import CENTER, write_scenario


async def test_a_day_recorded_by_the_live_engine_replays(
    make_site: SiteFactory,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "live" / "cc.sqlite3"
    site = await make_site(db=db)
    router, desk, chat = site.engine.router, site.agents, site.chat
    await desk.login("a29")  # support_chat tier 1, four chats at a time

    def offered(cid: str) -> bool:
        return router.agent("a29").offered_contact == cid

    chats = [await chat.start_chat(name=f"customer {i}", topic="support") for i in range(5)]
    for cid in chats[:4]:
        assert await until(lambda cid=cid: offered(cid), 10)
        await desk.accept("a29", cid)
    await asyncio.sleep(1.0)
    await chat.customer_left(chats[4])  # the fifth found the agent full and gave up
    late = await chat.start_chat(name="customer 5", topic="support")
    await asyncio.sleep(0.5)
    for cid in chats[:2]:
        await desk.hang_up("a29", cid)
        await asyncio.sleep(0.3)
        await desk.wrap_up("a29", cid, "resolved")
    assert await until(lambda: offered(late), 10)
    await desk.accept("a29", late)
    await asyncio.sleep(0.5)
    for cid in [*chats[2:4], late]:
        await desk.hang_up("a29", cid)
        await desk.wrap_up("a29", cid, "resolved")
    await desk.logout("a29")
    record = await site.store.contact_record(chats[0])
    assert record is not None
    day = datetime.fromtimestamp(record.arrived_wall).date()

    scenario = write_scenario(
        tmp_path / "s",
        {
            "center": str(CENTER),
            "agent_groups": {"chat": {"agents": ["a29", "a30"]}},
            "wrap_up": {"mode": "sampled", "mean_seconds": 15},  # agents end their wrap-ups
            "replications": 2,
        },
        staffing=None,
    )
    out = tmp_path / "out"
    code = await asyncio.to_thread(  # (beside the running engine, as an operator would)
        main,
        ["replay", str(scenario), "--store", str(db), "--day", day.isoformat(),
         "--out", str(out), "--workers", "1", "--quiet", "--no-charts"],
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "the agents' logins recorded in the store" in capsys.readouterr().out
    doc = json.loads((out / "replay.json").read_text())
    assert doc["contacts"] == 6 and doc["outcomes"]["answered"] == 5
    row = doc["queues"]["support_chat"]
    recorded, replayed = row["recorded"], row["replayed"]
    assert (recorded["offered"], recorded["answered"], recorded["abandoned"]) == (6, 5, 1)
    for k in ("offered", "answered", "abandoned", "sl_offered"):
        assert replayed[k]["mean"] == recorded[k], k
    # live waits include the agent's clicks to accept (the test's, each after the ones before,
    # tens of milliseconds); the replay's agent accepts at once, so its waits are the shorter
    assert recorded["asa"] > 0.1
    assert 0 <= recorded["asa"] - replayed["asa"]["mean"] < 0.3
