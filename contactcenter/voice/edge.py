"""The voice edge: the engine's telephone, between the SIP server and the runtime's voice service.

* **One door.** The edge talks to the runtime only through its voice service (``VoiceService``:
  calls arrived and ended, agents' phones answered or failed, look-ups, places in the queue).
* **Threads to asyncio.** The SIP stack (``_pyvoip``) and the RTP media engine run on their own
  threads. Their events reach the loop only through ``loop.call_soon_threadsafe``; the edge's
  calls into the stack run in a small thread pool (``sip``), so the loop never blocks on
  pyVoIP. Nothing outside ``_pyvoip`` imports pyVoIP.
* **Registration.** The IVR extension is registered at start and refreshed at 80 % of the
  granted expiry. A failure (refused credentials, an unreachable or silent server, a taken
  SIP port) is logged with its reason and retried with exponential backoff (1 s doubling to
  60 s, with jitter) for as long as the engine runs; it never stops the engine.
* **Calls.** Each inbound call is a ``VoiceCall`` task fed by an inbox. The edge routes stack
  events to it by SIP Call-ID and the runtime's notices (``ContactOffered``,
  ``OfferRejected``, ``ContactRemoved``) by contact id. If notices were lost (``Lagged``),
  every queued call re-reads its contact's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from contactcenter.events import (
    CallbackOffered,
    ConsultEnded,
    ConsultOffered,
    ContactHandedOff,
    ContactOffered,
    ContactRemoved,
    OfferRejected,
)
from contactcenter.ivr import CustomerInfo, Flow, Flows, flows_of
from contactcenter.runtime.hub import Lagged, Subscription
from contactcenter.runtime.voice import VoiceService
from contactcenter.voice import _pyvoip as sip
from contactcenter.voice.call import VoiceCall, customer_info
from contactcenter.voice.callback_call import CallbackCall
from contactcenter.voice.media import MediaEngine
from contactcenter.voice.prompts import PromptBank
from contactcenter.voice.settings import VoiceSettings

log = logging.getLogger("contactcenter.voice")

T = TypeVar("T")

VOICE_PROMPTS = Path("voice") / "prompts"
"""The edge's own prompts, under the center's config directory."""
COMMAND_THREADS = 2
"""Threads that run blocking SIP stack commands (dials, hang-ups) off the event loop."""

_NOTICES = (
    ContactOffered, OfferRejected, ContactRemoved, CallbackOffered, ContactHandedOff,
    ConsultOffered, ConsultEnded,
)  # fmt: skip
"""The core's events a call acts on."""

Call = VoiceCall | CallbackCall
"""A caller's call (inbound, through the IVR) or a call back (outbound, agent first)."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_GROUPED = ("ivr:", "agent_leg:")
"""Counters the snapshot gives grouped by kind (outcome, reason), not also one by one."""


class VoiceEdge:
    """Registers the IVR extension, answers calls, runs the IVR and connects agents."""

    def __init__(
        self,
        voice: VoiceService,
        settings: VoiceSettings,
        *,
        config_dir: str | Path | None = None,
        flows: Flows | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        media: MediaEngine | None = None,
    ) -> None:
        self.voice = voice
        self.settings = settings
        self.flows = flows if flows is not None else flows_of(voice.center)
        self.clock = clock
        self.media = media or MediaEngine()
        dirs: list[Path] = []
        if self.flows is not None:
            dirs.append(self.flows.prompt_dir)
        if config_dir is not None:
            dirs.append(Path(config_dir) / VOICE_PROMPTS)
        self.prompts = PromptBank(dirs)
        self.stats: Counter[str] = Counter()
        self.calls: dict[str, Call] = {}
        """SIP Call-ID of a caller's, customer's or agent's leg -> the call it belongs to."""
        self.by_contact: dict[str, Call] = {}
        self.finished: list[Call] = []
        """Calls that ended (the last 1000), for tests and the benchmark."""
        self.registered = asyncio.Event()
        self.stack: sip.SipStack
        self._dialling = 0
        self._early: dict[str, list[sip.StackEvent]] = {}
        """Events of legs not known yet while dials are in flight (Call-ID -> events)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cmd: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._call_tasks: set[asyncio.Task[None]] = set()
        self._sub: Subscription | None = None
        self._opened = False

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Load prompts, open the SIP stack and start registering (in the background)."""
        loop = self._loop = asyncio.get_running_loop()
        self._cmd = ThreadPoolExecutor(max_workers=COMMAND_THREADS, thread_name_prefix="sip-cmd")
        count = await loop.run_in_executor(None, self.prompts.load)
        log.info("voice: %d prompts loaded", count)
        s = self.settings
        self.stack = sip.SipStack(
            server=s.server.host,
            port=s.server.port,
            extension=s.registration.extension,
            password=s.registration.password,
            my_ip=s.local.ip,
            sip_port=s.local.sip_port,
            rtp_low=s.local.rtp_port_low,
            rtp_high=s.local.rtp_port_high,
            sink=self._from_stack,
            media=self.media,
            dial_timeout=s.calls.dial_response_seconds,
            max_calls=s.calls.max_calls,
            t1=s.calls.sip_t1_seconds,
        )
        self._sub = self.voice.subscribe(self._wants, size=10_000)
        self.voice.attach(self)
        self._tasks = [
            asyncio.create_task(self._keep_registered(), name="voice-registration"),
            asyncio.create_task(self._notices(self._sub), name="voice-notices"),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for call in list(self.by_contact.values()):
            if call.contact_id is not None:
                with contextlib.suppress(Exception):
                    await self.voice.call_ended(call.contact_id)
        for t in list(self._call_tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, *self._call_tasks, return_exceptions=True)
        if self._sub is not None:
            self._sub.close()
        if self._opened:
            await asyncio.get_running_loop().run_in_executor(None, self.stack.close)
        self.media.stop()
        if self._cmd is not None:
            self._cmd.shutdown(wait=False, cancel_futures=True)

    async def command(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a SIP stack call in the edge's command threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cmd, functools.partial(fn, *args))

    def threadsafe(self, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn`` callable from any thread: it runs on the edge's loop."""
        loop = self._loop
        assert loop is not None

        def call(*args: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(fn, *args)

        return call

    def count(self, what: str) -> None:
        self.stats[what] += 1

    # -- registration -------------------------------------------------------------------------

    async def _keep_registered(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        delay = s.registration.retry_initial_seconds
        where = f"{s.server.host}:{s.server.port}"
        while not self._opened:
            try:
                await loop.run_in_executor(None, self.stack.open)
                self._opened = True
            except OSError as e:
                log.error(
                    "voice: cannot open SIP port %s:%s (%s); retrying in %.0f s",
                    s.local.ip, s.local.sip_port, e, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.registration.retry_max_seconds)
        delay = s.registration.retry_initial_seconds
        while True:
            try:
                expires = await loop.run_in_executor(
                    None,
                    functools.partial(
                        self.stack.register,
                        s.registration.timeout_seconds,
                        expires=s.registration.expires_seconds,
                    ),
                )
            except sip.RegistrationError as e:
                self.registered.clear()
                self.count("registration_failed")
                wait = delay * random.uniform(0.8, 1.2)
                log.warning(
                    "voice: registering extension %s at %s failed: %s; retrying in %.1f s",
                    s.registration.extension, where, e, wait,
                )  # fmt: skip
                await asyncio.sleep(wait)
                delay = min(delay * 2, s.registration.retry_max_seconds)
                continue
            if not self.registered.is_set():
                log.info(
                    "voice: extension %s registered at %s (expires %d s)",
                    s.registration.extension, where, expires,
                )  # fmt: skip
            self.registered.set()
            self.count("registered")
            delay = s.registration.retry_initial_seconds
            await asyncio.sleep(max(2.0, expires * 0.8))

    # -- events from the SIP stack (any thread) -----------------------------------------------

    def _from_stack(self, event: sip.StackEvent) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._route_stack_event, event)

    def _route_stack_event(self, event: sip.StackEvent) -> None:
        if isinstance(event, sip.Incoming):
            self.count("calls")
            new = VoiceCall(self, event.leg)
            self.calls[event.leg.call_id] = new
            self._run(new, f"voice-call-{event.leg.id}")
            return
        call = self.calls.get(event.leg.call_id)
        if call is not None:
            call.on_stack(event)
        elif self._dialling:  # perhaps a dial's leg whose command thread has not returned yet
            self._early.setdefault(event.leg.call_id, []).append(event)
        else:
            self._orphan(event)

    def _orphan(self, event: sip.StackEvent) -> None:
        if isinstance(event, sip.Answered) and self._cmd is not None:
            self._cmd.submit(self.stack.hangup, event.leg)  # a leg nobody wants any more

    async def dial(self, call: Call, target: str) -> sip.Leg:
        """Ring ``target`` (an extension or a number) for ``call``, whose leg it becomes.

        The INVITE goes out in a command thread, so its answer or failure can reach the loop
        before the thread returns the leg: such events are held and handed to ``call``
        (a dropped 404 would leave an offer ringing nobody until its ring timeout)."""
        self._dialling += 1
        try:
            leg = await self.command(self.stack.dial, target)
            self.calls[leg.call_id] = call
            for event in self._early.pop(leg.call_id, []):
                call.on_stack(event)
            return leg
        finally:
            self._dialling -= 1
            if not self._dialling:
                early, self._early = self._early, {}
                for event in itertools.chain.from_iterable(early.values()):
                    self._orphan(event)

    def follow(self, contact_id: str, call: Call) -> None:
        self.by_contact[contact_id] = call

    def forget(self, call: Call) -> None:
        for key in [k for k, v in self.calls.items() if v is call]:
            del self.calls[key]
        if call.contact_id is not None and self.by_contact.get(call.contact_id) is call:
            del self.by_contact[call.contact_id]
        self.finished.append(call)
        del self.finished[:-1000]

    def _run(self, call: Call, name: str) -> None:
        task = asyncio.create_task(call.run(), name=name)
        self._call_tasks.add(task)
        task.add_done_callback(self._call_tasks.discard)

    # -- the engine's notices -----------------------------------------------------------------

    @staticmethod
    def _wants(n: object) -> bool:
        return isinstance(n, Lagged) or (isinstance(n, _NOTICES) and n.channel == "voice")

    async def _notices(self, sub: Subscription) -> None:
        async for n in sub:
            if isinstance(n, Lagged):
                log.warning("voice: %d engine notices lost; re-reading calls' state", n.dropped)
                for call in list(self.by_contact.values()):
                    call.post("reconcile")
                continue
            found = self.by_contact.get(getattr(n, "contact_id", ""))
            if found is not None:
                found.post("notice", n)

    # -- what the runtime asks of calls --------------------------------------------------------

    async def hang_up(self, contact_id: str) -> bool:
        """The agent hung up on the desktop: end both legs of the call (``CallControl``)."""
        call = self.by_contact.get(contact_id)
        if call is None:
            return False
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        call.post("hang_up", done)
        try:
            async with asyncio.timeout(15):
                return await done
        except TimeoutError:  # the call ended meanwhile without reading its inbox
            return False

    async def call_back(self, contact_id: str, agent_id: str, number: str) -> None:
        """Make a call back: ring the agent, then dial the customer (``Dialer``)."""
        ring = self.voice.callbacks.settings.ring_seconds
        call = CallbackCall(self, contact_id, agent_id, number, ring)
        self.follow(contact_id, call)
        self.count("callbacks")
        self._run(call, f"call-back-{contact_id}")

    # -- what calls ask the edge --------------------------------------------------------------

    def flow_for(self, leg: sip.Leg) -> Flow | None:
        if self.flows is None:
            return None
        return self.flows.for_dialled(self.dialled(leg)) or self.flows.flows.get(
            self.settings.ivr_flow
        )

    def dialled(self, leg: sip.Leg) -> str:
        to = leg.invite.headers.get("To", {})
        return str(to.get("number") or self.settings.registration.extension)

    async def lookup(self, by: str, value: str) -> CustomerInfo | None:
        try:
            found = await self.voice.find_customer(by, value)
        except Exception as e:
            log.warning("voice: customer lookup by %s failed: %s", by, e)
            return None
        return customer_info(found)

    def problems(self) -> list[str]:
        """A dead media thread (until the watchdog restarts it) or no registration: callers
        get no audio, or cannot reach the engine."""
        out = []
        if self._opened and not self.media.healthy():
            out.append("voice: media threads not running")
        if self._opened and not self.registered.is_set():
            out.append("voice: not registered at the SIP server")
        return out

    def snapshot(self) -> dict[str, object]:
        """Numbers for tests, the benchmark and logs."""
        st = self.stack.stats if self._opened else None
        return {
            "registered": self.registered.is_set(),
            "calls_active": len({id(c) for c in self.calls.values()}),
            "legs": len(self.stack.legs) if self._opened else 0,
            "free_rtp_ports": self.stack.free_ports if self._opened else None,
            **{k: v for k, v in self.stats.items() if not k.startswith(_GROUPED)},
            "ivr_outcomes": {k[4:]: v for k, v in self.stats.items() if k.startswith("ivr:")},
            "agent_leg_failures": {
                k[10:]: v for k, v in self.stats.items() if k.startswith("agent_leg:")
            },
            **({} if st is None else {
                "sip_malformed": st.malformed, "sip_unexpected": st.unexpected,
                "byes_sent": st.byes_sent, "byes_confirmed": st.byes_confirmed,
            }),
        }  # fmt: skip
