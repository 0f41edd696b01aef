"""RTP media for the voice edge: G.711 streams paced by one clock, received by one thread.

pyVoIP 1.6.8 gives every RTP client two threads: a receiver that polls a non-blocking socket
every 10 ms and a transmitter that sleeps ``20 ms - work`` after each packet. The sleeps add up
(the reference measured the send rate 8 % behind real time with 60 calls), and each call costs
threads. Here one **sender thread** sends a frame for every stream at absolute deadlines
``t0 + k * 20 ms`` on the monotonic clock, so a late wake-up is caught up at the next tick
instead of being lost, and one **receiver thread** waits on all RTP sockets with a selector.

Audio comes in as 8-bit unsigned linear PCM at 8 kHz mono (the format of the IVR's prompt
loader and of pyVoIP), is encoded once per prompt and codec, and leaves as PCMU or PCMA.
A bridge forwards the other leg's G.711 payload (transcoding A-law <-> u-law when the legs
differ) without ever going through 8-bit PCM, so callers and agents hear full G.711 quality.

Nothing here imports pyVoIP; the SIP side (``_pyvoip``) owns ports and hands streams over.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import random
import selectors
import socket
import struct
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the 'audioop-lts' backport provides it on Python 3.13+

log = logging.getLogger(__name__)

PTIME = 0.020
"""Seconds of audio per RTP packet."""
FRAME = 160
"""Samples (= G.711 bytes) per packet at 8 kHz."""
PCMU, PCMA = 0, 8
G711 = (PCMU, PCMA)
SILENCE = {PCMU: b"\xff" * FRAME, PCMA: b"\xd5" * FRAME}
DTMF_EVENTS = "0123456789*#ABCD"
RESYNC_AFTER = 1.0
"""A sender that fell this far behind (a stalled machine) restarts its schedule."""


# -- audio ------------------------------------------------------------------------------------


def encode(pcm_u8: bytes, pt: int) -> bytes:
    """8-bit unsigned linear PCM -> G.711 payload (PCMU or PCMA)."""
    lin16 = audioop.lin2lin(audioop.bias(pcm_u8, 1, -128), 1, 2)
    return audioop.lin2ulaw(lin16, 2) if pt == PCMU else audioop.lin2alaw(lin16, 2)


def decode(payload: bytes, pt: int) -> bytes:
    """G.711 payload -> 8-bit unsigned linear PCM."""
    lin16 = audioop.ulaw2lin(payload, 2) if pt == PCMU else audioop.alaw2lin(payload, 2)
    return audioop.bias(audioop.lin2lin(lin16, 2, 1), 1, 128)


def transcode(payload: bytes, src: int, dst: int) -> bytes:
    if src == dst:
        return payload
    if src == PCMA:
        return audioop.lin2ulaw(audioop.alaw2lin(payload, 2), 2)
    return audioop.lin2alaw(audioop.ulaw2lin(payload, 2), 2)


class Audio:
    """A piece of audio (a prompt), kept encoded per codec in 20 ms frames."""

    def __init__(self, name: str, pcm_u8: bytes) -> None:
        self.name = name
        self._pcm = pcm_u8
        self._frames: dict[int, list[bytes]] = {}
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return len(self._pcm) / 8000

    def frames(self, pt: int) -> list[bytes]:
        found = self._frames.get(pt)
        if found is not None:
            return found
        with self._lock:
            if pt not in self._frames:
                pad = (-len(self._pcm)) % FRAME
                data = encode(self._pcm + b"\x80" * pad, pt)
                self._frames[pt] = [data[i : i + FRAME] for i in range(0, len(data), FRAME)]
            return self._frames[pt]


def tone(
    name: str, seconds: float, freqs: Sequence[float] = (440.0,), level: float = 0.15
) -> Audio:
    """A soft built-in tone (when no hold music prompt is configured)."""
    import math

    n = int(seconds * 8000)
    out = bytearray(n)
    for i in range(n):
        f = freqs[(i * len(freqs)) // n]
        out[i] = 128 + int(127 * level * math.sin(2 * math.pi * f * i / 8000))
    return Audio(name, bytes(out))


RINGBACK = tone("ringback", 3.0, (425.0, 0.0, 0.0), level=0.12)
"""What an agent hears while the phone it calls rings: 1 s of 425 Hz, 2 s of silence."""


# -- what a stream sends ------------------------------------------------------------------------


class Source(Protocol):
    def next_frame(self, pt: int) -> bytes | None:
        """The next 20 ms payload in codec ``pt``; None for silence. Runs on the media thread."""
        ...


class Player:
    """Plays prompts once, in order; calls ``on_done`` (on the media thread) at the end."""

    def __init__(self, items: Sequence[Audio], on_done: Callable[[], None] | None = None) -> None:
        self._items = list(items)
        self._item = 0
        self._frame = 0
        self._on_done = on_done
        self.done = not self._items
        if self.done and on_done is not None:
            on_done()

    def next_frame(self, pt: int) -> bytes | None:
        while self._item < len(self._items):
            frames = self._items[self._item].frames(pt)
            if self._frame < len(frames):
                self._frame += 1
                return frames[self._frame - 1]
            self._item += 1
            self._frame = 0
        if not self.done:
            self.done = True
            if self._on_done is not None:
                self._on_done()
        return None

    def stop(self) -> None:
        """Stop without calling ``on_done``."""
        self.done = True
        self._item = len(self._items)


class Loop:
    """Loops one piece of audio forever (hold music)."""

    def __init__(self, audio: Audio) -> None:
        self._audio = audio
        self._frame = 0

    def next_frame(self, pt: int) -> bytes | None:
        frames = self._audio.frames(pt)
        if not frames:
            return None
        frame = frames[self._frame % len(frames)]
        self._frame += 1
        return frame


class Forward:
    """Sends what another stream receives (one direction of a bridge)."""

    def __init__(self, other: RtpStream) -> None:
        self._other = other

    def next_frame(self, pt: int) -> bytes | None:
        got = self._other.take_inbound()
        if got is None:
            return None
        src_pt, payload = got
        if len(payload) != FRAME:
            return None
        return transcode(payload, src_pt, pt)


# -- streams ------------------------------------------------------------------------------------


@dataclass
class StreamStats:
    sent: int = 0
    received: int = 0
    dtmf: int = 0
    started: float | None = None
    """Monotonic time of the first packet sent."""
    last_sent: float | None = None


class RtpStream:
    """One RTP session: a bound UDP socket, where to send, and what to send.

    ``source`` may be swapped from any thread (an attribute store is atomic); the media
    threads read it at every tick.
    """

    def __init__(
        self,
        local: tuple[str, int],
        remote: tuple[str, int] | None,
        pt: int,
        dtmf_pt: int | None,
        on_dtmf: Callable[[str], None] | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        if pt not in G711:
            raise ValueError(f"payload type {pt} is not G.711")
        self.local = local
        self.remote = remote
        self.pt = pt
        self.dtmf_pt = dtmf_pt
        self.on_dtmf = on_dtmf
        self.source: Source | None = None
        self.sending = True
        """False while the peer holds the call (it said sendonly/inactive)."""
        self.stats = StreamStats()
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind(local)
            except OSError:
                sock.close()
                raise
        sock.setblocking(False)
        self.sock = sock
        self._seq = random.randrange(0x10000)
        self._ts = random.randrange(0x100000000)
        self._ssrc = random.randrange(1, 0x100000000)
        self._marker = True
        self._inbound: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=6)
        self._last_dtmf_ts: int | None = None
        self._dtmf_ended = False
        self.closed = False

    # media thread side
    def send_tick(self, now: float) -> None:
        remote = self.remote
        if not self.sending or self.closed or remote is None:
            return
        src = self.source
        frame = None
        if src is not None:
            try:
                frame = src.next_frame(self.pt)
            except Exception:
                log.exception("audio source of RTP stream %s failed; sending silence", self.local)
                self.source = None
        if frame is None:
            frame = SILENCE[self.pt]
        first = self.pt | (0x80 if self._marker else 0)
        self._marker = False
        header = struct.pack("!BBHII", 0x80, first, self._seq, self._ts, self._ssrc)
        try:
            self.sock.sendto(header + frame, remote)
        except OSError as e:  # e.g. the peer's port is closed (ICMP): keep the clock going
            if e.errno not in (111,):  # ECONNREFUSED is routine after a peer hangs up
                log.debug("RTP send from %s failed: %s", self.local, e)
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + FRAME) & 0xFFFFFFFF
        st = self.stats
        st.sent += 1
        if st.started is None:
            st.started = now
        st.last_sent = now

    def on_packet(self, data: bytes) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        pt = data[1] & 0x7F
        offset = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and len(data) >= offset + 4:  # header extension
            offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
        end = len(data)
        if data[0] & 0x20 and end > offset:  # padding
            end -= data[-1]
        payload = data[offset:end]
        if pt == self.dtmf_pt:
            if len(payload) < 4:
                return
            ts = struct.unpack_from("!I", data, 4)[0]
            end = bool(payload[1] & 0x80)
            # One key press = packets sharing a timestamp, the last ones (sent 3 times) with
            # the end bit. A new press has a new timestamp, or (a replayed recording of the
            # same key) the same timestamp again after the previous press ended.
            new = ts != self._last_dtmf_ts or (self._dtmf_ended and not end)
            if end:
                self._dtmf_ended = True
            if not new:
                return
            self._last_dtmf_ts = ts
            self._dtmf_ended = end
            if payload[0] < len(DTMF_EVENTS):
                self.stats.dtmf += 1
                if self.on_dtmf is not None:
                    self.on_dtmf(DTMF_EVENTS[payload[0]])
            return
        if pt in G711:
            self.stats.received += 1
            self._inbound.append((pt, payload))

    def take_inbound(self) -> tuple[int, bytes] | None:
        try:
            return self._inbound.popleft()
        except IndexError:
            return None

    def close(self) -> None:
        self.closed = True
        self.source = None
        with contextlib.suppress(OSError):
            self.sock.close()


def bridge(a: RtpStream, b: RtpStream) -> None:
    """Connect two streams both ways."""
    a.take_inbound()
    b.take_inbound()
    a.source = Forward(b)
    b.source = Forward(a)


# -- the engine ---------------------------------------------------------------------------------


class MediaEngine:
    """Owns the sender and receiver threads of every RTP stream in the process."""

    def __init__(self) -> None:
        self._streams: dict[int, RtpStream] = {}
        self._lock = threading.Lock()
        self._changes: list[tuple[bool, RtpStream]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.resyncs = 0
        self.late_ticks = 0
        self.ticks = 0
        self.max_late = 0.0

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for name, target in (("rtp-send", self._send_loop), ("rtp-recv", self._recv_loop)):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for s in streams:
            s.close()

    def add(self, stream: RtpStream) -> None:
        with self._lock:
            self._streams[id(stream)] = stream
            self._changes.append((True, stream))

    def remove(self, stream: RtpStream) -> None:
        """Stop sending; the receiver thread closes the socket (it may be inside select())."""
        with self._lock:
            self._streams.pop(id(stream), None)
            if self._threads:
                self._changes.append((False, stream))
        stream.closed = True
        if not self._threads:
            stream.close()

    def streams(self) -> list[RtpStream]:
        with self._lock:
            return list(self._streams.values())

    def _send_loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_tick:
                time.sleep(next_tick - now)
                continue
            late = now - next_tick
            if late > RESYNC_AFTER:
                self.resyncs += 1
                log.warning("RTP clock stalled %.0f ms; resynchronising", late * 1000)
                next_tick = now
            elif late > PTIME:
                self.late_ticks += 1
            self.max_late = max(self.max_late, late)
            with self._lock:
                streams = list(self._streams.values())
            for s in streams:
                s.send_tick(next_tick)
            self.ticks += 1
            next_tick += PTIME

    def _recv_loop(self) -> None:
        sel = selectors.DefaultSelector()
        registered: dict[int, RtpStream] = {}
        try:
            while not self._stop.is_set():
                with self._lock:
                    changes, self._changes = self._changes, []
                for add, s in changes:
                    if add and not s.closed:
                        with contextlib.suppress(ValueError, KeyError, OSError):
                            sel.register(s.sock, selectors.EVENT_READ, s)
                            registered[id(s)] = s
                    elif not add:
                        if registered.pop(id(s), None) is not None:
                            with contextlib.suppress(ValueError, KeyError, OSError):
                                sel.unregister(s.sock)
                        s.close()
                if not registered:
                    time.sleep(0.02)
                    continue
                try:
                    ready = sel.select(timeout=0.05)
                except OSError:
                    time.sleep(0.01)
                    continue
                for key, _ in ready:
                    stream: RtpStream = key.data
                    for _ in range(16):
                        try:
                            data = stream.sock.recv(2048)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            break  # ICMP errors from a closed peer port, a closed socket
                        try:
                            stream.on_packet(data)
                        except Exception:
                            log.exception("bad RTP packet on %s", stream.local)
        finally:
            sel.close()
