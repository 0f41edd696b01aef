"""Capacity of the voice edge on this machine, with real Kamailio and SIPp on loopback and the
audio of every call checked.

Two phases, each bounded in calls and time:

1. **IVR calls**: N unknown callers dial the IVR extension at once, stay in the IVR (the
   account number prompt and its retry) for a while, then hang up. A call's audio is intact
   when its caller heard the welcome and the account number prompt sample for sample
   (normalised cross-correlation over 0.95).
2. **Bridged calls**: M known callers press 1 (sales) in the main menu; M agents are logged in
   and one SIPp UAS answers all their extensions. Each caller says a 1 kHz tone in 30 ms
   A-law packets, each agent's phone 700 Hz in 20 ms u-law; a call is ``bridged_audio_ok``
   when its caller heard 700 Hz and its agent 1 kHz for most (80 %) of the talk time, and
   neither heard its own tone.

The phones' ears: every caller's and agent's SDP names a port of its own, all bound by one
listener process (listening must take no CPU or GIL from the engine being measured), which
keeps every RTP packet with its arrival time. The audio checks and the RTP rate come from
there: packets that reached the phones in the steady window against 50 a second per leg.

Reported per phase: calls completed, audio intact, the RTP rate against real time, engine CPU
(cores, over the steady window), peak threads of the engine process, and ``floor_met``: at
least the floor's calls (150 IVR, 100 bridged), every one completed with its audio intact and
the rate within 2 % of real time. The machine's load average comes first (the bench shares
two cores with SIPp, Kamailio and the ears); the last line is key=value pairs, among them
``ivr_max_ok`` and ``bridged_max_ok``, the largest counts that met those conditions.

    python bench/voice.py              # 150 IVR calls, 100 bridged calls (the floors)
    python bench/voice.py --find-max   # from there up by 25 calls a step while they hold
    python bench/voice.py --quick      # 6 and 3 calls, 4 s windows: a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import resource
import selectors
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contactcenter.config import load_center  # noqa: E402
from contactcenter.events import AgentActivity  # noqa: E402
from contactcenter.ivr import load_flows, with_flows  # noqa: E402
from contactcenter.ivr.prompts import load_prompt  # noqa: E402
from contactcenter.runtime import Site  # noqa: E402
from contactcenter.store.store import Store  # noqa: E402
from contactcenter.voice.call import VoiceCall  # noqa: E402
from contactcenter.voice.edge import VoiceEdge  # noqa: E402
from contactcenter.voice.media import PCMA, PCMU  # noqa: E402
from contactcenter.voice.settings import VoiceSettings  # noqa: E402
from tests.polling import until  # noqa: E402
from tests.voice import audio  # noqa: E402
from tests.voice.harness import (  # noqa: E402
    SCENARIOS,
    Kamailio,
    Sipp,
    caller_scenario,
    ensure_tools,
    free_media_port,
    free_udp_port,
    free_udp_range,
    scenario,
    sipp_caller,
)

OPEN = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
KNOWN = "+4930555010008"  # Jan Novak: identified by number, straight to the main menu
FLOOR_IVR, FLOOR_BRIDGED = 150, 100
RATE_TOLERANCE_PCT = 2.0
CALLS_PER_SECOND = 40
CALLER_TONE, AGENT_TONE = 1000.0, 700.0
MOST = 0.8
"""Share of the talk time each side of a bridged call must hear the other's tone."""
PROMPT_MATCH = 0.95
PROMPTS = ROOT / "config" / "prompts"


def bench_config(tmp: Path, agents: int) -> Path:
    """The example center with every agent able to take sales calls at once, and as many more
    sales agents as ``agents`` needs."""
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
    doc = yaml.safe_load((target / "agents.yaml").read_text())
    roster: list[dict[str, Any]] = doc["agents"]
    for a in roster:
        a["skills"] = {**a.get("skills", {}), "sales": 3}
        a["queues"] = {**a.get("queues", {}), "sales": 1}
        a["capacity"] = {**a.get("capacity", {}), "voice": 1}
    for n in range(len(roster) + 1, agents + 1):
        roster.append(
            {"id": f"bench{n:03d}", "name": f"Bench agent {n}", "extension": f"3{n:03d}",
             "skills": {"sales": 3}, "queues": {"sales": 1}, "capacity": {"voice": 1}}
        )  # fmt: skip
    (target / "agents.yaml").write_text(yaml.safe_dump(doc))
    return target


def threads_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return threading.active_count()


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_average() -> float:
    return os.getloadavg()[0]


# -- the phones' ears ---------------------------------------------------------------------------

Heard = tuple[float, int, bytes]
"""A datagram that reached a phone: (monotonic arrival time, source port, the RTP packet)."""


def _listen(conn: Connection, count: int) -> None:
    """The ears' process: ``count`` loopback UDP ports keep what arrives until it is taken."""
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, s.getsockname()[1])
    heard: defaultdict[int, list[Heard]] = defaultdict(list)
    conn.send([s.getsockname()[1] for s in socks])
    while True:
        for key, _ in sel.select(0.05):
            sock: socket.socket = key.fileobj  # type: ignore[assignment]
            while True:
                try:
                    data, (_, sport) = sock.recvfrom(2048)
                except BlockingIOError:
                    break
                heard[key.data].append((time.monotonic(), sport, data))
        if conn.poll():
            if conn.recv() != "take":
                break
            conn.send(dict(heard))
            heard = defaultdict(list)
    for s in socks:
        s.close()


class Ears:
    """What the phones hear: ``count`` ports, one per phone's SDP, bound by a process of their
    own. Arrival times are ``time.monotonic()``, the same clock as the engine's process."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_listen, args=(child, count), name="ears", daemon=True)
        self.ports: list[int] = []

    def start(self) -> Ears:
        self._proc.start()
        if not self._conn.poll(60):
            raise RuntimeError("the ears' process did not start")
        self.ports = self._conn.recv()
        return self

    def take(self) -> dict[int, list[Heard]]:
        """Everything heard since the last take (blocks: run it in a thread)."""
        self._conn.send("take")
        heard: dict[int, list[Heard]] = self._conn.recv()
        return heard

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)


def samples(heard: Sequence[Heard]) -> audio.Samples:
    """The G.711 audio of ``heard``, decoded in arrival order (each packet by its own law)."""
    parts = []
    for _, _, data in heard:
        if len(data) > 12 and data[0] >> 6 == 2 and data[1] & 0x7F in (PCMU, PCMA):
            parts.append(audio.decode(data[12 + 4 * (data[0] & 0x0F) :], data[1] & 0x7F))
    return np.concatenate(parts) if parts else np.zeros(0)


def rate_pct(heard: dict[int, list[Heard]], ports: Sequence[int], t0: float, t1: float) -> float:
    """Packets that reached ``ports`` in [t0, t1) against 50 a second each, in % (negative:
    behind real time)."""
    got = sum(1 for p in ports for at, _, _ in heard.get(p, ()) if t0 <= at < t1)
    expected = len(ports) * (t1 - t0) / 0.020
    return 100.0 * (got - expected) / expected


def prompt_samples(name: str) -> audio.Samples:
    return audio.u8_to_samples(load_prompt(PROMPTS / f"{name}.wav"))


def heard_the_ivr(heard: audio.Samples, prompts: Sequence[audio.Samples]) -> bool:
    return all(audio.match(heard, p) > PROMPT_MATCH for p in prompts)


@dataclass
class Conversation:
    """Seconds of each tone each side of a bridged call heard."""

    caller_heard_agent: float
    agent_heard_caller: float
    caller_heard_own: float
    agent_heard_own: float

    @classmethod
    def of(cls, caller: audio.Samples, agent: audio.Samples) -> Conversation:
        return cls(
            audio.seconds_of_tone(caller, AGENT_TONE),
            audio.seconds_of_tone(agent, CALLER_TONE),
            audio.seconds_of_tone(caller, CALLER_TONE),
            audio.seconds_of_tone(agent, AGENT_TONE),
        )

    def intact(self, talk: float) -> bool:
        """Each side heard the other's tone for most of ``talk`` seconds and never its own."""
        return (
            min(self.caller_heard_agent, self.agent_heard_caller) >= MOST * talk
            and self.caller_heard_own == self.agent_heard_own == 0
        )


# -- a phase's figures --------------------------------------------------------------------------


@dataclass
class Window:
    """The steady window of a phase: every call up."""

    start: float
    end: float
    cpu_cores: float
    """CPU of the engine's process over the window, in cores."""
    threads: int
    """Peak threads of the engine's process."""
    late_ticks: int
    """Ticks of the engine's RTP sender (50 a second) that began over 20 ms late."""


@dataclass
class Phase:
    """One phase at one count of concurrent calls."""

    name: str
    """``ivr`` or ``bridged``."""
    calls: int
    completed: int
    audio_ok: int
    rate_pct: float
    """RTP packets that reached the phones in the steady window against 50 a second per leg,
    in % (negative: behind real time)."""
    window: Window
    seconds: float
    load: float
    """The machine's 1-minute load average at the end of the phase."""

    @property
    def held(self) -> bool:
        """Every call completed, its audio intact, the RTP rate within 2 % of real time."""
        return (
            self.completed == self.audio_ok == self.calls
            and abs(self.rate_pct) <= RATE_TOLERANCE_PCT
        )

    @property
    def floor(self) -> int:
        return FLOOR_IVR if self.name == "ivr" else FLOOR_BRIDGED

    @property
    def floor_met(self) -> bool:
        return self.held and self.calls >= self.floor

    def line(self) -> str:
        title = "IVR calls:    " if self.name == "ivr" else "Bridged calls:"
        return (
            f"{title} {self.completed}/{self.calls} completed; audio intact "
            f"{self.audio_ok}/{self.calls}; RTP rate {self.rate_pct:+.2f} % vs real time "
            f"(at the phones); engine CPU {self.window.cpu_cores:.2f} cores; "
            f"{self.window.threads} threads; {self.window.late_ticks} ticks late; "
            f"{self.seconds:.0f} s; load average "
            f"{self.load:.2f}; floor ({self.floor}) {'met' if self.floor_met else 'NOT met'}"
        )

    def keys(self) -> dict[str, str]:
        n = self.name
        return {
            f"{n}_calls": str(self.calls),
            f"{n}_calls_ok": str(self.completed),
            f"{n}_audio_ok": f"{self.audio_ok}/{self.calls}",
            f"{n}_rtp_rate_pct": f"{self.rate_pct:.2f}",
            f"{n}_cpu_cores": f"{self.window.cpu_cores:.2f}",
            f"{n}_threads": str(self.window.threads),
            f"{n}_late_ticks": str(self.window.late_ticks),
            f"{n}_floor_met": str(int(self.floor_met)),
        }


# -- the rig: Kamailio, the engine, the agents' phones, the ears ---------------------------------


class Rig:
    """Everything the phases share, sized for up to ``ivr_max`` IVR calls and ``bridged_max``
    bridged calls at once."""

    def __init__(self, tmp: Path, ivr_max: int, bridged_max: int) -> None:
        self.tmp = tmp
        self.legs = max(ivr_max, 2 * bridged_max)
        self.bridged_max = bridged_max
        self.kam = Kamailio(tmp / "kamailio")
        self.ears = Ears(self.legs)
        self.procs: list[Sipp] = []
        self.rtp_ports = self.legs + 20
        self.uas_port = free_udp_port()
        self.agents: list[str] = []
        self.ivr_prompts = [prompt_samples("welcome"), prompt_samples("account_number")]
        self._up = contextlib.AsyncExitStack()
        """What was started, stopped in reverse order."""

    async def start(self) -> None:
        self.ears.start()
        self._up.callback(self.ears.stop)
        self.kam.start()
        self._up.callback(self.kam.stop)
        config = bench_config(self.tmp, self.bridged_max)
        center = load_center(config)
        center = with_flows(center, load_flows(config, center))
        self.store = await Store.open(self.tmp / "bench.sqlite3")
        self._up.push_async_callback(self.store.close)
        await self.store.seed_customers(center.customers.values(), center.dedicated_agent)
        self.site = Site(center, self.store)
        self.rtp_low = low = free_udp_range(self.rtp_ports)
        settings = VoiceSettings.model_validate(
            {
                "enabled": True,
                "server": {"host": "127.0.0.1", "port": self.kam.port},
                "local": {
                    "ip": "127.0.0.1",
                    "sip_port": free_udp_port(),
                    "rtp_port_low": low,
                    "rtp_port_high": low + self.rtp_ports - 1,
                },
                "waiting": {"first_announcement_seconds": 3, "announce_every_seconds": 10},
                "calls": {"max_calls": 1000},
            }
        )
        self.edge = VoiceEdge(self.site.voice, settings, config_dir=config, clock=lambda: OPEN)
        self.site.add_edge(self.edge)
        await self.site.start()
        self._up.push_async_callback(self.site.stop)
        self._up.callback(self._stop_phones)
        if not await until(self.edge.registered.is_set, 10):
            raise RuntimeError("the engine did not register at Kamailio")
        self.agents = list(center.agents)[: self.bridged_max]
        await self.register_phones([center.agents[a].extension or "" for a in self.agents])
        for aid in self.agents:
            await self.site.agents.login(aid)

    async def register_phones(self, extensions: Sequence[str]) -> None:
        """All agents' extensions at the one SIPp UAS, in one SIPp run."""
        rows = "".join(f"{ext};127.0.0.1:{self.uas_port}\n" for ext in extensions)
        csv = self.tmp / "phones.csv"
        csv.write_text("SEQUENTIAL\n" + rows)
        reg = Sipp(
            [f"127.0.0.1:{self.kam.port}", "-sf", str(SCENARIOS / "bench_register.xml"),
             "-inf", str(csv), "-i", "127.0.0.1", "-p", str(free_udp_port()),
             "-m", str(len(extensions)), "-r", "100"],
            self.tmp,
        ).start()  # fmt: skip
        if await reg.wait(30) != 0:
            raise RuntimeError(f"registering the agents' phones failed: {reg.errors()}")

    def _stop_phones(self) -> None:
        for p in self.procs:
            p.stop()

    async def stop(self) -> None:
        await self._up.aclose()

    # -- helpers of the phases

    def ear_file(self, name: str, ports: Sequence[int]) -> Path:
        """A SIPp injection file: the ear port each call's SDP names, one call a line."""
        path = self.tmp / f"{name}.csv"
        path.write_text("SEQUENTIAL\n" + "".join(f"{p};\n" for p in ports))
        return path

    def caller(self, name: str, steps: Sequence[tuple[str, object]], number: str) -> Path:
        """A caller scenario whose SDP asks for its audio at the ear of its injection line."""
        path = caller_scenario(self.tmp / f"{name}.xml", steps, number=number)
        path.write_text(path.read_text().replace("m=audio [media_port]", "m=audio [field0]"))
        return path

    async def steady(self, seconds: float) -> Window:
        """A window of ``seconds`` with every call of the phase up."""
        c0, t0, late0 = cpu_seconds(), time.monotonic(), self.edge.media.late_ticks
        peak = 0
        while time.monotonic() < t0 + seconds:
            peak = max(peak, threads_now())
            await asyncio.sleep(0.25)
        c1, t1 = cpu_seconds(), time.monotonic()
        return Window(t0, t1, (c1 - c0) / (t1 - t0), peak, self.edge.media.late_ticks - late0)

    async def settle(self) -> None:
        """No call left, agents back from wrap-up, nothing left in the ears."""
        await until(lambda: self.edge.snapshot()["calls_active"] == 0, 15, 0.1)
        router = self.site.engine.router
        await until(
            lambda: all(router.agent(a).activity is AgentActivity.AVAILABLE for a in self.agents),
            15,
            0.1,
        )
        await self.listen()

    async def listen(self) -> dict[int, list[Heard]]:
        """What the phones heard from the engine since the last time (other programs on this
        machine may send to a port the ears listen on: that is not counted)."""
        heard = await asyncio.to_thread(self.ears.take)
        low, high = self.rtp_low, self.rtp_low + self.rtp_ports - 1
        return {port: [h for h in got if low <= h[1] <= high] for port, got in heard.items()}

    def report_failure(self, scenarios: Sequence[Path], before: set[object], outcome: str) -> None:
        """Why calls failed, on stderr: SIPp's errors and the calls that ended otherwise."""
        for sf in scenarios:
            for log in sorted(self.tmp.glob(f"{sf.stem}_*_errors.log")):
                print(f"{log.name}:\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
        print(self.edge.snapshot(), file=sys.stderr)
        odd = [c for c in self.edge.finished if c not in before and c.outcome != outcome]
        for c in odd[:3]:
            print(c.outcome, c.timeline, file=sys.stderr)

    # -- the phases

    async def ivr(self, calls: int, hold: float) -> Phase:
        await self.settle()
        edge, started = self.edge, time.monotonic()
        ports = self.ears.ports[:calls]
        rate = min(calls, CALLS_PER_SECOND)
        stay = hold + calls / rate + 4.0  # the first caller outlasts the window
        sf = self.caller(f"ivr-{calls}", [("pause", int(stay * 1000))], number="sipp")
        before: set[object] = set(edge.finished)
        callers = sipp_caller(
            self.tmp, sf, self.kam.port, calls=calls, rate=rate, limit=calls,
            extra=["-inf", str(self.ear_file(f"ivr-{calls}", ports))],
        )  # fmt: skip
        self.procs.append(callers)
        await until(lambda: len(edge.media.streams()) >= calls, 10 + calls / rate)
        await asyncio.sleep(0.5)
        w = await self.steady(hold)
        rc = await callers.wait(stay + 30)
        await until(lambda: edge.snapshot()["calls_active"] == 0, 10, 0.1)
        heard = await self.listen()
        done = [c for c in edge.finished if c not in before and c.outcome == "ivr:caller-hung-up"]
        completed = len(done) if rc == 0 else min(len(done), calls - 1)
        deaf = [p for p in ports if not heard_the_ivr(samples(heard.get(p, [])), self.ivr_prompts)]
        if completed < calls:
            self.report_failure([sf], before, "ivr:caller-hung-up")
        if deaf:
            print(f"{len(deaf)} IVR callers did not hear the welcome and the account number "
                  f"prompt; packets at their ears: {[len(heard.get(p, [])) for p in deaf[:10]]}",
                  file=sys.stderr)  # fmt: skip
        return Phase(
            "ivr", calls, completed, calls - len(deaf), rate_pct(heard, ports, w.start, w.end),
            w, time.monotonic() - started, load_average(),
        )  # fmt: skip

    def talking(self) -> list[tuple[int, int]]:
        """(caller's ear, agent's ear) of every call bridged now."""
        calls = {id(c): c for c in self.edge.calls.values() if isinstance(c, VoiceCall)}
        pairs = []
        for c in calls.values():
            agent = c.agent_leg
            if agent is not None and c.leg.stream.remote and agent.stream.remote:
                pairs.append((c.leg.stream.remote[1], agent.stream.remote[1]))
        return pairs

    async def bridged(self, calls: int, hold: float) -> Phase:
        await self.settle()
        edge, started = self.edge, time.monotonic()
        caller_ears, agent_ears = self.ears.ports[:calls], self.ears.ports[calls : 2 * calls]
        rate = min(calls, CALLS_PER_SECOND)
        talk = hold + calls / rate + 3.0  # the caller's tone outlasts the window
        says = audio.tone_pcap(self.tmp / f"caller-{calls}.pcap", CALLER_TONE, talk, PCMA, 30)
        agent_says = audio.tone_pcap(
            self.tmp / f"agent-{calls}.pcap", AGENT_TONE, talk + 8, PCMU, 20
        )
        uas_sf = scenario(
            self.tmp / f"agent-{calls}.xml", "agent_uas_tone.xml", ring_ms=200,
            listen_port="[field0]", audio_pcap=agent_says,
        )  # fmt: skip
        uas = Sipp(
            ["-sf", str(uas_sf), "-i", "127.0.0.1", "-p", str(self.uas_port),
             "-mp", str(free_media_port()), "-m", str(calls),
             "-inf", str(self.ear_file(f"agents-{calls}", agent_ears))],
            self.tmp,
        ).start()  # fmt: skip
        self.procs.append(uas)
        steps: list[tuple[str, object]] = [("pause", 2800), ("dtmf", "1"), ("pause", 1500)]
        steps += [("audio", says), ("pause", int(talk * 1000) + 500)]
        sf = self.caller(f"bridged-{calls}", steps, number=KNOWN)
        before: set[object] = set(edge.finished)
        bridged_before = edge.stats["bridged"]
        callers = sipp_caller(
            self.tmp, sf, self.kam.port, calls=calls, rate=rate, limit=calls,
            extra=["-inf", str(self.ear_file(f"callers-{calls}", caller_ears))],
        )  # fmt: skip
        self.procs.append(callers)
        await until(lambda: edge.stats["bridged"] - bridged_before >= calls, 8 + calls / rate)
        pairs = self.talking()
        await asyncio.sleep(1.0)
        w = await self.steady(hold)
        rc = await callers.wait(talk + 30)
        try:
            rc_uas = await uas.wait(20)
        except TimeoutError:
            rc_uas = -1
        await until(lambda: edge.snapshot()["calls_active"] == 0, 10, 0.1)
        heard = await self.listen()
        done = [c for c in edge.finished if c not in before and c.outcome == "completed"]
        records = [await self.store.contact_record(c.contact_id) for c in done if c.contact_id]
        ok = sum(1 for r in records if r is not None and r.outcome == "completed")
        completed = ok if rc == 0 and rc_uas == 0 else min(ok, calls - 1)
        talks = [
            Conversation.of(samples(heard.get(c, [])), samples(heard.get(a, []))) for c, a in pairs
        ]
        intact = sum(t.intact(talk) for t in talks)
        if completed < calls:
            self.report_failure([sf, uas_sf], before, "completed")
        if intact < calls:
            print(
                f"{len(pairs)} of {calls} calls were bridged at once; of {talk:.1f} s talk, "
                "these were not intact:",
                file=sys.stderr,
            )
            for t in [t for t in talks if not t.intact(talk)][:5]:
                print(f"  {t}", file=sys.stderr)
        return Phase(
            "bridged", calls, completed, intact,
            rate_pct(heard, [*caller_ears, *agent_ears], w.start, w.end), w,
            time.monotonic() - started, load_average(),
        )  # fmt: skip


async def climb(
    measure: Callable[[int], Awaitable[Phase]], start: int, step: int, steps: int, until_t: float
) -> list[Phase]:
    """The phase at ``start`` calls, then ``step`` more each time while it holds, for at most
    ``steps`` runs and while another run would end before ``until_t`` (monotonic)."""
    phases: list[Phase] = []
    count = start
    for _ in range(steps):
        phase = await measure(count)
        print(phase.line(), flush=True)
        phases.append(phase)
        if not phase.held or time.monotonic() + phase.seconds * 1.3 > until_t:
            break
        count += step
    return phases


def largest(phases: Sequence[Phase]) -> Phase:
    """The phase with the most calls that held (else the first)."""
    return max((p for p in phases if p.held), key=lambda p: p.calls, default=phases[0])


async def run(args: argparse.Namespace) -> tuple[list[Phase], list[Phase], dict[str, str]]:
    why = ensure_tools()
    if why is not None:
        raise SystemExit(f"bench/voice.py: {why}")
    steps = args.max_steps if args.find_max else 1
    tmp = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    rig = Rig(tmp, args.ivr + args.step * (steps - 1), args.bridged + args.step * (steps - 1))
    extra: dict[str, str] = {}
    try:
        await rig.start()
        extra["threads_idle"] = str(threads_now())
        began = time.monotonic()
        budget = args.max_minutes * 60
        ivr = await climb(
            lambda n: rig.ivr(n, args.hold), args.ivr, args.step, steps, began + budget / 2
        )
        bridged = await climb(
            lambda n: rig.bridged(n, args.hold), args.bridged, args.step, steps, began + budget
        )
        await until(lambda: rig.edge.stack.free_ports == rig.rtp_ports, 10, 0.1)
        extra["free_rtp_ports_after"] = f"{rig.edge.stack.free_ports}/{rig.rtp_ports}"
    finally:
        await rig.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return ivr, bridged, extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ivr", type=int, default=FLOOR_IVR, help="concurrent IVR calls")
    parser.add_argument(
        "--bridged", type=int, default=FLOOR_BRIDGED, help="concurrent bridged calls"
    )
    parser.add_argument("--hold", type=float, default=10.0, help="steady window, seconds")
    parser.add_argument("--quick", action="store_true", help="6 IVR, 3 bridged, 4 s windows")
    parser.add_argument(
        "--find-max", action="store_true", help="step the counts up while the floor holds"
    )
    parser.add_argument("--step", type=int, default=25, help="calls added per step")
    parser.add_argument("--max-steps", type=int, default=6, help="runs per phase at most")
    parser.add_argument(
        "--max-minutes", type=float, default=15.0, help="time for all steps (half per phase)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.ivr, args.bridged, args.hold = 6, 3, 4.0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load = load_average()
    print(f"load average {load:.2f} (1 min) on {os.cpu_count()} CPUs before the run", flush=True)
    ivr, bridged, extra = asyncio.run(run(args))
    best_ivr, best_bridged = largest(ivr), largest(bridged)
    summary = {
        **best_ivr.keys(),
        **best_bridged.keys(),
        "ivr_max_ok": str(best_ivr.calls if best_ivr.held else 0),
        "bridged_max_ok": str(best_bridged.calls if best_bridged.held else 0),
        "floor_met": str(int(best_ivr.floor_met and best_bridged.floor_met)),
        "load_avg_before": f"{load:.2f}",
        **extra,
    }
    if args.find_max:
        print(
            f"Largest counts that held: {summary['ivr_max_ok']} IVR calls, "
            f"{summary['bridged_max_ok']} bridged calls (floors {FLOOR_IVR} and {FLOOR_BRIDGED})"
        )
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0 if ivr[0].held and bridged[0].held else 1


if __name__ == "__main__":
    sys.exit(main())
