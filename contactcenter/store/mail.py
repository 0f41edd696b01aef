"""E-mail threads in the store: each thread (one conversation with a customer, with its reference
number), its mails in and out with their attachments, and the outbox.

A received mail is stored in one transaction with what it causes: a new thread and its contact
(and its acknowledgement, in the outbox), a contact that reopens a thread closed less than the
reopen window ago, or nothing more when it joins a thread whose contact is still open. Its
``Message-ID`` is unique, so a mail fetched twice (a crash between storing it and marking it
seen on the server) is recognised and causes nothing twice. A mail to send is written to the
outbox first and marked sent once the mail server has accepted it, so nothing the engine
promised to send is lost in a crash.

Addresses, subjects, bodies and attachments are personal (sealed at rest,
``resealing.SEALED``); ids, times, Message-IDs and codes are clear.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from contactcenter.mail.message import Mail
from contactcenter.store.connection import Connection, Row
from contactcenter.store.errors import StoreError
from contactcenter.store.store import Store, _insert_contact, _new_id

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a reference is read out on the phone and typed again."""


class UnknownThread(StoreError):
    """No mail thread with that id or contact."""


@dataclass(frozen=True)
class Received:
    """What storing a received mail did."""

    duplicate: bool
    """The mail was stored before (fetched again): nothing was done."""
    thread_id: int
    contact_id: str
    queued: bool
    """A new contact was created (a new thread, or a reopened one): route it."""
    reopened: bool = False
    mail_id: int = 0
    acknowledged: bool = False
    """An acknowledgement went into the outbox."""


@dataclass(frozen=True)
class NewThread:
    """Where a mail that starts a thread goes (decided by the caller from config and CRM)."""

    contact_id: str
    mailbox: str
    queue: str
    tier: str
    customer_id: str | None
    verified: bool
    """The sender was authenticated (``customer_id`` may drive routing)."""
    acknowledgement: str | None
    """The acknowledgement's text (``{reference}`` filled in here), or None: none is sent."""
    reopen_seconds: float


@dataclass(frozen=True)
class StoredAttachment:
    id: int
    filename: str
    content_type: str
    size: int
    kept: bool


@dataclass(frozen=True)
class StoredMail:
    id: int
    thread_id: int
    contact_id: str
    direction: str
    """``in`` (from the customer), ``out`` (an agent's answer), ``ack`` (acknowledgement)."""
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    automatic: str | None
    agent_id: str | None
    wall_time: float
    sent_wall: float | None
    attachments: tuple[StoredAttachment, ...]


@dataclass(frozen=True)
class Thread:
    id: int
    reference: str
    mailbox: str
    queue: str
    customer_id: str | None
    customer_address: str
    subject: str
    contact_id: str
    opened_wall: float
    closed_wall: float | None


def new_reference() -> str:
    pick = [secrets.choice(_REFERENCE_ALPHABET) for _ in range(8)]
    return f"{''.join(pick[:4])}-{''.join(pick[4:])}"


_THREAD = (
    "id, reference, mailbox, queue, customer_id, customer_address, subject, contact_id,"
    " opened_wall, closed_wall"
)
_MAIL = (
    "id, thread_id, contact_id, direction, message_id, in_reply_to, refs, sender, recipients,"
    " subject, text, html, automatic, agent_id, wall_time, sent_wall"
)


class MailStore:
    """The mail tables of ``store`` (same database, same keys, same write lock)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def receive(
        self,
        mail: Mail,
        *,
        mailbox: str,
        wall_time: float,
        new_thread: NewThread,
        max_attachment_bytes: int,
        uid: tuple[int, int] | None = None,
    ) -> Received:
        """Store ``mail`` (see the module docstring); ``new_thread`` says where it goes if it
        starts a thread (or reopens one: a new contact of the same queue, customer and tier);
        ``uid``: (UIDVALIDITY, UID) in the mailbox, for the record."""
        s = self.store
        async with s._write() as db:
            known = await _one(db, "SELECT thread_id, contact_id FROM mails WHERE message_id = ?",
                               (mail.message_id,))  # fmt: skip
            if known is not None:
                return Received(True, known[0], known[1], queued=False)
            thread = await self._thread_of(db, mail, mailbox)
            if thread is None or (
                thread[3] is not None and wall_time - thread[3] > new_thread.reopen_seconds
            ):
                return await self._start_thread(db, mail, mailbox, wall_time, new_thread,
                                                max_attachment_bytes, uid)  # fmt: skip
            thread_id, _, contact_id, closed_wall = thread
            reopened = closed_wall is not None
            if reopened:
                previous, contact_id = contact_id, new_thread.contact_id
                await self._insert_contact(db, new_thread, mail, wall_time, previous)
                await db.execute(
                    "UPDATE mail_threads SET contact_id = ?, closed_wall = NULL WHERE id = ?",
                    (contact_id, thread_id),
                )
            mail_id = await self._insert_mail(db, thread_id, contact_id, "in", mail, wall_time,
                                              max_attachment_bytes, uid=uid)  # fmt: skip
            return Received(False, thread_id, contact_id, reopened, reopened, mail_id)

    async def _start_thread(
        self,
        db: Connection,
        mail: Mail,
        mailbox: str,
        wall_time: float,
        new_thread: NewThread,
        limit: int,
        uid: tuple[int, int] | None,
    ) -> Received:
        """A new thread (also for an answer to one closed longer ago than the window), its
        contact, the mail and its acknowledgement."""
        s = self.store
        reference = await _free_reference(db)
        cur = await db.execute(
            "INSERT INTO mail_threads (reference, mailbox, queue, customer_id, customer_address,"
            " subject, contact_id, opened_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (reference, mailbox, new_thread.queue, new_thread.customer_id,
             s._seal("mail_threads", "customer_address", mail.sender),
             s._seal("mail_threads", "subject", mail.subject), new_thread.contact_id, wall_time),
        )  # fmt: skip
        thread_id = await _new_id(cur)
        await self._insert_contact(db, new_thread, mail, wall_time, None)
        mail_id = await self._insert_mail(db, thread_id, new_thread.contact_id, "in", mail,
                                          wall_time, limit, uid=uid)  # fmt: skip
        ack = new_thread.acknowledgement if mail.automatic is None else None
        if ack:
            await self._queue_ack(db, thread_id, new_thread.contact_id, mailbox, mail,
                                  reference, ack, wall_time)  # fmt: skip
        return Received(False, thread_id, new_thread.contact_id, True, False, mail_id, bool(ack))

    async def _thread_of(
        self, db: Connection, mail: Mail, mailbox: str
    ) -> tuple[int, str, str, float | None] | None:
        """The thread ``mail`` answers: by the Message-IDs it names, else by the reference
        in its subject (only a thread of the same mailbox)."""
        keys = mail.thread_keys()
        if keys:
            row = await _one(
                db,
                "SELECT t.id, t.reference, t.contact_id, t.closed_wall FROM mails m"
                " JOIN mail_threads t ON t.id = m.thread_id"
                f" WHERE m.message_id IN ({', '.join('?' * len(keys))}) AND t.mailbox = ?"
                " ORDER BY m.id DESC LIMIT 1",
                (*keys, mailbox),
            )
            if row is not None:
                return row[0], row[1], row[2], row[3]
        reference = mail.reference
        if reference is not None:
            row = await _one(
                db,
                "SELECT id, reference, contact_id, closed_wall FROM mail_threads"
                " WHERE reference = ? AND mailbox = ?",
                (reference, mailbox),
            )
            if row is not None:
                return row[0], row[1], row[2], row[3]
        return None

    async def _insert_contact(
        self,
        db: Connection,
        t: NewThread,
        mail: Mail,
        wall_time: float,
        previous: str | None,
    ) -> None:
        s = self.store
        await _insert_contact(
            db, t.contact_id, "email", t.queue, wall_time, t.customer_id, t.tier,
            s._seal("contacts", "customer_name", mail.sender_name or None), None,
            t.verified, "inbound", previous,
        )  # fmt: skip

    async def _insert_mail(
        self,
        db: Connection,
        thread_id: int,
        contact_id: str,
        direction: str,
        mail: Mail,
        wall_time: float,
        limit: int,
        *,
        uid: tuple[int, int] | None = None,
        agent_id: str | None = None,
    ) -> int:
        s = self.store

        def seal(column: str, value: str | None) -> str | None:
            return s._seal("mails", column, value)

        cur = await db.execute(
            "INSERT INTO mails (thread_id, contact_id, direction, message_id, in_reply_to, refs,"
            " sender, recipients, subject, text, html, automatic, defects, agent_id,"
            " uidvalidity, uid, wall_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?) RETURNING id",
            (thread_id, contact_id, direction, mail.message_id, mail.in_reply_to,
             " ".join(mail.references), seal("sender", mail.sender),
             seal("recipients", " ".join(mail.to)), seal("subject", mail.subject),
             seal("text", mail.text), seal("html", mail.html), mail.automatic,
             " ".join(mail.defects) or None, agent_id,
             uid[0] if uid else None, uid[1] if uid else None, wall_time),
        )  # fmt: skip
        mail_id = await _new_id(cur)
        await db.executemany(
            "INSERT INTO mail_attachments (mail_id, filename, content_type, size, data)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (mail_id, s._seal("mail_attachments", "filename", a.filename), a.content_type,
                 a.size,
                 s._seal("mail_attachments", "data", base64.b64encode(a.data).decode())
                 if a.data is not None and a.size <= limit else None)
                for a in mail.attachments
            ],
        )  # fmt: skip
        return mail_id

    async def _queue_ack(
        self,
        db: Connection,
        thread_id: int,
        contact_id: str,
        mailbox: str,
        mail: Mail,
        reference: str,
        text: str,
        wall_time: float,
    ) -> None:
        ack = Mail(
            message_id=_new_message_id(mailbox),
            sender=mailbox,
            sender_name="",
            to=(mail.sender,),
            subject=reply_subject(mail.subject, reference),
            in_reply_to=mail.message_id,
            references=(*mail.references, mail.message_id),
            text=text.replace("{reference}", reference),
            html=None,
            attachments=(),
            automatic="Auto-Submitted: auto-replied",
        )
        await self._insert_mail(db, thread_id, contact_id, "ack", ack, wall_time, 0)

    async def queue_answer(
        self, contact_id: str, agent_id: str, text: str, wall_time: float
    ) -> StoredMail:
        """Put an agent's answer to the thread of ``contact_id`` in the outbox: to the
        customer, from the mailbox, threaded on the thread's last received mail."""
        s = self.store
        async with s._write() as db:
            thread = await self._thread_row(db, "contact_id", contact_id)
            last = await _one(
                db,
                "SELECT message_id, refs FROM mails WHERE thread_id = ? AND direction = 'in'"
                " ORDER BY id DESC LIMIT 1",
                (thread.id,),
            )
            refs = tuple(last[1].split()) if last and last[1] else ()
            answer = Mail(
                message_id=_new_message_id(thread.mailbox),
                sender=thread.mailbox,
                sender_name="",
                to=(thread.customer_address,),
                subject=reply_subject(thread.subject, thread.reference),
                in_reply_to=last[0] if last else None,
                references=(*refs, last[0]) if last else (),
                text=text,
                html=None,
                attachments=(),
                automatic=None,
            )
            mail_id = await self._insert_mail(db, thread.id, contact_id, "out", answer,
                                              wall_time, 0, agent_id=agent_id)  # fmt: skip
        return (await self.mails_where("id = ?", (mail_id,)))[0]

    async def queue_notice(
        self, contact_id: str, direction: str, subject: str, text: str, wall_time: float
    ) -> None:
        """Put an automatic mail about the thread of ``contact_id`` (e.g. ``survey``) in the
        outbox: to the customer, from the mailbox, threaded on the thread's last mail."""
        s = self.store
        async with s._write() as db:
            thread = await self._thread_row(db, "contact_id", contact_id)
            last = await _one(
                db, "SELECT message_id FROM mails WHERE thread_id = ? ORDER BY id DESC LIMIT 1",
                (thread.id,),
            )  # fmt: skip
            notice = Mail(
                message_id=_new_message_id(thread.mailbox),
                sender=thread.mailbox,
                sender_name="",
                to=(thread.customer_address,),
                subject=f"{subject} [#{thread.reference}]",
                in_reply_to=last[0] if last else None,
                references=(last[0],) if last else (),
                text=text,
                html=None,
                attachments=(),
                automatic="Auto-Submitted: auto-generated",
            )
            await self._insert_mail(db, thread.id, contact_id, direction, notice, wall_time, 0)

    async def close_thread(self, contact_id: str, wall_time: float) -> None:
        """The thread's contact is over: answers to it reopen it within the window."""
        async with self.store._write() as db:
            await db.execute(
                "UPDATE mail_threads SET closed_wall = ? WHERE contact_id = ?"
                " AND closed_wall IS NULL",
                (wall_time, contact_id),
            )

    async def outbox(self) -> list[StoredMail]:
        """Mails to send, oldest first."""
        return await self.mails_where("direction != 'in' AND sent_wall IS NULL")

    async def mark_sent(self, mail_id: int, wall_time: float) -> None:
        async with self.store._write() as db:
            await db.execute("UPDATE mails SET sent_wall = ? WHERE id = ?", (wall_time, mail_id))

    async def thread(self, contact_id: str) -> Thread:
        async with self.store._read() as db:
            return await self._thread_row(db, "contact_id", contact_id)

    async def thread_mails(self, thread_id: int) -> list[StoredMail]:
        return await self.mails_where("thread_id = ?", (thread_id,))

    async def attachment(self, attachment_id: int) -> tuple[StoredAttachment, int, bytes | None]:
        """An attachment, the thread it belongs to, and its content (None: not kept)."""
        s = self.store
        row = await s._row(
            "SELECT a.id, a.filename, a.content_type, a.size, a.data, m.thread_id"
            " FROM mail_attachments a JOIN mails m ON m.id = a.mail_id WHERE a.id = ?",
            (attachment_id,),
        )
        if row is None:
            raise UnknownThread(f"attachment {attachment_id}")
        data = s._open("mail_attachments", "data", row[4])
        return (
            StoredAttachment(row[0], s._open("mail_attachments", "filename", row[1]) or "",
                             row[2], row[3], row[4] is not None),
            row[5],
            base64.b64decode(data) if data is not None else None,
        )  # fmt: skip

    async def mails_where(self, where: str, params: Sequence[object] = ()) -> list[StoredMail]:
        s = self.store
        rows = await s._rows(f"SELECT {_MAIL} FROM mails WHERE {where} ORDER BY id", params)
        if not rows:
            return []
        ids = [r[0] for r in rows]
        att: dict[int, list[StoredAttachment]] = {}
        for a in await s._rows(
            "SELECT id, mail_id, filename, content_type, size, data IS NOT NULL"
            f" FROM mail_attachments WHERE mail_id IN ({', '.join('?' * len(ids))}) ORDER BY id",
            ids,
        ):
            att.setdefault(a[1], []).append(
                StoredAttachment(a[0], s._open("mail_attachments", "filename", a[2]) or "",
                                 a[3], a[4], bool(a[5]))
            )  # fmt: skip

        return [self._mail(r, tuple(att.get(r[0], ()))) for r in rows]

    def _mail(self, r: Row, attachments: tuple[StoredAttachment, ...]) -> StoredMail:
        s = self.store

        def opened(column: str, value: str | None) -> str:
            return s._open("mails", column, value) or ""

        return StoredMail(
            id=r[0], thread_id=r[1], contact_id=r[2], direction=r[3], message_id=r[4],
            in_reply_to=r[5], references=tuple((r[6] or "").split()),
            sender=opened("sender", r[7]), recipients=tuple(opened("recipients", r[8]).split()),
            subject=opened("subject", r[9]), text=opened("text", r[10]),
            html=s._open("mails", "html", r[11]), automatic=r[12], agent_id=r[13],
            wall_time=r[14], sent_wall=r[15], attachments=attachments,
        )  # fmt: skip

    async def _thread_row(self, db: Connection, column: str, value: object) -> Thread:
        row = await _one(db, f"SELECT {_THREAD} FROM mail_threads WHERE {column} = ?", (value,))
        if row is None:
            raise UnknownThread(f"no mail thread with {column} {value}")
        s = self.store
        return Thread(
            row[0], row[1], row[2], row[3], row[4],
            s._open("mail_threads", "customer_address", row[5]) or "",
            s._open("mail_threads", "subject", row[6]) or "", row[7], row[8], row[9],
        )  # fmt: skip


def reply_subject(subject: str, reference: str) -> str:
    """``Re: <subject> [#REF]`` (no second ``Re:``, no second reference)."""
    base = subject.strip() or "Your message"
    if not base.lower().startswith("re:"):
        base = f"Re: {base}"
    return base if f"[#{reference}]" in base else f"{base} [#{reference}]"


def _new_message_id(mailbox: str) -> str:
    domain = mailbox.rsplit("@", 1)[-1]
    return f"<{secrets.token_hex(12)}@{domain}>"


async def _free_reference(db: Connection) -> str:
    while True:
        reference = new_reference()
        if await _one(db, "SELECT 1 FROM mail_threads WHERE reference = ?", (reference,)) is None:
            return reference


async def _one(db: Connection, sql: str, params: Sequence[object]) -> Row | None:
    async with db.execute(sql, params) as cur:
        row: Row | None = await cur.fetchone()
        return row
