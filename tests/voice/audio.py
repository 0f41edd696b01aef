"""Audio for the voice tests: tones made with numpy, G.711 payloads, RTP recordings (pcap for
SIPp, a recorder standing in for a phone's ear) and checks that a tone or a phrase is heard.

A test of audio checks what a listener gets: the decoded samples that arrived, not packets
counted. ``seconds_of_tone`` counts 200 ms windows whose energy is nearly all at one frequency
(silence, the wrong tone, or audio chopped into pieces all fail it); ``match`` finds a known
recording in what arrived by normalised cross-correlation.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from contactcenter.voice.media import PCMA, PCMU

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the 'audioop-lts' backport provides it on Python 3.13+

RATE = 8000
WINDOW = 0.2
"""Seconds of audio per window in ``seconds_of_tone``."""
Samples = NDArray[np.float64]


def tone(freq: float, seconds: float, level: float = 0.3) -> Samples:
    """A sine at ``level`` of full scale (16-bit), sampled at 8 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    return level * 32767 * np.sin(2 * np.pi * freq * t)


def encode(samples: Samples, pt: int) -> bytes:
    """16-bit linear samples -> a G.711 payload."""
    lin = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
    return audioop.lin2ulaw(lin, 2) if pt == PCMU else audioop.lin2alaw(lin, 2)


def decode(payload: bytes, pt: int) -> Samples:
    """A G.711 payload -> 16-bit linear samples."""
    lin = audioop.ulaw2lin(payload, 2) if pt == PCMU else audioop.alaw2lin(payload, 2)
    return np.frombuffer(lin, dtype="<i2").astype(np.float64)


def u8_to_samples(pcm_u8: bytes) -> Samples:
    """8-bit unsigned PCM (the prompt loader's format) -> 16-bit scale samples."""
    return (np.frombuffer(pcm_u8, dtype=np.uint8).astype(np.float64) - 128) * 256


def packets(samples: Samples, pt: int, size: int) -> list[bytes]:
    """``samples`` as G.711 payloads of ``size`` bytes (the last one may be shorter)."""
    data = encode(samples, pt)
    return [data[i : i + size] for i in range(0, len(data), size)]


def purity(samples: Samples, freq: float, width: float = 30.0) -> float:
    """Share of the energy (DC removed) within ``width`` Hz of ``freq``: ~1 for a clean tone,
    low for noise, another tone, or a tone chopped by gaps; 0 for silence."""
    f, power = signal.periodogram(samples, fs=RATE, window="hann", detrend="constant")
    total = float(power.sum())
    if total <= 1e-9 * len(samples):
        return 0.0
    return float(power[np.abs(f - freq) <= width].sum() / total)


def seconds_of_tone(
    samples: Samples, freq: float, *, min_purity: float = 0.9, min_level: float = 300.0
) -> float:
    """Seconds of ``samples`` (in 200 ms windows) that are clearly ``freq``: audible (RMS at
    least ``min_level``) and at least ``min_purity`` pure."""
    n = int(WINDOW * RATE)
    good = 0
    for i in range(0, len(samples) - n + 1, n):
        w = samples[i : i + n]
        if float(np.sqrt(np.mean(w**2))) >= min_level and purity(w, freq) >= min_purity:
            good += 1
    return good * WINDOW


def match(heard: Samples, phrase: Samples) -> float:
    """How well ``phrase`` occurs in ``heard``: the best normalised cross-correlation over
    every alignment (1.0 = sample for sample, up to a gain)."""
    if len(heard) < len(phrase) or not phrase.any():
        return 0.0
    phrase = phrase - phrase.mean()
    num = signal.correlate(heard, phrase, mode="valid", method="fft")
    # energy of each window of ``heard`` the phrase is aligned with
    csum = np.concatenate(([0.0], np.cumsum(heard**2)))
    msum = np.concatenate(([0.0], np.cumsum(heard)))
    k = len(phrase)
    energy = (csum[k:] - csum[:-k]) - (msum[k:] - msum[:-k]) ** 2 / k
    den = np.sqrt(np.maximum(energy, 1e-9) * float(np.sum(phrase**2)))
    return float(np.max(num / den))


def write_rtp_pcap(
    path: Path, payloads: Sequence[bytes], pt: int, ptime_ms: float, *, dport: int = 6000
) -> Path:
    """An Ethernet/IPv4/UDP pcap of RTP packets, one per payload every ``ptime_ms`` (the
    layout of SIPp's own g711a.pcap, for ``play_pcap_audio``, which rewrites the addresses)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ssrc, seq, ts = 0x5EED0001, 1, 0
    for i, payload in enumerate(payloads):
        marker = 0x80 if i == 0 else 0
        rtp = struct.pack("!BBHII", 0x80, pt | marker, seq, ts, ssrc) + payload
        udp = struct.pack("!HHHH", 6000, dport, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0x4000, 64, 17, 0,
            bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]),
        )  # fmt: skip
        checksum = _ip_checksum(ip)
        ip = ip[:10] + struct.pack("!H", checksum) + ip[12:]
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = int(i * ptime_ms * 1000)
        out.append(
            struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        )
        out.append(frame)
        seq += 1
        ts += len(payload)
    path.write_bytes(b"".join(out))
    return path


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tone_pcap(path: Path, freq: float, seconds: float, pt: int, ptime_ms: int) -> Path:
    """A pcap of ``seconds`` of a ``freq`` tone in ``ptime_ms`` G.711 packets."""
    size = RATE * ptime_ms // 1000
    return write_rtp_pcap(path, packets(tone(freq, seconds), pt, size), pt, ptime_ms)


@dataclass
class Packet:
    at: float
    pt: int
    ssrc: int
    payload: bytes


class RtpRecorder:
    """A phone's ear: a UDP socket on a free loopback port (named in the phone's SDP instead
    of SIPp's media port) keeping every RTP packet that arrives."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RtpRecorder:
        self._sock.bind(("127.0.0.1", 0))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._run, name="rtp-recorder", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            offset = 12 + 4 * (data[0] & 0x0F)
            ssrc = struct.unpack_from("!I", data, 8)[0]
            self.packets.append(Packet(time.monotonic(), data[1] & 0x7F, ssrc, data[offset:]))

    def audio(self, since: float = 0.0) -> Samples:
        """The G.711 audio that arrived (after monotonic time ``since``), decoded in arrival
        order (each packet by its own payload type)."""
        return _joined(p for p in list(self.packets) if p.at >= since and p.pt in (PCMU, PCMA))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._sock.close()


def _joined(found: Iterable[Packet]) -> Samples:
    parts = [decode(p.payload, p.pt) for p in found]
    return np.concatenate(parts) if parts else np.zeros(0)
