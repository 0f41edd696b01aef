"""The voice edge in ``/metrics``: read at scrape time from the edge and its media engine.

A custom collector, so nothing on the call path pays for metrics: a scrape (on the event
loop, like every ``/metrics`` handler) reads ``VoiceEdge.snapshot()``, the phase of each call
and the media engine's clock statistics.

Labels are phases, outcomes and reasons: a closed vocabulary. A value that does not look like
one (free text, five digits in a row as in a phone number) is counted as ``other``, so no
number or customer id ever becomes a label.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from contactcenter.metrics import PREFIX

if TYPE_CHECKING:
    from contactcenter.voice.edge import VoiceEdge

PHASES = ("ringing", "ivr", "queued", "agent_ringing", "bridged", "dialing", "transferring")
"""What an active call is doing; every phase is reported, 0 when no call is in it."""
_PHASE_OF = {
    "talking": "bridged",
    "ringing_agent": "agent_ringing",
    "dialing_customer": "dialing",
    "transferred": "transferring",
}
"""Calls' own phase names (``VoiceCall``, ``CallbackCall``) where the metric's differ."""
_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_NUMBER = re.compile(r"\d{5}")


def label(value: object) -> str:
    """``value`` as a label value, or ``other`` when it is not a short token (or a number)."""
    text = str(value)
    if _LABEL.fullmatch(text) is None or _NUMBER.search(text) is not None:
        return "other"
    return text


def _counts(found: object) -> Counter[str]:
    out: Counter[str] = Counter()
    if isinstance(found, Mapping):
        for key, n in found.items():
            if isinstance(n, int):
                out[label(key)] += n
    return out


class VoiceCollector:
    """Registration, calls by phase, IVR outcomes, failed agent legs and media lateness."""

    def __init__(self, edge: VoiceEdge) -> None:
        self.edge = edge

    def describe(self) -> Iterator[Metric]:
        return iter(self._families({}, Counter()))

    def collect(self) -> Iterator[Metric]:
        phases: Counter[str] = Counter()
        for call in {id(c): c for c in list(self.edge.calls.values())}.values():
            if call.phase == "ended":
                continue
            phase = _PHASE_OF.get(call.phase, call.phase)
            phases[phase if phase in PHASES else "other"] += 1
        return iter(self._families(self.edge.snapshot(), phases))

    def _families(self, snap: Mapping[str, object], phases: Counter[str]) -> list[Metric]:
        registered = GaugeMetricFamily(
            PREFIX + "voice_registered",
            "1 while the IVR extension is registered at the SIP server, else 0.",
        )
        failures = CounterMetricFamily(
            PREFIX + "voice_registration_failures",
            "REGISTER transactions that failed (refused, unreachable or silent server).",
        )
        calls = GaugeMetricFamily(
            PREFIX + "voice_calls_active",
            "Calls on the voice edge by phase (bridged: a caller and an agent talking).",
            labels=["phase"],
        )
        arrived = CounterMetricFamily(
            PREFIX + "voice_calls", "Inbound calls that reached the voice edge."
        )
        ivr = CounterMetricFamily(
            PREFIX + "voice_ivr_outcomes",
            "How callers' time in the IVR ended.",
            labels=["outcome"],
        )
        legs = CounterMetricFamily(
            PREFIX + "voice_agent_leg_failures",
            "Calls to agents' phones that failed, by reason.",
            labels=["reason"],
        )
        ports = GaugeMetricFamily(
            PREFIX + "voice_rtp_ports_free", "RTP ports free for new call legs."
        )
        ticks = CounterMetricFamily(
            PREFIX + "voice_media_ticks",
            "20 ms ticks of the RTP sender thread (one packet per stream each).",
        )
        late = CounterMetricFamily(
            PREFIX + "voice_media_late_ticks",
            "Ticks sent more than one packet time (20 ms) late: late RTP packets.",
        )
        resyncs = CounterMetricFamily(
            PREFIX + "voice_media_resyncs",
            "Times the RTP sender fell over 1 s behind and restarted its schedule; the "
            "packets of that gap were dropped.",
        )
        worst = GaugeMetricFamily(
            PREFIX + "voice_media_max_lateness_seconds",
            "The latest the RTP sender thread has woken for a tick since the edge started.",
        )
        healthy = GaugeMetricFamily(
            PREFIX + "voice_media_healthy",
            "1 while the RTP sender, receiver and their watchdog threads all run.",
        )
        restarts = CounterMetricFamily(
            PREFIX + "voice_media_thread_restarts",
            "Media threads the watchdog found dead and restarted (calls went silent meanwhile).",
        )
        failed = CounterMetricFamily(
            PREFIX + "voice_media_failed_streams",
            "RTP streams that could not send and were ended (their call only).",
        )
        dropped = CounterMetricFamily(
            PREFIX + "voice_rtp_dropped_inbound_frames",
            "20 ms frames of received audio dropped by the bridges' bounded buffers (a peer "
            "sending faster than real time, or bursts).",
        )
        families: list[Metric] = [registered, failures, calls, arrived, ivr, legs, ports]
        families += [ticks, late, resyncs, worst, healthy, restarts, failed, dropped]
        if not snap:
            return families
        registered.add_metric([], 1.0 if snap.get("registered") else 0.0)
        failures.add_metric([], _number(snap.get("registration_failed")))
        arrived.add_metric([], _number(snap.get("calls")))
        for phase in (*PHASES, *sorted(set(phases) - set(PHASES))):
            calls.add_metric([phase], phases.get(phase, 0))
        for outcome, n in sorted(_counts(snap.get("ivr_outcomes")).items()):
            ivr.add_metric([outcome], n)
        for reason, n in sorted(_counts(snap.get("agent_leg_failures")).items()):
            legs.add_metric([reason], n)
        free = snap.get("free_rtp_ports")
        if isinstance(free, int):
            ports.add_metric([], free)
        media = self.edge.media.stats()
        ticks.add_metric([], media.ticks)
        late.add_metric([], media.late_ticks)
        resyncs.add_metric([], media.resyncs)
        worst.add_metric([], media.max_late)
        healthy.add_metric([], 1.0 if media.healthy else 0.0)
        restarts.add_metric([], media.restarts)
        failed.add_metric([], media.failed_streams)
        dropped.add_metric([], media.dropped_inbound_frames)
        return families


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
