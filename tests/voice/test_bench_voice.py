"""Smoke test of the voice benchmark: ``python bench/voice.py --quick`` (6 IVR calls, 3 bridged
calls) runs to the end against real Kamailio and SIPp, and its last line is the summary. The
floors (60 IVR, 30 bridged, RTP within 5 %) belong to the full run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_completes_every_call(voice_tools: None) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "voice.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = dict(item.split("=", 1) for item in proc.stdout.strip().splitlines()[-1].split())
    assert summary["ivr_calls_ok"] == summary["ivr_calls"] == "6"
    assert summary["bridged_calls_ok"] == summary["bridged_calls"] == "3"
    assert abs(float(summary["rtp_rate_drift_pct"])) <= 5.0
