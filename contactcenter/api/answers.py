"""Standard answers for the agent's reply box: ``GET /api/agent/contacts/{id}/answers`` lists
the answers of the contact's queue and language, rendered for this contact and agent, so the
desktop only inserts text (``/shortcut`` + Tab, or the picker) and never fills a template.

The customer's name is filled only for a verified customer (the CRM's name: what a visitor
typed into the widget is not theirs to vouch for); otherwise the answer's fallback reads. A
call is an audited read of the contact (the entry names ``customer_name`` among the parts
shown when it was filled).
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from contactcenter.api.agents import contact_id
from contactcenter.api.audit import shown
from contactcenter.api.auth import agent_of
from contactcenter.api.context import CTX
from contactcenter.api.openapi import Audit, Route


class StandardAnswerOut(BaseModel):
    shortcut: str = Field(description="Typed as `/shortcut` in the reply box")
    title: str
    text: str = Field(description="Ready to send: its variables filled, or their fallbacks")


class StandardAnswers(BaseModel):
    language: str = Field(description="The contact's: its queue's, else the center's")
    answers: list[StandardAnswerOut]


async def contact_answers(request: web.Request) -> web.Response:
    """The standard answers of a contact offered to or held by the agent."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    center = ctx.engine.center
    view = ctx.site.agents.involved(aid, cid)
    queue = center.queues[view.queue]
    language = queue.language or center.settings.language
    rec = await ctx.store.contact(cid)
    customer = None  # only a verified customer's name is theirs
    if rec is not None and rec.customer_id is not None and rec.verified:
        customer = await ctx.store.customer(rec.customer_id)
    agent = center.agents.get(aid)
    values = {
        "customer_name": customer.name if customer is not None else None,
        "agent_name": agent.name.split()[0] if agent is not None and agent.name else None,
        "queue": queue.name or queue.id,
        "center": center.settings.name,
    }
    answers = ctx.settings.answers
    offered = answers.for_contact(queue.id, language)
    rendered = [answers.render(a, language, values) for a in offered]
    filled = {name for r in rendered for name in r.filled}
    shown(request, parts=["customer_name"] if "customer_name" in filled else [])
    out = [{"shortcut": r.shortcut, "title": r.title, "text": r.text} for r in rendered]
    return web.json_response({"language": language, "answers": out})


ROUTES = [
    Route("GET", "/api/agent/contacts/{id}/answers", contact_answers, "Standard answers for "
          "the contact's queue and language, rendered for it", "agent", access="agent",
          response=StandardAnswers, audit=Audit("read_answers", reads=True),
          errors=((403, "The contact is not with this agent"),)),
]  # fmt: skip
