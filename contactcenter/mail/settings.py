"""The e-mail channel's settings: ``<config dir>/mail.yaml``, one ``mail:`` section. No file, or
``enabled: false``, means no mail edge: the engine runs without a mail server.

Each mailbox is a real IMAP mailbox of the site's mail server, read with IDLE; its address is
the one customers write to and the sender of the answers; its mails go to ``queue`` unless a
rule (sender or subject) names another. Answers and acknowledgements leave through ``smtp``.
Passwords never sit in the YAML (``contactcenter.config.section.Credentials``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contactcenter.config import Center, ConfigError, ConfigIssue
from contactcenter.config.section import Credentials, load_section

FILE = "mail.yaml"
ADDRESS = r"^[^@\s<>]+@[^@\s<>]+$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Server(Credentials):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    """``none`` (plain text) is for a server on loopback or a trusted network only."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class Imap(Server):
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "none"] = "tls"
    """IMAP over TLS (port 993), or ``none`` for a server on loopback or a trusted network."""
    folder: str = Field(default="INBOX", min_length=1, max_length=200)
    idle_seconds: float = Field(default=600.0, ge=1, le=1740)
    """IDLE is renewed this often (RFC 2177: servers may drop an IDLE after 30 minutes)."""


class Smtp(Server):
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "starttls"


class Acknowledgement(_Model):
    """The automatic answer to a new thread (never to automatic mail), with its reference."""

    enabled: bool = True
    text: str = Field(
        default=(
            "Thank you for your message. We have received it and will answer within 24 hours.\n"
            "Your reference is {reference}; please keep it in the subject if you write again."
        ),
        min_length=1,
    )

    @field_validator("text")
    @classmethod
    def _reference(cls, v: str) -> str:
        if "{reference}" not in v:
            raise ValueError("the text must show the {reference}")
        return v


class Rule(_Model):
    """Mails whose sender or subject matches (Python regular expressions, case-insensitive)
    go to ``queue`` instead of the mailbox's, acknowledged with the rule's ``acknowledge``
    when it has one (the queue's own wording, or none), else the mailbox's."""

    queue: str = Field(min_length=1)
    sender: str | None = None
    subject: str | None = None
    acknowledge: Acknowledgement | None = None

    @field_validator("sender", "subject")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from e
        return v

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.sender is None and self.subject is None:
            raise ValueError("a rule needs sender or subject")
        return self

    def matches(self, sender: str, subject: str) -> bool:
        return all(
            re.search(pattern, text, re.IGNORECASE) is not None
            for pattern, text in ((self.sender, sender), (self.subject, subject))
            if pattern is not None
        )


class Mailbox(_Model):
    address: str = Field(pattern=ADDRESS)
    name: str = Field(default="", max_length=200)
    """The sender's display name on answers (e.g. "Northwind Support")."""
    queue: str = Field(min_length=1)
    imap: Imap
    rules: tuple[Rule, ...] = ()
    acknowledge: Acknowledgement = Acknowledgement()

    def route(self, sender: str, subject: str) -> tuple[str, Acknowledgement]:
        """The queue a new thread from ``sender`` about ``subject`` goes to, and how it is
        acknowledged: the first matching rule's, else the mailbox's own."""
        rule = next((r for r in self.rules if r.matches(sender, subject)), None)
        if rule is None:
            return self.queue, self.acknowledge
        return rule.queue, rule.acknowledge or self.acknowledge


class MailSettings(_Model):
    enabled: bool = False
    mailboxes: tuple[Mailbox, ...] = ()
    smtp: Smtp | None = None
    trusted_authserv_ids: tuple[str, ...] = ()
    """The site's receiving mail servers (their ``Authentication-Results`` name): a sender
    one of them found authentic (``dmarc=pass``) is a verified customer; any other sender's
    address is a claim (kept for the record, never routing)."""
    survey_url: str | None = Field(default=None, pattern=r"^https?://[^\s#]+$")
    """The survey page as customers reach it (``https://help.example.com/survey``, served by
    the engine at ``/survey``). With ``email`` in center.yaml's ``csat.channels``, closing a
    thread an agent answered sends the customer a link to score it there; None: no link."""
    reopen_days: float = Field(default=7.0, ge=0, le=365)
    """A customer's answer to a thread closed less than this long ago reopens it; later, it
    starts a new thread."""
    max_attachment_bytes: int = Field(default=10 * 2**20, ge=0, le=2**30)
    """A larger attachment is listed (name, type, size) but its content is not kept."""
    reconnect_initial_seconds: float = Field(default=1.0, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    """A mailbox or mail server that fails is tried again after the initial wait, doubling
    up to this."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.enabled and not self.mailboxes:
            raise ValueError("an enabled mail edge needs at least one mailbox")
        if self.enabled and self.smtp is None:
            raise ValueError("an enabled mail edge needs smtp (answers leave through it)")
        addresses = [m.address.lower() for m in self.mailboxes]
        if len(set(addresses)) != len(addresses):
            raise ValueError("two mailboxes have the same address")
        if self.reconnect_max_seconds < self.reconnect_initial_seconds:
            raise ValueError("reconnect_max_seconds must be >= reconnect_initial_seconds")
        return self

    def mailbox(self, address: str) -> Mailbox | None:
        return next((m for m in self.mailboxes if m.address.lower() == address.lower()), None)


def load_mail_settings(config_dir: str | Path, center: Center | None = None) -> MailSettings:
    """Read ``<config_dir>/mail.yaml`` (missing: no mail edge). Every problem names the file,
    the key and why; an enabled edge's passwords must be there and its queues must be the
    center's e-mail queues (with ``center``)."""
    loaded = load_section(
        config_dir, FILE, "mail", MailSettings, "{enabled: true, mailboxes: [...], smtp: ...}"
    )
    if loaded is None:
        return MailSettings()
    settings, fail = loaded
    base = Path(config_dir)
    settings = settings.model_copy(
        update={
            "mailboxes": tuple(
                m.model_copy(update={"imap": m.imap.at(base)}) for m in settings.mailboxes
            ),
            "smtp": settings.smtp.at(base) if settings.smtp is not None else None,
        }
    )
    if not settings.enabled:
        return settings
    issues: list[ConfigIssue] = []
    checks: list[tuple[str, Server]] = [
        (f"mail.mailboxes.{i}.imap", m.imap) for i, m in enumerate(settings.mailboxes)
    ]
    if settings.smtp is not None:
        checks.append(("mail.smtp", settings.smtp))
    for key, server in checks:
        try:
            server.check_password(key, fail)
        except ConfigError as e:
            issues += e.issues
    if center is not None:
        issues += [
            ConfigIssue(str(base / FILE), key, problem)
            for key, queue in _queues(settings)
            if (problem := _not_an_email_queue(center, queue)) is not None
        ]
    if issues:
        raise ConfigError(issues)
    return settings


def _queues(settings: MailSettings) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, m in enumerate(settings.mailboxes):
        out.append((f"mail.mailboxes.{i}.queue", m.queue))
        out += [(f"mail.mailboxes.{i}.rules.{j}.queue", r.queue) for j, r in enumerate(m.rules)]
    return out


def _not_an_email_queue(center: Center, queue: str) -> str | None:
    q = center.queues.get(queue)
    if q is None:
        return f"no queue {queue!r} in the center"
    if q.channel != "email":
        return f"queue {queue!r} is a {q.channel} queue, not an email one"
    return None
