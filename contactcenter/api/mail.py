"""The agent's side of an e-mail contact: read the thread (plain text, and HTML as the mail edge
sanitized it), download an attachment, answer (into the outbox, sent by the mail edge).

Every read is an audited read of the contact (the thread is the customer's words). The HTML is
served as data for a sandboxed frame (the desktop shows it with ``sandbox`` and no scripts);
an attachment is sent as a download (``Content-Disposition: attachment``, ``nosniff``),
never rendered by the engine's origin.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from contactcenter.api.agents import contact_id
from contactcenter.api.audit import shown
from contactcenter.api.auth import agent_of
from contactcenter.api.context import CTX
from contactcenter.api.errors import read_body
from contactcenter.api.openapi import Audit, Route
from contactcenter.runtime.errors import Refused
from contactcenter.runtime.mail import MailService
from contactcenter.store.mail import StoredMail, UnknownThread

MAX_ANSWER_CHARS = 100_000


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    kept: bool = Field(description="False: over the size limit, listed but not kept")


class MailOut(BaseModel):
    id: int
    direction: str = Field(
        description="in (customer), out (agent's answer), ack (automatic acknowledgement), "
        "survey (the survey link sent at close)"
    )
    sender: str
    subject: str
    text: str
    html: str | None = Field(description="Sanitized HTML (no scripts, no images), or null")
    wall_time: float
    sent: bool = Field(description="For a mail out: the mail server accepted it")
    agent_id: str | None
    attachments: list[AttachmentOut]


class ThreadOut(BaseModel):
    reference: str
    queue: str
    subject: str
    customer_address: str
    mails: list[MailOut]


class AnswerBody(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


def _mail(request: web.Request) -> MailService:
    service = request.app[CTX].site.mail
    if service is None:
        raise Refused("channel_unavailable", "e-mail is not served here (no mail.yaml)")
    return service


def _out(m: StoredMail) -> dict[str, object]:
    return {
        "id": m.id, "direction": m.direction, "sender": m.sender, "subject": m.subject,
        "text": m.text, "html": m.html, "wall_time": m.wall_time,
        "sent": m.sent_wall is not None, "agent_id": m.agent_id,
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type,
             "size": a.size, "kept": a.kept}
            for a in m.attachments
        ],
    }  # fmt: skip


async def thread(request: web.Request) -> web.Response:
    """The thread of an e-mail contact offered to or held by the agent."""
    service, aid, cid = _mail(request), agent_of(request), contact_id(request)
    request.app[CTX].site.agents.involved(aid, cid)
    try:
        t, mails = await service.thread(cid)
    except UnknownThread as e:
        raise web.HTTPNotFound(text=str(e)) from e
    shown(request, parts=["mail_thread"], mails=[m.id for m in mails])
    return web.json_response({
        "reference": t.reference, "queue": t.queue, "subject": t.subject,
        "customer_address": t.customer_address, "mails": [_out(m) for m in mails],
    })  # fmt: skip


async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment of the thread, as a download."""
    service, aid, cid = _mail(request), agent_of(request), contact_id(request)
    request.app[CTX].site.agents.involved(aid, cid)
    try:
        number = int(request.match_info["attachment"])
        t = await service.mails.thread(cid)
        found, thread_id, data = await service.mails.attachment(number)
    except (ValueError, UnknownThread) as e:
        raise web.HTTPNotFound(text="no such attachment") from e
    if thread_id != t.id:
        raise web.HTTPNotFound(text="no such attachment")
    if data is None:
        raise Refused("not_kept", f"{found.filename} ({found.size} bytes) was over the size "
                                  "limit: it was listed, not kept")  # fmt: skip
    shown(request, parts=["mail_attachment"], attachment=found.id)
    quoted = found.filename.replace('"', "'")
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{quoted}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


async def answer(request: web.Request) -> web.Response:
    """The agent's answer to the customer (it leaves through the mail server)."""
    body = await read_body(request, AnswerBody)  # (a malformed body is a 400 first)
    service, aid, cid = _mail(request), agent_of(request), contact_id(request)
    request.app[CTX].site.agents.held_by(aid, cid)
    try:
        stored = await service.answer(aid, cid, body.text)
    except UnknownThread as e:
        raise web.HTTPNotFound(text=str(e)) from e
    return web.json_response(_out(stored), status=201)


ROUTES = [
    Route("GET", "/api/agent/contacts/{id}/mail", thread, "The e-mail thread of a contact",
          "agent", access="agent", response=ThreadOut,
          audit=Audit("read_mail_thread", reads=True),
          errors=((403, "The contact is not with this agent"),
                  (404, "The contact has no e-mail thread"),
                  (409, "E-mail is not served here (no mail edge)"))),
    Route("GET", "/api/agent/contacts/{id}/mail/attachments/{attachment}", attachment,
          "An attachment of the contact's e-mail thread (a download)", "agent",
          access="agent", kind="download", audit=Audit("read_mail_attachment", reads=True),
          errors=((403, "The contact is not with this agent"),
                  (404, "No such attachment in this thread"),
                  (409, "The attachment was over the size limit (not kept), or e-mail is not "
                        "served here"))),
    Route("POST", "/api/agent/contacts/{id}/mail/answer", answer,
          "Answer the customer (sent through the mail server, threaded)", "agent",
          access="agent", body=AnswerBody, response=MailOut, status=201,
          audit=Audit("answer_mail"),
          errors=((403, "The contact is not with this agent"),)),
]  # fmt: skip
