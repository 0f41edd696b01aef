"""pyVoIP 1.6.8's observed defects (shared/reference/voice/NOTES.md), each reproduced against
the edge's workaround. Defects 1, 2, 3 and 10 are covered in test_calls.py (the first DTMF
150 ms after the ACK, a caller's CANCEL while ringing, CANCEL of a ringing agent, our BYE's
Via/Route); defect 8 (8-bit PCM, audioop) in test_media.py."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import threading
import time
from typing import Any

import pytest

from contactcenter.voice import _pyvoip as sip
from contactcenter.voice.media import MediaEngine
from tests.polling import until
from tests.voice.harness import (
    caller_scenario,
    free_media_port,
    free_udp_port,
    scenario,
    sipp_caller,
)

KNOWN = "+4930555010008"


async def test_more_sequential_calls_than_rtp_ports(make_site: Any) -> None:
    """Defect 4: every leg gives its port back; a 3-port range serves 8 calls in a row."""
    site = await make_site(rtp_ports=3)
    sf = caller_scenario(site.tmp / "short.xml", [("pause", 500)])
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy, calls=8, rate=4, limit=1))
    assert await caller.wait(40) == 0, caller.errors()
    calls = await site.ended(8)
    assert [c.outcome for c in calls] == ["ivr:caller-hung-up"] * 8
    assert site.edge.stats["answered"] == 8
    assert await until(lambda: site.edge.stack.free_ports == 3, 2)
    assert site.edge.stack.phone.assignedPorts == []


async def test_more_concurrent_calls_than_ports_are_refused_not_stolen(make_site: Any) -> None:
    """Defect 4, the other half: with the range used up a new call gets 503; live calls keep
    their ports (pyVoIP would free them all and fail the next answer with EADDRINUSE)."""
    site = await make_site(rtp_ports=2)
    sf = caller_scenario(site.tmp / "hold.xml", [("pause", 2500)])
    first = site.track(sipp_caller(site.tmp, sf, site.proxy, calls=2, rate=10))
    assert await until(lambda: len(site.edge.stack.legs) == 2, 5)
    ports = sorted(leg.port for leg in site.edge.stack.legs)
    extra = scenario(
        site.tmp / "refused.xml", "caller_cancel.xml", cancel_after_ms=10, caller_number="sipp"
    )
    # the third caller is refused at once: its scenario fails (it wanted a 180), that's the point
    third = site.track(sipp_caller(site.tmp, extra, site.proxy, extra=("-recv_timeout", "3000")))
    await third.wait(15)
    assert site.edge.stack.stats.refused_no_ports == 1
    assert sorted(leg.port for leg in site.edge.stack.legs) == ports
    assert await first.wait(20) == 0, first.errors()
    assert await until(lambda: site.edge.stack.free_ports == 2, 2)


async def test_reinvite_hold_keeps_one_stream_at_one_rate(make_site: Any) -> None:
    """Defect 5: hold (sendonly) is answered recvonly and stops our audio; resume answers
    sendrecv; the call keeps one stream sending 50 packets a second."""
    from tests.voice.harness import LoopbackTap

    site = await make_site()
    counter = LoopbackTap().start()
    mp = free_media_port()
    sf = scenario(site.tmp / "hold.xml", "caller_hold.xml", hold_ms=2000, resume_ms=1500)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy, media_port=mp))
    stats = site.edge.stack.stats
    assert await until(lambda: stats.reinvites == 1, 15)
    assert len(site.edge.stack.legs) == 1, [c.timeline[5:] for c in site.edge.finished]
    (leg,) = site.edge.stack.legs
    assert leg.stream.sending is False and len(site.edge.media.streams()) == 1
    if counter.available:
        held = counter.to_port(mp)
        await asyncio.sleep(1.0)
        assert counter.to_port(mp) - held <= 2
    assert await until(lambda: stats.reinvites == 2, 5)
    assert leg.stream.sending is True and len(site.edge.media.streams()) == 1
    if counter.available:
        await asyncio.sleep(0.2)
        start, t0 = counter.to_port(mp), time.monotonic()
        await asyncio.sleep(1.0)
        rate = (counter.to_port(mp) - start) / (time.monotonic() - t0)
        assert 40 <= rate <= 60, rate  # not 100: no second transmitter
    assert await caller.wait(20) == 0, caller.errors()
    counter.stop()


def test_call_ids_are_unique_across_restarts() -> None:
    """Defect 6: pyVoIP's Call-IDs are sha256(counter): the same after every restart."""
    media = MediaEngine()

    def ids() -> list[str]:
        stack = sip.SipStack(
            server="127.0.0.1", port=9, extension="1000", password="", my_ip="127.0.0.1",
            sip_port=free_udp_port(), rtp_low=40000, rtp_high=40001, sink=lambda e: None,
            media=media,
        )  # fmt: skip
        return [stack.sip.gen_call_id() for _ in range(50)]

    first, second = ids(), ids()
    assert len(set(first)) == 50 and not set(first) & set(second)
    pyvoip_first = hashlib.sha256(b"1").hexdigest()[:32]
    assert not any(cid.startswith(pyvoip_first) for cid in first + second)


async def test_registration_retries_until_the_server_appears(
    make_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 7: a failed REGISTER is an error we see, logged and retried with backoff."""
    caplog.set_level(logging.WARNING, logger="contactcenter.voice")
    site = await make_site(start_kamailio=False, wait_registered=False)
    assert await until(lambda: site.edge.stats["registration_failed"] >= 2, 6)
    assert not site.edge.registered.is_set()
    assert "refused" in caplog.text or "no answer" in caplog.text
    await site.runtime.agents.login("a05")  # the engine carries on
    site.kamailio.start()
    assert await until(site.edge.registered.is_set, 6)


async def test_wrong_password_is_reported_and_right_one_registers(
    make_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="contactcenter.voice")
    bad = await make_site(auth=True, password="wrong", wait_registered=False)
    assert await until(lambda: bad.edge.stats["registration_failed"] >= 2, 6)
    assert "credentials (401)" in caplog.text
    good = await make_site(auth=True, password="secret")
    assert good.edge.registered.is_set()


def test_dial_returns_at_once_when_the_server_is_silent() -> None:
    """Defect 9: pyVoIP's call() blocks in recv() until a 1xx; ours never waits."""
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    events: list[Any] = []
    got = threading.Event()

    def sink(e: Any) -> None:
        events.append(e)
        got.set()

    media = MediaEngine()
    port = free_udp_port()
    stack = sip.SipStack(
        server="127.0.0.1", port=hole.getsockname()[1], extension="1000", password="",
        my_ip="127.0.0.1", sip_port=port, rtp_low=40100, rtp_high=40103, sink=sink,
        media=media, dial_timeout=3.0,
    )  # fmt: skip
    stack.open()
    try:
        leg = stack.dial("2005")
        assert not got.is_set(), "dial waited for the INVITE's 3 s timeout"
        # the stack still serves other traffic meanwhile
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(1)
        probe.sendto(_options(probe_port := free_udp_port()), ("127.0.0.1", port))
        del probe_port
        assert probe.recv(4096).startswith(b"SIP/2.0 200")
        assert got.wait(10)
        (failed,) = events
        assert isinstance(failed, sip.Failed) and failed.leg is leg and failed.status == 408
        assert hole.recv(65535).startswith(b"INVITE ")  # sent (and retransmitted)
        assert stack.free_ports == 4
    finally:
        stack.close()
        media.stop()
        hole.close()


def test_a_customer_number_that_never_answers_stays_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Customer data stays out of plain logs: the leg is named by its id, not the number."""
    caplog.set_level(logging.DEBUG, logger="contactcenter")
    number = "+4930555010099"
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    got = threading.Event()
    media = MediaEngine()
    stack = sip.SipStack(
        server="127.0.0.1", port=hole.getsockname()[1], extension="1000", password="",
        my_ip="127.0.0.1", sip_port=free_udp_port(), rtp_low=40110, rtp_high=40113,
        sink=lambda e: got.set(), media=media, dial_timeout=0.5,
    )  # fmt: skip
    stack.open()
    try:
        leg = stack.dial(number)
        assert got.wait(3)
        assert "no response" in caplog.text and leg.id in caplog.text
        assert number not in caplog.text and number not in repr(leg)
    finally:
        stack.close()
        media.stop()
        hole.close()


def _options(port: int) -> bytes:
    return (
        "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKprobe;rport\r\n"
        "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\n"
        "Call-ID: probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_malformed_and_unexpected_sip_is_logged_and_survived(
    make_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="contactcenter.voice.sip")
    site = await make_site()
    port = site.edge.settings.local.sip_port
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1)
    me = s.getsockname()[1]

    def exchange(data: bytes) -> bytes | None:
        s.sendto(data, ("127.0.0.1", port))
        try:
            return s.recv(4096)
        except TimeoutError:
            return None

    head = (
        f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKx;rport\r\nFrom: <sip:x@127.0.0.1>;tag=1"
        "\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: junk@127.0.0.1\r\n"
    )
    assert exchange(b"\x00\xffnot sip at all\r\n\r\n") is None
    info = exchange(f"INFO sip:1000@127.0.0.1 SIP/2.0\r\n{head}CSeq: 1 INFO\r\n\r\n".encode())
    assert info is not None and info.startswith(b"SIP/2.0 405")
    broken = exchange(b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nCSeq: x\r\n\r\nv=0")
    assert broken is None or broken.startswith(b"SIP/2.0 4")
    bye = exchange(f"BYE sip:1000@127.0.0.1 SIP/2.0\r\n{head}CSeq: 2 BYE\r\n\r\n".encode())
    assert bye is not None and bye.startswith(b"SIP/2.0 481")
    assert exchange(_options(me)) is not None  # still alive
    s.close()
    stats = site.edge.stack.stats
    assert stats.malformed >= 1 and stats.unexpected >= 1
    assert "malformed SIP message" in caplog.text or "not understood" in caplog.text
    assert "unsupported SIP request 'INFO" in caplog.text
    expires = await asyncio.get_running_loop().run_in_executor(
        None, lambda: site.edge.stack.register(2.0)
    )
    assert expires > 0
