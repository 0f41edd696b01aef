"""One received mail, read safely: whatever bytes arrive, ``parse`` returns a ``Mail`` and never
raises (malformed MIME is read as far as the standard library's parser gets, and its defects
are noted), HTML is sanitized with ammonia (``nh3``: no script, no event handler, no remote
content the sanitizer does not allow), and an attachment over the size limit is listed
without its content.

It also says what only the headers tell: the thread a mail belongs to (``Message-ID``,
``In-Reply-To``, ``References``, and the reference number an acknowledgement put in the
subject) and whether a machine sent it (RFC 3834 ``Auto-Submitted``, ``Precedence``, mailing
lists, bounces with a null sender): such mail is never answered automatically.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage, Message

import nh3

REFERENCE = re.compile(r"\[#([A-Z0-9]{4}-[A-Z0-9]{4})\]")
"""How a thread's reference stands in a subject: ``[#K7QX-M2PA]``."""
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_SAFE_TAGS = nh3.ALLOWED_TAGS - {"img"}
"""Ammonia's safe tags less images: a mail's image would fetch from the sender's server when
an agent opens it (a tracking pixel)."""
_TEXT_LIMIT = 1_000_000
"""Characters of a text or HTML body kept (a bigger body is cut, noted as a defect)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None
    """None when the attachment was over the size limit (listed, not kept)."""


@dataclass(frozen=True)
class Mail:
    message_id: str
    """``<...>``; made from the bytes' hash when the mail has none (so a mail fetched twice
    is still recognised)."""
    sender: str
    """The ``From`` address, lower case ("" when there is none that parses)."""
    sender_name: str
    to: tuple[str, ...]
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    html: str | None
    """Sanitized HTML, or None when the mail has none."""
    attachments: tuple[Attachment, ...]
    automatic: str | None
    """Why the mail must not be answered automatically (None: a person wrote it)."""
    authentication: str = ""
    """The topmost ``Authentication-Results`` header: the one the receiving server added."""
    defects: tuple[str, ...] = field(default=())
    """What the parser found wrong (kept for the record; the mail is still handled)."""

    @property
    def reference(self) -> str | None:
        """The thread reference in the subject, if any."""
        m = REFERENCE.search(self.subject)
        return m.group(1) if m else None

    def thread_keys(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, nearest first (``In-Reply-To``, then ``References``
        from the end)."""
        keys = [self.in_reply_to] if self.in_reply_to else []
        return tuple(dict.fromkeys([*keys, *reversed(self.references)]))


def parse(raw: bytes, *, max_attachment_bytes: int) -> Mail:
    """Read ``raw`` (see the module docstring); never raises on any input."""
    defects: list[str] = []
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    defects += [type(d).__name__ for d in msg.defects]
    sender_name, sender = _address(_header(msg, "From", defects))
    to = tuple(
        a.lower()
        for _, a in email.utils.getaddresses(
            [_header(msg, "To", defects), _header(msg, "Cc", defects)]
        )
        if "@" in a
    )
    message_id = _one_id(_header(msg, "Message-ID", defects)) or (
        f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.invalid>"
    )
    text, html, attachments = _body(msg, max_attachment_bytes, defects)
    return Mail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        to=to,
        subject=" ".join(_header(msg, "Subject", defects).split())[:998],
        in_reply_to=_one_id(_header(msg, "In-Reply-To", defects)),
        references=tuple(_MESSAGE_ID.findall(_header(msg, "References", defects)))[-50:],
        text=text,
        html=html,
        attachments=attachments,
        automatic=_automatic(msg, sender, defects),
        authentication=_header(msg, "Authentication-Results", defects),
        defects=tuple(dict.fromkeys(defects)),
    )


def sender_authenticated(mail: Mail, trusted_authserv_ids: Sequence[str]) -> bool:
    """The site's own receiving server (one of ``trusted_authserv_ids``) found the sender's
    domain authentic (``dmarc=pass``) in the topmost ``Authentication-Results``, the header
    it adds after removing any that claimed its name (RFC 8601 section 5)."""
    authserv, _, results = mail.authentication.partition(";")
    if authserv.strip().split(" ")[0].lower() not in {t.lower() for t in trusted_authserv_ids}:
        return False
    return re.search(r"(^|[;\s])dmarc=pass\b", results, re.IGNORECASE) is not None


def _header(msg: Message, name: str, defects: list[str]) -> str:
    """A header's decoded text ("" when absent or unreadable)."""
    try:
        value = msg.get(name)
    except Exception as e:  # a header the policy cannot parse
        defects.append(f"{name}: {type(e).__name__}")
        return ""
    return "" if value is None else str(value)


def _address(value: str) -> tuple[str, str]:
    name, addr = email.utils.parseaddr(value)
    return name.strip()[:200], (addr.strip().lower() if "@" in addr else "")


def _one_id(value: str) -> str | None:
    m = _MESSAGE_ID.search(value)
    return m.group(0) if m else None


def _automatic(msg: Message, sender: str, defects: list[str]) -> str | None:
    auto_submitted = _header(msg, "Auto-Submitted", defects).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted.split(';')[0]}"
    precedence = _header(msg, "Precedence", defects).strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    if _header(msg, "List-Id", defects) or _header(msg, "List-Unsubscribe", defects):
        return "mailing list"
    if _header(msg, "X-Autoreply", defects) or _header(msg, "X-Autorespond", defects):
        return "auto-reply header"
    if _header(msg, "Return-Path", defects).strip() == "<>":
        return "null sender (a bounce)"
    local = sender.split("@")[0]
    if not sender or local in ("mailer-daemon", "postmaster", "noreply", "no-reply"):
        return "no sender to answer" if not sender else f"sender {local}"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    return None


def _body(
    msg: EmailMessage, limit: int, defects: list[str]
) -> tuple[str, str | None, tuple[Attachment, ...]]:
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    try:
        parts = list(msg.walk())
    except Exception as e:
        defects.append(f"walk: {type(e).__name__}")
        parts = [msg]
    for part in parts:
        if part.is_multipart():
            continue
        try:
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            ctype = part.get_content_type()
        except Exception as e:
            defects.append(f"part: {type(e).__name__}")
            continue
        if disposition == "attachment" or filename or ctype not in ("text/plain", "text/html"):
            attachments.append(_attachment(part, filename, ctype, limit, defects))
        elif ctype == "text/plain":
            texts.append(_text(part, defects))
        else:
            htmls.append(_text(part, defects))
    html = "\n".join(htmls)
    text = "\n".join(texts) or _html_to_text(html)
    if len(text) > _TEXT_LIMIT or len(html) > _TEXT_LIMIT:
        defects.append("body cut")
    safe_html = nh3.clean(html[:_TEXT_LIMIT], tags=_SAFE_TAGS) if html else None
    return text[:_TEXT_LIMIT], safe_html, tuple(attachments)


def _text(part: Message, defects: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception as e:
        defects.append(f"payload: {type(e).__name__}")
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        defects.append(f"unknown charset {charset[:40]!r}")
        return payload.decode("utf-8", errors="replace")


def _attachment(
    part: Message, filename: str | None, ctype: str, limit: int, defects: list[str]
) -> Attachment:
    try:
        payload = part.get_payload(decode=True)
    except Exception as e:
        defects.append(f"attachment: {type(e).__name__}")
        payload = b""
    data = payload if isinstance(payload, bytes) else b""
    name = _safe_filename(filename or "attachment")
    return Attachment(name, ctype, len(data), data if len(data) <= limit else None)


def _safe_filename(name: str) -> str:
    """A name to show and offer for download: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip(". ")
    return name[:200] or "attachment"


def _html_to_text(html: str) -> str:
    """The words of an HTML-only mail, for the record and the preview (no markup)."""
    if not html:
        return ""
    stripped = nh3.clean(html[:_TEXT_LIMIT], tags=set(), clean_content_tags={"script", "style"})
    return " ".join(stripped.split())
