"""The voice edge's collector: what a scrape reads from the edge, and labels that can never
carry a number or a customer id. (The whole edge in ``/metrics`` of a real ``serve``:
``test_serve_voice.py``.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from contactcenter.voice.media import MediaEngine
from contactcenter.voice.metrics import PHASES, VoiceCollector, label


def scrape(edge: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(VoiceCollector(edge))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def edge(snapshot: dict[str, object], phases: list[str]) -> Any:
    calls = [SimpleNamespace(phase=p) for p in phases]
    # a call is reachable by several Call-IDs (its caller's and its agent's legs)
    by_call_id = {f"leg{i}": c for i, c in enumerate(calls)}
    if calls:
        by_call_id["agent-leg"] = calls[0]
    media = MediaEngine()
    media.ticks, media.late_ticks, media.resyncs, media.max_late = 5000, 3, 1, 1.25
    return SimpleNamespace(calls=by_call_id, snapshot=lambda: snapshot, media=media)


def test_calls_by_phase_each_call_once_every_phase_reported() -> None:
    got = scrape(edge({"registered": True, "calls": 7}, ["talking", "ivr", "ivr", "ended"]))
    phases = {dict(k[1])["phase"]: v for k, v in got.items() if k[0].endswith("calls_active")}
    assert phases == {p: 0.0 for p in PHASES} | {"bridged": 1.0, "ivr": 2.0}
    assert got[("contactcenter_voice_registered", ())] == 1.0
    assert got[("contactcenter_voice_calls_total", ())] == 7.0
    assert got[("contactcenter_voice_media_late_ticks_total", ())] == 3.0
    assert got[("contactcenter_voice_media_resyncs_total", ())] == 1.0
    assert got[("contactcenter_voice_media_max_lateness_seconds", ())] == 1.25


def test_outcomes_and_reasons_never_carry_numbers_or_free_text() -> None:
    snapshot = {
        "registered": False,
        "registration_failed": 4,
        "ivr_outcomes": {"queued": 3, "abandoned": 1, "+4930555010008": 1},
        "agent_leg_failures": {"busy": 2, "no answer from C1008 at 2005": 1, "486": 1},
    }
    got = scrape(edge(snapshot, []))
    ivr = {dict(k[1])["outcome"]: v for k, v in got.items() if "ivr_outcomes_total" in k[0]}
    legs = {dict(k[1])["reason"]: v for k, v in got.items() if "leg_failures_total" in k[0]}
    assert ivr == {"queued": 3.0, "abandoned": 1.0, "other": 1.0}
    assert legs == {"busy": 2.0, "other": 1.0, "486": 1.0}
    assert got[("contactcenter_voice_registered", ())] == 0.0
    assert got[("contactcenter_voice_registration_failures_total", ())] == 4.0


def test_label() -> None:
    assert [label(v) for v in ("no_answer", "486", "4930555", "a b", "", "x" * 41)] == [
        "no_answer", "486", "other", "other", "other", "other"
    ]  # fmt: skip


def test_media_health_restarts_failures_and_drops() -> None:
    e = edge({"registered": True}, [])
    idle = scrape(e)
    assert idle[("contactcenter_voice_media_healthy", ())] == 0.0  # its threads do not run
    e.media.start()
    try:
        e.media.restarts, e.media.failed_streams = 2, 1
        up = scrape(e)
    finally:
        e.media.stop()
    assert up[("contactcenter_voice_media_healthy", ())] == 1.0
    assert up[("contactcenter_voice_media_thread_restarts_total", ())] == 2
    assert up[("contactcenter_voice_media_failed_streams_total", ())] == 1
    assert up[("contactcenter_voice_rtp_dropped_inbound_frames_total", ())] == 0
