"""pyVoIP 1.6.8 behind the voice edge's own small interface. The only module importing pyVoIP.

``SipStack`` registers the IVR extension, takes inbound calls and dials agents' extensions.
It runs on threads (pyVoIP's SIP client socket with a receive thread, a timer thread, and the
shared RTP ``MediaEngine``) and reports what happens as small event objects handed to a
thread-safe ``sink`` (the edge posts them into its asyncio loop). Its methods never wait on
the network except ``open``, ``register`` and ``close``, which the edge runs in a thread.

What is pyVoIP here: ``VoIPPhone`` (status, the calls table, RTP port bookkeeping),
``VoIPCall`` (per-call state and the SDP offer handling of an inbound INVITE), ``SIPClient``
(the UDP socket, tags, INVITE and REGISTER text with digest auth) and ``SIPMessage`` (the
parser). Where 1.6.8 is wrong, a subclass or a message of our own replaces it. The defects
observed with Kamailio and SIPp (shared/reference/voice/NOTES.md) and what is done here:

1. *Answer ~1 s late; RTP binds only at answer, pre-answer DTMF lost.* Inbound INVITEs are
   handled at once (no ``Timer(1, callback)``), and the call's RTP socket is bound when the
   INVITE arrives, so packets sent right after the 200 OK are kept.
2. *CANCEL gets 200 but no 487, and the call is still answered.* CANCEL of a ringing call:
   200 for the CANCEL, 487 for the INVITE, the leg ends and ``Ended(by="cancel")`` is
   reported; ``answer()`` of that leg raises ``LegGone``. A state lock orders CANCEL and
   answer, so a call is either answered or cancelled, never both.
3. *No way to cancel an outbound call while it rings.* ``cancel()`` sends a CANCEL built from
   our INVITE (same branch) and ACKs the 487; if the 200 crosses the CANCEL the call is ACKed
   and hung up at once. Either way a terminal ``Failed`` event follows.
4. *Inbound RTP ports never released; exhaustion frees live ports.* A FIFO allocator of our
   own gives each leg a port and takes it back when the leg ends; when the range is used up
   new calls are refused (503) instead of stealing live ports.
5. *re-INVITE answered sendrecv and a second transmitter started.* A re-INVITE updates the
   existing stream (address, direction: sendonly -> we answer recvonly and stop sending)
   and is answered with the mirrored direction; no new stream is created.
6. *Call-ID = sha256(counter), the same after each restart.* Call-IDs are random UUIDs.
7. *A failed REGISTER does not raise; refresh every ~115 s, gives up after 3 failures.*
   ``register()`` is ours: one REGISTER transaction (with digest auth) that returns the
   granted expiry or raises ``RegistrationError`` with the reason; the edge refreshes and
   retries with backoff for ever. Responses are read by the receive thread, so a REGISTER
   never swallows an INVITE that arrives meanwhile.
8. *8-bit unsigned PCM, ``audioop``.* Media is ours (``media.py``): prompts arrive as 8-bit
   unsigned PCM and are encoded to G.711 once; ``audioop-lts`` covers Python 3.13+.
9. *``phone.call()`` blocks in ``recv()`` under a lock until a 1xx arrives.* ``dial()`` sends
   the INVITE and returns; the receive thread handles the answers; the INVITE is
   retransmitted on UDP and fails after ``dial_timeout`` without any response.
10. *BYE as the called party copies the INVITE's Via stack.* BYE (and ACK) are built here:
    one Via of our own, the dialog's route set as Route headers, the remote target as
    Request-URI.

Also: pyVoIP's receive loop dies on an ICMP "port unreachable" (``recv`` raises, its handler
then fails on an unbound name) and drops unknown methods silently. The receive loop here
survives both, answers OPTIONS, refuses other unknown methods with 405, and logs malformed
messages (rate-limited) without ever stopping.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import random
import re
import select
import socket
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

from contactcenter.voice.media import G711, PCMA, PCMU, MediaEngine, RtpStream, sendable

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyVoIP
    from pyVoIP.VoIP import CallState, PhoneStatus, VoIPCall, VoIPPhone  # before pyVoIP.SIP

    from pyVoIP import SIP  # isort: skip
    from pyVoIP.RTP import PayloadType, TransmitType  # isort: skip

log = logging.getLogger("contactcenter.voice.sip")

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS"
AGENT = "contactcenter-voice (pyVoIP 1.6.8)"


# -- what the stack reports -----------------------------------------------------------------


class LegState(Enum):
    RINGING = "ringing"  # inbound, not answered yet
    DIALING = "dialing"  # outbound, no response yet
    PROCEEDING = "proceeding"  # outbound, 1xx received (the phone rings)
    CANCELLING = "cancelling"  # outbound, CANCEL sent
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A new inbound call is ringing at the IVR extension."""

    leg: Leg


@dataclass(frozen=True, slots=True)
class Answered:
    """An outbound leg was answered; its media stream is live."""

    leg: Leg


@dataclass(frozen=True, slots=True)
class Failed:
    """An outbound leg ended before (or instead of) being answered."""

    leg: Leg
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The far end ended an inbound or answered leg: ``by`` is ``bye``, ``cancel`` or
    ``no_ack`` (the caller never confirmed our answer: RFC 3261 13.3.1.4)."""

    leg: Leg
    by: str


@dataclass(frozen=True, slots=True)
class Digit:
    """An RFC 2833 DTMF digit arrived on a leg."""

    leg: Leg
    digit: str


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The caller's ACK confirmed our answer of an inbound leg (the dialog is up)."""

    leg: Leg


@dataclass(frozen=True, slots=True)
class HoldChanged:
    """The far end put the leg on hold (``held``) or took it off (a re-INVITE)."""

    leg: Leg
    held: bool


StackEvent = Incoming | Answered | Failed | Ended | Digit | Confirmed | HoldChanged


class LegGone(Exception):
    """The leg ended meanwhile (e.g. the caller cancelled before the answer)."""


class NoPorts(Exception):
    """Every RTP port of the configured range is in use."""


class DialError(Exception):
    """An outbound call could not be started."""


class RegistrationError(Exception):
    """REGISTER failed; the message says why."""


@dataclass(eq=False)
class Leg:
    """One SIP dialog of the engine (a caller's inbound call or an agent's outbound call)."""

    id: str
    call_id: str
    direction: str  # "in" | "out"
    peer: str
    """Inbound: the caller's user part; outbound: the dialled extension."""
    state: LegState
    port: int
    stream: RtpStream
    invite: Any  # SIP.SIPMessage
    invite_raw: str
    addr: tuple[str, int]
    local_tag: str
    remote_tag: str = ""
    remote_target: str = ""
    route_set: list[str] = field(default_factory=list)
    cseq: int = 0
    sess_id: int = 0
    sess_version: int = 0
    held: bool = False
    """The far end holds the call (its last offer said sendonly/inactive or no address)."""
    pt: int = PCMU
    dtmf_pt: int | None = 101
    call: Any = None  # the pyVoIP VoIPCall
    acked: bool = False
    created: float = field(default_factory=time.monotonic)
    answered_at: float | None = None

    def __repr__(self) -> str:
        # never the peer: for a customer's leg that is their number (kept out of logs)
        return f"<Leg {self.id} {self.direction} {self.state.value}>"


# -- pyVoIP subclasses ------------------------------------------------------------------------


class _Ports:
    """RTP ports handed out first-in first-out, so a just-freed port is reused last."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self._free: deque[int] = deque(range(low, high + 1))
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            if not self._free:
                raise NoPorts(f"all RTP ports {self.low}-{self.high} are in use")
            return self._free.popleft()

    def give(self, port: int) -> None:
        with self._lock:
            if self.low <= port <= self.high and port not in self._free:
                self._free.append(port)

    @property
    def free(self) -> int:
        return len(self._free)


class _Call(VoIPCall):
    """VoIPCall without pyVoIP's RTP clients: the SDP offer becomes a plan for our stream."""

    plan: tuple[int, str, int, dict[int, Any]] | None = None

    def create_rtp_clients(self, codecs, ip, port, request, baseport):  # type: ignore[no-untyped-def]
        if self.plan is None:  # first audio line only
            self.plan = (port, request.body["c"][0]["address"], baseport, dict(codecs))
            self.assignedPorts = {port: codecs}


class _Phone(VoIPPhone):
    """VoIPPhone whose ports come from our allocator and are never freed wholesale."""

    def __init__(self, stack: SipStack, **kw: Any) -> None:
        self._stack = stack
        super().__init__(**kw)
        self.sip = _SipClient(
            kw["server"],
            kw["port"],
            kw["username"],
            kw["password"],
            phone=self,
            myIP=kw["myIP"],
            myPort=kw["sipPort"],
            callCallback=self.callback,
            fatalCallback=self.fatal,
        )
        self.sip.stack = stack

    def request_port(self, blocking: bool = True) -> int:
        port = self._stack._ports.take()
        with self.portsLock:
            self.assignedPorts.append(port)
        return port

    def release_ports(self, call: VoIPCall | None = None) -> None:
        """pyVoIP calls this from ``VoIPCall.__del__`` and when ports run out; ports are
        released explicitly when a leg ends (``SipStack._end``), so nothing happens here."""


class _SipClient(SIP.SIPClient):
    """SIPClient with random Call-IDs and a receive loop that cannot die."""

    stack: SipStack

    def gen_call_id(self) -> str:
        return f"{uuid.uuid4().hex}@{self.myIP}"

    def start(self) -> None:
        if self.NSD:
            raise RuntimeError("SIP client already started")
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.s.bind((self.myIP, self.myPort))
        except OSError:
            self.s.close()
            raise
        self.s.setblocking(False)
        self.out = self.s
        self.NSD = True
        t = threading.Thread(target=self._recv_loop, name="sip-recv", daemon=True)
        t.start()
        self._thread = t

    def stop(self) -> None:
        if not self.NSD:
            return
        self.NSD = False
        t = getattr(self, "_thread", None)
        if t is not None:
            t.join(timeout=2)
        with contextlib.suppress(OSError):
            self.s.close()

    def register(self) -> bool:
        raise NotImplementedError("registration is SipStack.register()")

    def _recv_loop(self) -> None:
        while self.NSD:
            try:
                ready, _, _ = select.select([self.s], [], [], 0.2)
            except (OSError, ValueError):
                if not self.NSD:
                    return
                time.sleep(0.05)
                continue
            if not ready:
                continue
            try:
                raw, addr = self.s.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionRefusedError:
                self.stack._on_refused()
                continue
            except OSError as e:
                if not self.NSD:
                    return
                self.stack._warn("socket", "SIP socket error: %s", e)
                time.sleep(0.05)
                continue
            try:
                self.stack._on_datagram(raw, addr)
            except Exception:
                log.exception("SIP message from %s:%s could not be handled", *addr)


# -- raw header helpers (for what pyVoIP's parser drops) --------------------------------------

_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "o": "event",
    "r": "refer-to",
    "u": "allow-events",
    "x": "session-expires",
}
"""RFC 3261 section 7.3.3 (and later RFCs): one-letter header names."""

_SPELLING = {
    name.lower(): name
    for name in (
        "Call-ID", "CSeq", "WWW-Authenticate", "Proxy-Authenticate", "Proxy-Authorization",
        "MIME-Version", "RSeq", "RAck", "P-Asserted-Identity",
    )
}  # fmt: skip
"""Names whose usual spelling is not plain title case (pyVoIP looks them up as spelled)."""


def _spelled(name: str) -> str:
    key = name.strip().lower()
    key = _COMPACT.get(key, key)
    return _SPELLING.get(key) or "-".join(part.capitalize() for part in key.split("-"))


def canonical(raw: bytes) -> bytes:
    """A SIP message as pyVoIP can read it: header names in their usual spelling (RFC 3261
    7.3.1: names are case-insensitive; 7.3.3: compact forms), one ``Name: value`` per line
    (folded lines joined, one Via per line), CRLF line ends. The body is kept, its lines ended
    by CRLF. Garbage stays garbage (the parser refuses it)."""
    parts = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)
    if len(parts) != 2:
        return raw
    head, body = parts
    lines = re.split(rb"\r?\n", head)
    out = [lines[0]]
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and len(out) > 1:
            out[-1] += b" " + line.strip()
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            out.append(line)
            continue
        spelled = _spelled(name.decode("utf-8", "replace")).encode()
        value = value.strip()
        if spelled == b"Via" and b"," in value:
            out += [b"Via: " + v.strip() for v in value.split(b",") if v.strip()]
        else:
            out.append(spelled + b": " + value)
    body = b"\r\n".join(re.split(rb"\r?\n", body)) if body else body
    return b"\r\n".join(out) + b"\r\n\r\n" + body


_MANDATORY = ("via", "from", "to", "call-id", "cseq")
"""Headers every request must have (RFC 3261 8.1.1; Max-Forwards is added by proxies)."""


def raw_headers(raw: bytes | str) -> list[tuple[str, str]]:
    """(lower-case long name, value) of every header line, in order; folded lines joined."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)[1:]
    out: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        out.append((_COMPACT.get(key, key), value.strip()))
    return out


def header_values(raw: bytes | str, name: str) -> list[str]:
    return [v for k, v in raw_headers(raw) if k == name]


def route_uris(values: list[str]) -> list[str]:
    """``<uri>`` entries of Record-Route/Route header values, in order."""
    out: list[str] = []
    for v in values:
        out += re.findall(r"<[^>]+>", v)
    return out


def uri_of(value: str) -> str:
    """The URI inside a Contact/From/To value."""
    m = re.search(r"<([^>]+)>", value)
    if m:
        return m.group(1)
    return value.split(";")[0].strip()


def tag_of(value: str) -> str:
    m = re.search(r";\s*tag=([^;>\s]+)", value.split(">")[-1] if ">" in value else value)
    return m.group(1) if m else ""


# -- the stack --------------------------------------------------------------------------------


class _Timers:
    """One thread running due callbacks (retransmissions, give-up timers)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name="sip-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._running = False
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def after(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), fn))
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._running and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if not self._running:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:
                log.exception("SIP timer failed")


@dataclass
class _Registration:
    call_id: str = ""
    deregister: bool = False
    auth_tried: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    expires: int | None = None
    error: str | None = None


@dataclass
class StackStats:
    inbound: int = 0
    outbound: int = 0
    refused_busy: int = 0
    refused_no_ports: int = 0
    cancelled_by_caller: int = 0
    cancels_sent: int = 0
    byes_sent: int = 0
    byes_confirmed: int = 0
    reinvites: int = 0
    malformed: int = 0
    unexpected: int = 0
    no_ack: int = 0
    """Answers never confirmed by an ACK (the dialog was ended with a BYE)."""
    call_ids: list[str] = field(default_factory=list)
    """Call-IDs of the dialogs this stack started (kept for the last 1000)."""
    sent_byes: list[str] = field(default_factory=list)
    """The last BYE requests sent, as text (tests look at their Via and Route headers)."""


class SipStack:
    """The engine's SIP user agent: the IVR extension's registration and every call leg."""

    def __init__(
        self,
        *,
        server: str,
        port: int,
        extension: str,
        password: str,
        my_ip: str,
        sip_port: int,
        rtp_low: int,
        rtp_high: int,
        sink: Callable[[StackEvent], None],
        media: MediaEngine,
        dial_timeout: float = 8.0,
        max_calls: int = 200,
        t1: float = 0.5,
        t2: float = 4.0,
    ) -> None:
        self.server = (server, port)
        self.extension = extension
        self.my_ip = my_ip
        self.sip_port = sip_port
        self.sink = sink
        self.media = media
        self.dial_timeout = dial_timeout
        self.max_calls = max_calls
        self.t1, self.t2 = t1, t2
        """RFC 3261 timers: round-trip estimate and the cap of retransmission intervals."""
        self._ports = _Ports(rtp_low, rtp_high)
        self._lock = threading.RLock()
        self._legs: dict[str, Leg] = {}
        self._timers = _Timers()
        self._reg: _Registration | None = None
        self._reg_lock = threading.Lock()
        self._warned: dict[str, tuple[float, int]] = {}
        self.stats = StackStats()
        self.accepting = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.phone = _Phone(
                self,
                server=server,
                port=port,
                username=extension,
                password=password,
                myIP=my_ip,
                sipPort=sip_port,
                rtpPortLow=rtp_low,
                rtpPortHigh=rtp_high,
            )
        self.sip = cast(_SipClient, self.phone.sip)

    # -- life cycle (blocking: run these in a thread) --------------------------------------

    def open(self) -> None:
        """Bind the SIP socket and start the threads. OSError if the SIP port is taken."""
        self.sip.start()
        self._timers.start()
        self.media.start()
        self.phone._status = PhoneStatus.INACTIVE

    def close(self) -> None:
        """End every leg, unregister (best effort, 1 s) and stop the threads."""
        self.accepting = False
        for leg in list(self._legs.values()):
            with contextlib.suppress(Exception):
                self.end(leg)
        if self.phone._status is PhoneStatus.REGISTERED:
            with contextlib.suppress(RegistrationError):
                self.register(timeout=1.0, deregister=True)
        self._timers.stop()
        self.sip.stop()
        self.phone._status = PhoneStatus.INACTIVE

    @property
    def registered(self) -> bool:
        return bool(self.phone.get_status() is PhoneStatus.REGISTERED)

    @property
    def legs(self) -> list[Leg]:
        with self._lock:
            return list(self._legs.values())

    @property
    def free_ports(self) -> int:
        return self._ports.free

    # -- registration ------------------------------------------------------------------------

    def register(self, timeout: float, *, expires: int = 300, deregister: bool = False) -> int:
        """One REGISTER transaction; returns the expiry the server granted (seconds).

        Blocks up to ``timeout``; raises RegistrationError saying why it failed.
        """
        with self._reg_lock:
            reg = _Registration(deregister=deregister)
            self.sip.default_expires = expires
            text = self.sip.gen_first_response(deregister=deregister)
            reg.call_id = header_values(text, "call-id")[0]
            self._reg = reg
            if not deregister:
                self.phone._status = PhoneStatus.REGISTERING
            try:
                self._send(text, self.server)
                if not reg.done.wait(timeout):
                    reg.error = (
                        f"no answer from SIP server {self.server[0]}:{self.server[1]}"
                        f" within {timeout:g} s"
                    )
            finally:
                self._reg = None
            if deregister:
                self.phone._status = PhoneStatus.INACTIVE
                if reg.error:
                    raise RegistrationError(reg.error)
                return 0
            if reg.error is not None or reg.expires is None:
                self.phone._status = PhoneStatus.FAILED
                raise RegistrationError(reg.error or "no expiry granted")
            self.phone._status = PhoneStatus.REGISTERED
            return reg.expires

    def _on_register_response(self, msg: Any) -> None:
        reg = self._reg
        if reg is None or msg.headers.get("Call-ID") != reg.call_id:
            return
        status = int(msg.status)
        if status < 200:
            return
        if status == 401 and msg.authentication and not reg.auth_tried:
            reg.auth_tried = True
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = self.sip.gen_register(msg, deregister=reg.deregister)
            self._send(text, self.server)
            return
        if status == 200:
            reg.expires = self._granted_expiry(msg, self.sip.default_expires)
        elif status == 401:
            reg.error = "the SIP server rejected the IVR extension's credentials (401)"
        elif status == 407:
            reg.error = "the SIP server asks for proxy authentication (407), not supported"
        else:
            reg.error = f"the SIP server answered {status} {msg.status.phrase}"
        reg.done.set()

    def _granted_expiry(self, msg: Any, asked: int) -> int:
        for contact in header_values(msg.raw, "contact"):
            if f"@{self.my_ip}:{self.sip_port}" in contact:
                m = re.search(r";\s*expires=(\d+)", contact)
                if m:
                    return int(m.group(1))
        values = header_values(msg.raw, "expires")
        if values and values[0].strip().isdigit():
            return int(values[0].strip())
        return asked

    def _on_refused(self) -> None:
        """ICMP port unreachable: nothing listens at the server's address."""
        reg = self._reg
        if reg is not None and not reg.done.is_set():
            reg.error = f"SIP server {self.server[0]}:{self.server[1]} refused (nothing listening)"
            reg.done.set()
        self._warn("refused", "SIP server %s:%s unreachable (ICMP refused)", *self.server)

    # -- inbound calls -----------------------------------------------------------------------

    def answer(self, leg: Leg) -> None:
        """Answer a ringing inbound leg (200 OK with our SDP). LegGone if it ended."""
        with self._lock:
            if leg.state is not LegState.RINGING:
                raise LegGone(f"{leg} cannot be answered")
            leg.state = LegState.ANSWERED
            leg.answered_at = time.monotonic()
            leg.call.state = CallState.ANSWERED
            text = self._response(
                leg.invite_raw,
                200,
                "OK",
                to_tag=leg.local_tag,
                contact=True,
                record_route=True,
                sdp=self._sdp(leg, "sendrecv"),
            )
            self._send(text, leg.addr)
            self.media.add(leg.stream)
        self._retransmit_ok(leg, text, self.t1, 0.0)

    def _retransmit_ok(self, leg: Leg, text: str, delay: float, waited: float) -> None:
        """RFC 3261 13.3.1.4: resend the 200 at T1, 2*T1, ... (at most T2 apart) until the ACK
        comes; none within 64*T1 -> the dialog is ended with a BYE (the caller is gone)."""

        def again() -> None:
            with self._lock:
                if leg.state is not LegState.ANSWERED or leg.acked:
                    return
                left = 64 * self.t1 - (waited + delay)
                if left > 1e-3:
                    self._send(text, leg.addr)
                    self._retransmit_ok(leg, text, min(delay * 2, self.t2, left), waited + delay)
                    return
                self.stats.no_ack += 1
                self._send_bye(leg)
                self._end(leg)
            log.info("%s: no ACK for our answer within %.0f s; BYE sent", leg, 64 * self.t1)
            self.sink(Ended(leg, "no_ack"))

        self._timers.after(delay, again)

    def reject(self, leg: Leg, status: int = 486, reason: str = "Busy Here") -> None:
        """Refuse a ringing inbound leg."""
        with self._lock:
            if leg.state is not LegState.RINGING:
                return
            text = self._response(leg.invite_raw, status, reason, to_tag=leg.local_tag)
            self._send(text, leg.addr)
            self._end(leg)

    # -- outbound calls ----------------------------------------------------------------------

    def dial(self, extension: str) -> Leg:
        """Send an INVITE to ``extension`` at the SIP server and return at once.

        ``Answered`` or ``Failed`` follows on the sink. DialError if no RTP port is free.
        """
        if not self.accepting:
            raise DialError("the SIP stack is closing")
        try:
            port = self._ports.take()
        except NoPorts as e:
            raise DialError(str(e)) from e
        try:
            stream = RtpStream((self.my_ip, port), None, PCMU, 101)
        except OSError as e:
            self._ports.give(port)
            raise DialError(f"RTP port {port}: {e}") from e
        call_id = self.sip.gen_call_id()
        branch = f"z9hG4bK{uuid.uuid4().hex[:24]}"
        sess_id = random.randrange(1, 1_000_000)
        ms = {port: {PCMU: PayloadType.PCMU, PCMA: PayloadType.PCMA, 101: PayloadType.EVENT}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = self.sip.gen_invite(
                extension, str(sess_id), cast(Any, ms), TransmitType.SENDRECV, branch, call_id
            )
            invite = SIP.SIPMessage(text.encode())
            call = _Call(
                self.phone, CallState.DIALING, invite, sess_id, self.my_ip, ms=cast(Any, ms),
                sendmode="sendrecv",
            )  # fmt: skip
        leg = Leg(
            id=uuid.uuid4().hex[:8],
            call_id=call_id,
            direction="out",
            peer=extension,
            state=LegState.DIALING,
            port=port,
            stream=stream,
            invite=invite,
            invite_raw=text,
            addr=self.server,
            local_tag=self.sip.tagLibrary[call_id],
            cseq=int(invite.headers["CSeq"]["check"]),
            sess_id=sess_id,
            call=call,
        )
        stream.on_dtmf = lambda d: self.sink(Digit(leg, d))
        stream.on_failure = lambda: self._media_failed(leg)
        with self._lock:
            self._legs[call_id] = leg
            self.phone.calls[call_id] = call
            self.stats.outbound += 1
            self._remember(call_id)
        self._send(text, self.server)
        self._retransmit_invite(leg, 0.5, 0.0)
        return leg

    def _retransmit_invite(self, leg: Leg, delay: float, waited: float) -> None:
        def again() -> None:
            if leg.state is not LegState.DIALING:
                return
            if waited + delay >= self.dial_timeout:
                if self._end(leg):
                    log.warning("INVITE of %s: no response from the SIP server", leg)
                    self.sink(Failed(leg, 408, "no response from the SIP server"))
                return
            self._send(leg.invite_raw, self.server)
            nxt = min(delay * 2, 4.0, self.dial_timeout - waited - delay)
            self._retransmit_invite(leg, max(nxt, 0.05), waited + delay)

        self._timers.after(delay, again)

    def cancel(self, leg: Leg) -> None:
        """Stop ringing an outbound leg (CANCEL); an answered leg is hung up instead."""
        with self._lock:
            if leg.state is LegState.ANSWERED:
                self.hangup(leg)
                return
            if leg.state not in (LegState.DIALING, LegState.PROCEEDING):
                return
            leg.state = LegState.CANCELLING
            self._send(self._cancel_text(leg), self.server)
            self.stats.cancels_sent += 1

        def give_up() -> None:
            if leg.state is LegState.CANCELLING and self._end(leg):
                self.sink(Failed(leg, 487, "cancelled (no final response)"))

        self._timers.after(4.0, give_up)

    def hangup(self, leg: Leg) -> None:
        """BYE an answered leg (either direction)."""
        with self._lock:
            if leg.state is not LegState.ANSWERED:
                return
            self._send_bye(leg)
            self._end(leg)

    def end(self, leg: Leg) -> None:
        """End a leg whatever its state: BYE, CANCEL or a 480 for a ringing inbound call."""
        if leg.state is LegState.ANSWERED:
            self.hangup(leg)
        elif leg.state in (LegState.DIALING, LegState.PROCEEDING):
            self.cancel(leg)
        elif leg.state is LegState.RINGING:
            self.reject(leg, 480, "Temporarily Unavailable")

    # -- receiving ---------------------------------------------------------------------------

    def _on_datagram(self, raw: bytes, addr: tuple[str, int]) -> None:
        if not raw.strip(b"\r\n\x00 "):
            return  # keep-alive
        raw = canonical(raw)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                msg = SIP.SIPMessage(raw)
        except SIP.SIPParseError as e:
            self._unexpected(raw, addr, str(e))
            return
        except Exception as e:
            self.stats.malformed += 1
            first = raw.split(b"\r\n", 1)[0][:80].decode("utf-8", "replace")
            self._warn("malformed", "malformed SIP message from %s:%s (%s): %r", *addr, e, first)
            if re.match(rb"^[A-Z]+ \S+ SIP/2\.0", raw) and not raw.startswith(b"ACK "):
                self._raw_reply(raw, addr, 400, "Bad Request")
            return
        try:
            if msg.type == SIP.SIPMessageType.MESSAGE:
                self._on_request(msg, raw, addr)
            else:
                self._on_response(msg, raw, addr)
        except Exception as e:
            self.stats.malformed += 1
            first = raw.split(b"\r\n", 1)[0][:80].decode("utf-8", "replace")
            self._warn(
                "unhandled", "SIP message from %s:%s not understood (%s: %s): %r",
                *addr, type(e).__name__, e, first,
            )  # fmt: skip

    def _unexpected(self, raw: bytes, addr: tuple[str, int], why: str) -> None:
        first = raw.split(b"\r\n", 1)[0][:80].decode("utf-8", "replace")
        method = first.split(" ", 1)[0]
        if method == "OPTIONS":
            self._raw_reply(raw, addr, 200, "OK")
            return
        self.stats.unexpected += 1
        if re.match(r"^[A-Z]+ \S+ SIP/", first):
            self._warn("unexpected", "unsupported SIP request %r from %s:%s; 405", first, *addr)
            self._raw_reply(raw, addr, 405, "Method Not Allowed")
        else:
            self._warn("unexpected", "unparseable SIP datagram from %s:%s (%s)", *addr, why)

    def _on_request(self, msg: Any, raw: bytes, addr: tuple[str, int]) -> None:
        method = msg.method
        text = raw.decode("utf-8", "replace")
        present = {k for k, _ in raw_headers(text)}
        missing = [h for h in _MANDATORY if h not in present]
        if missing:  # RFC 3261 8.2.2 / 8.1.1: no dialog can be built on it
            self.stats.malformed += 1
            self._warn("malformed", "%s without %s from %s:%s; 400", method, missing, *addr)
            if method != "ACK":
                self._raw_reply(raw, addr, 400, "Bad Request")
            return
        call_id = msg.headers["Call-ID"]
        with self._lock:
            leg = self._legs.get(call_id)
        if method == "INVITE":
            if leg is None:
                self._on_invite(msg, text, addr)
            elif msg.headers["To"]["tag"]:
                self._on_reinvite(leg, msg, text, addr)
            elif leg.state is LegState.RINGING:  # a retransmission of the first INVITE
                self._send(self._response(text, 180, "Ringing", to_tag=leg.local_tag), addr)
        elif method == "ACK":
            if leg is not None and not leg.acked:
                leg.acked = True
                if leg.direction == "in":
                    self.sink(Confirmed(leg))
        elif method == "BYE":
            if leg is None:
                self._send(self._response(text, 481, "Call/Transaction Does Not Exist"), addr)
                return
            self._send(self._response(text, 200, "OK"), addr)
            if self._end(leg):
                self.sink(Ended(leg, "bye"))
        elif method == "CANCEL":
            self._on_cancel(leg, text, addr)

    def _on_invite(self, msg: Any, text: str, addr: tuple[str, int]) -> None:
        if not self.accepting or len(self._legs) >= self.max_calls:
            self.stats.refused_busy += 1
            self._warn("busy", "inbound call refused: %d calls in progress", len(self._legs))
            self._send(self._response(text, 486, "Busy Here"), addr)
            return
        if "c" not in msg.body or "m" not in msg.body:
            self._send(self._response(text, 488, "Not Acceptable Here"), addr)
            self._warn("sdp", "INVITE without an SDP offer refused (488)")
            return
        sess_id = random.randrange(1, 1_000_000)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call = _Call(self.phone, CallState.RINGING, msg, sess_id, self.my_ip)
        except NoPorts as e:
            self.stats.refused_no_ports += 1
            self._warn("ports", "inbound call refused (503): %s", e)
            self._send(self._response(text, 503, "Service Unavailable"), addr)
            return
        plan = call.plan
        codecs = plan[3] if plan else {}
        pt = next((p for p, t in codecs.items() if p in G711 and t.value == p), None)
        refused = None
        if plan is None or pt is None:
            refused = "INVITE without PCMU/PCMA refused (488)"
        elif not sendable(plan[1], plan[2]):  # e.g. m=audio 70000: sendto() would raise
            refused = f"INVITE refused (488): no RTP can go to {plan[1]!r} port {plan[2]}"
        if refused is not None or plan is None or pt is None:
            for port in list(getattr(call, "assignedPorts", {}) or {}):
                self._ports.give(port)
            call.assignedPorts = {}
            self._send(self._response(text, 488, "Not Acceptable Here"), addr)
            self._warn("sdp", "%s", refused)
            return
        port, rip, rport, _ = plan
        dtmf_pt = next((p for p, t in codecs.items() if t is PayloadType.EVENT), None)
        try:
            stream = RtpStream((self.my_ip, port), (rip, rport), pt, dtmf_pt)
        except OSError as e:
            self._ports.give(port)
            self._send(self._response(text, 503, "Service Unavailable"), addr)
            self._warn("ports", "inbound call refused (503): RTP port %s: %s", port, e)
            return
        local_tag = self.sip.gen_tag()
        self.sip.tagLibrary[msg.headers["Call-ID"]] = local_tag
        hdrs = raw_headers(text)
        leg = Leg(
            id=uuid.uuid4().hex[:8],
            call_id=msg.headers["Call-ID"],
            direction="in",
            peer=str(msg.headers["From"]["number"] or msg.headers["From"]["address"]),
            state=LegState.RINGING,
            port=port,
            stream=stream,
            invite=msg,
            invite_raw=text,
            addr=addr,
            local_tag=local_tag,
            remote_tag=msg.headers["From"]["tag"],
            remote_target=uri_of(next((v for k, v in hdrs if k == "contact"), "")),
            route_set=route_uris([v for k, v in hdrs if k == "record-route"]),
            cseq=random.randrange(1, 10_000),
            sess_id=sess_id,
            pt=pt,
            dtmf_pt=dtmf_pt,
            call=call,
        )
        stream.on_dtmf = lambda d: self.sink(Digit(leg, d))
        stream.on_failure = lambda: self._media_failed(leg)
        with self._lock:
            self._legs[leg.call_id] = leg
            self.phone.calls[leg.call_id] = call
            self.stats.inbound += 1
        self._send(self._response(text, 180, "Ringing", to_tag=local_tag, contact=True), addr)
        self.sink(Incoming(leg))

    def _media_failed(self, leg: Leg) -> None:
        """The media engine ended the leg's stream (it could not send): end this call only."""
        with self._lock:
            if leg.state is not LegState.ANSWERED:
                return
            self._send_bye(leg)
            if not self._end(leg):
                return
        self.sink(Ended(leg, "media"))

    def _on_cancel(self, leg: Leg | None, text: str, addr: tuple[str, int]) -> None:
        if leg is None:
            self._send(self._response(text, 481, "Call/Transaction Does Not Exist"), addr)
            return
        with self._lock:
            self._send(self._response(text, 200, "OK", to_tag=leg.local_tag), addr)
            if leg.direction != "in" or leg.state is not LegState.RINGING:
                log.info("CANCEL for %s after the answer: ignored (RFC 3261 9.2)", leg)
                return
            reply = self._response(leg.invite_raw, 487, "Request Terminated", to_tag=leg.local_tag)
            self._send(reply, leg.addr)
            self._end(leg)
            self.stats.cancelled_by_caller += 1
        self.sink(Ended(leg, "cancel"))

    def _on_reinvite(self, leg: Leg, msg: Any, text: str, addr: tuple[str, int]) -> None:
        """Hold/resume/media change inside a dialog: update the one stream we have."""
        with self._lock:
            if leg.state is not LegState.ANSWERED:
                self._send(self._response(text, 491, "Request Pending"), addr)
                return
            self.stats.reinvites += 1
            peer = self._remote_media(msg)
            if peer is None and "m" in msg.body:
                # an offer we cannot take (no codec of ours, nowhere to send): the call goes
                # on as it was (RFC 3261 14.2)
                self._send(self._response(text, 488, "Not Acceptable Here"), addr)
                self._warn("sdp", "re-INVITE on %s refused (488): unusable media", leg)
                return
            ours = "sendrecv"
            if peer is not None:
                ip, port, _pt, _dtmf, direction = peer
                ours = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(
                    direction, "sendrecv"
                )
                if port and ip != "0.0.0.0":
                    leg.stream.remote = (ip, port)
                leg.stream.sending = ours in ("sendrecv", "sendonly") and port != 0
            log.info("re-INVITE on %s: answering %s", leg, ours)
            leg.sess_version += 1
            self._send(
                self._response(
                    text, 200, "OK", contact=True, record_route=True, sdp=self._sdp(leg, ours)
                ),
                addr,
            )
            held = peer is not None and (
                peer[4] in ("sendonly", "inactive") or peer[1] == 0 or peer[0] == "0.0.0.0"
            )
            changed = held != leg.held
            leg.held = held
        if changed:
            self.sink(HoldChanged(leg, held))

    def _on_response(self, msg: Any, raw: bytes, addr: tuple[str, int]) -> None:
        method = msg.headers["CSeq"]["method"]
        status = int(msg.status)
        if method == "REGISTER":
            self._on_register_response(msg)
            return
        call_id = msg.headers["Call-ID"]
        with self._lock:
            leg = self._legs.get(call_id)
        if method == "BYE":
            if 200 <= status < 300:
                self.stats.byes_confirmed += 1
            return
        if method != "INVITE" or leg is None:
            if method == "INVITE" and 200 <= status < 300 and leg is None:
                self._ack_and_bye_stray(msg, raw)
            return
        text = raw.decode("utf-8", "replace")
        with self._lock:
            if status < 200:
                if leg.state is LegState.DIALING:
                    leg.state = LegState.PROCEEDING
                return
            if status < 300:
                self._on_invite_ok(leg, msg, text)
                return
            self._send(self._ack_non2xx(leg, text), self.server)
            was = leg.state
            if not self._end(leg):
                return
        reason = "cancelled" if was is LegState.CANCELLING else msg.status.phrase
        self.sink(Failed(leg, status, reason))

    def _on_invite_ok(self, leg: Leg, msg: Any, text: str) -> None:
        """A 2xx for our INVITE (lock held)."""
        hdrs = raw_headers(text)
        if leg.state is LegState.ANSWERED:  # a retransmitted 200: ACK it again
            self._send(self._ack_2xx(leg), self.server)
            return
        leg.remote_tag = msg.headers["To"]["tag"]
        leg.remote_target = uri_of(next((v for k, v in hdrs if k == "contact"), ""))
        leg.route_set = list(reversed(route_uris([v for k, v in hdrs if k == "record-route"])))
        self._send(self._ack_2xx(leg), self.server)
        if leg.state in (LegState.CANCELLING, LegState.ENDED):
            # the 200 crossed our CANCEL: the dialog exists; end it at once
            was = leg.state
            leg.state = LegState.ANSWERED
            self._send_bye(leg)
            if was is LegState.CANCELLING and self._end(leg):
                self.sink(Failed(leg, 487, "cancelled (answered as the CANCEL went out)"))
            return
        media = self._remote_media(msg)
        if media is None or not sendable(media[0], media[1]):  # no codec, or port 0: rejected
            leg.state = LegState.ANSWERED
            self._send_bye(leg)
            if self._end(leg):
                self.sink(Failed(leg, 488, "answer without usable audio"))
            return
        ip, port, pt, dtmf_pt, _ = media
        leg.pt, leg.dtmf_pt = pt, dtmf_pt
        leg.stream.remote = (ip, port)
        leg.stream.pt = pt
        leg.stream.dtmf_pt = dtmf_pt
        leg.state = LegState.ANSWERED
        leg.answered_at = time.monotonic()
        leg.call.state = CallState.ANSWERED
        self.media.add(leg.stream)
        self.sink(Answered(leg))

    def _ack_and_bye_stray(self, msg: Any, raw: bytes) -> None:
        """A 200 for an INVITE whose leg is gone (e.g. answered after we gave up on the
        CANCEL): ACK it and BYE the dialog so the far end does not keep a call open."""
        text = raw.decode("utf-8", "replace")
        hdrs = raw_headers(text)

        def one(key: str) -> str:
            return next((v for k, v in hdrs if k == key), "")

        target = uri_of(one("contact"))
        routes = list(reversed(route_uris([v for k, v in hdrs if k == "record-route"])))
        cseq = int(msg.headers["CSeq"]["check"])
        for method, num in (("ACK", cseq), ("BYE", cseq + 1)):
            lines = [
                f"{method} {target} SIP/2.0",
                f"Via: SIP/2.0/UDP {self.my_ip}:{self.sip_port};branch=z9hG4bK"
                f"{uuid.uuid4().hex[:24]};rport",
                "Max-Forwards: 70",
                *(f"Route: {r}" for r in routes),
                f"From: {one('from')}",
                f"To: {one('to')}",
                f"Call-ID: {one('call-id')}",
                f"CSeq: {num} {method}",
                "Content-Length: 0",
                "",
                "",
            ]
            self._send("\r\n".join(lines), self.server)
        log.info("late 200 OK for ended call %s: ACK + BYE", msg.headers["Call-ID"])

    # -- message text ------------------------------------------------------------------------

    def _send(self, text: str, addr: tuple[str, int]) -> None:
        try:
            self.sip.out.sendto(text.encode("utf-8"), addr)
        except OSError as e:
            self._warn("send", "SIP send to %s:%s failed: %s", *addr, e)

    def _response(
        self,
        request: str,
        status: int,
        reason: str,
        *,
        to_tag: str | None = None,
        contact: bool = False,
        record_route: bool = False,
        sdp: str | None = None,
    ) -> str:
        hdrs = raw_headers(request)
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {v}" for k, v in hdrs if k == "via"]
        if record_route:
            lines += [f"Record-Route: {v}" for k, v in hdrs if k == "record-route"]
        for name, key in (("From", "from"), ("To", "to"), ("Call-ID", "call-id"), ("CSeq", "cseq")):
            value = next((v for k, v in hdrs if k == key), "")
            if key == "to" and to_tag and not tag_of(value):
                value = f"{value};tag={to_tag}"
            lines.append(f"{name}: {value}")
        if contact:
            lines.append(f"Contact: <sip:{self.extension}@{self.my_ip}:{self.sip_port}>")
        lines += [f"Allow: {ALLOW}", f"Server: {AGENT}"]
        if sdp is not None:
            lines += ["Content-Type: application/sdp", f"Content-Length: {len(sdp)}", "", sdp]
            return "\r\n".join(lines)
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines)

    def _raw_reply(self, raw: bytes, addr: tuple[str, int], status: int, reason: str) -> None:
        text = raw.decode("utf-8", "replace")
        if not header_values(text, "via") or not header_values(text, "call-id"):
            return
        self._send(self._response(text, status, reason, to_tag=self.sip.gen_tag()), addr)

    def _sdp(self, leg: Leg, direction: str) -> str:
        pts = [leg.pt] + ([leg.dtmf_pt] if leg.dtmf_pt is not None else [])
        names = {PCMU: "PCMU/8000", PCMA: "PCMA/8000"}
        lines = [
            "v=0",
            f"o=contactcenter {leg.sess_id} {leg.sess_id + leg.sess_version} IN IP4 {self.my_ip}",
            "s=contactcenter",
            f"c=IN IP4 {self.my_ip}",
            "t=0 0",
            f"m=audio {leg.port} RTP/AVP {' '.join(str(p) for p in pts)}",
            f"a=rtpmap:{leg.pt} {names[leg.pt]}",
        ]
        if leg.dtmf_pt is not None:
            lines += [f"a=rtpmap:{leg.dtmf_pt} telephone-event/8000", f"a=fmtp:{leg.dtmf_pt} 0-15"]
        lines += ["a=ptime:20", f"a={direction}", ""]
        return "\r\n".join(lines)

    @staticmethod
    def _remote_media(msg: Any) -> tuple[str, int, int, int | None, str] | None:
        """(ip, port, G.711 payload type, DTMF payload type, direction) of an SDP body."""
        body = msg.body
        if "m" not in body or "c" not in body:
            return None
        audio = next((m for m in body["m"] if m["type"] == "audio"), None)
        if audio is None:
            return None
        pt = None
        dtmf = None
        for x in audio["methods"]:
            name = audio["attributes"].get(x, {}).get("rtpmap", {}).get("name", "")
            num = int(x) if x.isdigit() else -1
            if pt is None and (num in G711 or name.upper() in ("PCMU", "PCMA")):
                pt = num if num in G711 else (PCMU if name.upper() == "PCMU" else PCMA)
            if name.lower() == "telephone-event":
                dtmf = num
        ip, port = body["c"][0]["address"], int(audio["port"])
        if pt is None or (port and ip != "0.0.0.0" and not sendable(ip, port)):
            return None  # hold (port 0, 0.0.0.0) is fine, an address we cannot send to is not
        direction = body.get("a", {}).get("transmit_type")
        return (
            ip,
            port,
            pt,
            dtmf,
            direction.value if direction is not None else "sendrecv",
        )

    def _invite_line(self, leg: Leg, key: str) -> str:
        return next((v for k, v in raw_headers(leg.invite_raw) if k == key), "")

    def _cancel_text(self, leg: Leg) -> str:
        ruri = leg.invite_raw.split("\r\n", 1)[0].split(" ")[1]
        return "\r\n".join(
            [
                f"CANCEL {ruri} SIP/2.0",
                f"Via: {self._invite_line(leg, 'via')}",
                "Max-Forwards: 70",
                f"From: {self._invite_line(leg, 'from')}",
                f"To: {self._invite_line(leg, 'to')}",
                f"Call-ID: {leg.call_id}",
                f"CSeq: {leg.cseq} CANCEL",
                f"User-Agent: {AGENT}",
                "Content-Length: 0",
                "",
                "",
            ]
        )

    def _ack_non2xx(self, leg: Leg, response: str) -> str:
        """ACK of a failure response: same branch as the INVITE (hop by hop)."""
        ruri = leg.invite_raw.split("\r\n", 1)[0].split(" ")[1]
        to = next((v for k, v in raw_headers(response) if k == "to"), "")
        return "\r\n".join(
            [
                f"ACK {ruri} SIP/2.0",
                f"Via: {self._invite_line(leg, 'via')}",
                "Max-Forwards: 70",
                f"From: {self._invite_line(leg, 'from')}",
                f"To: {to}",
                f"Call-ID: {leg.call_id}",
                f"CSeq: {leg.cseq} ACK",
                "Content-Length: 0",
                "",
                "",
            ]
        )

    def _dialog_lines(self, leg: Leg) -> tuple[str, str]:
        """(From, To) for a request we send inside the dialog."""
        if leg.direction == "out":
            return self._invite_line(leg, "from"), (
                f"{self._invite_line(leg, 'to')};tag={leg.remote_tag}"
            )
        to = self._invite_line(leg, "to")
        if not tag_of(to):
            to = f"{to};tag={leg.local_tag}"
        return to, self._invite_line(leg, "from")

    def _in_dialog(self, leg: Leg, method: str, cseq: int) -> str:
        local, remote = self._dialog_lines(leg)
        target = leg.remote_target or f"sip:{leg.peer}@{self.server[0]}:{self.server[1]}"
        lines = [
            f"{method} {target} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.my_ip}:{self.sip_port};branch=z9hG4bK{uuid.uuid4().hex[:24]}"
            ";rport",
            "Max-Forwards: 70",
        ]
        lines += [f"Route: {r}" for r in leg.route_set]
        lines += [
            f"From: {local}",
            f"To: {remote}",
            f"Call-ID: {leg.call_id}",
            f"CSeq: {cseq} {method}",
            f"User-Agent: {AGENT}",
            "Content-Length: 0",
            "",
            "",
        ]
        return "\r\n".join(lines)

    def _ack_2xx(self, leg: Leg) -> str:
        return self._in_dialog(leg, "ACK", leg.cseq)

    def _send_bye(self, leg: Leg) -> None:
        leg.cseq += 1
        text = self._in_dialog(leg, "BYE", leg.cseq)
        self._send(text, self.server)
        self.stats.byes_sent += 1
        self.stats.sent_byes = [*self.stats.sent_byes[-19:], text]

    # -- bookkeeping -------------------------------------------------------------------------

    def _end(self, leg: Leg) -> bool:
        """Mark the leg ended and give back its stream and port. False if it had ended."""
        with self._lock:
            if leg.state is LegState.ENDED:
                return False
            leg.state = LegState.ENDED
            self._legs.pop(leg.call_id, None)
            self.phone.calls.pop(leg.call_id, None)
            self.sip.tagLibrary.pop(leg.call_id, None)
            if leg.call is not None:
                leg.call.state = CallState.ENDED
                leg.call.assignedPorts = {}
            with self.phone.portsLock:
                if leg.port in self.phone.assignedPorts:
                    self.phone.assignedPorts.remove(leg.port)
        self.media.remove(leg.stream)
        self._ports.give(leg.port)
        return True

    def _remember(self, call_id: str) -> None:
        ids = self.stats.call_ids
        ids.append(call_id)
        if len(ids) > 1000:
            del ids[:-1000]

    def _warn(self, kind: str, fmt: str, *args: object) -> None:
        """Log a warning, at most 5 per kind per minute (a flood must not flood the log)."""
        now = time.monotonic()
        since, count = self._warned.get(kind, (now, 0))
        if now - since > 60:
            if count > 5:
                log.warning("(%d more %s warnings in the last minute)", count - 5, kind)
            since, count = now, 0
        count += 1
        self._warned[kind] = (since, count)
        if count <= 5:
            log.warning(fmt, *args)


def pyvoip_version() -> str:
    return str(pyVoIP.__version__)
