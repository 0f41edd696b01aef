"""Every answered call's time in the menu is on record, however it ended (real Kamailio and
SIPp callers): queued, a call back booked, a caller hanging up inside the menu (with the node),
a caller who never confirms the answer (no ACK: RFC 3261 13.3.1.4) and a caller whose audio
stops. And what an agent sees of a caller: the CRM's name, the caller's hold."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import pytest

from contactcenter.ivr.outcomes import IvrOutcome
from contactcenter.runtime.voice import CallerHold
from tests.polling import until
from tests.voice.conftest import CLOSED
from tests.voice.harness import caller_scenario, scenario, sipp_caller

KNOWN = "+4930555010008"  # Jan Novak in the CRM, standard tier: goes to the menu
STRANGER = "+4930555999999"


async def _visits(site: Any, count: int, timeout: float = 20) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = await site.store.ivr_visits()
        if len(found) >= count or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if len(found) >= count:
        return found
    raise AssertionError(f"{len(found)} IVR visits on record, expected {count}: {found}")


async def test_a_caller_who_hangs_up_in_the_menu_is_on_record_with_the_node(
    make_site: Any,
) -> None:
    site = await make_site()
    sf = caller_scenario(site.tmp / "gone.xml", [("pause", 2500)], number=STRANGER)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(20) == 0, caller.errors()
    (call,) = await site.ended(1)
    assert call.contact_id is None
    (visit,) = await _visits(site, 1)
    assert (visit.outcome, visit.reason, visit.flow) == (IvrOutcome.ABANDONED, "bye", "main")
    assert visit.node is not None and visit.node != "welcome"  # past the greeting, in the menu
    assert 2.0 <= visit.ended_wall - visit.started_wall < 10
    assert visit.call == call.leg.id and STRANGER not in repr(visit)
    assert await site.store.contact_records() == []  # never queued: no contact
    assert site.edge.snapshot()["ivr_outcomes"] == {"abandoned": 1}


async def test_a_queued_caller_is_on_record_by_the_crm_name(
    make_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="contactcenter.voice")
    site = await make_site()
    sf = caller_scenario(
        site.tmp / "sales.xml", [("pause", 3000), ("dtmf", "1"), ("pause", 2000)], number=KNOWN
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(30) == 0, caller.errors()
    (call,) = await site.ended(1)
    (visit,) = await _visits(site, 1)
    assert visit.outcome is IvrOutcome.QUEUED and visit.contact_id == call.contact_id
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and rec.customer_name == "Jan Novak", rec
    assert rec.outcome == "abandoned"
    # the keys pressed are kept with the call, never logged (an account number, a PIN)
    assert "digit 1" in call.timeline
    assert "digit …" in caplog.text and "digit 1" not in caplog.text


async def test_an_after_hours_call_back_counts_as_a_call_back(make_site: Any) -> None:
    site = await make_site(clock=CLOSED)
    sf = caller_scenario(
        site.tmp / "closed.xml", [("pause", 9000), ("dtmf", "1")], number=KNOWN, end="wait",
        wait_ms=20_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(30) == 0, caller.errors()
    (visit,) = await _visits(site, 1)
    assert (visit.outcome, visit.reason) == (IvrOutcome.CALLBACK, "callback-requested")
    (booked,) = await site.store.open_callbacks()
    assert visit.contact_id == booked.callback_contact_id


def _without_ack(path: Any, template: Any) -> Any:
    """The caller scenario with its ACK removed: it gets our 200 and never confirms it."""
    text = template.read_text()
    text = re.sub(r"<send>\s*<!\[CDATA\[\s*ACK .*?\]\]>\s*</send>", "", text, flags=re.S)
    assert "ACK [next_url]" not in text
    path.write_text(text)
    return path


async def test_a_caller_who_never_acks_the_answer_is_hung_up_and_never_queued(
    make_site: Any,
) -> None:
    """The CANCEL that crosses our 200 leaves a caller who never ACKs: the engine must not run
    it to a queue and an agent. With T1 = 0.1 s the BYE comes after 6.4 s."""
    site = await make_site(voice={"calls": {"sip_t1_seconds": 0.1}})
    phone = await site.agent("a05", "agent_uas.xml")
    sf = caller_scenario(
        site.tmp / "noack.xml", [("dtmf", "1")], number=KNOWN, end="wait", wait_ms=15_000
    )
    _without_ack(sf, sf)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    (call,) = await site.ended(1, timeout=20)
    assert call.contact_id is None, call.timeline
    assert call.leg.acked is False
    assert "ringing a05" not in " ".join(call.timeline)
    (visit,) = await _visits(site, 1)
    assert (visit.outcome, visit.reason) == (IvrOutcome.ABANDONED, "no_ack")
    assert 6.0 <= visit.ended_wall - visit.started_wall < 9, visit
    assert await site.store.contact_records() == []  # never queued, never answered
    assert site.edge.stack.stats.no_ack == 1
    assert await caller.wait(10) == 0, caller.errors()  # it got our BYE and answered it
    phone.stop()


async def test_a_caller_whose_audio_stops_is_ended_as_gone(make_site: Any) -> None:
    """No RTP from the caller (their phone or network died, no BYE will come) for
    ``rtp_timeout_seconds``: the waiting caller is an abandon, the leg gets a BYE."""
    site = await make_site(voice={"calls": {"rtp_timeout_seconds": 4}})
    # keys at 3 s, then 7 s of audio (SIPp's g711a.pcap), then nothing
    sf = caller_scenario(
        site.tmp / "mute.xml", [("pause", 3000), ("dtmf", "1"), ("audio", None)], number=KNOWN,
        end="wait", wait_ms=30_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    (call,) = await site.ended(1, timeout=30)
    assert "no audio from the caller" in " ".join(call.timeline), call.timeline
    assert call.contact_id is not None
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and rec.outcome == "abandoned"
    assert await caller.wait(10) == 0, caller.errors()  # the engine's BYE reached it
    assert site.edge.snapshot()["caller_silent"] == 1


async def test_the_agent_is_told_when_the_caller_holds(make_site: Any) -> None:
    site = await make_site()
    notices: list[CallerHold] = []
    sub = site.engine.hub.subscribe(lambda n: isinstance(n, CallerHold), 10)
    phone = await site.agent("a05", "agent_uas.xml", talk_ms=20_000)
    sf = scenario(site.tmp / "hold.xml", "caller_hold.xml", hold_ms=2000, resume_ms=1000)
    # hold 4 s after pressing 1 (the agent answers within 1 s), not 1.5 s
    text = sf.read_text().replace('<pause milliseconds="1500"/>', '<pause milliseconds="4000"/>')
    sf.write_text(text)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await until(lambda: any(c.phase == "talking" for c in site.edge.calls.values()), 20)
    while len(notices) < 2:
        notices.append(await sub.get())
    held, resumed = notices
    assert (held.agent_id, held.held, resumed.held) == ("a05", True, False)
    assert await caller.wait(40) == 0, caller.errors()
    phone.stop()


@pytest.mark.parametrize("dial_returns_late", [False, True], ids=["dial", "late-dial"])
async def test_an_agent_without_a_registered_phone_goes_away_as_unreachable(
    make_site: Any, dial_returns_late: bool
) -> None:
    """Logged in on the desktop, no phone registered: the proxy answers 404. That is not a
    decline to re-offer every 10 s until the caller's max wait: at the no-answer limit the
    agent is set away as ``phone-unreachable``, and the caller goes to an agent who has one.

    ``late-dial``: the 404 (and the next agent's answer) can reach the loop before the
    command thread's ``dial`` has returned the leg (a busy machine); held 300 ms after its
    INVITE to force that order, the leg's events must still reach its call, not be dropped
    as a stranger's (the caller would ring nobody until each ring timeout)."""
    # (a ring timeout of the real 15 s: the proxy's 404 must end each offer, also on a busy
    # machine where it came after the tests' usual 4 s and the offer counted as no answer;
    # two offers lost to it would take 30 s, past the 20 s this test waits)
    site = await make_site(
        center={"routing": {"reoffer_delay_seconds": 1}},
        queues={"sales": {"ring_timeout_seconds": 15}},
    )
    if dial_returns_late:
        dial = site.edge.stack.dial

        def late_dial(extension: str) -> Any:
            leg = dial(extension)
            time.sleep(0.3)
            return leg

        site.edge.stack.dial = late_dial
    await site.runtime.agents.login("a05")  # its extension 2005 is not registered
    sf = caller_scenario(
        site.tmp / "sales.xml", [("pause", 3000), ("dtmf", "1")], number=KNOWN, end="wait",
        wait_ms=30_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    a05 = site.engine.router.agent("a05")
    assert await until(lambda: site.engine.router.agent("a05").away_reason is not None, 20)
    a05 = site.engine.router.agent("a05")
    assert (str(a05.presence), a05.away_reason) == ("away", "phone-unreachable")
    # (the edge counts a failed leg before it tells the runtime; up to 5 s all the same)
    assert await until(
        lambda: site.edge.snapshot()["agent_leg_failures"] == {"not_registered": 2}, 5
    ), site.edge.snapshot()["agent_leg_failures"]
    (call,) = set(site.edge.calls.values())
    assert call.phase == "queued"
    phone = await site.agent("a06", "agent_uas_bye.xml", talk_ms=1000)
    assert await caller.wait(30) == 0, "\n".join(call.timeline)
    assert await phone.wait(10) == 0, phone.errors()
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and (rec.agent_id, rec.outcome) == ("a06", "completed")
    assert rec.rejections == 2
