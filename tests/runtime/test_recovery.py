"""What a restart finds and what it does with it (in-process restarts on the same database;
``tests/integration/test_crash.py`` kills a real server): identity, chats that were being
answered, calls that were cut, agents' states, and desktops that go away."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contactcenter.agents import Presence
from contactcenter.identity import Identity
from contactcenter.routing import ContactState
from contactcenter.runtime import Site
from contactcenter.runtime.site import RuntimeSettings
from tests.polling import until
from tests.runtime.conftest import SiteFactory

VIP = "C1001"  # tier vip, dedicated agent a01


async def test_a_restart_routes_only_on_verified_identity(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    db = tmp_path / "cc.sqlite3"
    site = await make_site(db=db)
    claimed = await site.chat.start_chat(
        name="Mallory", topic="support", identity=Identity(VIP, verified=False)
    )
    verified = await site.chat.start_chat(
        name="Helena", topic="support", identity=Identity(VIP, verified=True)
    )
    assert site.engine.router.contact(claimed).tier == "standard"
    assert site.engine.router.contact(verified).tier == "vip"
    await site.stop()

    again = await make_site(db=db)
    router = again.engine.router
    assert router.contact(claimed).tier == "standard"
    assert router.contacts[claimed].preferred_agent is None
    assert router.contacts[claimed].customer_id is None
    assert router.contact(verified).tier == "vip"
    assert router.contacts[verified].preferred_agent == "a01"
    rec = await again.store.contact(claimed)
    assert rec is not None and rec.customer_id == VIP and not rec.verified


def settings(**kw: float) -> RuntimeSettings:
    base = {"agent_grace_seconds": 0.3, "restart_grace_seconds": 0.6, "alive_every_seconds": 0.2}
    return RuntimeSettings(**{**base, **kw})


async def _answered_chat(site: Site, agent: str = "a05") -> str:
    cid = await site.chat.start_chat(name="Jan", topic="sales")
    await site.desktops.opened(agent)
    if site.agents.agent(agent).presence.value == "offline":
        await site.agents.login(agent)
    router = site.engine.router
    assert await until(lambda: router.contact(cid).agent == agent)
    await site.agents.accept(agent, cid)
    await site.chat.customer_says(cid, "before the stop")
    return cid


async def test_a_chat_being_answered_waits_for_its_agent_and_resumes_with_it(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    db = tmp_path / "cc.sqlite3"
    site = await make_site(db=db, settings=settings(restart_grace_seconds=30))
    cid = await _answered_chat(site)
    await site.stop()  # its agent's desktop and the customer are gone with it

    again = await make_site(db=db, settings=settings(restart_grace_seconds=30))
    router = again.engine.router
    assert cid not in router.contacts and cid in again.chat.resumable  # waits for a05
    assert again.chat.is_open(cid)
    await again.chat.customer_says(cid, "are you there?")  # kept for the agent
    assert router.agent("a05").presence.value == "offline"
    await again.desktops.opened("a05")  # the agent's desktop reconnects
    view = router.contact(cid)
    assert (view.state, view.agent, view.segment) == (ContactState.ACTIVE, "a05", 2)
    assert router.agent("a05").presence.value == "available"
    await again.chat.agent_says("a05", cid, "yes, sorry for that")
    await again.agents.hang_up("a05", cid)
    await again.agents.wrap_up("a05", cid, "resolved")
    segs = await again.store.segments(cid)
    assert [(s.segment, s.agent_id, s.end_reason) for s in segs] == [
        (1, "a05", "interrupted"),
        (2, "a05", "completed"),
    ]
    rec = await again.store.contact(cid)
    assert rec is not None and (rec.outcome, rec.disposition) == ("completed", "resolved")
    await again.chat.transcripts.flush()
    lines = [m.text for m in await again.store.transcript(cid)]
    assert lines == ["before the stop", "are you there?", "yes, sorry for that"]


async def test_an_agent_who_does_not_come_back_is_logged_out_and_its_chat_requeued(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    db = tmp_path / "cc.sqlite3"
    site = await make_site(db=db, settings=settings())
    cid = await _answered_chat(site)
    await site.agents.login("a06")
    await site.agents.set_presence("a06", Presence.AWAY, "lunch")
    await site.agents.login("a07")
    await site.agents.logout("a07")
    await site.stop()

    again = await make_site(db=db, settings=settings())
    assert set(again.desktops.restorable) == {"a05", "a06"}
    await again.desktops.opened("a06")  # back, as it was: away for lunch
    a06 = again.engine.router.agent("a06")
    assert (a06.presence.value, a06.away_reason) == ("away", "lunch")
    assert await until(lambda: not again.desktops.restorable, 3)  # a05 gave up
    states = await again.store.agent_states("a05", limit=1)
    assert (states[0].state, states[0].reason) == ("offline", "not back after restart")
    router = again.engine.router
    assert await until(lambda: cid in router.contacts, 2)
    view = router.contact(cid)
    assert (view.state, view.segment, view.queue) == (ContactState.WAITING, 2, "sales_chat")
    assert router.waiting("sales_chat")[0] == cid  # head of its queue (original arrival)


async def test_calls_a_stop_cut_are_closed_as_interrupted_at_the_last_sign_of_life(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    db = tmp_path / "cc.sqlite3"
    site = await make_site(db=db, settings=settings())
    await site.agents.login("a05")
    await site.voice.call_arrived("v-talking", queue="sales", caller="+49301")
    router = site.engine.router
    assert await until(lambda: router.contact("v-talking").agent == "a05")
    await site.voice.agent_answered("a05", "v-talking")
    await site.voice.call_arrived("v-waiting", queue="sales", caller="+49302")
    await asyncio.sleep(0.5)
    await site.stop()
    stopped = await site.store.last_alive()
    assert stopped is not None

    again = await make_site(db=db, settings=settings())
    for cid in ("v-talking", "v-waiting"):
        rec = await again.store.contact(cid)
        assert rec is not None and (rec.outcome, rec.end_reason) == ("interrupted", "interrupted")
        assert rec.ended_wall == stopped
    talking = await again.store.contact("v-talking")
    assert talking is not None and talking.answered_wall is not None
    assert talking.talk_seconds == pytest.approx(stopped - talking.answered_wall)
    assert await again.store.open_contacts("voice") == []


async def test_an_agent_whose_desktop_goes_away_is_set_away_and_its_chats_requeued(
    make_site: SiteFactory,
) -> None:
    site = await make_site(settings=settings())
    cid = await _answered_chat(site)
    router = site.engine.router
    site.desktops.closed("a05")
    await site.desktops.opened("a05")  # back within the grace: nothing happens
    await asyncio.sleep(0.5)
    assert router.agent("a05").presence.value == "available"
    site.desktops.closed("a05")
    assert await until(lambda: router.agent("a05").presence.value == "away", 2)
    assert router.agent("a05").away_reason == "disconnected"
    view = router.contact(cid)
    assert (view.state, view.agent, view.segment) == (ContactState.WAITING, None, 2)
    # the state log is written as the change is dispatched: wait for it, as for the change
    logged: set[tuple[str, str | None]] = set()
    for _ in range(100):
        logged = {(s.state, s.reason) for s in await site.store.agent_states("a05", limit=3)}
        if ("away", "disconnected") in logged:
            break
        await asyncio.sleep(0.02)
    assert ("away", "disconnected") in logged
