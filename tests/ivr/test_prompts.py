"""Prompt audio: G.711 tables, WAV parsing and conversion to what pyVoIP plays (8-bit
unsigned linear PCM, 8 kHz mono), and the example center's committed recordings."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import warnings
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

from contactcenter.ivr.flow import PromptCatalog
from contactcenter.ivr.prompts import (
    ALAW_TO_LINEAR,
    RATE,
    ULAW_TO_LINEAR,
    PromptFormatError,
    PromptLibrary,
    decode_wav,
    load_prompt,
    resample,
    to_unsigned_8bit,
    ulaw_decode,
    ulaw_encode,
    wav_info,
    write_wav,
)
from tests import peers
from tests.ivr.conftest import EXAMPLE

PROMPTS = EXAMPLE / "prompts"


def tone(seconds: float = 0.25, rate: int = RATE, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.round(np.sin(2 * np.pi * 440 * t) * 32767 * level).astype(np.int16)


def pcm_wav(path: Path, samples: np.ndarray, *, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def riff(fmt: bytes, data: bytes, *extra: bytes) -> bytes:
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    for chunk in extra:
        chunks += chunk
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


# -- G.711 ------------------------------------------------------------------------------------


def test_ulaw_known_values() -> None:
    assert ULAW_TO_LINEAR[0xFF] == 0
    assert ULAW_TO_LINEAR[0x7F] == 0
    assert ULAW_TO_LINEAR[0x00] == -32124
    assert ULAW_TO_LINEAR[0x80] == 32124
    assert ULAW_TO_LINEAR[0xFE] == 8  # the smallest step (in 16-bit scale)
    assert ULAW_TO_LINEAR[0x7E] == -8


def test_alaw_known_values() -> None:
    assert ALAW_TO_LINEAR[0xD5] == 8
    assert ALAW_TO_LINEAR[0x55] == -8
    assert ALAW_TO_LINEAR[0xAA] == 32256
    assert ALAW_TO_LINEAR[0x2A] == -32256


def test_tables_match_audioop_where_it_still_exists() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = peers.module("audioop", "a dependency ('audioop-lts' on Python 3.13+)")
    every = bytes(range(256))
    assert ULAW_TO_LINEAR.tobytes() == audioop.ulaw2lin(every, 2)
    assert ALAW_TO_LINEAR.tobytes() == audioop.alaw2lin(every, 2)
    samples = np.arange(-32768, 32768, 7, dtype=np.int16)
    assert ulaw_encode(samples) == audioop.lin2ulaw(samples.tobytes(), 2)
    # What pyVoIP does to our output (bias, then 8 -> 16 bit) inverts to_unsigned_8bit.
    assert to_unsigned_8bit(samples) == audioop.bias(
        audioop.lin2lin(samples.tobytes(), 2, 1), 1, 128
    )


def test_ulaw_round_trip() -> None:
    every = bytes(b for b in range(256) if b != 0x7F)  # 0x7F is "-0", encoded back as 0xFF
    assert ulaw_encode(ulaw_decode(every)) == every
    x = tone()
    error = np.abs(ulaw_decode(ulaw_encode(x)).astype(np.int32) - x)
    assert error.max() <= np.abs(x).max() / 16  # G.711's relative precision


def test_to_unsigned_8bit() -> None:
    samples = np.array([-32768, -256, -1, 0, 255, 256, 32767], dtype=np.int16)
    assert list(to_unsigned_8bit(samples)) == [0, 127, 127, 128, 128, 129, 255]


# -- WAV --------------------------------------------------------------------------------------


def test_16_bit_pcm_at_8_khz(tmp_path: Path) -> None:
    x = tone()
    path = pcm_wav(tmp_path / "t.wav", x)
    info = wav_info(path)
    assert (info.encoding, info.sample_rate, info.channels, info.frames) == ("pcm", 8000, 1, 2000)
    assert load_prompt(path) == to_unsigned_8bit(x)


def test_8_bit_pcm(tmp_path: Path) -> None:
    path = tmp_path / "t8.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(RATE)
        w.writeframes(bytes([0, 64, 128, 200, 255]))
    assert load_prompt(path) == bytes([0, 64, 128, 200, 255])


def test_ulaw_wav(tmp_path: Path) -> None:
    x = tone()
    write_wav(tmp_path / "u.wav", x)
    info = wav_info(tmp_path / "u.wav")
    assert (info.encoding, info.bits_per_sample, info.frames) == ("ulaw", 8, 2000)
    samples, rate = decode_wav((tmp_path / "u.wav").read_bytes())
    assert rate == RATE
    assert np.array_equal(samples, ulaw_decode(ulaw_encode(x)))


def test_alaw_wav() -> None:
    data = bytes([0xD5, 0xAA, 0x2A, 0x55])
    fmt = struct.pack("<HHIIHHH", 6, 1, RATE, RATE, 1, 8, 0)
    samples, _ = decode_wav(riff(fmt, data))
    assert list(samples) == [8, 32256, -32256, -8]


def test_extensible_format_and_unknown_chunks() -> None:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = (
        struct.pack("<HHIIHHHHI", 0xFFFE, 1, RATE, 2 * RATE, 2, 16, 22, 16, 4)
        + struct.pack("<H", 1)
        + guid_tail
    )
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size: padded
    samples, rate = decode_wav(riff(fmt, struct.pack("<3h", 1, -2, 300), odd))
    assert (list(samples), rate) == ([1, -2, 300], RATE)


def test_stereo_16_khz_becomes_mono_8_khz(tmp_path: Path) -> None:
    x = tone(rate=16000)
    stereo = np.column_stack([x, np.zeros_like(x)]).ravel()
    path = pcm_wav(tmp_path / "s.wav", stereo, rate=16000, channels=2)
    audio = load_prompt(path)
    assert len(audio) == len(x) // 2
    expected = to_unsigned_8bit(resample((x // 2).astype(np.int16), 16000))
    assert audio == expected


def test_resample_keeps_the_duration() -> None:
    x = tone(seconds=1.0, rate=22050)
    assert len(resample(x, 22050)) == RATE
    assert resample(x, RATE, RATE) is x
    assert len(resample(np.zeros(0, dtype=np.int16), 22050)) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3 mp3 rather", "not a RIFF/WAVE file"),
        (riff(struct.pack("<HHIIHH", 3, 1, RATE, 4 * RATE, 4, 32), b"\0" * 8), "format code 3"),
        (riff(struct.pack("<HHIIHH", 1, 1, RATE, 3 * RATE, 3, 24), b"\0" * 6), "24 bits"),
        (riff(struct.pack("<HHIIHH", 1, 2, RATE, 2 * RATE, 2, 16), b"\0" * 4), "inconsistent"),
        (riff(struct.pack("<HHIIHH", 7, 1, RATE, RATE, 1, 16), b"\0" * 4), "ulaw sample size"),
        (riff(b"\x01\x00", b""), "'fmt' chunk too short"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no 'fmt' chunk"),
    ],
)
def test_unplayable_files(data: bytes, message: str, tmp_path: Path) -> None:
    with pytest.raises(PromptFormatError, match=message):
        decode_wav(data)
    (tmp_path / "x.wav").write_bytes(data)
    with pytest.raises(PromptFormatError, match=message):
        wav_info(tmp_path / "x.wav")


def test_library_reads_each_prompt_once(tmp_path: Path) -> None:
    write_wav(tmp_path / "hello.wav", tone(seconds=0.5))
    library = PromptLibrary(tmp_path)
    first = library.audio("hello")
    (tmp_path / "hello.wav").unlink()
    assert library.audio("hello") is first
    assert library.seconds("hello") == 0.5
    with pytest.raises(FileNotFoundError):
        library.audio("missing")


# -- the committed recordings -----------------------------------------------------------------


def catalog() -> PromptCatalog:
    return PromptCatalog.model_validate(yaml.safe_load((PROMPTS / "prompts.yaml").read_text()))


def test_every_recorded_prompt_is_8_khz_mono_ulaw_and_small() -> None:
    recorded = sorted(p.stem for p in PROMPTS.glob("*.wav"))
    wanted = sorted(pid for pid, p in catalog().prompts.items() if p.audio)
    assert recorded == wanted
    total = 0
    for prompt in recorded:
        info = wav_info(PROMPTS / f"{prompt}.wav")
        assert (info.encoding, info.sample_rate, info.channels) == ("ulaw", 8000, 1), prompt
        assert 0.5 < info.seconds < 10, prompt
        audio = load_prompt(PROMPTS / f"{prompt}.wav")
        assert len(audio) == info.frames
        assert max(audio) - min(audio) > 100, f"{prompt} is (nearly) silent"
        total += (PROMPTS / f"{prompt}.wav").stat().st_size
    assert total < 600_000


@peers.required(
    None
    if shutil.which("espeak-ng") and shutil.which("sox")
    else "scripts/make-prompts needs espeak-ng and sox (apt-get install espeak-ng sox)"
)
def test_make_prompts_records_8_khz_ulaw(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "prompts.yaml").write_text(
        "prompts:\n"
        "  hello: Hello.\n"
        "  hola: {text: Hola., voice: es}\n"
        "  chat: {text: Hi, audio: false}\n",
        encoding="utf-8",
    )
    script = Path(__file__).resolve().parents[2] / "scripts" / "make-prompts"
    run = subprocess.run(
        [sys.executable, str(script), "--config", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "prompts").glob("*.wav")) == ["hello.wav", "hola.wav"]
    info = wav_info(tmp_path / "prompts" / "hello.wav")
    assert (info.encoding, info.sample_rate, info.channels) == ("ulaw", 8000, 1)
    assert 0.2 < info.seconds < 3
    wrong = subprocess.run(
        [sys.executable, str(script), "--config", str(tmp_path), "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 1
    assert "not in prompts.yaml: nope" in wrong.stderr
