"""Prompt audio: WAV files -> 8-bit unsigned linear PCM, 8 kHz mono (what pyVoIP plays).

pyVoIP's ``VoIPCall.write_audio`` takes 8-bit unsigned samples at 8 kHz and encodes them to
G.711 itself. Prompts are stored as 8 kHz mono WAV, G.711 u-law (what ``scripts/make-prompts``
writes) or 16-bit PCM; A-law, 8-bit PCM, other sample rates and stereo are converted too.
The G.711 decoding is done here with lookup tables (``audioop`` is gone from Python 3.13).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

RATE = 8000
"""Samples per second of what ``load_prompt`` returns."""

Encoding = Literal["pcm", "ulaw", "alaw"]
_FORMATS: dict[int, Encoding] = {1: "pcm", 6: "alaw", 7: "ulaw"}
_EXTENSIBLE = 0xFFFE

Samples = npt.NDArray[np.int16]


class PromptFormatError(ValueError):
    """Not a WAV file this module can read."""


@dataclass(frozen=True)
class WavInfo:
    encoding: Encoding
    sample_rate: int
    channels: int
    bits_per_sample: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


# -- G.711 ------------------------------------------------------------------------------------


def _ulaw_table() -> Samples:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> Samples:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    segment = (a & 0x70) >> 4
    value = (a & 0x0F) << 4
    value = np.where(segment == 0, value + 8, (value + 0x108) << np.maximum(segment - 1, 0))
    return np.where(a & 0x80, value, -value).astype(np.int16)


ULAW_TO_LINEAR: Samples = _ulaw_table()
"""G.711 u-law byte -> 16-bit linear sample."""
ALAW_TO_LINEAR: Samples = _alaw_table()
"""G.711 A-law byte -> 16-bit linear sample."""


def ulaw_decode(data: bytes) -> Samples:
    return ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode(data: bytes) -> Samples:
    return ALAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(samples: Samples) -> bytes:
    """16-bit linear -> G.711 u-law, bit for bit as the reference coder (``audioop.lin2ulaw``):
    14-bit magnitude (floored) plus a bias of 33, clipped to the top segment."""
    x: npt.NDArray[np.int32] = samples.astype(np.int32) >> 2
    sign: npt.NDArray[np.int32] = np.where(x < 0, 0x80, 0x00).astype(np.int32)
    magnitude: npt.NDArray[np.int32] = np.minimum(np.abs(x) + 0x21, 0x1FFF)
    segment: npt.NDArray[np.int32] = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    mantissa: npt.NDArray[np.int32] = (magnitude >> (segment + 1)) & 0x0F
    encoded: npt.NDArray[np.uint8] = (~(sign | (segment << 4) | mantissa) & 0xFF).astype(np.uint8)
    return encoded.tobytes()


# -- WAV --------------------------------------------------------------------------------------


def _chunks(data: bytes) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptFormatError("not a RIFF/WAVE file")
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        ident, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        chunks.setdefault(ident, body)
        pos += 8 + size + (size & 1)
    for needed in (b"fmt ", b"data"):
        if needed not in chunks:
            raise PromptFormatError(f"no {needed.decode().strip()!r} chunk")
    return chunks


def _info(chunks: dict[bytes, bytes]) -> WavInfo:
    fmt = chunks[b"fmt "]
    if len(fmt) < 16:
        raise PromptFormatError("'fmt' chunk too short")
    code, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if code == _EXTENSIBLE and len(fmt) >= 26:
        (code,) = struct.unpack_from("<H", fmt, 24)  # first two bytes of the sub-format GUID
    encoding = _FORMATS.get(code)
    if encoding is None:
        raise PromptFormatError(f"unsupported encoding (format code {code})")
    wanted = {"pcm": (8, 16), "ulaw": (8,), "alaw": (8,)}[encoding]
    if bits not in wanted:
        raise PromptFormatError(f"unsupported {encoding} sample size: {bits} bits")
    if channels < 1 or rate < 1 or block_align != channels * bits // 8:
        raise PromptFormatError(f"inconsistent header: {channels} channel(s) at {rate} Hz")
    return WavInfo(encoding, rate, channels, bits, len(chunks[b"data"]) // block_align)


def wav_info(path: str | Path) -> WavInfo:
    """The format of a WAV file; raises PromptFormatError if it cannot be played."""
    return _info(_chunks(Path(path).read_bytes()))


def decode_wav(data: bytes) -> tuple[Samples, int]:
    """A WAV file's bytes -> (16-bit samples mixed to mono, sample rate)."""
    chunks = _chunks(data)
    info = _info(chunks)
    raw = chunks[b"data"][: info.frames * info.channels * info.bits_per_sample // 8]
    if info.encoding == "ulaw":
        samples = ulaw_decode(raw)
    elif info.encoding == "alaw":
        samples = alaw_decode(raw)
    elif info.bits_per_sample == 8:
        samples = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(
            np.int16
        )
    else:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if info.channels > 1:
        frames = samples.reshape(-1, info.channels).astype(np.int32)
        samples = (frames.sum(axis=1) // info.channels).astype(np.int16)
    return samples, info.sample_rate


def resample(samples: Samples, rate: int, to: int = RATE) -> Samples:
    """Linear interpolation to another sample rate (prompts are speech: good enough)."""
    if rate == to or len(samples) == 0:
        return samples
    count = max(1, round(len(samples) * to / rate))
    positions = np.arange(count) * (rate / to)
    resampled: npt.NDArray[np.float64] = np.interp(
        positions, np.arange(len(samples)), samples.astype(np.float64)
    )
    out: Samples = np.round(resampled).astype(np.int16)
    return out


def to_unsigned_8bit(samples: Samples) -> bytes:
    """16-bit signed -> 8-bit unsigned (``audioop.lin2lin(x, 2, 1)`` then a +128 bias)."""
    return ((samples.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()


def load_prompt(path: str | Path) -> bytes:
    """A WAV file as pyVoIP plays it: 8-bit unsigned linear PCM, 8 kHz, mono."""
    samples, rate = decode_wav(Path(path).read_bytes())
    return to_unsigned_8bit(resample(samples, rate))


def write_wav(path: str | Path, samples: Samples, *, rate: int = RATE, ulaw: bool = True) -> None:
    """Write mono samples as a WAV file: G.711 u-law (8-bit) or 16-bit PCM."""
    data = ulaw_encode(samples) if ulaw else samples.astype("<i2").tobytes()
    code, bits, extra = (7, 8, struct.pack("<H", 0)) if ulaw else (1, 16, b"")
    fmt = struct.pack("<HHIIHH", code, 1, rate, rate * bits // 8, bits // 8, bits) + extra
    body = b"WAVE" + _chunk(b"fmt ", fmt)
    if ulaw:  # non-PCM formats carry a fact chunk with the frame count
        body += _chunk(b"fact", struct.pack("<I", len(samples)))
    body += _chunk(b"data", data)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def _chunk(ident: bytes, body: bytes) -> bytes:
    return ident + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


class PromptLibrary:
    """Prompt id -> audio for pyVoIP, read from ``config/prompts/<id>.wav`` once and kept."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._audio: dict[str, bytes] = {}

    def path(self, prompt: str) -> Path:
        return self.directory / f"{prompt}.wav"

    def audio(self, prompt: str) -> bytes:
        """8-bit unsigned linear PCM, 8 kHz mono."""
        found = self._audio.get(prompt)
        if found is None:
            found = self._audio[prompt] = load_prompt(self.path(prompt))
        return found

    def seconds(self, prompt: str) -> float:
        """How long the prompt plays (the driver's cue for ``prompt_finished``)."""
        return len(self.audio(prompt)) / RATE
