"""The voice benchmark: its judge of what the phones heard fails bad audio, and its smoke run
(``python bench/voice.py --quick``: 6 IVR calls, 3 bridged calls against real Kamailio and SIPp)
hears every call. The floors (150 IVR, 100 bridged, RTP within 2 %) belong to the full run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests import peers
from tests.voice import audio
from tests.voice.harness import ensure_tools

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "voice.py"
TALK = 8.0


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_voice", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _heard(samples: audio.Samples) -> list[tuple[float, int, bytes]]:
    """``samples`` as 20 ms u-law RTP packets arriving at 50 a second from port 20000."""
    out = []
    for i, payload in enumerate(audio.packets(samples, audio.PCMU, 160)):
        out.append((i * 0.02, 20000, bytes([0x80, audio.PCMU]) + b"\0" * 10 + payload))
    return out


def test_a_conversation_is_intact_only_if_each_side_heard_the_other(bench: ModuleType) -> None:
    m = bench.samples
    caller_hears, agent_hears = audio.tone(700, TALK), audio.tone(1000, TALK)
    silence = np.zeros(int(TALK * audio.RATE))
    ok = bench.Conversation.of(m(_heard(caller_hears)), m(_heard(agent_hears)))
    assert ok.intact(TALK), ok
    for caller, agent in [
        (caller_hears, silence),  # the caller's voice never reached the agent
        (caller_hears[: len(caller_hears) // 2], agent_hears),  # half the talk time
        (np.concatenate([caller_hears, audio.tone(1000, 1.0)]), agent_hears),  # its own echo
        (audio.tone(1000, TALK), audio.tone(700, TALK)),  # each hears its own voice
    ]:
        bad = bench.Conversation.of(m(_heard(caller)), m(_heard(agent)))
        assert not bad.intact(TALK), bad


def test_an_ivr_call_is_intact_only_if_its_caller_heard_both_prompts(bench: ModuleType) -> None:
    welcome, account = bench.prompt_samples("welcome"), bench.prompt_samples("account_number")
    gap = np.zeros(4000)
    heard = bench.samples(_heard(np.concatenate([gap, welcome, gap, account, gap])))
    assert bench.heard_the_ivr(heard, [welcome, account])
    cut = bench.samples(_heard(np.concatenate([gap, welcome, gap, account[:8000], gap])))
    assert not bench.heard_the_ivr(cut, [welcome, account])  # the prompt was cut off


def test_rtp_rate_is_what_reached_the_phones_against_real_time(bench: ModuleType) -> None:
    heard = {5000: _heard(audio.tone(700, 10.0)), 5002: _heard(audio.tone(700, 10.0))[::50]}
    assert abs(bench.rate_pct(heard, [5000], 1.0, 9.0)) < 0.5
    assert bench.rate_pct(heard, [5000, 5002], 1.0, 9.0) == pytest.approx(-49, abs=0.5)


def test_quick_run_hears_every_call() -> None:
    peers.require(ensure_tools())
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = dict(item.split("=", 1) for item in proc.stdout.strip().splitlines()[-1].split())
    assert summary["ivr_calls_ok"] == summary["ivr_calls"] == "6"
    assert summary["ivr_audio_ok"] == "6/6"
    assert summary["bridged_calls_ok"] == summary["bridged_calls"] == "3"
    assert summary["bridged_audio_ok"] == "3/3"
    for phase in ("ivr", "bridged"):
        assert abs(float(summary[f"{phase}_rtp_rate_pct"])) <= 2.0
        assert float(summary[f"{phase}_cpu_cores"]) > 0
        assert int(summary[f"{phase}_threads"]) >= int(summary["threads_idle"])
        assert summary[f"{phase}_floor_met"] == "0"  # 6 and 3 calls are below the floors
    assert (summary["ivr_max_ok"], summary["bridged_max_ok"]) == ("6", "3")
    assert summary["floor_met"] == "0"
