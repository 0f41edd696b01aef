"""Real peers for the voice edge's tests and benchmark: Kamailio, SIPp, an RTP packet counter.

Everything runs on 127.0.0.1 with ports picked free at run time; every process is started
here and stopped by its PID. Kamailio and SIPp come from Debian (``kamailio``,
``sip-tester``); ``ensure_tools`` installs them when missing and running as root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
KAMAILIO_CFG = HERE / "kamailio.cfg"
DEPLOY_KAMAILIO = HERE.parents[1] / "deploy" / "kamailio"
PCAPS = Path("/usr/share/sip-tester")
DTMF_NAMES = {"#": "pound", "*": "star"}


def ensure_tools() -> str | None:
    """None when kamailio and sipp are there (installing them if root), else why not."""
    missing = [t for t in ("kamailio", "sipp") if shutil.which(t) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "kamailio",
            "sip-tester",
        ]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
        missing = [t for t in ("kamailio", "sipp") if shutil.which(t) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install kamailio sip-tester)"
    if not (PCAPS / "g711a.pcap").exists():
        return f"{PCAPS}/g711a.pcap missing (package sip-tester)"
    return None


def free_udp_port() -> int:
    """A free UDP port above Linux's ephemeral range (32768-60999): the kernel never hands
    one of those to another socket, so it is still free when the peer binds it a moment later
    (one from the ephemeral range was once taken by then: sipp's "errno = 98")."""
    return free_udp_range(1, low=61000, high=65535)


def free_media_port() -> int:
    """The first of 4 free UDP ports above the ephemeral range, for SIPp's ``-mp``: it binds
    that port for audio and the one two above for video (with RTCP beside each), and one
    of those taken by another peer fails the phone at start ("Unable to bind video RTP
    socket ... errno = 98")."""
    return free_udp_range(4, low=61000, high=65535)


_next_base: dict[tuple[int, int], int] = {}
"""Per share of a range: where the next search for free ports starts."""


def worker_share(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's share of ``[low, high)`` (all of it without xdist): the
    workers are separate processes, and none hands out a port of another's share."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    index = int(worker[2:]) % count if worker[:2] == "gw" and worker[2:].isdigit() else 0
    span = (high - low) // count
    return low + index * span, low + (index + 1) * span


def free_udp_range(size: int, low: int = 20000, high: int = 32700) -> int:
    """The first port of ``size`` consecutive free UDP ports (checked by binding them), by
    default below Linux's ephemeral range (32768-60999), where the kernel picks no ports and
    ``free_udp_port`` (above it) none either. Ports are handed out in turn through this
    worker's share of the range (``worker_share``), so none is handed out again until the share
    has gone round: a peer given ports binds them a moment later, and one picked at random
    could meanwhile go to the next peer too (a caller's SIPp once failed at start so)."""
    import random

    lo, hi = worker_share(low, high)
    if hi - lo < size:
        raise RuntimeError(f"a share of {hi - lo} UDP ports has no room for {size}")
    base = _next_base.get((lo, hi))
    if base is None:
        base = random.randrange(lo, hi - size + 1)
    for _ in range(hi - lo):
        if base + size > hi:
            base = lo
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            _next_base[lo, hi] = base + size
            return base
        except OSError:
            base += 1
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range")


def _stop(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


class Kamailio:
    """Kamailio as registrar and stateful proxy on a free loopback port, RUNDIR per instance."""

    def __init__(self, rundir: Path, *, auth: bool = False, port: int | None = None) -> None:
        self.rundir = rundir
        self.auth = auth
        self.port = port or free_udp_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = rundir / "kamailio.log"

    def command(self) -> list[str]:
        """Write this instance's config into RUNDIR; the command line that runs it."""
        cfg = self.rundir / "kamailio.cfg"
        text = KAMAILIO_CFG.read_text().replace("SIP_PORT", str(self.port))
        cfg.write_text(text.replace("RUNDIR", str(self.rundir)))
        cmd = ["kamailio", "-f", str(cfg), *self.common_options()]
        if self.auth:
            cmd[1:1] = ["-A", "WITH_AUTH"]
        return cmd

    def common_options(self) -> list[str]:
        """In the foreground, logging to stderr, runtime files in RUNDIR, small memory."""
        return ["-DD", "-E", "-Y", str(self.rundir), "-P", str(self.rundir / "kamailio.pid"),
                "-m", "64", "-M", "8"]  # fmt: skip

    def start(self, timeout: float = 10.0) -> None:
        self.rundir.mkdir(parents=True, exist_ok=True)
        cmd = self.command()
        with self.log.open("wb") as log:
            # (its own process group: stop() ends the workers it forks with it)
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kamailio exited: {self.log.read_text()[-2000:]}")
            if self.ping():
                return
            time.sleep(0.1)
        raise RuntimeError(f"kamailio did not answer on port {self.port}")

    def ping(self) -> bool:
        msg = (
            f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKping{n};rport\r\n"
            "From: <sip:ping@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n"
            "Call-ID: ping{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
            "Content-Length: 0\r\n\r\n"
        ).format(n=time.monotonic_ns())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(msg.encode(), ("127.0.0.1", self.port))
                return s.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                return False

    def stop(self) -> None:
        """Stop the main process, then any worker left of its group (a main process killed
        after the grace time leaves its workers running, holding memory and ports)."""
        if self.proc is not None:
            _stop(self.proc)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc = None


class ShippedKamailio(Kamailio):
    """The site's Kamailio config as shipped (``deploy/kamailio/kamailio.cfg``, run unchanged)
    with its subscriber table and trusted addresses written for the test."""

    def __init__(
        self,
        rundir: Path,
        *,
        subscribers: Mapping[str, str],
        trusted: Sequence[tuple[str, int, str]] = (),
        gateways: Sequence[tuple[str, int]] = (),
        pstn_gateway: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(rundir, port=port)
        self.subscribers = dict(subscribers)
        """Extension -> password."""
        self.trusted = list(trusted)
        """(address, port, tag) of the engine: its INVITEs are not challenged (group 1)."""
        self.gateways = list(gateways)
        """(address, port) of PSTN gateways sending callers in (group 2)."""
        self.pstn_gateway = pstn_gateway
        """``host:port`` the engine's calls to numbers go to (``PSTN_GATEWAY``)."""

    def command(self) -> list[str]:
        dbtext = self.rundir / "dbtext"
        dbtext.mkdir(exist_ok=True)
        shutil.copy(DEPLOY_KAMAILIO / "dbtext" / "version", dbtext / "version")
        header = (DEPLOY_KAMAILIO / "dbtext" / "subscriber").read_text()
        rows = "".join(f"{ext}:{pw}\n" for ext, pw in self.subscribers.items())
        (dbtext / "subscriber").write_text(header + rows)
        trusted = self.rundir / "trusted.list"
        peers = [f"1 {ip} 32 {port} {tag}\n" for ip, port, tag in self.trusted]
        peers += [f"2 {ip} 32 {port} gateway\n" for ip, port in self.gateways]
        trusted.write_text("".join(peers))
        gateway = [] if self.pstn_gateway is None else ["-A", f'PSTN_GATEWAY="{self.pstn_gateway}"']
        return [
            "kamailio", "-f", str(DEPLOY_KAMAILIO / "kamailio.cfg"),
            "-A", f"SIP_LISTEN=udp:127.0.0.1:{self.port}",
            "-A", f'DBTEXT_URL="text://{dbtext}"',
            "-A", f'TRUSTED_LIST="{trusted}"',
            "-A", f'CTL_SOCKET="unix:{self.rundir / "kamailio_ctl"}"',
            *gateway,
            *self.common_options(),
        ]  # fmt: skip


# -- SIPp --------------------------------------------------------------------------------------


def caller_scenario(
    path: Path,
    steps: Sequence[tuple[str, object]],
    *,
    number: str = "sipp",
    end: str = "bye",
    wait_ms: int = 60_000,
    rtp_port: int | None = None,
) -> Path:
    """Write a caller scenario: ``steps`` are ("pause", ms), ("dtmf", keys), ("audio", pcap
    or None for SIPp's g711a.pcap); ``end`` is ``bye`` (the caller hangs up) or ``wait`` (the
    engine hangs up). ``rtp_port``: where the caller's SDP asks for its audio (an
    ``audio.RtpRecorder``, to check what the caller hears); SIPp's media port by default."""
    body: list[str] = []
    for kind, arg in steps:
        if kind == "pause":
            body.append(f'<pause milliseconds="{int(arg)}"/>')  # type: ignore[call-overload]
        elif kind == "audio":
            pcap = arg or PCAPS / "g711a.pcap"
            body.append(f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
        elif kind == "dtmf":
            for key in str(arg):
                name = DTMF_NAMES.get(key, key)
                pcap = PCAPS / f"dtmf_2833_{name}.pcap"
                body.append(f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
                body.append('<pause milliseconds="250"/>')
    tail = (SCENARIOS / f"caller_end_{'bye' if end == 'bye' else 'waitbye'}.xml").read_text()
    text = (SCENARIOS / "caller.xml").read_text()
    text = text.replace("<!-- STEPS -->", "\n  ".join(body)).replace("<!-- END -->", tail)
    text = text.replace("CALLER_NUMBER", number).replace("WAIT_MS", str(wait_ms))
    if rtp_port is not None:
        text = text.replace("m=audio [media_port]", f"m=audio {rtp_port}")
    path.write_text(text)
    return path


def scenario(path: Path, name: str, **values: object) -> Path:
    """Copy scenario ``name`` with its UPPER_CASE placeholders filled in."""
    text = (SCENARIOS / name).read_text()
    for key, value in values.items():
        text = text.replace(key.upper(), str(value))
    path.write_text(text)
    return path


@dataclass
class Sipp:
    """One SIPp process (stopped by PID)."""

    args: list[str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self) -> Sipp:
        self.log = self.cwd / f"sipp-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["sipp", *self.args, "-nostdin", "-trace_err"],
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    async def wait(self, timeout: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"sipp {self.args[:3]} still running after {timeout} s")
            await asyncio.sleep(0.05)
        return int(self.proc.returncode)

    def errors(self) -> str:
        out = []
        for p in sorted(self.cwd.glob("*_errors.log")):
            out.append(p.read_text(errors="replace")[-3000:])
        if self.log is not None and self.log.exists():
            out.append(self.log.read_text(errors="replace")[-2000:])
        return "\n".join(out)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


def sipp_uas(cwd: Path, scenario_file: Path, port: int, media_port: int, calls: int) -> Sipp:
    return Sipp(
        ["-sf", str(scenario_file), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media_port),
         "-m", str(calls)],
        cwd,
    ).start()  # fmt: skip


async def register_extension(
    cwd: Path, proxy_port: int, extension: str, contact_port: int, expires: int = 300
) -> None:
    csv = cwd / f"reg-{extension}-{expires}.csv"
    csv.write_text(f"SEQUENTIAL\n127.0.0.1:{contact_port};{expires}\n")
    reg = Sipp(
        [f"127.0.0.1:{proxy_port}", "-sf", str(SCENARIOS / "agent_register.xml"), "-inf",
         str(csv), "-s", extension, "-i", "127.0.0.1", "-p", str(free_udp_port()), "-m", "1"],
        cwd,
    ).start()  # fmt: skip
    rc = await reg.wait(10)
    if rc != 0:
        raise RuntimeError(f"registering {extension} failed: {reg.errors()}")


def sipp_caller(
    cwd: Path, scenario_file: Path, proxy_port: int, *, service: str = "1000",
    media_port: int | None = None, calls: int = 1, rate: float | None = None,
    limit: int | None = None, extra: Sequence[str] = (),
) -> Sipp:  # fmt: skip
    args = [f"127.0.0.1:{proxy_port}", "-sf", str(scenario_file), "-s", service, "-i",
            "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(media_port or free_media_port()),
            "-m", str(calls)]  # fmt: skip
    if rate is not None:
        args += ["-r", str(rate)]
    if limit is not None:
        args += ["-l", str(limit)]
    return Sipp([*args, *extra], cwd).start()


# -- RTP on the loopback interface -----------------------------------------------------------


@dataclass
class LoopbackTap:
    """Every RTP packet on ``lo`` (needs root): (source port, destination port, payload type,
    payload), each once, as the loopback delivers it. For what no test socket of ours can be
    put in the path of (a softphone's own port, the engine's send rate)."""

    packets: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    available: bool = False

    def start(self) -> LoopbackTap:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            sock.bind(("lo", 0))
        except (OSError, AttributeError):
            return self
        sock.settimeout(0.2)
        self.available = True

        def run() -> None:
            with sock:
                while not self._stop.is_set():
                    try:
                        data, addr = sock.recvfrom(65535)
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                    if addr[2] != socket.PACKET_HOST or len(data) < 14 + 28:
                        continue
                    ip = data[14:]
                    if ip[9] != 17:  # UDP
                        continue
                    ihl = (ip[0] & 0x0F) * 4
                    sport, dport = struct.unpack_from("!HH", ip, ihl)
                    rtp = ip[ihl + 8 :]
                    if len(rtp) >= 12 and rtp[0] >> 6 == 2:  # RTP version 2
                        offset = 12 + 4 * (rtp[0] & 0x0F)
                        self.packets.append((sport, dport, rtp[1] & 0x7F, rtp[offset:]))

        self._thread = threading.Thread(target=run, name="rtp-tap", daemon=True)
        self._thread.start()
        return self

    def to_port(self, port: int) -> int:
        return sum(1 for _, d, _, _ in list(self.packets) if d == port)

    def from_port(self, port: int) -> int:
        return sum(1 for s, _, _, _ in list(self.packets) if s == port)

    def payloads_to(self, port: int) -> list[tuple[int, bytes]]:
        """(payload type, payload) of the packets sent to ``port``, in arrival order."""
        return [(pt, p) for _, d, pt, p in list(self.packets) if d == port]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
