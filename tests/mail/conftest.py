"""Real mail peers on free loopback ports: Debian's Dovecot (IMAP) with the center's and the
customers' mailboxes, started from a config in a temp dir and stopped by PID; an aiosmtpd
SMTP server that delivers what the engine sends into the recipient's Dovecot mailbox (IMAP
APPEND), as the site's mail server would; and live sites with the mail edge."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import grp
import imaplib
import os
import pwd
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from contactcenter.config import Center, load_center
from contactcenter.mail.edge import MailEdge
from contactcenter.mail.settings import MailSettings
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store
from tests import processes
from tests.bus.conftest import free_port
from tests.peers import require
from tests.postgres import database_for

CONFIG = Path(__file__).resolve().parents[2] / "config"
DOVECOT = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
CENTER = "support@northwind.test"
PASSWORD = "center-secret"
CUSTOMERS = ("ann@customer.test", "bob@customer.test", "vip@customer.test")


@dataclass
class Dovecot:
    """One Dovecot serving IMAP on a loopback port; every address in ``users`` has a mailbox
    (password ``PASSWORD``)."""

    workdir: Path
    users: tuple[str, ...]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def config(self) -> Path:
        mail = self.workdir / "mail"
        mail.mkdir(exist_ok=True)
        (self.workdir / "users").write_text(
            "".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in self.users)
        )
        lines: list[str] = []
        if os.geteuid() == 0:  # mail processes never run as root: as Debian's dovecot user
            user = "dovecot"
            pw = pwd.getpwnam(user)
            os.chown(mail, pw.pw_uid, pw.pw_gid)
        else:  # run entirely as this user
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            lines += [f"default_internal_user = {user}", f"default_login_user = {user}",
                      f"default_internal_group = {group}"]  # fmt: skip
        text = [
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {self.workdir}/run",
            f"state_dir = {self.workdir}/state",
            f"log_path = {self.workdir}/dovecot.log",
            f"instance_name = cc-test-{self.port}",
            "ssl = no",
            "first_valid_uid = 1",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            f"mail_location = maildir:{mail}/%u",
            *lines,
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {self.workdir}/users",
            "}",
            "userdb {",
            "  driver = static",
            f"  args = uid={user} gid={user} home={mail}/%u",
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            f"    port = {self.port}",
            "  }",
            "  inet_listener imaps {",
            "    port = 0",
            "  }",
            "}",
        ]
        path = self.workdir / "dovecot.conf"
        path.write_text("\n".join(text) + "\n")
        return path

    def start(self, timeout: float = 15.0) -> None:
        require(None if DOVECOT else "dovecot is not installed (apt-get install dovecot-imapd)")
        assert DOVECOT is not None
        assert self.proc is None or self.proc.poll() is not None, "already running"
        out = (self.workdir / "dovecot.out").open("ab")
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config())], stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

        def serving() -> bool:
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
            except (OSError, imaplib.IMAP4.error):
                return False
            return True

        processes.wait_serving(self.proc, serving, self.log, "dovecot", timeout)

    def stop(self) -> None:
        processes.stop(self.proc)

    def log(self) -> str:
        return "".join(
            p.read_text(errors="replace")
            for p in (self.workdir / "dovecot.log", self.workdir / "dovecot.out")
            if p.exists()
        )

    # -- what a mail server and a mail client do ------------------------------------------------

    def deliver(self, user: str, raw: bytes) -> None:
        """Put ``raw`` in ``user``'s inbox (as the site's MTA delivers it)."""
        with self.client(user) as c:
            typ, data = c.append("INBOX", None, None, raw)
            assert typ == "OK", data

    def deliver_many(self, user: str, raws: list[bytes]) -> None:
        with self.client(user) as c:
            for raw in raws:
                typ, data = c.append("INBOX", None, None, raw)
                assert typ == "OK", data

    def inbox(self, user: str) -> list[tuple[EmailMessage, bool]]:
        """Every mail in ``user``'s inbox, in order, and whether it is marked seen (read
        without marking anything)."""
        out: list[tuple[EmailMessage, bool]] = []
        with self.client(user) as c:
            c.select("INBOX", readonly=True)
            _, data = c.uid("SEARCH", "ALL")
            for uid in (data[0] or b"").split():
                _, parts = c.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, raw = parts[0]
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                out.append((msg, b"\\Seen" in head))
        return out

    @contextlib.contextmanager
    def client(self, user: str) -> Iterator[imaplib.IMAP4]:
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        try:
            c.login(user, PASSWORD)
            yield c
        finally:
            with contextlib.suppress(Exception):
                c.logout()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A started Dovecot with the center's mailbox and three customers'."""
    # (in a directory Dovecot's mail user may enter)
    with processes.running_in_own_dir(
        "cc-dovecot-", lambda workdir: Dovecot(workdir, (CENTER, *CUSTOMERS))
    ) as server:
        yield server


class _Deliver:
    """aiosmtpd handler: every accepted mail goes into each recipient's Dovecot inbox."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.envelopes: list[Envelope] = []
        self.refuse = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 4.3.0 try again later"
        self.envelopes.append(envelope)
        raw = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            await asyncio.to_thread(self.dovecot.deliver, rcpt, raw)
        return "250 OK"


@dataclass
class SmtpPeer:
    port: int
    handler: _Deliver


@pytest.fixture
def smtp_peer(dovecot: Dovecot) -> Iterator[SmtpPeer]:
    """An SMTP server on a loopback port that delivers into Dovecot."""
    handler = _Deliver(dovecot)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpPeer(port, handler)
    finally:
        controller.stop()


def mail_settings(dovecot: Dovecot, smtp: SmtpPeer, **kw: Any) -> MailSettings:
    """The example's e-mail queue read from the center's Dovecot mailbox, answers out through
    ``smtp``; fast reconnects."""
    os.environ["CC_TEST_MAIL_PASSWORD"] = PASSWORD
    mailbox: dict[str, Any] = {
        "address": CENTER,
        "name": "Northwind Support",
        "queue": "support_email",
        "imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none",
                 "username": CENTER, "password_env": "CC_TEST_MAIL_PASSWORD",
                 "idle_seconds": 30, "timeout_seconds": 10},
        **kw.pop("mailbox", {}),
    }  # fmt: skip
    base: dict[str, Any] = {
        "enabled": True,
        "mailboxes": [mailbox],
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none"},
        "trusted_authserv_ids": ["mx.northwind.test"],
        "reconnect_initial_seconds": 0.1,
        "reconnect_max_seconds": 0.5,
    }
    return MailSettings.model_validate({**base, **kw})


@dataclass
class MailSite:
    site: Site
    edge: MailEdge
    store: Store


MailSiteFactory = Callable[..., Awaitable[MailSite]]

BOTH_DATABASES = pytest.mark.parametrize("make_mail_site", ["sqlite", "postgresql"], indirect=True)
"""For a test whose mail site runs on either database."""


@pytest.fixture
async def make_mail_site(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[MailSiteFactory]:
    """``await make_mail_site(settings, db=...)``: a started site with the mail edge; all
    stopped at the end (``stop`` one early for a restart). On a SQLite file, or on a new
    PostgreSQL database when a test asks (``BOTH_DATABASES``)."""
    running: list[MailSite] = []
    where = database_for(request, getattr(request, "param", "sqlite"))

    async def make(
        settings: MailSettings, center: Center | None = None, db: Path | str | None = None
    ) -> MailSite:
        c = center or load_center(CONFIG)
        store = await Store.open(
            db or where or tmp_path / "cc.sqlite3", data_keys=tmp_path / "data-keys"
        )
        await store.seed_customers(c.customers.values(), c.dedicated_agent)
        site = Site(c, store, metrics=Metrics(c))
        edge = MailEdge(site.serve_mail(settings), settings)
        site.add_edge(edge)
        await site.start()
        running.append(ms := MailSite(site, edge, store))
        return ms

    yield make
    for ms in running:
        await stop(ms)


async def stop(ms: MailSite) -> None:
    if ms.store._db is not None:  # (not stopped yet)
        await ms.site.stop()
        await ms.store.close()


def customer_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = CENTER
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = email.utils.formatdate()
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg.as_bytes()
