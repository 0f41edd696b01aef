"""End-to-end calls through real Kamailio and SIPp peers (see conftest for the site)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from contactcenter.ivr.prompts import load_prompt
from contactcenter.voice.media import PCMA, PCMU
from tests.polling import until
from tests.voice import audio
from tests.voice.conftest import CLOSED
from tests.voice.harness import caller_scenario, sipp_caller

KNOWN = "+4930555010008"  # Jan Novak, standard tier: identified by number, goes to the menu
CONFIG = Path(__file__).resolve().parents[2] / "config"


def _prompt(name: str) -> audio.Samples:
    """The samples of ``config/<name>.wav``, as the engine plays them."""
    return audio.u8_to_samples(load_prompt(CONFIG / f"{name}.wav"))


async def test_menu_to_sales_bridged_with_audio_both_ways(make_site: Any) -> None:
    """The caller says 1 kHz in 30 ms A-law packets (as SIPp's g711a.pcap does), the agent's
    phone 700 Hz in 20 ms u-law packets: each hears the other's tone (a bridge that carried
    silence, or only 20 ms packets, failed here)."""
    site = await make_site()
    caller_ear, agent_ear = audio.RtpRecorder().start(), audio.RtpRecorder().start()
    agent_says = audio.tone_pcap(site.tmp / "agent.pcap", 700.0, 6.0, PCMU, 20)
    caller_says = audio.tone_pcap(site.tmp / "caller.pcap", 1000.0, 6.0, PCMA, 30)
    agent = await site.agent(
        "a05", "agent_uas_tone.xml", listen_port=agent_ear.port, audio_pcap=agent_says
    )
    sf = caller_scenario(
        site.tmp / "caller.xml",
        [("pause", 3000), ("dtmf", "1"), ("pause", 1500), ("audio", caller_says), ("pause", 7000)],
        number=KNOWN,
        rtp_port=caller_ear.port,
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    try:
        assert await caller.wait(40) == 0, caller.errors()
        assert await agent.wait(10) == 0, agent.errors()
        (call,) = await site.ended(1)
    finally:
        caller_ear.stop()
        agent_ear.stop()
    assert call.outcome == "completed", call.timeline
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None
    assert (rec.channel, rec.queue, rec.agent_id, rec.outcome) == (
        "voice",
        "sales",
        "a05",
        "completed",
    )
    assert rec.customer_id == "C1008" and rec.talk_seconds and rec.talk_seconds > 5
    caller_stream = call.leg.stream
    assert caller_stream.stats.received > 100  # the caller's audio reached the engine
    assert caller_stream.stats.dtmf == 1
    agent_heard, caller_heard = agent_ear.audio(), caller_ear.audio()
    assert audio.seconds_of_tone(agent_heard, 1000.0) >= 5.0, "the agent did not hear the caller"
    assert audio.seconds_of_tone(caller_heard, 700.0) >= 5.0, "the caller did not hear the agent"
    assert audio.seconds_of_tone(agent_heard, 700.0) == 0  # nobody hears their own voice
    assert audio.seconds_of_tone(caller_heard, 1000.0) == 0


async def test_vip_by_account_number_reaches_dedicated_agent_first(make_site: Any) -> None:
    site = await make_site()
    other = await site.agent("a02", "agent_uas.xml")  # logged in first: idle longest
    dedicated = await site.agent("a01", "agent_uas.xml")
    # unknown number -> account number prompt (after the 1.9 s welcome); keys barge in
    sf = caller_scenario(
        site.tmp / "vip.xml",
        [("pause", 2400), ("dtmf", "100001#"), ("pause", 6500)],
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(40) == 0, caller.errors()
    (call,) = await site.ended(1)
    assert await dedicated.wait(10) == 0, (call.timeline, dedicated.errors())
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None, call.timeline
    assert (rec.queue, rec.tier, rec.customer_id) == ("vip", "vip", "C1001")
    assert (rec.agent_id, rec.offers, rec.outcome) == ("a01", 1, "completed"), call.timeline
    assert other.proc is not None and other.proc.poll() is None  # never rung
    assert "lookup account_number: found" in call.timeline


async def test_caller_hangs_up_while_waiting_is_an_abandon(make_site: Any) -> None:
    site = await make_site()  # nobody logged in: the caller waits with hold music
    ear = audio.RtpRecorder().start()
    sf = caller_scenario(
        site.tmp / "wait.xml",
        [("pause", 150), ("dtmf", "5"), ("pause", 2600), ("dtmf", "1"), ("pause", 4000)],
        number=KNOWN,
        rtp_port=ear.port,
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    try:
        assert await caller.wait(30) == 0, caller.errors()
        (call,) = await site.ended(1)
    finally:
        ear.stop()
    assert call.outcome == "abandoned", call.timeline
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and rec.outcome == "abandoned" and rec.answered_wall is None
    assert rec.queue == "sales" and rec.wait_seconds is not None and rec.wait_seconds > 2
    # defect 1: a key pressed 150 ms after the ACK reached the edge (the IVR drops it:
    # the welcome is a plain announcement)
    assert call.timeline[:2] == ["answered", "ivr main"] and "digit 5" in call.timeline
    assert "announce place 1" in call.timeline  # position announced while waiting
    heard = ear.audio()  # the welcome, the menu (cut short by the key), hold music
    assert audio.match(heard, _prompt("prompts/welcome")) > 0.95
    assert audio.match(heard, _prompt("voice/prompts/hold_music")[:6000]) > 0.95


async def test_caller_hangs_up_while_agent_rings(make_site: Any) -> None:
    site = await make_site()
    agent = await site.agent("a05", "agent_noanswer.xml")
    sf = caller_scenario(
        site.tmp / "ringing.xml", [("pause", 3000), ("dtmf", "1"), ("pause", 1800)], number=KNOWN
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(30) == 0, caller.errors()
    assert await agent.wait(10) == 0, agent.errors()  # it got a CANCEL, sent 487, got ACK
    (call,) = await site.ended(1)
    assert call.outcome == "abandoned", call.timeline
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None
    assert (rec.outcome, rec.offers, rec.rejections, rec.answered_wall) == ("abandoned", 1, 1, None)
    assert site.edge.stack.stats.cancels_sent == 1
    assert site.engine.router.agent("a05").activity.value == "available"


async def test_agent_no_answer_requeues_and_next_agent_rings(make_site: Any) -> None:
    site = await make_site()
    missing = await site.agent("a05", "agent_noanswer.xml")  # idle longest: rung first
    answering = await site.agent("a06", "agent_uas.xml")
    sf = caller_scenario(
        site.tmp / "noanswer.xml", [("pause", 3000), ("dtmf", "1"), ("pause", 8500)], number=KNOWN
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(40) == 0, caller.errors()
    assert await missing.wait(10) == 0, missing.errors()
    assert await answering.wait(10) == 0, answering.errors()
    (call,) = await site.ended(1)
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None
    assert (rec.offers, rec.rejections, rec.agent_id, rec.outcome) == (2, 1, "a06", "completed")
    assert site.edge.stats["agent_no_answer"] == 1
    rung = [t for t in call.timeline if t.startswith(("ringing", "offer", "talking"))]
    assert rung == [
        "ringing a05 at 2005",
        "offer to a05 withdrawn (timeout)",
        "ringing a06 at 2006",
        "talking with a06",
    ], call.timeline


async def test_agent_hangs_up_first(make_site: Any) -> None:
    site = await make_site()
    agent = await site.agent("a05", "agent_uas_bye.xml", talk_ms=2500)
    sf = caller_scenario(
        site.tmp / "agentbye.xml", [("pause", 3000), ("dtmf", "1")], number=KNOWN, end="wait",
        wait_ms=20_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(30) == 0, caller.errors()  # the engine's BYE reached the caller
    assert await agent.wait(10) == 0, agent.errors()
    (call,) = await site.ended(1)
    assert call.outcome == "completed", call.timeline
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and (rec.agent_id, rec.outcome) == ("a05", "completed")
    # defect 10: our BYE to the caller has one Via of our own and the proxy's route
    stats = site.edge.stack.stats
    bye = stats.sent_byes[-1]
    assert bye.count("\r\nVia: ") == 1 and f"127.0.0.1:{site.proxy}" in bye.split("Route: ")[1]
    assert await until(lambda: stats.byes_confirmed == stats.byes_sent, 3)


async def test_after_hours_caller_books_a_callback(make_site: Any) -> None:
    site = await make_site(clock=CLOSED)
    sf = caller_scenario(
        site.tmp / "closed.xml", [("pause", 9000), ("dtmf", "1")], number=KNOWN, end="wait",
        wait_ms=20_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    rc = await caller.wait(30)
    (call,) = await site.ended(1)
    assert rc == 0, (call.timeline, caller.errors())
    assert call.outcome == "ivr:callback-requested", call.timeline
    assert call.contact_id is None  # never queued
    records = await site.store.contact_records()
    # the call on record, ended as a call back request; the call back is a contact of its
    # own in support, keeping the call's place (it arrived when the engine answered)
    assert [(r.kind, r.queue, r.outcome, r.end_reason) for r in records] == [
        ("inbound", "support", "ended", "callback_requested"),
        ("callback", "support", None, None),
    ]
    inbound, callback = records
    (booked,) = await site.store.open_callbacks()
    assert (booked.queue, booked.phone, booked.source, booked.contact_id) == (
        "support", KNOWN, "ivr", inbound.contact_id,
    )  # fmt: skip
    assert booked.callback_contact_id == callback.contact_id
    assert callback.arrived_wall == inbound.arrived_wall == booked.arrived_wall
    assert callback.customer_id is None and not callback.verified  # closed: nobody looked up
    # due at once: it waits in support for an agent (nobody is on the line: no max wait)
    assert await until(lambda: callback.contact_id in site.engine.router.contacts, 5)


async def test_caller_cancels_while_ringing_is_never_answered(
    make_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 2: the caller's CANCEL gets 200 and a 487; no 200 OK, no IVR, no contact. The
    caller's number stays out of the log."""
    from tests.voice.harness import scenario

    caplog.set_level(logging.DEBUG, logger="contactcenter")
    number = "+4930555010077"
    site = await make_site(voice={"calls": {"answer_delay_seconds": 2.0}})
    sf = scenario(
        site.tmp / "cancel.xml", "caller_cancel.xml", cancel_after_ms=500, caller_number=number
    )
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(20) == 0, caller.errors()  # a 200 OK would fail the scenario
    (call,) = await site.ended(1)
    assert call.outcome == "cancelled" and "answered" not in call.timeline
    assert site.edge.stats["cancelled_ringing"] == 1 and site.edge.stats["answered"] == 0
    assert site.edge.stack.stats.cancelled_by_caller == 1
    assert await site.store.contact_records() == []
    assert site.edge.stack.free_ports == 200 and site.edge.stack.legs == []
    assert "cancelled before the answer" in caplog.text and number not in caplog.text
