"""The SIP stack alone against a hand-made peer on loopback: messages as real phones and proxies
write them (header names in any case, compact forms), offers we cannot take, and a caller who
never confirms our answer (RFC 3261 13.3.1.4)."""

from __future__ import annotations

import queue
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contactcenter.voice import _pyvoip as sip
from contactcenter.voice.media import MediaEngine
from tests.voice.harness import free_udp_port, free_udp_range


class Peer:
    """A UDP socket that plays the SIP server (proxy) for one stack."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]

    def recv(self, starts: bytes, timeout: float = 3.0) -> str:
        """The next datagram that starts with ``starts`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                break
            if data.startswith(starts):
                return data.decode()
        raise AssertionError(f"no {starts!r} within {timeout} s")

    def send(self, text: str, port: int) -> None:
        self.sock.sendto(text.encode(), ("127.0.0.1", port))


@pytest.fixture
def rig() -> Iterator[tuple[sip.SipStack, Peer, queue.Queue[Any]]]:
    peer = Peer()
    events: queue.Queue[Any] = queue.Queue()
    media = MediaEngine()
    rtp = free_udp_range(10)
    stack = sip.SipStack(
        server="127.0.0.1", port=peer.port, extension="1000", password="",
        my_ip="127.0.0.1", sip_port=free_udp_port(), rtp_low=rtp, rtp_high=rtp + 9,
        sink=events.put, media=media, t1=0.05,
    )  # fmt: skip
    stack.open()
    try:
        yield stack, peer, events
    finally:
        stack.close()
        media.stop()
        peer.sock.close()


def _header(text: str, name: str) -> str:
    return next(v for k, v in sip.raw_headers(text) if k == name)


SDP_PCMU = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40999 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


def test_a_200_with_header_names_in_any_case_and_compact_form_is_acked(rig: Any) -> None:
    """Defect: a 200 with ``Cseq:`` was dropped, so the answered agent leg was never ACKed."""
    stack, peer, events = rig
    leg = stack.dial("2005")
    invite = peer.recv(b"INVITE ")
    ok = (
        "SIP/2.0 200 OK\r\n"
        f"v: {_header(invite, 'via')}\r\n"
        f"f: {_header(invite, 'from')}\r\n"
        f"t: {_header(invite, 'to')};tag=phone1\r\n"
        f"i: {_header(invite, 'call-id')}\r\n"
        f"Cseq: {_header(invite, 'cseq')}\r\n"
        "m: <sip:2005@127.0.0.1:5999>\r\n"
        "c: application/sdp\r\n"
        f"l: {len(SDP_PCMU)}\r\n\r\n{SDP_PCMU}"
    )
    peer.send(ok, stack.sip_port)
    ack = peer.recv(b"ACK ")
    assert ack.startswith("ACK sip:2005@127.0.0.1:5999 ")
    assert _header(ack, "call-id") == leg.call_id
    answered = events.get(timeout=3)
    assert isinstance(answered, sip.Answered) and answered.leg is leg
    assert leg.stream.remote == ("127.0.0.1", 40999)


def _invite(peer: Peer, call_id: str, sdp: str, *, lower: bool = False) -> str:
    names = ["via", "from", "to", "call-id", "cseq", "contact", "content-type", "content-length"]
    if not lower:
        names = [
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Contact",
            "Content-Type",
            "Content-Length",
        ]
    values = [
        f"SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bK{call_id};rport",
        "<sip:caller@127.0.0.1>;tag=c1",
        "<sip:1000@127.0.0.1>",
        f"{call_id}@127.0.0.1",
        "1 INVITE",
        f"<sip:caller@127.0.0.1:{peer.port}>",
        "application/sdp",
        str(len(sdp)),
    ]
    head = "".join(f"{n}: {v}\r\n" for n, v in zip(names, values, strict=True))
    return f"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n{head}Max-Forwards: 70\r\n\r\n{sdp}"


def test_an_invite_with_lower_case_header_names_rings(rig: Any) -> None:
    stack, peer, events = rig
    peer.send(_invite(peer, "lower", SDP_PCMU, lower=True), stack.sip_port)
    assert peer.recv(b"SIP/2.0 ").startswith("SIP/2.0 180")
    incoming = events.get(timeout=3)
    assert isinstance(incoming, sip.Incoming), incoming


@pytest.mark.parametrize(
    "media",
    [
        "m=audio 40999 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
        "m=audio 40999 RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n",
        "m=audio 40999 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n",
        "m=audio 40999 RTP/AVP 3\r\n",
        "m=audio 40999 RTP/AVP 97\r\n",
        "m=audio 40999 RTP/AVP 97\r\na=rtpmap:97 iLBC/8000\r\na=fmtp:97 mode=30\r\n",
    ],
    ids=["g729", "g722", "opus", "gsm", "dynamic-without-rtpmap", "ilbc"],
)
def test_an_offer_without_a_codec_we_speak_gets_488(rig: Any, media: str) -> None:
    stack, peer, events = rig
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + media
    peer.send(_invite(peer, "nocodec", sdp), stack.sip_port)
    reply = peer.recv(b"SIP/2.0 ")
    assert reply.startswith("SIP/2.0 488"), reply.splitlines()[0]
    assert events.empty()
    assert stack.free_ports == 10  # nothing kept for it


def test_an_answer_never_acked_is_ended_with_a_bye_after_64_t1(rig: Any) -> None:
    """RFC 3261 13.3.1.4: 200 retransmitted (T1, 2T1, ... capped at T2) until 64*T1, then the
    dialog is ended with a BYE and the edge is told (``no_ack``)."""
    stack, peer, events = rig
    peer.send(_invite(peer, "noack", SDP_PCMU), stack.sip_port)
    peer.recv(b"SIP/2.0 180")
    incoming = events.get(timeout=3)
    stack.answer(incoming.leg)
    t0 = time.monotonic()
    oks = 0
    while True:
        data = peer.recv(b"", timeout=5)
        if data.startswith("SIP/2.0 200"):
            oks += 1
        elif data.startswith("BYE "):
            break
    waited = time.monotonic() - t0
    assert 64 * 0.05 - 0.1 <= waited < 64 * 0.05 + 1.0
    assert oks >= 5  # the first and its retransmissions
    ended = events.get(timeout=3)
    assert isinstance(ended, sip.Ended) and ended.leg is incoming.leg and ended.by == "no_ack"
    assert stack.legs == [] or all(x is not incoming.leg for x in stack.legs)


def test_an_ack_stops_the_retransmissions_and_keeps_the_call(rig: Any) -> None:
    stack, peer, events = rig
    peer.send(_invite(peer, "acked", SDP_PCMU), stack.sip_port)
    peer.recv(b"SIP/2.0 180")
    incoming = events.get(timeout=3)
    stack.answer(incoming.leg)
    ok = peer.recv(b"SIP/2.0 200")
    ack = (
        "ACK sip:1000@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bKa\r\n"
        f"From: {_header(ok, 'from')}\r\nTo: {_header(ok, 'to')}\r\n"
        f"Call-ID: {_header(ok, 'call-id')}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    )
    peer.send(ack, stack.sip_port)
    confirmed = events.get(timeout=3)
    assert isinstance(confirmed, sip.Confirmed) and confirmed.leg is incoming.leg
    time.sleep(64 * 0.05 + 0.5)
    assert events.empty()  # no BYE, no end
    assert incoming.leg.state is sip.LegState.ANSWERED


@pytest.mark.parametrize("drop", ["From", "To", "Call-ID", "CSeq", "Via", "Contact"])
def test_an_invite_missing_a_dialog_header_leaves_nothing_behind(rig: Any, drop: str) -> None:
    stack, peer, events = rig
    text = _invite(peer, f"no-{drop}", SDP_PCMU)
    text = "\r\n".join(x for x in text.split("\r\n") if not x.startswith(f"{drop}:"))
    peer.send(text, stack.sip_port)
    # a 400 goes back where the Via says, in the dialog the Call-ID names: without either,
    # nothing can be answered
    expected = {"Contact": "SIP/2.0 180", "Via": None, "Call-ID": None}.get(drop, "SIP/2.0 400")
    if expected is None:
        with pytest.raises(AssertionError, match=r"no b'SIP/2\.0 '"):
            peer.recv(b"SIP/2.0 ", timeout=1.0)
    else:
        reply = peer.recv(b"SIP/2.0 ", timeout=1.0)
        assert reply.startswith(expected), reply.splitlines()[0]
    if drop == "Contact":  # not needed to answer: the call rings
        assert isinstance(events.get(timeout=3), sip.Incoming)
        return
    assert events.empty()
    assert stack.free_ports == 10 and stack.legs == []
    assert stack.media.streams() == []


def _answered_inbound(stack: Any, peer: Peer, events: Any, call_id: str) -> tuple[Any, str]:
    """An inbound call the stack answered and the peer ACKed: (leg, the 200's text)."""
    peer.send(_invite(peer, call_id, SDP_PCMU), stack.sip_port)
    peer.recv(b"SIP/2.0 180")
    leg = events.get(timeout=3).leg
    stack.answer(leg)
    ok = peer.recv(b"SIP/2.0 200")
    peer.send(
        "ACK sip:1000@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bKack{call_id}\r\n"
        f"From: {_header(ok, 'from')}\r\nTo: {_header(ok, 'to')}\r\n"
        f"Call-ID: {_header(ok, 'call-id')}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        stack.sip_port,
    )
    assert isinstance(events.get(timeout=3), sip.Confirmed)
    return leg, ok


@pytest.mark.parametrize(
    "media",
    [
        "m=audio 70000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n",
        "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
    ],
    ids=["port-70000", "g729-only"],
)
def test_a_reinvite_to_media_we_cannot_use_gets_488_and_keeps_the_call(
    rig: Any, media: str
) -> None:
    stack, peer, events = rig
    leg, ok = _answered_inbound(stack, peer, events, f"re488{media[8:13].strip()}")
    before = leg.stream.remote
    sdp = SDP_PCMU[: SDP_PCMU.index("m=")] + media + "a=sendrecv\r\n"
    reinvite = _invite(peer, "x", sdp).replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
    reinvite = reinvite.replace("x@127.0.0.1", _header(ok, "call-id"))
    reinvite = reinvite.replace("To: <sip:1000@127.0.0.1>", f"To: {_header(ok, 'to')}")
    peer.send(reinvite, stack.sip_port)
    reply = peer.recv(b"SIP/2.0 ")
    assert reply.startswith("SIP/2.0 488"), reply.splitlines()[0]
    assert leg.stream.remote == before and leg.state is sip.LegState.ANSWERED


@pytest.mark.parametrize("where", ["m=audio 0 RTP/AVP 0 101", "c=IN IP4 0.0.0.0"])
def test_an_agent_answer_without_somewhere_to_send_audio_is_hung_up(rig: Any, where: str) -> None:
    """RFC 3264: port 0 in an answer rejects the stream; 0.0.0.0 is nowhere. Bridging it would
    leave the caller talking to nobody."""
    stack, peer, events = rig
    leg = stack.dial("2005")
    invite = peer.recv(b"INVITE ")
    key = where.split(" ")[0].split("=")[0]
    sdp = "\r\n".join(
        where if line.startswith(f"{key}=") and ("audio" in line or key == "c") else line
        for line in SDP_PCMU.split("\r\n")
    )
    peer.send(
        "SIP/2.0 200 OK\r\n"
        f"Via: {_header(invite, 'via')}\r\nFrom: {_header(invite, 'from')}\r\n"
        f"To: {_header(invite, 'to')};tag=p\r\nCall-ID: {_header(invite, 'call-id')}\r\n"
        f"CSeq: {_header(invite, 'cseq')}\r\nContact: <sip:2005@127.0.0.1:5999>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}",
        stack.sip_port,
    )
    peer.recv(b"ACK ")
    peer.recv(b"BYE ")
    failed = events.get(timeout=3)
    assert isinstance(failed, sip.Failed) and failed.leg is leg and failed.status == 488
