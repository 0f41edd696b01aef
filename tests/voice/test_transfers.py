"""Transfers of calls through real Kamailio and SIPp phones: blind to a queue (the first
agent's phone is hung up, the caller waits and the next agent is bridged) and warm (the
caller holds while the agents talk, then the colleague takes over)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from contactcenter.routing import ContactState
from contactcenter.voice.media import PCMA, PCMU
from tests.polling import until
from tests.voice import audio
from tests.voice.harness import caller_scenario, sipp_caller

KNOWN = "+4930555010008"  # Jan Novak: the IVR knows him, main menu


async def _talking(
    site: Any, agent: str, *, says: Path | None = None, ear: int | None = None
) -> tuple[Any, str, Any]:
    """A caller who picks sales and is answered by ``agent``; the caller waits for our BYE.
    ``says``: the pcap the caller plays (SIPp's speech by default); ``ear``: where the
    caller's audio goes (an ``audio.RtpRecorder`` port)."""
    sf = caller_scenario(
        site.tmp / "caller.xml", [("pause", 3000), ("dtmf", "1"), ("audio", says)],
        number=KNOWN, end="wait", wait_ms=60_000, rtp_port=ear,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await until(lambda: bool(site.edge.by_contact), 20)
    (cid,) = list(site.edge.by_contact)
    router = site.engine.router
    assert await until(lambda: _state(router, cid) is ContactState.ACTIVE, 20)
    assert router.contact(cid).agent == agent
    (call,) = site.edge.by_contact.values()
    assert await until(lambda: call.phase == "talking", 5)
    return caller, cid, call


async def test_blind_transfer_to_another_queue(make_site: Any) -> None:
    site = await make_site()
    first = await site.agent("a05", "agent_uas.xml")  # talks until our BYE
    caller, cid, _call = await _talking(site, "a05")
    second = await site.agent("a12", "agent_uas_bye.xml", talk_ms=3000)  # support
    await site.runtime.transfers.to_queue("a05", cid, "support", "needs tech support")
    assert await first.wait(10) == 0, first.errors()  # a05's phone got our BYE
    assert await second.wait(30) == 0, second.errors()  # a12 rang, talked, hung up
    assert await caller.wait(15) == 0, caller.errors()  # and the caller got our BYE
    (ended,) = await site.ended(1)
    assert ended.outcome == "completed", ended.timeline
    steps = [t for t in ended.timeline if t.startswith(("talking", "transferred", "ringing"))]
    assert steps == [
        "ringing a05 at 2005", "talking with a05", "transferred to support: waiting",
        "ringing a12 at 2012", "talking with a12",
    ], ended.timeline  # fmt: skip
    rec = await site.store.contact_record(cid)
    assert rec is not None and (rec.outcome, rec.agent_id, rec.transfers) == ("completed", "a12", 1)
    segs = await site.store.segments(cid)
    assert [(s.queue, s.agent_id, s.end_reason, s.note) for s in segs] == [
        ("sales", "a05", "transferred", "needs tech support"),
        ("support", "a12", "completed", None),
    ]
    assert segs[1].talk_seconds is not None and 2 < segs[1].talk_seconds < 8


async def test_warm_transfer_consults_then_hands_the_caller_over(make_site: Any) -> None:
    """The caller says 1 kHz, a06's phone 700 Hz: while the agents consult, a06 does not hear
    the caller (on hold); once a05 completes, the caller and a06 hear each other."""
    site = await make_site()
    caller_ear, a06_ear = audio.RtpRecorder().start(), audio.RtpRecorder().start()
    says = audio.tone_pcap(site.tmp / "caller.pcap", 1000.0, 40.0, PCMA, 30)
    first = await site.agent("a05", "agent_uas.xml")
    caller, cid, call = await _talking(site, "a05", says=says, ear=caller_ear.port)
    a06_says = audio.tone_pcap(site.tmp / "a06.pcap", 700.0, 30.0, PCMU, 20)
    colleague = await site.agent(
        "a06", "agent_uas_tone.xml", listen_port=a06_ear.port, audio_pcap=a06_says
    )
    await site.runtime.transfers.consult("a05", cid, "a06", "wants the fibre offer")
    router = site.engine.router
    assert await until(lambda: router.contact(cid).consult == "a06", 5)
    assert await until(lambda: "consulting a06: talking" in call.timeline, 15), call.timeline
    consulting = time.monotonic()
    await asyncio.sleep(3)
    # the caller holds (hold music), the agents talk; a05 completes the transfer
    await site.runtime.transfers.complete("a05", cid)
    assert await first.wait(10) == 0, first.errors()
    assert await until(lambda: "transferred to a06: talking" in call.timeline, 5)
    handed = time.monotonic()
    await asyncio.sleep(5)
    await site.runtime.agents.hang_up("a06", cid)  # a06's desktop Hang up
    try:
        assert await colleague.wait(15) == 0, colleague.errors()
        assert await caller.wait(15) == 0, caller.errors()
    finally:
        caller_ear.stop()
        a06_ear.stop()
    during = a06_ear.audio(since=consulting)[: int((handed - consulting) * 8000)]
    assert audio.seconds_of_tone(during, 1000.0) == 0, "a06 heard the held caller"
    assert audio.seconds_of_tone(a06_ear.audio(since=handed), 1000.0) >= 3.0
    assert audio.seconds_of_tone(caller_ear.audio(since=handed), 700.0) >= 3.0
    rec = await site.store.contact_record(cid)
    assert rec is not None and (rec.outcome, rec.agent_id, rec.transfers) == ("completed", "a06", 1)
    assert rec.hold_seconds > 0.2
    segs = await site.store.segments(cid)
    assert [(s.agent_id, s.end_reason, s.to_agent, s.note) for s in segs] == [
        ("a05", "transferred", "a06", "wants the fibre offer"),
        ("a06", "completed", None, None),
    ]
    assert segs[0].hold_seconds == rec.hold_seconds


async def test_a_consult_the_colleague_declines_returns_the_caller_to_the_agent(
    make_site: Any,
) -> None:
    site = await make_site()
    await site.agent("a05", "agent_uas.xml")
    caller, cid, call = await _talking(site, "a05")
    busy = await site.agent("a06", "agent_noanswer.xml")  # rings until CANCELled
    await site.runtime.transfers.consult("a05", cid, "a06")
    assert await until(lambda: "consulting a06: ringing" in call.timeline, 10), call.timeline
    await site.runtime.transfers.cancel("a05", cid)
    assert await busy.wait(10) == 0, busy.errors()  # its phone got our CANCEL
    assert await until(lambda: "consult ended (cancelled)" in call.timeline, 5)
    assert call.phase == "talking" and call.agent_id == "a05"
    await site.runtime.agents.hang_up("a05", cid)
    assert await caller.wait(15) == 0, caller.errors()
    rec = await site.store.contact_record(cid)
    assert rec is not None and (rec.agent_id, rec.transfers, rec.outcome) == ("a05", 0, "completed")


def _state(router: Any, cid: str) -> ContactState | None:
    c = router.contacts.get(cid)
    return c.state if c is not None else None
