"""Capacity of the voice edge on this machine, with real Kamailio and SIPp on loopback.

Two phases, each bounded in calls and time:

1. **IVR calls**: N callers dial the IVR extension at once and stay in the IVR (the account
   number prompt and its retries) for a while, then hang up.
2. **Bridged calls**: M callers pick "sales" in the main menu; every agent of the center is
   logged in (made eligible for sales here) and one SIPp UAS answers all their extensions;
   caller and agent send G.711 audio through the engine's bridge for a while, then the caller
   hangs up.

Reported per phase: calls completed, engine CPU (cores, over the steady window), threads of
the engine process, and the RTP send rate against real time: packets the engine sent from its
RTP ports (counted on ``lo`` when root, else from the engine's own counters) over the window,
against 50 packets a second per live stream. The last line is key=value pairs.

    python bench/voice.py            # 60 IVR calls, 30 bridged calls (the floors)
    python bench/voice.py --quick    # 6 and 3, for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contactcenter.config import load_center  # noqa: E402
from contactcenter.ivr import load_flows, with_flows  # noqa: E402
from contactcenter.runtime import Site  # noqa: E402
from contactcenter.store.store import Store  # noqa: E402
from contactcenter.voice.edge import VoiceEdge  # noqa: E402
from contactcenter.voice.settings import VoiceSettings  # noqa: E402
from tests.voice.harness import (  # noqa: E402
    Kamailio,
    RtpCounter,
    Sipp,
    caller_scenario,
    ensure_tools,
    free_udp_port,
    free_udp_range,
    register_extension,
    scenario,
    sipp_caller,
    sipp_uas,
)

OPEN = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
KNOWN = "+4930555010008"


def bench_config(tmp: Path) -> Path:
    """The example center with every agent able to take sales calls at once."""
    target = tmp / "config"
    shutil.copytree(
        ROOT / "config", target, ignore=shutil.ignore_patterns("planning", "prometheus")
    )
    queues = yaml.safe_load((target / "queues.yaml").read_text())
    for q in queues["queues"]:
        if q["id"] == "sales":
            q.update(
                escalation=[{"after_seconds": 0}], ring_timeout_seconds=10, wrap_up_seconds=1,
                max_wait={"seconds": 600, "action": "disconnect"},
            )  # fmt: skip
    (target / "queues.yaml").write_text(yaml.safe_dump(queues))
    agents = yaml.safe_load((target / "agents.yaml").read_text())
    for a in agents["agents"]:
        a["skills"] = {**a.get("skills", {}), "sales": 3}
        a["queues"] = {**a.get("queues", {}), "sales": 1}
        a["capacity"] = {**a.get("capacity", {}), "voice": 1}
    (target / "agents.yaml").write_text(yaml.safe_dump(agents))
    return target


def threads_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return threading.active_count()


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Window:
    """Engine CPU, threads and RTP sent from the engine's ports, over a steady window."""

    def __init__(self, edge: VoiceEdge, counter: RtpCounter, low: int, high: int) -> None:
        self.edge, self.counter, self.low, self.high = edge, counter, low, high
        self.peak_threads = 0

    def rtp_sent(self) -> int:
        if self.counter.available:
            return sum(
                n for (s, _), n in list(self.counter.counts.items()) if self.low <= s <= self.high
            )
        return sum(s.stats.sent for s in self.edge.media.streams())

    async def measure(self, seconds: float) -> dict[str, float]:
        streams = len(self.edge.media.streams())
        c0, t0, p0 = cpu_seconds(), time.monotonic(), self.rtp_sent()
        end = t0 + seconds
        while time.monotonic() < end:
            self.peak_threads = max(self.peak_threads, threads_now())
            await asyncio.sleep(0.25)
        c1, t1, p1 = cpu_seconds(), time.monotonic(), self.rtp_sent()
        streams = min(streams, len(self.edge.media.streams()))
        expected = streams * (t1 - t0) / 0.020
        drift = 100.0 * (expected - (p1 - p0)) / expected if expected else float("nan")
        return {
            "streams": streams,
            "cpu_cores": (c1 - c0) / (t1 - t0),
            "threads": self.peak_threads,
            "rtp_drift_pct": drift,
            "late_ticks": self.edge.media.late_ticks,
            "max_late_ms": self.edge.media.max_late * 1000,
        }


async def run(ivr_calls: int, bridged_calls: int, hold: float) -> dict[str, Any]:
    why = ensure_tools()
    if why is not None:
        raise SystemExit(f"bench/voice.py: {why}")
    tmp = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    kam = Kamailio(tmp / "kamailio")
    kam.start()
    procs: list[Sipp] = []
    counter = RtpCounter().start()
    config = bench_config(tmp)
    center = load_center(config)
    center = with_flows(center, load_flows(config, center))
    store = await Store.open(tmp / "bench.sqlite3")
    await store.seed_customers(center.customers.values(), center.dedicated_agent)
    site = Site(center, store)
    size = 2 * max(ivr_calls, bridged_calls) + 20
    low = free_udp_range(size)
    settings = VoiceSettings.model_validate(
        {
            "enabled": True,
            "server": {"host": "127.0.0.1", "port": kam.port},
            "local": {
                "ip": "127.0.0.1",
                "sip_port": free_udp_port(),
                "rtp_port_low": low,
                "rtp_port_high": low + size - 1,
            },
            "waiting": {"first_announcement_seconds": 3, "announce_every_seconds": 10},
            "calls": {"max_calls": 1000},
        }
    )
    edge = VoiceEdge(site.voice, settings, config_dir=config, clock=lambda: OPEN)
    site.add_edge(edge)
    await site.start()
    out: dict[str, Any] = {}
    try:
        for _ in range(100):
            if edge.registered.is_set():
                break
            await asyncio.sleep(0.1)
        base_threads = threads_now()
        out["threads_idle"] = base_threads
        window = Window(edge, counter, low, low + size - 1)

        # -- phase 1: IVR calls ----------------------------------------------------------------
        stay = int(hold * 1000) + 4000
        sf = caller_scenario(tmp / "ivr.xml", [("pause", stay)])  # unknown caller: collect prompt
        t0 = time.monotonic()
        callers = sipp_caller(
            tmp, sf, kam.port, calls=ivr_calls, rate=min(ivr_calls, 40), limit=ivr_calls
        )
        procs.append(callers)
        for _ in range(200):
            if len(edge.media.streams()) >= ivr_calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        m1 = await window.measure(hold)
        rc = await callers.wait(stay / 1000 + 30)
        for _ in range(100):
            if edge.snapshot()["calls_active"] == 0:
                break
            await asyncio.sleep(0.1)
        ivr_done = sum(1 for c in edge.finished if c.outcome == "ivr:caller-hung-up")
        out.update(
            ivr_calls=ivr_calls, ivr_calls_ok=ivr_done if rc == 0 else min(ivr_done, ivr_calls - 1),
            ivr_sipp_rc=rc, ivr_seconds=round(time.monotonic() - t0, 1),
            **{f"ivr_{k}": v for k, v in m1.items()},
        )  # fmt: skip
        if rc != 0:
            print(callers.errors()[-2000:], file=sys.stderr)

        # -- phase 2: bridged calls ------------------------------------------------------------
        agents = list(center.agents)[:bridged_calls]
        uas_port = free_udp_port()
        uas_sf = scenario(tmp / "agent.xml", "agent_uas.xml", ring_ms=200)
        uas = sipp_uas(tmp, uas_sf, uas_port, free_udp_port(), bridged_calls)
        procs.append(uas)
        for aid in agents:
            ext = center.agents[aid].extension
            assert ext is not None
            await register_extension(tmp, kam.port, ext, uas_port)
            await site.agents.login(aid)
        talk = int(hold * 1000) + 3000
        steps: list[tuple[str, object]] = [("pause", 2800), ("dtmf", "1"), ("pause", 1500)]
        steps += [("audio", None), ("pause", 7000)] * (talk // 7000 + 1)
        sf2 = caller_scenario(tmp / "bridged.xml", steps, number=KNOWN)
        before = len(edge.finished)
        t0 = time.monotonic()
        callers2 = sipp_caller(
            tmp, sf2, kam.port, calls=bridged_calls, rate=min(bridged_calls, 40),
            limit=bridged_calls,
        )  # fmt: skip
        procs.append(callers2)
        for _ in range(400):
            if edge.stats["bridged"] >= bridged_calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        window.peak_threads = 0
        m2 = await window.measure(hold)
        rc2 = await callers2.wait(len(steps) * 8 + 60)
        try:
            rc_uas = await uas.wait(20)
        except TimeoutError:
            rc_uas = -1
        for _ in range(100):
            if edge.snapshot()["calls_active"] == 0:
                break
            await asyncio.sleep(0.1)
        done2 = [c for c in edge.finished[before:] if c.outcome == "completed"]
        records = [await store.contact_record(c.contact_id) for c in done2 if c.contact_id]
        ok2 = sum(1 for r in records if r is not None and r.outcome == "completed")
        out.update(
            bridged_calls=bridged_calls,
            bridged_calls_ok=ok2 if rc2 == 0 else min(ok2, bridged_calls - 1),
            bridged_sipp_rc=rc2, agents_sipp_rc=rc_uas,
            bridged_seconds=round(time.monotonic() - t0, 1),
            **{f"bridged_{k}": v for k, v in m2.items()},
        )  # fmt: skip
        if rc2 != 0 or ok2 < bridged_calls:
            print(callers2.errors()[-2000:], file=sys.stderr)
            print(edge.snapshot(), file=sys.stderr)
            for c in edge.finished[before:][:3]:
                print(c.outcome, c.timeline, file=sys.stderr)
        out["rtp_counted_on"] = "lo" if counter.available else "engine"
        out["rtp_rate_drift_pct"] = max(
            out["ivr_rtp_drift_pct"], out["bridged_rtp_drift_pct"], key=abs
        )
        out["free_rtp_ports_after"] = edge.stack.free_ports
        out["rtp_ports"] = size
    finally:
        for p in procs:
            p.stop()
        await site.stop()
        await store.close()
        counter.stop()
        kam.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ivr", type=int, default=60, help="concurrent IVR calls")
    parser.add_argument("--bridged", type=int, default=30, help="concurrent bridged calls")
    parser.add_argument("--hold", type=float, default=10.0, help="steady window, seconds")
    parser.add_argument("--quick", action="store_true", help="6 IVR, 3 bridged, 4 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.ivr, args.bridged, args.hold = 6, 3, 4.0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    r = asyncio.run(run(args.ivr, args.bridged, args.hold))
    print(
        f"IVR calls:     {r['ivr_calls_ok']}/{r['ivr_calls']} completed; "
        f"{r['ivr_streams']} live streams; engine CPU {r['ivr_cpu_cores']:.2f} cores; "
        f"{r['ivr_threads']} threads (idle {r['threads_idle']}); "
        f"RTP send rate {-r['ivr_rtp_drift_pct']:+.2f} % vs real time"
    )
    print(
        f"Bridged calls: {r['bridged_calls_ok']}/{r['bridged_calls']} completed; "
        f"{r['bridged_streams']} live streams; engine CPU {r['bridged_cpu_cores']:.2f} cores; "
        f"{r['bridged_threads']} threads; "
        f"RTP send rate {-r['bridged_rtp_drift_pct']:+.2f} % vs real time"
    )
    print(f"RTP counted on: {r['rtp_counted_on']}; worst clock lateness "
          f"{r['bridged_max_late_ms']:.1f} ms; RTP ports free after: "
          f"{r['free_rtp_ports_after']}/{r['rtp_ports']}")  # fmt: skip
    keys = ["ivr_calls_ok", "bridged_calls_ok", "rtp_rate_drift_pct", "ivr_calls", "bridged_calls",
            "ivr_cpu_cores", "bridged_cpu_cores", "ivr_threads", "bridged_threads",
            "threads_idle", "ivr_rtp_drift_pct", "bridged_rtp_drift_pct", "rtp_counted_on",
            "free_rtp_ports_after", "rtp_ports"]  # fmt: skip
    fmt = {k: (f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k])) for k in keys}
    print(" ".join(f"{k}={fmt[k]}" for k in keys))
    ok = (
        r["ivr_calls_ok"] == r["ivr_calls"]
        and r["bridged_calls_ok"] == r["bridged_calls"]
        and abs(r["rtp_rate_drift_pct"]) <= 5.0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
