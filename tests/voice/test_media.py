"""The RTP clock, G.711 audio and DTMF parsing (no SIP peers needed)."""

from __future__ import annotations

import socket
import struct
import time

from contactcenter.voice.media import (
    FRAME,
    PCMA,
    PCMU,
    Audio,
    MediaEngine,
    Player,
    RtpStream,
    decode,
    encode,
    transcode,
)
from contactcenter.voice.prompts import announcement
from tests.voice.harness import free_udp_port, free_udp_range


def test_rtp_send_rate_keeps_real_time_for_many_streams() -> None:
    """Absolute deadlines: 60 streams for 2 s stay within 2 % of 50 packets a second."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    media = MediaEngine()
    base = free_udp_range(60)
    streams = [RtpStream(("127.0.0.1", base + i), sink.getsockname(), PCMU, 101) for i in range(60)]
    media.start()
    try:
        for s in streams:
            media.add(s)
        time.sleep(2.0)
        now = time.monotonic()
        for s in streams:
            assert s.stats.started is not None
            expected = (now - s.stats.started) / 0.020
            assert abs(s.stats.sent - expected) / expected < 0.02, (s.stats.sent, expected)
    finally:
        media.stop()
        sink.close()


def test_g711_round_trip_and_transcoding() -> None:
    pcm = bytes(128 + int(60 * ((i % 40) / 20 - 1)) for i in range(FRAME))
    for pt in (PCMU, PCMA):
        back = decode(encode(pcm, pt), pt)
        assert max(abs(a - b) for a, b in zip(pcm, back, strict=True)) <= 2
    ulaw = encode(pcm, PCMU)
    assert decode(transcode(ulaw, PCMU, PCMA), PCMA)[:10] == decode(ulaw, PCMU)[:10]


def test_player_frames_and_done_callback() -> None:
    done: list[bool] = []
    audio = Audio("x", b"\x80" * 400)  # 2.5 frames -> 3 frames, padded
    p = Player([audio, audio], on_done=lambda: done.append(True))
    frames = [p.next_frame(PCMU) for _ in range(7)]
    assert all(f is not None and len(f) == FRAME for f in frames[:6]) and frames[6] is None
    assert done == [True]


def _dtmf(seq: int, ts: int, event: int, end: bool, marker: bool) -> bytes:
    header = struct.pack("!BBHII", 0x80, 101 | (0x80 if marker else 0), seq, ts, 1)
    return header + bytes([event, 0x80 if end else 0x0A]) + struct.pack("!H", 160)


def test_dtmf_repeated_key_from_a_replayed_recording_counts_twice() -> None:
    """SIPp replays one pcap per key, timestamps included: '00' must still be two keys."""
    got: list[str] = []
    s = RtpStream(("127.0.0.1", free_udp_port()), None, PCMU, 101, on_dtmf=got.append)
    try:
        for _ in range(2):  # the same recording twice
            s.on_packet(_dtmf(1, 1000, 0, False, True))
            s.on_packet(_dtmf(2, 1000, 0, False, False))
            for seq in (3, 4, 5):  # end packets, sent three times
                s.on_packet(_dtmf(seq, 1000, 0, True, False))
        s.on_packet(_dtmf(6, 2000, 11, True, True))  # '#': only end packets
    finally:
        s.close()
    assert got == ["0", "0", "#"]


def test_announcement_words() -> None:
    assert announcement(1, 20) == ["queue_next", "wait_short"]
    assert announcement(3, 185) == ["queue_position", "n3", "wait_about", "n3", "wait_minutes"]
    assert announcement(25, float("inf")) == ["queue_position_many"]
    assert announcement(2, 70) == ["queue_position", "n2", "wait_about", "n1", "wait_minute"]
    assert announcement(0, None) == ["please_hold"]
