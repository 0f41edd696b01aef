"""CSAT surveys over HTTP: the chat widget asks its customer when the chat has ended, and
supervisors read the scores per queue and agent.

Only the contact's own customer may answer: the request carries the contact's token (an HMAC
of the contact id under the server's secret: the one ``POST /api/chat`` returned to the widget,
or the one in the survey link a closing e-mail sends to ``/survey``), as the chat's socket
does. Whether the contact takes an answer now is the runtime's
decision (``runtime/surveys.py``: handled by an agent, ended, within the window, once).
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field

from contactcenter.api.context import CTX, Ctx
from contactcenter.api.customers import chat_token
from contactcenter.api.errors import ApiError, read_body
from contactcenter.api.fcr import day_start, local_day
from contactcenter.api.openapi import Param, Route
from contactcenter.api.schemas import MAX_TEXT, Body
from contactcenter.kpi import Csat
from contactcenter.store.surveys import csat_between

TOKEN = Annotated[str, Field(min_length=1, max_length=128)]


class SurveyAnswerBody(Body):
    token: TOKEN
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=MAX_TEXT)] | None = None


class SurveyOfferOut(BaseModel):
    question: str
    scores: list[int]
    closes_at: str
    """ISO 8601, UTC: no answer is taken after it."""


class SurveyAnswered(BaseModel):
    score: int


class CsatRow(BaseModel):
    answers: int
    unanswered: int
    """Surveys asked (on the phone) that got no score: not in ``answers`` or the average."""
    average: float | None
    satisfied: float | None
    """Share of answers scoring 4 or 5."""


class CsatQueueRow(CsatRow):
    queue: str
    name: str
    channel: str


class CsatAgentRow(CsatRow):
    agent_id: str
    name: str


class CsatDay(BaseModel):
    day: str
    queues: list[CsatQueueRow]
    agents: list[CsatAgentRow]


def _check_token(ctx: Ctx, cid: str, token: str) -> None:
    if len(cid) > 64 or not hmac.compare_digest(
        token.encode(), chat_token(ctx.chat_secret, cid).encode()
    ):
        raise ApiError(403, "bad_token", "this chat's token is missing or wrong")


async def chat_survey(request: web.Request) -> web.Response:
    """The survey the chat's customer is asked now (409: none: ``no_survey``, the chat is not
    over, ``contact_open``, too late, ``survey_closed``)."""
    ctx = request.app[CTX]
    cid = request.match_info["id"]
    _check_token(ctx, cid, request.query.get("token", ""))
    offer = await ctx.site.surveys.offer(cid)
    closes = dt.datetime.fromtimestamp(offer.closes_wall, dt.UTC)
    return web.json_response(
        {
            "question": offer.question,
            "scores": [1, 2, 3, 4, 5],
            "closes_at": closes.isoformat(timespec="seconds"),
        }
    )


async def answer_chat_survey(request: web.Request) -> web.Response:
    """The chat's customer scores it 1-5 (409 ``already_answered`` for a second answer)."""
    ctx = request.app[CTX]
    cid = request.match_info["id"]
    body = await read_body(request, SurveyAnswerBody)
    _check_token(ctx, cid, body.token)
    survey = await ctx.site.surveys.answer(cid, body.score, body.comment)
    return web.json_response({"score": survey.score}, status=201)


async def contact_survey(request: web.Request) -> web.Response:
    """The survey of an ended contact, for the page a closing e-mail links to (the chat's
    survey under the channel-neutral path)."""
    return await chat_survey(request)


async def answer_contact_survey(request: web.Request) -> web.Response:
    """The contact's customer scores it 1-5 from the survey page (409 ``already_answered``
    for a second answer)."""
    return await answer_chat_survey(request)


def _row(c: Csat) -> dict[str, Any]:
    average, share = c.average(), c.satisfied_share()
    return {
        "answers": c.answers,
        "unanswered": c.unanswered,
        "average": round(average, 2) if average is not None else None,
        "satisfied": round(share, 4) if share is not None else None,
    }


async def csat_day(request: web.Request) -> web.Response:
    """CSAT of a day of the center (its time zone; default today) per queue and agent."""
    ctx = request.app[CTX]
    day = local_day(ctx, request.query.get("day"), "day")
    start, end = day_start(ctx, day), day_start(ctx, day + dt.timedelta(days=1))
    report = await csat_between(ctx.store, start, end)
    agents, queues = ctx.engine.center.agents, ctx.engine.center.queues
    return web.json_response(
        {
            "day": day.isoformat(),
            "queues": [
                {"queue": q, "name": queues[q].name if q in queues else q, "channel": ch, **_row(c)}
                for (q, ch), c in sorted(report.queues.items())
            ],
            "agents": [
                {"agent_id": a, "name": agents[a].name if a in agents else a, **_row(c)}
                for a, c in sorted(report.agents.items())
            ],
        }
    )


_NO_SURVEY = "no_survey (not surveyed, or no agent handled it), contact_open, survey_closed"

ROUTES = [
    Route("GET", "/api/chat/{id}/survey", chat_survey, "The CSAT survey of an ended chat",
          "chat", response=SurveyOfferOut,
          query=(Param("token", "the token POST /api/chat returned"),),
          errors=((403, "Missing or wrong token"), (409, f"{_NO_SURVEY}, already_answered")),
          description=chat_survey.__doc__ or ""),
    Route("POST", "/api/chat/{id}/survey", answer_chat_survey, "Answer the CSAT survey of an "
          "ended chat (once; the comment is kept as personal data)", "chat",
          body=SurveyAnswerBody, response=SurveyAnswered, status=201,
          errors=((403, "Missing or wrong token"), (409, f"{_NO_SURVEY}, already_answered")),
          description=answer_chat_survey.__doc__ or ""),
    Route("GET", "/api/surveys/{id}", contact_survey, "The CSAT survey of an ended contact (the "
          "page a closing e-mail links to)", "survey", response=SurveyOfferOut,
          query=(Param("token", "the token of the survey link"),),
          errors=((403, "Missing or wrong token"), (409, f"{_NO_SURVEY}, already_answered")),
          description=contact_survey.__doc__ or ""),
    Route("POST", "/api/surveys/{id}", answer_contact_survey, "Answer the CSAT survey of an "
          "ended contact (once; the comment is kept as personal data)", "survey",
          body=SurveyAnswerBody, response=SurveyAnswered, status=201,
          errors=((403, "Missing or wrong token"), (409, f"{_NO_SURVEY}, already_answered")),
          description=answer_contact_survey.__doc__ or ""),
    Route("GET", "/api/supervisor/csat", csat_day, "CSAT per queue and agent for a day "
          "(scores only, no customer data)", "supervisor", access="supervisor",
          response=CsatDay, query=(Param("day", "YYYY-MM-DD in the center's time zone "
                                         "(default today)", required=False),),
          errors=((422, "invalid_day: not a date"),),
          description=csat_day.__doc__ or ""),
]  # fmt: skip
