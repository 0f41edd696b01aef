"""The RTP clock, G.711 audio, bridges and DTMF parsing, and media threads that no stream can
stop (no SIP peers needed). Audio is checked by what a listener hears (``tests/voice/audio``)."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from contactcenter.voice.media import (
    BRIDGE_BUFFER,
    FRAME,
    PCMA,
    PCMU,
    Audio,
    MediaEngine,
    Player,
    Reframer,
    RtpStream,
    bridge,
    decode,
    encode,
    sendable,
    transcode,
)
from contactcenter.voice.prompts import announcement
from tests.voice import audio
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


# -- bridges: any packetization in, 20 ms frames out ---------------------------------------------


def _through_reframer(
    sent: list[bytes], src: int, dst: int, ptime_ms: float, jitter_ms: float, seed: int
) -> list[bytes | None]:
    """Packets arriving every ``ptime_ms`` (+- jitter) and a sender pulling every 20 ms at a
    random phase, on a simulated clock: what the sender sends, tick by tick."""
    rng = random.Random(seed)
    events: list[tuple[float, int, bytes | None]] = [
        (100 + i * ptime_ms + rng.uniform(-jitter_ms, jitter_ms), 0, p) for i, p in enumerate(sent)
    ]
    phase = rng.uniform(0, 20)
    end = 100 + len(sent) * ptime_ms + 300
    events += [(phase + 20 * k, 1, None) for k in range(int(end / 20))]
    events.sort(key=lambda e: (e[0], e[1]))
    reframer = Reframer()
    out: list[bytes | None] = []
    for _, kind, payload in events:
        if payload is not None:
            assert reframer.push(payload, src) == 0  # nothing dropped
        elif kind == 1:
            out.append(reframer.pull(dst))
    return out


@pytest.mark.parametrize("size", [80, 160, 240, 320, 480, 137, 100])  # 10-60 ms, odd sizes
@pytest.mark.parametrize(
    ("src", "dst", "freq"), [(PCMA, PCMU, 1000.0), (PCMU, PCMA, 700.0), (PCMU, PCMU, 1000.0)]
)
def test_bridge_reframes_any_packetization_and_codec_into_clean_20ms_frames(
    size: int, src: int, dst: int, freq: float
) -> None:
    """2 s of a tone in ``size``-byte packets with a few ms of jitter comes out as 100
    consecutive 160-byte frames in the other codec, the same tone, undistorted."""
    sent_audio = audio.tone(freq, 2.0)
    ptime = size / 8
    out = _through_reframer(
        audio.packets(sent_audio, src, size), src, dst, ptime, min(5.0, ptime / 3), seed=size
    )
    first = next(i for i, f in enumerate(out) if f is not None)
    playing = out[first : first + 100]
    assert first * 20 <= 100 + ptime + 20 + 20  # starts within one packet and a frame
    assert all(f is not None and len(f) == FRAME for f in playing), "a hole in the audio"
    assert all(f is None for f in out[first + 100 :])
    heard = np.concatenate([audio.decode(f, dst) for f in playing if f is not None])
    assert audio.purity(heard, freq) > 0.999
    assert audio.match(heard, sent_audio[200:-400]) > 0.999  # the same samples, in order


def test_bridge_rides_out_bursts_and_holes() -> None:
    """20 ms packets arriving three at a time every 60 ms: no frame lost, no hole."""
    sent_audio = audio.tone(1000.0, 2.0)
    sent = audio.packets(sent_audio, PCMA, FRAME)
    reframer = Reframer()
    out: list[bytes | None] = []
    for k in range(0, len(sent), 3):
        for p in sent[k : k + 3]:
            reframer.push(p, PCMA)
        out += [reframer.pull(PCMU) for _ in range(3)]
    out += [reframer.pull(PCMU) for _ in range(10)]
    played = [f for f in out if f is not None]
    assert len(played) == len(sent) and all(len(f) == FRAME for f in played)
    first = next(i for i, f in enumerate(out) if f is not None)
    assert None not in out[first : first + len(sent)]
    heard = np.concatenate([audio.decode(f, PCMU) for f in played])
    assert audio.match(heard, sent_audio) > 0.999


def test_bridge_buffer_is_bounded_dropping_the_oldest() -> None:
    """A second of audio at once (a stalled network catching up) keeps only the newest 120 ms:
    the drops are counted and the next audio is heard 120 ms later, not a second later."""
    reframer = Reframer()
    backlog = audio.packets(audio.tone(700.0, 1.0), PCMU, FRAME)
    dropped = sum(reframer.push(p, PCMU) for p in backlog)
    assert dropped == len(backlog) - BRIDGE_BUFFER // FRAME
    live = audio.packets(audio.tone(1000.0, 1.0), PCMU, FRAME)
    out = []
    for p in live:
        f = reframer.pull(PCMU)
        assert f is not None
        out.append(audio.decode(f, PCMU))
        dropped += reframer.push(p, PCMU)
    assert dropped == len(backlog) - BRIDGE_BUFFER // FRAME  # in step again: nothing more
    lag = BRIDGE_BUFFER // FRAME
    assert audio.purity(np.concatenate(out[:lag]), 700.0) > 0.99  # the newest of the backlog
    assert audio.seconds_of_tone(np.concatenate(out[lag:]), 1000.0) >= 0.8


def test_bridge_underrun_pads_then_waits_for_audio() -> None:
    reframer = Reframer()
    assert reframer.pull(PCMU) is None  # nothing received yet: silence
    sent = encode(bytes(range(0, 200)) + bytes(range(55, 255)), PCMU)
    reframer.push(sent[:200], PCMU)
    assert reframer.pull(PCMU) is None  # gathering: less than a packet and a frame
    reframer.push(sent[200:], PCMU)
    frames = [reframer.pull(PCMU) for _ in range(3)]
    assert all(f is not None and len(f) == FRAME for f in frames)
    played = b"".join(f for f in frames if f is not None)
    assert played[:400] == sent and played[400:] == b"\xff" * 80  # ran dry: padded
    assert reframer.underruns == 1 and reframer.pull(PCMU) is None  # and gathering again


class _Phone:
    """A phone on loopback: sends G.711 packets of any size in real time to one RTP port and
    records what it receives."""

    def __init__(self, pt: int) -> None:
        self.pt = pt
        self.ear = audio.RtpRecorder().start()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.ear.port)

    def say(self, samples: np.ndarray, size: int, to: tuple[str, int]) -> None:
        payloads = audio.packets(samples, self.pt, size)

        def run() -> None:
            t0 = time.monotonic()
            for i, p in enumerate(payloads):
                header = struct.pack("!BBHII", 0x80, self.pt, i, i * size, 0x1234)
                self._sock.sendto(header + p, to)
                time.sleep(max(0.0, t0 + (i + 1) * size / 8000 - time.monotonic()))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def done(self) -> None:
        """Wait until it has said everything."""
        if self._thread is not None:
            self._thread.join(timeout=10)

    def close(self) -> None:
        self.done()
        self._sock.close()
        self.ear.stop()


def _until(predicate: Callable[[], object], timeout: float) -> bool:
    """Wait (bounded) for a condition of the media threads; its last value."""
    deadline = time.monotonic() + timeout
    while not (ok := bool(predicate())) and time.monotonic() < deadline:
        time.sleep(0.02)
    return ok


def _more_packets(ear: audio.RtpRecorder, n: int) -> Callable[[], bool]:
    """True once ``n`` more packets than now have arrived at ``ear``."""
    target = len(ear.packets) + n
    return lambda: len(ear.packets) >= target


@pytest.fixture
def media() -> Iterator[MediaEngine]:
    engine = MediaEngine()
    engine.start()
    yield engine
    engine.stop()


def test_bridged_tones_cross_both_ways_through_the_media_engine(media: MediaEngine) -> None:
    """The real threads: a caller sending 1 kHz in 30 ms A-law packets (like SIPp's
    g711a.pcap) and an agent sending 700 Hz in 20 ms u-law packets each hear the other."""
    caller, agent = _Phone(PCMA), _Phone(PCMU)
    base = free_udp_range(2)
    a = RtpStream(("127.0.0.1", base), caller.address, PCMA, 101)
    b = RtpStream(("127.0.0.1", base + 1), agent.address, PCMU, 101)
    try:
        media.add(a)
        media.add(b)
        bridge(a, b)
        caller.say(audio.tone(1000.0, 2.0), 240, a.local)
        agent.say(audio.tone(700.0, 2.0), 160, b.local)
        caller.done()
        agent.done()
        assert _until(_more_packets(agent.ear, 15), 5)  # what was buffered (< 150 ms) too
        assert _until(_more_packets(caller.ear, 15), 5)
        agent_heard, caller_heard = agent.ear.audio(), caller.ear.audio()
        assert audio.seconds_of_tone(agent_heard, 1000.0) >= 1.6
        assert audio.seconds_of_tone(caller_heard, 700.0) >= 1.6
        assert audio.seconds_of_tone(agent_heard, 700.0) == 0  # no echo of its own voice
        assert {(p.pt, len(p.payload)) for p in agent.ear.packets} == {(PCMU, FRAME)}
        assert {(p.pt, len(p.payload)) for p in caller.ear.packets} == {(PCMA, FRAME)}
        assert media.stats().dropped_inbound_frames == 0
    finally:
        caller.close()
        agent.close()


def test_audio_received_before_the_bridge_is_not_played(media: MediaEngine) -> None:
    caller, agent = _Phone(PCMU), _Phone(PCMU)
    base = free_udp_range(2)
    a = RtpStream(("127.0.0.1", base), caller.address, PCMU, 101)
    b = RtpStream(("127.0.0.1", base + 1), agent.address, PCMU, 101)
    try:
        media.add(a)
        media.add(b)
        caller.say(audio.tone(700.0, 0.5), 160, a.local)  # said during the IVR
        caller.done()
        assert _until(lambda: a.stats.received >= 25, 5)
        assert a.stats.dropped == 0  # nobody listened: not "dropped"
        bridge(a, b)
        assert _until(_more_packets(agent.ear, 15), 5)
        assert audio.seconds_of_tone(agent.ear.audio(), 700.0, min_purity=0.5) == 0
    finally:
        caller.close()
        agent.close()


# -- no stream can stop the media threads -------------------------------------------------------


@pytest.mark.parametrize(
    "remote", [("127.0.0.1", 70000), ("127.0.0.1", -1), ("127.0.0.1", "4000")], ids=str
)
def test_a_stream_that_cannot_send_ends_alone(media: MediaEngine, remote: object) -> None:
    """Defect: ``m=audio 70000`` made ``sendto`` raise OverflowError on the sender thread,
    which died: every call after it was silent. Now that stream ends (and says so), the others
    keep their clock and their audio."""
    ear = audio.RtpRecorder().start()
    base = free_udp_range(2)
    good = RtpStream(("127.0.0.1", base), ("127.0.0.1", ear.port), PCMU, 101)
    good.source = Player([Audio("tone", _u8(audio.tone(1000.0, 3.0)))])
    bad = RtpStream(("127.0.0.1", base + 1), remote, PCMU, 101)  # type: ignore[arg-type]
    ended: list[str] = []
    bad.on_failure = lambda: ended.append("ended")
    try:
        media.add(good)
        assert _until(_more_packets(ear, 15), 5)
        media.add(bad)
        assert _until(_more_packets(ear, 85), 5), "the good call's audio stopped"
        assert audio.seconds_of_tone(ear.audio(), 1000.0) >= 1.8  # all of it, no gap
        assert ended == ["ended"] and bad.failed and bad not in media.streams()
        assert media.healthy() and media.stats().failed_streams == 1
        assert media.stats().restarts == 0
    finally:
        ear.stop()


class _KillsTheSender:
    def next_frame(self, pt: int) -> bytes | None:
        raise SystemExit("a BaseException escapes every handler")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_watchdog_restarts_a_dead_sender_and_audio_comes_back(media: MediaEngine) -> None:
    ear = audio.RtpRecorder().start()
    base = free_udp_range(2)
    good = RtpStream(("127.0.0.1", base), ("127.0.0.1", ear.port), PCMU, 101)
    good.source = Player([Audio("tone", _u8(audio.tone(1000.0, 6.0)))])
    killer = RtpStream(("127.0.0.1", base + 1), ("127.0.0.1", ear.port), PCMU, 101)
    killer.source = _KillsTheSender()
    ended: list[str] = []
    killer.on_failure = lambda: ended.append("ended")
    try:
        media.add(good)
        assert _until(_more_packets(ear, 15), 5)
        media.add(killer)
        assert _until(lambda: media.stats().restarts, 3), "the watchdog did not restart it"
        restarted = time.monotonic()
        assert _until(_more_packets(ear, 75), 5), "no audio after the restart"
        stats = media.stats()
        assert stats.healthy and stats.restarts == 1 and stats.failed_streams == 1
        assert ended == ["ended"] and killer not in media.streams()  # the culprit is gone
        assert audio.seconds_of_tone(ear.audio(since=restarted), 1000.0) >= 1.4
    finally:
        ear.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_watchdog_restarts_a_dead_receiver(
    media: MediaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller, agent = _Phone(PCMU), _Phone(PCMU)
    base = free_udp_range(2)
    a = RtpStream(("127.0.0.1", base), caller.address, PCMU, 101)
    b = RtpStream(("127.0.0.1", base + 1), agent.address, PCMU, 101)
    receive = media._receive
    calls = iter(range(1_000_000))

    def dies_once(*args: object) -> None:
        if next(calls) == 5:
            raise SystemExit("receiver killed")
        receive(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(media, "_receive", dies_once)
    try:
        media.add(a)
        media.add(b)
        bridge(a, b)
        assert _until(lambda: media.stats().restarts, 3), "the watchdog did not restart it"
        assert _until(media.healthy, 1)
        caller.say(audio.tone(700.0, 1.0), 160, a.local)
        caller.done()
        assert _until(_more_packets(agent.ear, 15), 5)
        assert media.stats().restarts == 1
        assert audio.seconds_of_tone(agent.ear.audio(), 700.0) >= 0.8
    finally:
        caller.close()
        agent.close()


def test_sendable_media_addresses() -> None:
    assert sendable("127.0.0.1", 4000) and sendable("10.1.2.3", 65535)
    for host, port in [("127.0.0.1", 0), ("127.0.0.1", 65536), ("127.0.0.1", 70000),
                       ("127.0.0.1", -1), ("0.0.0.0", 4000), ("example.com", 4000),
                       ("::1", 4000), ("", 4000)]:  # fmt: skip
        assert not sendable(host, port), (host, port)


def _u8(samples: np.ndarray) -> bytes:
    """16-bit samples -> the 8-bit unsigned PCM prompts are loaded as."""
    return (np.clip(samples / 256 + 128, 0, 255)).astype(np.uint8).tobytes()
