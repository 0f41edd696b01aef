"""Voice deployed as the README says: the shipped Kamailio config (``deploy/kamailio``, digest
for phones), a real ``contactcenter serve`` process with voice enabled, a real softphone
(baresip, auto-answer) as the agent's phone and SIPp callers, all on loopback.

What is checked is what people get: the agent hears the caller and the caller hears the agent
(audio recognised by cross-correlation, not packets counted), the agent's desktop shows the
call, ``/metrics`` shows the edge, the contact record is stored and the log says what happened.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import urllib.request
import warnings
import wave
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import yaml
from scipy.signal import correlate

from contactcenter.store import Store
from tests import peers
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    frame,
    login,
    open_around_the_clock,
    set_users,
)
from tests.polling import until
from tests.voice.harness import (
    PCAPS,
    SCENARIOS,
    LoopbackTap,
    ShippedKamailio,
    Sipp,
    caller_scenario,
    ensure_tools,
    free_media_port,
    free_udp_port,
    free_udp_range,
    scenario,
    sipp_uas,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 decoding, as the voice edge does ('audioop-lts' on 3.13+)

RATE = 8000
KNOWN = "+4930555010008"  # Jan Novak in the example CRM: main menu, 1 = sales
ENGINE_PASSWORD = "ivr-secret-1000"
PHONES = {"2001": "phone-2001-pw", "2002": "phone-2002-pw", "2005": "agent-2005-pw"}


# -- tools --------------------------------------------------------------------------------------


def _ensure_baresip() -> str | None:
    if shutil.which("baresip") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "baresip-core"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
    if shutil.which("baresip") is None:
        return "not installed: baresip (apt-get install baresip-core)"
    return None


@pytest.fixture(scope="module")
def sip_tools() -> None:
    peers.require(ensure_tools())


@pytest.fixture(scope="module")
def softphone_tools(sip_tools: None) -> None:
    peers.require(_ensure_baresip())
    peers.require(None if os.geteuid() == 0 else "reading the caller's RTP on lo needs root")


# -- audio --------------------------------------------------------------------------------------


def g711(payload: bytes, pt: int) -> np.ndarray:
    lin = audioop.ulaw2lin(payload, 2) if pt == 0 else audioop.alaw2lin(payload, 2)
    return np.frombuffer(lin, dtype="<i2").astype(np.float64)


def pcap_audio(path: Path) -> np.ndarray:
    """The G.711 audio of the RTP packets in a pcap file (what SIPp plays)."""
    data = path.read_bytes()
    linktype = struct.unpack_from("<I", data, 20)[0]
    link = {1: 14, 113: 16}[linktype]  # Ethernet, Linux cooked capture
    out: list[np.ndarray] = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        pkt = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        ip = pkt[link:]
        udp = ip[(ip[0] & 0x0F) * 4 :]
        rtp = udp[8:]
        pt = rtp[1] & 0x7F
        if len(rtp) > 12 and pt in (0, 8):
            out.append(g711(rtp[12:], pt))
    return np.concatenate(out)


def noise(seconds: float, seed: int = 7) -> np.ndarray:
    """Band-limited noise at a speech-like level: unlike any prompt or hold music."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, int(seconds * RATE))
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    y = np.fft.irfft(spectrum, len(x))
    return y / np.abs(y).max() * 8000


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def heard_seconds(reference: np.ndarray, received: np.ndarray, window: float = 0.25) -> float:
    """Seconds of ``received`` that are a piece of ``reference`` (each window of it that is
    loud enough matched somewhere in ``reference`` with a normalised correlation >= 0.8)."""
    n = int(window * RATE)
    ref_energy = np.concatenate(([0.0], np.cumsum(reference**2)))
    sliding = np.sqrt(ref_energy[n:] - ref_energy[:-n])
    matched = 0
    for start in range(0, len(received) - n, n):
        piece = received[start : start + n]
        norm = np.sqrt(np.sum(piece**2))
        if norm < 200 * np.sqrt(n):  # silence, or nearly
            continue
        c = correlate(reference, piece, mode="valid", method="fft")
        score = np.max(c / np.maximum(sliding * norm, 1e-9))
        if score >= 0.8:
            matched += 1
    return matched * window


# -- the agent's softphone --------------------------------------------------------------------


class Baresip:
    """baresip as an agent's softphone: registers its extension with digest, answers every
    call at once, speaks ``source`` (an 8 kHz WAV file) and records what it hears."""

    def __init__(self, home: Path, extension: str, password: str, proxy: int, source: Path):
        self.home = home
        self.sip_port = free_udp_port()
        rtp = free_udp_range(10)
        home.mkdir(parents=True)
        (home / "sound").mkdir()
        (home / "config").write_text(
            f"poll_method epoll\nsip_listen 127.0.0.1:{self.sip_port}\n"
            "net_interface 127.0.0.1\n"
            f"rtp_ports {rtp}-{rtp + 9}\nrtp_timeout 0\ncall_max_calls 4\n"
            f"audio_source aufile,{source}\n"
            # nobody listens: what the agent hears is recorded by sndfile (below)
            "audio_player aubridge,nobody\naudio_alert aubridge,nobody\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n"
            "module_app account.so\nmodule_app menu.so\n"
            f"snd_path {home / 'sound'}\n"
        )
        (home / "accounts").write_text(
            f"<sip:{extension}@127.0.0.1:{proxy}>;auth_pass={password};answermode=auto;"
            "audio_codecs=PCMU,PCMA;regint=300\n"
        )
        self.log = home / "baresip.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Baresip:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["baresip", "-f", str(self.home)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        return self

    def registered(self) -> bool:
        return "200 OK" in self.log.read_text(errors="replace")

    def heard(self) -> Path | None:
        """The recording of what the phone played to the agent (complete once the call ended)."""
        found = sorted((self.home / "sound").glob("dump-*-dec.wav"))
        return found[-1] if found else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# -- the shipped Kamailio config: digest for phones ------------------------------------------


def register_phone(cwd: Path, proxy: int, ext: str, password: str, contact: int, final: int) -> int:
    csv = cwd / f"reg-{ext}.csv"
    csv.write_text(f"SEQUENTIAL\n127.0.0.1:{contact};300\n")
    sf = scenario(cwd / f"register-{ext}-{final}.xml", "phone_register.xml", final_status=final)
    reg = Sipp(
        [f"127.0.0.1:{proxy}", "-sf", str(sf), "-inf", str(csv), "-s", ext, "-au", ext,
         "-ap", password, "-i", "127.0.0.1", "-p", str(free_udp_port()), "-m", "1"],
        cwd,
    ).start()  # fmt: skip
    assert reg.proc is not None
    reg.proc.wait(15)
    return int(reg.proc.returncode)


async def test_shipped_kamailio_challenges_phones_and_trusts_only_the_engine(
    sip_tools: None, tmp_path: Path
) -> None:
    engine_port = free_udp_port()
    kam = ShippedKamailio(
        tmp_path / "kamailio",
        subscribers={"1000": ENGINE_PASSWORD, **PHONES},
        trusted=[("127.0.0.1", engine_port, "engine")],
    )
    kam.start()
    procs: list[Sipp] = []
    try:
        # REGISTER: challenged (401), then accepted with the right password only; the
        # engine's trusted address does not spare its REGISTER the challenge
        callee = free_udp_port()
        assert register_phone(tmp_path, kam.port, "2002", PHONES["2002"], callee, 200) == 0
        assert register_phone(tmp_path, kam.port, "2001", "wrong", free_udp_port(), 401) == 0
        assert register_phone(tmp_path, kam.port, "2001", PHONES["2001"], free_udp_port(), 200) == 0

        uas = sipp_uas(tmp_path, scenario(tmp_path / "uas.xml", "agent_uas.xml", ring_ms=100),
                       callee, free_media_port(), 2)  # fmt: skip
        procs.append(uas)

        def phone_call(name: str, password: str) -> Sipp:
            sf = scenario(tmp_path / name, name, phone_extension="2001", talk_ms=500)
            return Sipp(
                [f"127.0.0.1:{kam.port}", "-sf", str(sf), "-s", "2002", "-au", "2001", "-ap",
                 password, "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp",
                 str(free_media_port()), "-m", "1"],
                tmp_path,
            ).start()  # fmt: skip

        # an INVITE from a phone without credentials gets 407 and goes nowhere
        refused = phone_call("phone_call_refused.xml", PHONES["2001"])
        assert await refused.wait(15) == 0, refused.errors()
        # with credentials it reaches the callee, who answers
        talked = phone_call("phone_call.xml", PHONES["2001"])
        assert await talked.wait(20) == 0, talked.errors()

        # the engine's own address: its INVITE (no credentials) is relayed, not challenged
        sf = caller_scenario(tmp_path / "engine.xml", [("pause", 300)], number="1000")
        engine = Sipp(
            [f"127.0.0.1:{kam.port}", "-sf", str(sf), "-s", "2002", "-i", "127.0.0.1", "-p",
             str(engine_port), "-mp", str(free_media_port()), "-m", "1"],
            tmp_path,
        ).start()  # fmt: skip
        procs.append(engine)
        assert await engine.wait(20) == 0, engine.errors()
        assert await uas.wait(20) == 0, uas.errors()
    finally:
        for p in procs:
            p.stop()
        kam.stop()
    log = kam.log.read_text()
    assert "extension 2002 registered" in log and "INVITE to extension 2002" in log


async def test_shipped_kamailio_lets_only_the_engine_dial_numbers_through_the_gateway(
    sip_tools: None, tmp_path: Path
) -> None:
    """Call backs dial customers' numbers: with PSTN_GATEWAY set, the engine's INVITE to a
    number (no extension) goes to the gateway; a phone's (authenticated) does not (no toll
    fraud from a desk phone), and the number stays out of Kamailio's log."""
    engine_port, gateway_port = free_udp_port(), free_udp_port()
    number = "4930555010099"
    kam = ShippedKamailio(
        tmp_path / "kamailio",
        subscribers={"1000": ENGINE_PASSWORD, **PHONES},
        trusted=[("127.0.0.1", engine_port, "engine")],
        pstn_gateway=f"127.0.0.1:{gateway_port}",
    )
    kam.start()
    procs: list[Sipp] = []
    try:
        gateway = sipp_uas(tmp_path, scenario(tmp_path / "gw.xml", "agent_uas.xml", ring_ms=100),
                           gateway_port, free_media_port(), 1)  # fmt: skip
        procs.append(gateway)
        # a phone with the right password: challenged, then 404 (no dial-out for phones)
        text = (SCENARIOS / "phone_call.xml").read_text()
        head, _, _ = text.partition('<recv response="180" optional="true"/>')
        refused = tmp_path / "phone_dials_out.xml"
        refused.write_text(
            head.replace("PHONE_EXTENSION", "2001")
            + '<recv response="404"/>\n'
            + _ACK_AFTER_404
            + "</scenario>\n"
        )
        phone = Sipp(
            [f"127.0.0.1:{kam.port}", "-sf", str(refused), "-s", number, "-au", "2001", "-ap",
             PHONES["2001"], "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp",
             str(free_media_port()), "-m", "1"],
            tmp_path,
        ).start()  # fmt: skip
        procs.append(phone)
        assert await phone.wait(15) == 0, phone.errors()
        # the engine's INVITE to the number reaches the gateway, which answers
        sf = caller_scenario(tmp_path / "engine.xml", [("pause", 300)], number="1000")
        engine = Sipp(
            [f"127.0.0.1:{kam.port}", "-sf", str(sf), "-s", number, "-i", "127.0.0.1", "-p",
             str(engine_port), "-mp", str(free_media_port()), "-m", "1"],
            tmp_path,
        ).start()  # fmt: skip
        procs.append(engine)
        assert await engine.wait(20) == 0, engine.errors()
        assert await gateway.wait(20) == 0, gateway.errors()
    finally:
        for p in procs:
            p.stop()
        kam.stop()
    log = kam.log.read_text()
    assert "INVITE to the PSTN gateway" in log and number not in log


_ACK_AFTER_404 = """  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""


# -- the whole site: serve with voice, a softphone, a caller ---------------------------------


def site_config(tmp: Path, kamailio_port: int, engine_port: int) -> Path:
    """The example center with voice enabled as the README says, open around the clock (the
    test runs whenever CI does)."""
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_around_the_clock(config)
    low = free_udp_range(20)
    voice = {
        "enabled": True,
        "server": {"host": "127.0.0.1", "port": kamailio_port},
        "registration": {"extension": "1000", "password": ENGINE_PASSWORD,
                         "retry_initial_seconds": 0.5, "retry_max_seconds": 2},
        "local": {"ip": "127.0.0.1", "sip_port": engine_port, "rtp_port_low": low,
                  "rtp_port_high": low + 19},
        "waiting": {"first_announcement_seconds": 30},
    }  # fmt: skip
    (config / "voice.yaml").write_text(yaml.safe_dump({"voice": voice}))
    return config


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float | None:  # fmt: skip
    return metrics.get((name, tuple(sorted(labels.items()))))


def json_lines(text: str) -> Iterator[dict[str, object]]:
    for line in text.splitlines():
        if line.startswith("{"):
            yield json.loads(line)


async def test_serve_with_voice_connects_a_caller_to_the_agents_softphone(
    softphone_tools: None, tmp_path: Path
) -> None:
    engine_port, gateway_port, caller_media = free_udp_port(), free_udp_port(), free_media_port()
    kam = ShippedKamailio(
        tmp_path / "kamailio",
        subscribers={"1000": ENGINE_PASSWORD, "2005": PHONES["2005"]},
        # callers come from the site's PSTN gateway (here: SIPp), trusted by its address
        trusted=[("127.0.0.1", engine_port, "engine")],
        gateways=[("127.0.0.1", gateway_port)],
    )
    kam.start()
    config = site_config(tmp_path, kam.port, engine_port)
    db = tmp_path / "var" / "cc.sqlite3"
    set_users(db, config, [("root", "admin", None), ("a05", "agent", "a05")])
    srv = ServerProcess(
        config, db, tmp_path, extra=["--log-level", "debug", "--log-format", "json"]
    )
    agent_voice = noise(60)
    write_wav(tmp_path / "agent-voice.wav", agent_voice)
    phone = Baresip(tmp_path / "baresip", "2005", PHONES["2005"], kam.port,
                    tmp_path / "agent-voice.wav")  # fmt: skip
    recorder = LoopbackTap().start()
    assert recorder.available, "the caller's ear listens on lo: run as root"
    caller: Sipp | None = None
    try:
        base = srv.start()
        registered = await until(
            lambda: value(scrape(base), "contactcenter_voice_registered") == 1.0, 20
        )
        assert registered, srv.log()[-3000:]
        phone.start()
        assert await until(phone.registered, 15), phone.log.read_text()
        async with aiohttp.ClientSession() as http:
            a05 = await login(http, base, "a05")
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=a05)
            await frame(desk, "snapshot")
            await call(http, "POST", f"{base}/api/agent/login", a05)

            # the caller picks sales (1) in the main menu, waits until the agent answers and
            # speaks (SIPp's G.711 recording), then listens and hangs up
            steps = [("pause", 3000), ("dtmf", "1"), ("pause", 2000), ("audio", None),
                     ("pause", 7500)]  # fmt: skip
            sf = caller_scenario(tmp_path / "caller.xml", steps, number=KNOWN)
            caller = Sipp(
                [f"127.0.0.1:{kam.port}", "-sf", str(sf), "-s", "1000", "-i", "127.0.0.1",
                 "-p", str(gateway_port), "-mp", str(caller_media), "-m", "1"],
                tmp_path,
            ).start()  # fmt: skip

            # the agent's desktop: the call is offered (with the caller's CRM name), answered
            # on the phone, completed when the caller hangs up
            offer = await frame(desk, "offer", timeout=30)
            cid = offer["contact_id"]
            assert (offer["channel"], offer["queue"], offer["customer_name"]) == (
                "voice", "sales", "Jan Novak"
            )  # fmt: skip
            await frame(desk, "answered", contact_id=cid)
            talking = scrape(base)
            assert value(talking, "contactcenter_voice_calls_active", phase="bridged") == 1.0
            assert value(talking, "contactcenter_voice_calls_active", phase="queued") == 0.0
            assert await caller.wait(40) == 0, caller.errors()
            await frame(desk, "completed", contact_id=cid)
            await desk.close()

        # The contact is completed when the caller hangs up; the bridge ends once the agent's
        # leg is hung up too (a BYE and its answer later), so the gauge follows shortly.
        assert await until(
            lambda: value(scrape(base), "contactcenter_voice_calls_active", phase="bridged") == 0.0,
            10,
        ), srv.log()[-3000:]
        after = scrape(base)
        assert value(after, "contactcenter_voice_calls_total") == 1.0
        assert value(after, "contactcenter_voice_ivr_outcomes_total", outcome="queued") == 1.0
        assert value(after, "contactcenter_voice_registration_failures_total") == 0.0
        assert (value(after, "contactcenter_voice_media_ticks_total") or 0) > 500
        assert value(after, "contactcenter_voice_media_resyncs_total") == 0.0
        assert srv.stop() == 0
        # the softphone's recording is complete once its call has ended
        assert await until(lambda: phone.heard() is not None, 10), phone.log.read_text()
    finally:
        recorder.stop()
        if caller is not None:
            caller.stop()
        phone.stop()
        srv.finish()
        kam.stop()

    # what each side heard: the other one, and not itself
    heard_by_agent = read_wav(phone.heard())  # type: ignore[arg-type]
    caller_voice = pcap_audio(PCAPS / "g711a.pcap")
    heard_by_caller = np.concatenate(
        [g711(p, pt) for pt, p in recorder.payloads_to(caller_media) if pt in (0, 8)]
        or [np.zeros(0)]
    )
    agent_heard = heard_seconds(caller_voice, heard_by_agent)
    caller_heard = heard_seconds(agent_voice, heard_by_caller)
    assert agent_heard >= 3.0
    assert caller_heard >= 6.0
    assert heard_seconds(agent_voice, heard_by_agent) == 0.0
    assert heard_seconds(caller_voice, heard_by_caller) == 0.0

    async with await Store.open(db) as store:
        rec = await store.contact(cid)
    assert rec is not None
    assert (rec.channel, rec.queue, rec.agent_id, rec.outcome) == (
        "voice", "sales", "a05", "completed"
    )  # fmt: skip
    assert rec.customer_name == "Jan Novak" and rec.talk_seconds is not None
    assert 6.0 <= rec.talk_seconds <= 20.0

    # the log: JSON lines with a timestamp; the call is in it, the caller's number is not
    log = srv.log()
    lines = list(json_lines(log))
    assert lines and all("timestamp" in ln and "level" in ln for ln in lines)
    assert any(ln["logger"] == "contactcenter.voice" and "registered" in str(ln["message"])
               for ln in lines)  # fmt: skip
    assert any("ringing a05" in str(ln["message"]) for ln in lines)  # the call's steps
    ended = [ln for ln in lines if "ended completed" in str(ln["message"])]
    assert [ln["level"] for ln in ended] == ["INFO"]  # each call has a line at the default level
    assert KNOWN.lstrip("+") not in log and "C1008" not in log  # Jan Novak's number and id
