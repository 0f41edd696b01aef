"""The mail edge: reads the site's mailboxes over IMAP (with IDLE) and sends the outbox over
SMTP. Only ``aioimaplib`` and ``aiosmtplib`` speak to the servers, only here.

Why IMAP rather than a receiving SMTP/LMTP server: the mail stays in the site's mailbox, on the
site's mail server, until the engine has stored it (it is marked ``\\Seen`` after, never
before), so the engine can be down, crash between fetch and store, or lose its disk's last
write, and nothing is lost: what is not marked seen is fetched again and recognised by its
Message-ID. The site's mail server keeps doing what it does (spam filtering, authentication
results, archiving), and no MTA needs reconfiguring to deliver to the engine.

Each mailbox reads the unseen mails in UID order (arrival order), then waits in IDLE for new
ones (renewed every ``idle_seconds``). A mailbox or mail server that fails is tried again with
backoff (doubling up to ``reconnect_max_seconds``); the outage shows in ``/healthz``,
``/metrics`` and the log, and routing goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aioimaplib
import aiosmtplib

from contactcenter.mail.settings import Mailbox, MailSettings
from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.mail import MailService
from contactcenter.store.mail import StoredMail

log = logging.getLogger(__name__)

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class MailboxError(Exception):
    """The IMAP server refused a step (login, select, fetch, store)."""


@dataclass
class Link:
    """One server's state, for ``/healthz`` and ``/metrics``."""

    name: str
    up: bool = False
    down_since: float | None = None
    failures: int = 0
    last_error: str = ""

    def ok(self) -> None:
        self.up, self.down_since = True, None

    def failed(self, wall: float, error: BaseException) -> None:
        self.up = False
        self.failures += 1
        self.last_error = type(error).__name__
        if self.down_since is None:
            self.down_since = wall


@dataclass
class Counts:
    received: int = 0
    duplicates: int = 0
    automatic: int = 0
    sent: int = 0
    ingested: int = 0
    ingest_seconds: float = 0.0
    """Sum of server arrival (INTERNALDATE) to stored, over ``ingested`` mails."""


class MailEdge:
    def __init__(
        self,
        service: MailService,
        settings: MailSettings,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.settings = settings
        self.wall = wall
        self.mailboxes = {m.address: Link(m.address) for m in settings.mailboxes}
        self.smtp = Link("smtp")
        self.counts = Counts()
        self.outbox_waiting = 0
        self._sending = asyncio.Lock()
        """Held from handing a mail to the SMTP server to marking it sent."""
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.service.start()
        for m in self.settings.mailboxes:
            self._tasks.append(asyncio.create_task(self._read(m), name=f"mailbox {m.address}"))
        self._tasks.append(asyncio.create_task(self._send(), name="mail outbox"))

    async def stop(self) -> None:
        """A clean stop lets a mail being sent be marked sent first (up to its SMTP timeout):
        only a crash between the server's acceptance and the mark sends one twice."""
        smtp = self.settings.smtp
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(smtp.timeout_seconds if smtp is not None else 1.0):
                await self._sending.acquire()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await cancel_and_wait(task)

    def problems(self) -> list[str]:
        out = [
            f"mailbox {name} unreachable ({link.last_error})"
            for name, link in self.mailboxes.items()
            if link.down_since is not None
        ]
        if self.smtp.down_since is not None:
            out.append(f"mail server (SMTP) unreachable ({self.smtp.last_error})")
        return out

    # -- mail in --------------------------------------------------------------------------------

    async def _read(self, mailbox: Mailbox) -> None:
        link = self.mailboxes[mailbox.address]
        delay = self.settings.reconnect_initial_seconds
        while True:
            try:
                await self._session(mailbox, link)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any failure: the session starts again after a wait
                link.failed(self.wall(), e)
                log.warning(
                    "mailbox %s: %s (%s); trying again in %.0f s",
                    mailbox.address, type(e).__name__, e, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(2 * delay, self.settings.reconnect_max_seconds)
            else:
                delay = self.settings.reconnect_initial_seconds

    async def _session(self, mailbox: Mailbox, link: Link) -> None:
        imap = mailbox.imap
        timeout = imap.timeout_seconds
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_lost(_error: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)

        client = aioimaplib.IMAP4(
            imap.host,
            imap.port,
            timeout=timeout,
            conn_lost_cb=on_lost,
            ssl_context=ssl.create_default_context() if imap.security == "tls" else None,
        )
        try:
            await client.wait_hello_from_server()
            _ok(await client.login(imap.username or "", imap.password() or ""), "login")
            selected = _ok(await client.select(imap.folder), f"select {imap.folder}")
            validity = _UIDVALIDITY.search(b" ".join(_bytes(x) for x in selected.lines))
            uidvalidity = int(validity.group(1)) if validity else 0
            if not link.up:
                log.info("mailbox %s: connected", mailbox.address)
            link.ok()
            while True:
                await self._fetch_unseen(client, mailbox, uidvalidity)
                idle = await client.idle_start(timeout=imap.idle_seconds)
                push = asyncio.ensure_future(
                    client.wait_server_push(timeout=imap.idle_seconds + timeout)
                )
                await _or_lost(push, lost, imap.idle_seconds + timeout)
                client.idle_done()
                await _or_lost(idle, lost, timeout)
        finally:
            await _close(client)

    async def _fetch_unseen(
        self, client: aioimaplib.IMAP4, mailbox: Mailbox, uidvalidity: int
    ) -> None:
        found = _ok(await client.uid_search("UNSEEN"), "search")
        first = _bytes(found.lines[0]).split() if found.lines else []
        uids = sorted(int(u) for u in first if u.isdigit())
        for uid in uids:
            fetched = _ok(
                await client.uid("fetch", str(uid), "(INTERNALDATE BODY.PEEK[])"), "fetch"
            )
            raw, arrived = _message(fetched.lines)
            if raw is None:
                continue  # gone meanwhile (expunged by someone else)
            received = await self.service.receive(mailbox, raw, (uidvalidity, uid))
            _ok(await client.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)"), "store")
            if received.duplicate:
                self.counts.duplicates += 1
                continue
            self.counts.received += 1
            if arrived is not None:
                self.counts.ingested += 1
                self.counts.ingest_seconds += max(0.0, self.wall() - arrived)

    # -- mail out -------------------------------------------------------------------------------

    async def _send(self) -> None:
        service = self.service
        delay = self.settings.reconnect_initial_seconds
        while True:
            await service.outbox_ready.wait()
            service.outbox_ready.clear()
            try:
                outbox = await service.mails.outbox()
                self.outbox_waiting = len(outbox)
                for stored in outbox:
                    async with self._sending:
                        await self._deliver(stored)
                        await service.mails.mark_sent(stored.id, self.wall())
                    self.counts.sent += 1
                    self.outbox_waiting -= 1
                self.smtp.ok()
                delay = self.settings.reconnect_initial_seconds
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the outbox keeps it: sent again after a wait
                self.smtp.failed(self.wall(), e)
                log.warning(
                    "sending mail: %s (%s); trying again in %.0f s", type(e).__name__, e, delay
                )
                await asyncio.sleep(delay)
                delay = min(2 * delay, self.settings.reconnect_max_seconds)
                service.outbox_ready.set()

    async def _deliver(self, stored: StoredMail) -> None:
        smtp = self.settings.smtp
        assert smtp is not None  # (an enabled mail edge has one)
        box = self.settings.mailbox(stored.sender)
        await aiosmtplib.send(
            outgoing(stored, box.name if box is not None else ""),
            sender=stored.sender,
            recipients=list(stored.recipients),
            hostname=smtp.host,
            port=smtp.port,
            timeout=smtp.timeout_seconds,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
            tls_context=ssl.create_default_context() if smtp.security != "none" else None,
            username=smtp.username,
            password=smtp.password(),
        )


def outgoing(stored: StoredMail, sender_name: str) -> EmailMessage:
    """The mail as it leaves: threaded on the customer's (``In-Reply-To``, ``References``);
    an acknowledgement says it is automatic (``Auto-Submitted``, RFC 3834), so well-behaved
    auto-responders do not answer it and no loop starts."""
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((sender_name, stored.sender))
    msg["To"] = ", ".join(stored.recipients)
    msg["Subject"] = stored.subject
    msg["Message-ID"] = stored.message_id
    msg["Date"] = email.utils.formatdate(stored.wall_time, localtime=False)
    if stored.in_reply_to:
        msg["In-Reply-To"] = stored.in_reply_to
    if stored.references:
        msg["References"] = " ".join(stored.references)
    if stored.direction in ("ack", "survey"):
        msg["Auto-Submitted"] = "auto-replied" if stored.direction == "ack" else "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(stored.text)
    return msg


def _ok(response: aioimaplib.Response, step: str) -> aioimaplib.Response:
    if response.result != "OK":
        last = _bytes(response.lines[-1]) if response.lines else b""
        raise MailboxError(f"{step}: {response.result} {last[:200]!r}")
    return response


def _bytes(line: object) -> bytes:
    if isinstance(line, bytes | bytearray):
        return bytes(line)
    return str(line).encode()


def _message(lines: list[object]) -> tuple[bytes | None, float | None]:
    """The mail's bytes (the FETCH literal) and its server arrival time."""
    raw: bytes | None = None
    arrived: float | None = None
    for line in lines:
        if isinstance(line, bytearray):
            raw = bytes(line)
        elif isinstance(line, bytes) and (m := _INTERNALDATE.search(line)) is not None:
            parsed = email.utils.parsedate_to_datetime(m.group(1).decode().replace("-", " "))
            arrived = parsed.timestamp()
    return raw, arrived


async def _or_lost(step: asyncio.Future[Any], lost: asyncio.Future[None], timeout: float) -> None:
    """Wait for ``step``; a lost connection (a server shutting down says BYE, then closes)
    ends the wait at once, instead of when ``step`` times out."""
    await asyncio.wait({step, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if lost.done():
        step.cancel()
        raise ConnectionError("the server closed the connection")
    if not step.done():
        step.cancel()
        raise TimeoutError("the server did not answer in time")
    step.result()


async def _close(client: aioimaplib.IMAP4) -> None:
    try:
        if client.has_pending_idle():
            client.idle_done()
        await asyncio.wait_for(client.logout(), 2.0)
    except Exception:  # the connection is gone already; nothing more to do
        log.debug("mailbox logout failed", exc_info=True)
