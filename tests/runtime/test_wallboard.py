"""The wallboard's numbers on a live site, from a scripted floor with known numbers: agents per
queue by what they do, AHT and abandon rate (``contactcenter.kpi``), time in the current state,
the waiting contacts in serving order (and the snapshot's bound on them), an hour-old wait."""

from __future__ import annotations

import asyncio

import pytest

from contactcenter.agents import Presence
from contactcenter.events import ContactCompleted, Event, WrapUpEnded
from contactcenter.runtime import wallboard
from tests.polling import until
from tests.runtime.conftest import SiteFactory


async def test_queue_rows_count_agents_by_what_they_do_and_the_kpis(
    make_site: SiteFactory,
) -> None:
    site = await make_site()
    router, board = site.engine.router, site.wallboard
    seen: list[Event] = []
    site.engine.listen(seen.append)

    def row(queue: str) -> dict[str, object]:
        (r,) = [r for r in board.queues() if r["queue"] == queue]
        return r

    assert row("sales_chat")["agents_staffed"] == 0
    assert row("sales_chat")["abandon_rate"] is None and row("sales_chat")["aht_seconds"] is None

    # a customer gives up before anyone is there
    gone = await site.chat.start_chat(name="Ada", topic="sales")
    await site.chat.customer_left(gone)
    assert row("sales_chat")["abandon_rate"] == 1.0

    # a07 takes the next chat; a05 is available; a06 is away (all three serve sales_chat)
    await site.agents.login("a07")
    cid = await site.chat.start_chat(name="Bo", topic="sales")
    assert await until(lambda: site.agents.open_offer("a07") is not None)
    await site.agents.accept("a07", cid)
    await site.agents.login("a05")
    await site.agents.login("a06")
    await site.agents.set_presence("a06", Presence.AWAY, "break")
    r = row("sales_chat")
    assert (r["agents_staffed"], r["agents_available"], r["agents_on_contact"]) == (3, 1, 1)
    assert (r["agents_after_contact_work"], r["agents_away"]) == (0, 1)
    assert r["abandon_rate"] == 0.5 and r["offered"] == 2

    await asyncio.sleep(0.3)
    await site.agents.hang_up("a07", cid)
    assert row("sales_chat")["agents_after_contact_work"] == 1
    assert row("sales_chat")["aht_seconds"] is not None  # the talk, its wrap-up still to come
    await asyncio.sleep(0.2)
    await site.agents.wrap_up("a07", cid, "resolved")
    r = row("sales_chat")
    assert (r["agents_available"], r["agents_on_contact"], r["agents_after_contact_work"]) == (
        2,
        0,
        0,
    )
    (talk,) = [e.handle_seconds for e in seen if isinstance(e, ContactCompleted)]
    (wrap,) = [e.wrap_up_seconds for e in seen if isinstance(e, WrapUpEnded)]
    assert talk >= 0.3 and wrap >= 0.2
    assert r["aht_seconds"] == pytest.approx(talk + wrap)
    assert router.agent("a07").handled == 1
    (a07,) = [a for a in board.agents() if a["agent"] == "a07"]
    assert a07["handled"] == 1 and a07["contacts"] == []
    assert 0 < a07["occupancy"] < 1


async def test_time_in_state_restarts_when_the_away_reason_changes(
    make_site: SiteFactory,
) -> None:
    site = await make_site()
    await site.agents.login("a05")
    await site.agents.set_presence("a05", Presence.AWAY, "break")
    await asyncio.sleep(0.5)
    (a05,) = [a for a in site.wallboard.agents() if a["agent"] == "a05"]
    assert a05["reason"] == "break" and a05["since"] >= 0.5
    await site.agents.set_presence("a05", Presence.AWAY, "lunch")  # the same activity: away
    await asyncio.sleep(0.1)
    (a05,) = [a for a in site.wallboard.agents() if a["agent"] == "a05"]
    assert a05["reason"] == "lunch" and 0.1 <= a05["since"] < 0.4


async def test_waiting_contacts_in_serving_order_and_the_snapshot_bound(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = await make_site()
    ids = [await site.chat.start_chat(name=n, topic="support") for n in ("Al", "Bea", "Cy")]
    await site.supervision.set_priority("boss", ids[2], 500)
    rows = [r for r in site.wallboard.waiting() if r["queue"] == "support_chat"]
    assert [r["contact_id"] for r in rows] == [ids[2], ids[0], ids[1]]
    assert [r["place"] for r in rows] == [1, 2, 3]
    assert rows[0]["priority"] == 500 and rows[0]["state"] == "waiting"

    monkeypatch.setattr(wallboard, "WAITING_SHOWN", 2)
    snap = site.wallboard.snapshot()
    shown = [r["contact_id"] for r in snap["waiting"] if r["queue"] == "support_chat"]
    assert shown == [ids[2], ids[0]]
    (q,) = [q for q in snap["queues"] if q["queue"] == "support_chat"]
    assert q["waiting"] == 3  # the row counts them all


async def test_a_call_back_asked_an_hour_ago_waits_with_its_original_arrival(
    make_site: SiteFactory,
) -> None:
    site = await make_site()
    wall = site.engine.wall()
    rec = await site.callbacks.book(
        "support", "+4930555010100", source="api", arrived_wall=wall - 3725
    )
    cid = rec.callback_contact_id
    assert await until(lambda: cid in site.engine.router.contacts)
    (r,) = [r for r in site.wallboard.waiting() if r["contact_id"] == cid]
    assert r["wait_seconds"] == pytest.approx(3725, abs=2)
    (q,) = [q for q in site.wallboard.queues() if q["queue"] == "support"]
    assert q["waiting"] == 1 and q["oldest_wait_seconds"] == pytest.approx(3725, abs=2)
    assert q["callbacks_due"] == 1
