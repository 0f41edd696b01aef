"""RTP media for the voice edge: G.711 streams paced by one clock, received by one thread.

pyVoIP 1.6.8 gives every RTP client two threads: a receiver that polls a non-blocking socket
every 10 ms and a transmitter that sleeps ``20 ms - work`` after each packet. The sleeps add up
(the reference measured the send rate 8 % behind real time with 60 calls), and each call costs
threads. Here one **sender thread** sends a frame for every stream at absolute deadlines
``t0 + k * 20 ms`` on the monotonic clock, so a late wake-up is caught up at the next tick
instead of being lost, and one **receiver thread** waits on all RTP sockets with a selector.

Those two threads carry every call, so nothing one peer does may stop them: a stream that
cannot send (whatever it raises) is ended alone and reported (``on_failure``), and a
**watchdog** thread restarts a media thread that died anyway (logged at ERROR, counted in
``restarts``); ``MediaEngine.stats()`` has the numbers.

Audio comes in as 8-bit unsigned linear PCM at 8 kHz mono (the format of the IVR's prompt
loader and of pyVoIP), is encoded once per prompt and codec, and leaves as PCMU or PCMA in
20 ms frames. A bridge forwards what the other leg receives without ever going through 8-bit
PCM: phones send 10-60 ms packets (SIPp's own recording: 30 ms), so each direction has a
``Reframer``, a byte FIFO that takes packets of any length and either G.711 law (A-law <->
u-law transcoded) and gives the sender exactly one 20 ms frame per tick.

Nothing here imports pyVoIP; the SIP side (``_pyvoip``) owns ports and hands streams over.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import random
import selectors
import socket
import struct
import threading
import time
import warnings
import weakref
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
BRIDGE_BUFFER = 6 * FRAME
"""Most audio (bytes: 120 ms) one direction of a bridge holds, or two packets and a frame for
packets over 40 ms; older audio is dropped, so a burst from the network cannot make the
conversation lag behind."""
WATCH_EVERY = 0.2
"""Seconds between the watchdog's looks at the media threads."""
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
    """G.711 payload in codec ``src`` -> the same audio in codec ``dst`` (via 16-bit PCM)."""
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


def sendable(host: str, port: int) -> bool:
    """Whether RTP can go to the address and port a peer's SDP names: an IPv4 address (a name
    would need a DNS look-up on the media thread), not 0.0.0.0 (hold), a port of 1-65535."""
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return not address.is_unspecified and 0 < port < 65536


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


class Reframer:
    """One direction of a bridge: what a leg receives, in packets of any length (10-60 ms,
    odd sizes too) and either G.711 law, as the 20 ms frames the other leg sends.

    The receiver thread ``push``es, the sender thread ``pull``s. Playing starts (and starts
    again after running dry) once the largest packet seen plus one frame is buffered, so
    packets longer than a frame and a little jitter do not leave holes; beyond
    ``BRIDGE_BUFFER`` the oldest whole frames are dropped (and counted).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pt: int | None = None
        """The codec of the buffered bytes: the first packet's."""
        self._largest = 0
        self._playing = False
        self._lock = threading.Lock()
        self.underruns = 0

    def push(self, payload: bytes, pt: int) -> int:
        """Buffer one packet's audio; returns how many 20 ms frames of old audio were dropped."""
        if not payload:
            return 0
        with self._lock:
            if self._pt is None:
                self._pt = pt
            elif pt != self._pt:
                payload = transcode(payload, pt, self._pt)
            self._largest = max(self._largest, len(payload))
            self._buf += payload
            excess = len(self._buf) - max(BRIDGE_BUFFER, 2 * self._largest + FRAME)
            if excess <= 0:
                return 0
            frames = -(-excess // FRAME)
            del self._buf[: frames * FRAME]
            return frames

    def pull(self, pt: int) -> bytes | None:
        """The next 20 ms frame in codec ``pt``; None (silence) while there is nothing to play."""
        with self._lock:
            src = self._pt
            if src is None:
                return None
            if not self._playing:
                if len(self._buf) < self._largest + FRAME:
                    return None
                self._playing = True
            frame = bytes(self._buf[:FRAME])
            del self._buf[:FRAME]
            if len(frame) < FRAME:  # ran dry: what is left, then gather again
                self._playing = False
                self.underruns += 1
                if not frame:
                    return None
                frame += SILENCE[src][: FRAME - len(frame)]
        return transcode(frame, src, pt)


class Forward:
    """Sends what another stream receives (one direction of a bridge)."""

    def __init__(self, other: RtpStream) -> None:
        self._audio = other.listen()

    def next_frame(self, pt: int) -> bytes | None:
        return self._audio.pull(pt)


# -- streams ------------------------------------------------------------------------------------


@dataclass
class StreamStats:
    sent: int = 0
    received: int = 0
    dtmf: int = 0
    dropped: int = 0
    """20 ms frames of received audio a bridge dropped (its buffer was full)."""
    started: float | None = None
    """Monotonic time of the first packet sent."""
    last_sent: float | None = None


class RtpStream:
    """One RTP session: a bound UDP socket, where to send, and what to send.

    ``source`` may be swapped from any thread (an attribute store is atomic); the media
    threads read it at every tick. ``on_dtmf`` and ``on_failure`` run on the media threads
    and must not block.
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
        self.on_failure: Callable[[], None] | None = None
        """Called once if the media engine ends the stream because it cannot send."""
        self.failed: str | None = None
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
        self._listener: weakref.ref[Reframer] | None = None
        self._last_dtmf_ts: int | None = None
        self._dtmf_ended = False
        self.closed = False

    # media thread side
    def send_tick(self, now: float) -> None:
        """Send this tick's frame. A failing audio source is dropped (silence follows); an
        exception raised here means the stream cannot send at all (the engine ends it)."""
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
            listener = self._listener() if self._listener is not None else None
            if listener is not None:
                self.stats.dropped += listener.push(payload, pt)

    def listen(self) -> Reframer:
        """A new reframer fed with the audio this stream receives from now on, for as long
        as its holder (a bridge's ``Forward``) keeps it; it replaces any earlier one, so
        audio received before a bridge, or for a bridge since undone, is never played."""
        reframer = Reframer()
        self._listener = weakref.ref(reframer)
        return reframer

    def close(self) -> None:
        self.closed = True
        self.source = None
        with contextlib.suppress(OSError):
            self.sock.close()


def bridge(a: RtpStream, b: RtpStream) -> None:
    """Connect two streams both ways."""
    a.source = Forward(b)
    b.source = Forward(a)


# -- the engine ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaStats:
    """The media threads' numbers since the engine was made (the edge's snapshot and
    /metrics read them: keep the names)."""

    healthy: bool
    """Both media threads and the watchdog are running."""
    streams: int
    ticks: int
    """20 ms ticks of the sender thread."""
    late_ticks: int
    """Ticks that began more than 20 ms after their deadline."""
    max_late: float
    """The latest a tick began after its deadline (seconds)."""
    resyncs: int
    """Times the sender was over 1 s behind (a stalled machine) and restarted its schedule."""
    restarts: int
    """Media threads that died and were restarted by the watchdog."""
    failed_streams: int
    """Streams ended because they could not send (each ended its call leg)."""
    dropped_inbound_frames: int
    """20 ms frames of bridged audio dropped because a bridge's buffer was full."""


class MediaEngine:
    """Owns the sender and receiver threads of every RTP stream in the process, and the
    watchdog that restarts them."""

    def __init__(self) -> None:
        self._streams: dict[int, RtpStream] = {}
        self._lock = threading.Lock()
        self._changes: list[tuple[bool, RtpStream]] = []
        self._stop = threading.Event()
        self._running = False
        self._threads: dict[str, threading.Thread] = {}
        self._watchdog: threading.Thread | None = None
        self._ticking: RtpStream | None = None
        """The stream the sender is sending for (blamed if the sender dies)."""
        self._dropped_by_gone = 0
        self.resyncs = 0
        self.late_ticks = 0
        self.ticks = 0
        self.max_late = 0.0
        self.restarts = 0
        self.failed_streams = 0

    def start(self) -> None:
        if self._running:
            return
        self._stop.clear()
        self._running = True
        for name in ("rtp-send", "rtp-recv"):
            self._spawn(name)
        self._watchdog = threading.Thread(target=self._watch, name="rtp-watch", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        for t in [*self._threads.values(), self._watchdog]:
            if t is not None:
                t.join(timeout=2)
        self._threads.clear()
        self._watchdog = None
        self._running = False
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
            if self._streams.pop(id(stream), None) is not None:
                self._dropped_by_gone += stream.stats.dropped
            if self._running:
                self._changes.append((False, stream))
        stream.closed = True
        if not self._running:
            stream.close()

    def streams(self) -> list[RtpStream]:
        with self._lock:
            return list(self._streams.values())

    def healthy(self) -> bool:
        """True while both media threads and the watchdog run (False before ``start``)."""
        threads = [*self._threads.values(), self._watchdog]
        return self._running and all(t is not None and t.is_alive() for t in threads)

    def stats(self) -> MediaStats:
        with self._lock:
            streams = list(self._streams.values())
            dropped = self._dropped_by_gone
        return MediaStats(
            healthy=self.healthy(),
            streams=len(streams),
            ticks=self.ticks,
            late_ticks=self.late_ticks,
            max_late=self.max_late,
            resyncs=self.resyncs,
            restarts=self.restarts,
            failed_streams=self.failed_streams,
            dropped_inbound_frames=dropped + sum(s.stats.dropped for s in streams),
        )

    # -- threads ------------------------------------------------------------------------------

    def _spawn(self, name: str) -> None:
        target = self._send_loop if name == "rtp-send" else self._recv_loop
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads[name] = t
        t.start()

    def _watch(self) -> None:
        """Restart a media thread that died (it never should; if it does, calls go silent)."""
        while not self._stop.wait(WATCH_EVERY):
            for name, t in list(self._threads.items()):
                if t.is_alive() or self._stop.is_set():
                    continue
                self.restarts += 1
                culprit = self._ticking if name == "rtp-send" else None
                log.error("media thread %s died; restarting it (restart %d)", name, self.restarts)
                if culprit is not None:
                    self._ticking = None
                    self._fail(culprit, "sending for it killed the RTP sender thread")
                self._spawn(name)

    def _fail(self, stream: RtpStream, why: str) -> None:
        """End one stream that cannot send; the others keep their clock."""
        log.error("RTP stream %s:%s ended: %s", *stream.local, why)
        self.failed_streams += 1
        stream.failed = why
        self.remove(stream)
        if stream.on_failure is not None:
            try:
                stream.on_failure()
            except Exception:
                log.exception("reporting the end of RTP stream %s:%s failed", *stream.local)

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
                self._ticking = s
                try:
                    s.send_tick(next_tick)
                except Exception as e:
                    self._fail(s, f"cannot send: {type(e).__name__}: {e}")
            self._ticking = None
            self.ticks += 1
            next_tick += PTIME

    def _recv_loop(self) -> None:
        sel = selectors.DefaultSelector()
        registered: dict[int, RtpStream] = {}
        with self._lock:  # a restarted receiver begins with every live stream
            self._changes[:0] = [(True, s) for s in self._streams.values()]
        try:
            while not self._stop.is_set():
                try:
                    self._receive(sel, registered)
                except Exception:
                    log.exception("RTP receiver failed; going on")
                    time.sleep(0.01)
        finally:
            sel.close()

    def _receive(self, sel: selectors.BaseSelector, registered: dict[int, RtpStream]) -> None:
        """Apply added and removed streams, then read what arrived (one select)."""
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
            return
        try:
            ready = sel.select(timeout=0.05)
        except OSError:
            time.sleep(0.01)
            return
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
