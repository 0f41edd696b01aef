"""Media through real peers (Kamailio, SIPp): offers naming media we cannot send to are
refused, and no caller can leave the engine's later calls without audio. What callers hear
is checked by content (``tests/voice/audio``)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from contactcenter.ivr.prompts import load_prompt
from contactcenter.voice._pyvoip import raw_headers
from tests.polling import until
from tests.voice import audio
from tests.voice.harness import caller_scenario, sipp_caller

CONFIG = Path(__file__).resolve().parents[2] / "config"
KNOWN = "+4930555010008"  # a known caller: goes to the main menu


def _invite(port: int, media: str, host: str = "127.0.0.1") -> tuple[str, str]:
    """An INVITE to the IVR extension offering PCMU at ``host``/``media`` (as given)."""
    call_id = f"{uuid.uuid4().hex}@127.0.0.1"
    sdp = (
        f"v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {media} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
    text = (
        f"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport\r\n"
        f"From: <sip:probe@127.0.0.1:{port}>;tag={uuid.uuid4().hex[:8]}\r\n"
        "To: <sip:1000@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:probe@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    )
    return text, call_id


def _offer(edge_port: int, media: str, host: str = "127.0.0.1") -> int:
    """Send one INVITE straight to the edge; its final status. An answered call (what the old
    code did) is confirmed, kept for half a second and hung up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        text, call_id = _invite(port, media, host)
        s.sendto(text.encode(), ("127.0.0.1", edge_port))
        deadline = time.monotonic() + 5
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            reply = s.recv(65535).decode()
            status = int(reply.split(" ", 2)[1])
            if status < 200:
                continue
            if status < 300:
                head = dict(raw_headers(reply))
                for cseq, method in ((1, "ACK"), (2, "BYE")):
                    if method == "BYE":
                        time.sleep(0.5)
                    s.sendto(
                        (
                            f"{method} sip:1000@127.0.0.1:{edge_port} SIP/2.0\r\n"
                            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex}"
                            f"\r\nFrom: {head['from']}\r\nTo: {head['to']}\r\n"
                            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                        ).encode(),
                        ("127.0.0.1", edge_port),
                    )
            return status
    raise AssertionError("no final response to the INVITE")


@pytest.mark.parametrize(
    ("host", "media"),
    [
        ("127.0.0.1", "70000"),
        ("127.0.0.1", "65536"),
        ("127.0.0.1", "-1"),
        ("127.0.0.1", "99999999999999999999"),
        ("127.0.0.1", "0"),  # a disabled stream: nothing to talk on
        ("example.com", "4000"),  # a name: a DNS look-up on the media thread
        ("0.0.0.0", "4000"),
        ("::1", "4000"),
    ],
)
async def test_an_offer_of_media_we_cannot_send_to_is_refused(
    make_site: Any, host: str, media: str
) -> None:
    site = await make_site()
    status = await asyncio.to_thread(_offer, site.edge.settings.local.sip_port, media, host)
    assert status == 488
    assert site.edge.stack.legs == [] and site.edge.stack.free_ports == 200
    assert site.edge.media.healthy()


async def test_an_unreadable_media_port_is_a_bad_request(make_site: Any) -> None:
    site = await make_site()
    status = await asyncio.to_thread(_offer, site.edge.settings.local.sip_port, "abc")
    assert status == 400
    assert site.edge.media.healthy()


async def test_after_an_offer_of_port_70000_the_next_caller_hears_the_welcome(
    make_site: Any,
) -> None:
    """Defect: the answer to ``m=audio 70000`` killed the RTP sender thread; every later call
    was answered and silent until a restart. The next caller must hear "Welcome to Northwind
    Telecom." (the prompt's samples found in what arrived)."""
    site = await make_site()
    await asyncio.to_thread(_offer, site.edge.settings.local.sip_port, "70000")
    ear = audio.RtpRecorder().start()
    sf = caller_scenario(site.tmp / "next.xml", [("pause", 3000)], rtp_port=ear.port)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    try:
        assert await caller.wait(30) == 0, caller.errors()
    finally:
        ear.stop()
    welcome = audio.u8_to_samples(load_prompt(CONFIG / "prompts" / "welcome.wav"))
    assert audio.match(ear.audio(), welcome) > 0.95, "the caller did not hear the welcome"
    stats = site.edge.media.stats()
    assert stats.healthy and stats.restarts == 0


async def test_a_stream_that_cannot_send_ends_its_call_only(make_site: Any) -> None:
    """Whatever makes one stream fail (here its address is broken behind the SIP stack's
    back), that call is hung up (the caller gets our BYE) and another caller goes on hearing
    the main menu without a gap."""
    site = await make_site()
    ear = audio.RtpRecorder().start()
    doomed = caller_scenario(
        site.tmp / "doomed.xml", [("pause", 1000)], number="+4930555010077", end="wait",
        wait_ms=15_000,
    )  # fmt: skip
    listening = caller_scenario(
        site.tmp / "listening.xml", [("pause", 10_000)], number=KNOWN, rtp_port=ear.port
    )
    first = site.track(sipp_caller(site.tmp, doomed, site.proxy))
    second = site.track(sipp_caller(site.tmp, listening, site.proxy))
    try:
        assert await until(lambda: len(site.edge.stack.legs) == 2, 10)
        (leg,) = [leg for leg in site.edge.stack.legs if leg.peer != KNOWN]
        await asyncio.sleep(3.0)  # the second caller is in the main menu
        leg.stream.remote = ("127.0.0.1", 70000)
        assert await first.wait(10) == 0, first.errors()  # it got our BYE
        assert await second.wait(20) == 0, second.errors()
    finally:
        ear.stop()
    menu = audio.u8_to_samples(load_prompt(CONFIG / "prompts" / "main_menu.wav"))
    assert audio.match(ear.audio(), menu) > 0.95, "the other caller's menu was cut"
    stats = site.edge.media.stats()
    assert (stats.failed_streams, stats.restarts, stats.healthy) == (1, 0, True)
    by_caller = {c.leg.peer == KNOWN: c.timeline for c in await site.ended(2)}
    assert "caller ended (media)" in by_caller[False], by_caller[False]
    assert "caller ended (bye)" in by_caller[True], by_caller[True]  # it hung up itself


async def test_the_edge_tells_healthz_when_its_media_threads_are_down(make_site: Any) -> None:
    site = await make_site()
    assert site.edge.problems() == []
    site.edge.media.stop()
    assert site.edge.problems() == ["voice: media threads not running"]
    site.edge.media.start()
    assert site.edge.problems() == []
