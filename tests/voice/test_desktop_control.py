"""The agent desktop's buttons act on the real call: a voice offer is answered on the phone
(the desktop's Accept is refused and changes nothing), and the desktop's Hang up ends both
legs of the call (the caller and the agent's phone get a BYE)."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.routing import ContactState
from contactcenter.runtime import Refused
from tests.polling import until
from tests.voice.harness import caller_scenario, sipp_caller

KNOWN = "+4930555010008"  # Jan Novak, standard tier: goes to the menu


async def _queued_call(site: Any, *, end: str = "wait") -> tuple[Any, str]:
    """A caller who presses 1 (sales) and then waits for the engine to hang up."""
    sf = caller_scenario(
        site.tmp / "caller.xml", [("pause", 3000), ("dtmf", "1")], number=KNOWN, end=end,
        wait_ms=30_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await until(lambda: bool(site.edge.by_contact), 20), "the call was not queued"
    (cid,) = list(site.edge.by_contact)
    return caller, cid


async def test_desktop_accept_of_a_ringing_call_is_refused_and_changes_nothing(
    make_site: Any,
) -> None:
    site = await make_site()
    phone = await site.agent("a05", "agent_noanswer.xml")
    caller, cid = await _queued_call(site)
    router = site.engine.router
    assert await until(lambda: _state(router, cid) is ContactState.OFFERED, 10)
    with pytest.raises(Refused) as refused:
        await site.runtime.agents.accept("a05", cid)
    assert refused.value.code == "answer_on_phone"
    assert "2005" in refused.value.message  # where to answer it
    view = router.contact(cid)
    assert (view.state, view.agent) == (ContactState.OFFERED, "a05")
    (call,) = site.edge.by_contact.values()
    # the edge acts on the offer on its own turn of the loop: it may not have rung yet
    assert await until(lambda: call.phase == "agent_ringing", 5), call.phase
    # the ring timer still runs: the phone is CANCELled when it rings out
    assert await phone.wait(20) == 0, phone.errors()
    caller.stop()


async def test_desktop_hang_up_ends_both_legs_of_the_call(make_site: Any) -> None:
    site = await make_site()
    phone = await site.agent("a05", "agent_uas.xml", talk_ms=60_000)
    caller, cid = await _queued_call(site)
    router = site.engine.router
    assert await until(lambda: _state(router, cid) is ContactState.ACTIVE, 15)
    (call,) = site.edge.by_contact.values()
    assert await until(lambda: call.phase == "talking", 5)
    await site.runtime.agents.hang_up("a05", cid)
    # the caller was waiting for the engine's BYE, the agent's phone too
    assert await caller.wait(10) == 0, caller.errors()
    assert await phone.wait(10) == 0, phone.errors()
    (ended,) = await site.ended(1)
    assert ended.outcome == "completed", ended.timeline
    rec = await site.store.contact_record(cid)
    assert rec is not None and (rec.outcome, rec.agent_id) == ("completed", "a05")
    assert rec.talk_seconds is not None and rec.talk_seconds < 15


def _state(router: Any, cid: str) -> ContactState | None:
    c = router.contacts.get(cid)
    return c.state if c is not None else None
