"""Per-agent assessment for supervisors: each agent's day of the center, or each interval of
it, from the stored records (``store/assessment.py``; the definitions are
``contactcenter.kpi``'s). Sums and means only: no contact or customer ids, so no audit entry."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from contactcenter.api.context import CTX
from contactcenter.api.errors import ApiError
from contactcenter.api.fcr import day_start, local_day
from contactcenter.api.openapi import Param, Route
from contactcenter.runtime.today import center_zone
from contactcenter.store.assessment import AgentPeriod, assess

BY = ("day", "interval")


class QueueHandled(BaseModel):
    queue: str
    name: str
    handled: int


class AssessmentPeriod(BaseModel):
    start: str
    """When the period starts: ISO 8601 in the center's time zone."""
    handled: int
    aht_seconds: float | None
    talk_seconds: float | None
    acw_seconds: float | None
    occupancy: float | None
    csat_answers: int
    csat_average: float | None
    first_contacts: int
    resolved_first: int
    fcr: float | None
    transfers: int
    no_answers: int
    queues: list[QueueHandled]


class AgentAssessment(BaseModel):
    agent_id: str
    name: str
    periods: list[AssessmentPeriod]


class Assessment(BaseModel):
    date: str
    by: str
    interval_minutes: int
    agents: list[AgentAssessment]


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


async def agents_assessment(request: web.Request) -> web.Response:
    """Per agent who did anything that day: handled contacts, AHT and mean talk time, ACW
    (mean wrap-up), occupancy, CSAT, FCR, transfers made and no-answers, for the day (``by=day``)
    or each of its intervals (``by=interval``: the center's ``interval_minutes``)."""
    ctx = request.app[CTX]
    center = ctx.engine.center
    day = local_day(ctx, request.query.get("date"), "date")
    by = request.query.get("by", "day")
    if by not in BY:
        raise ApiError(422, "invalid_by", "by must be day or interval")
    agent = request.query.get("agent")
    if agent is not None and agent not in center.agents:
        raise ApiError(422, "unknown_agent", "agent: not an agent of this center")
    start, end = day_start(ctx, day), day_start(ctx, day + dt.timedelta(days=1))
    step = center.settings.interval_minutes * 60
    edges = [start, end] if by == "day" else [*_steps(start, end, step), end]
    rows = await assess(
        ctx.store,
        edges,
        [agent] if agent is not None else list(center.agents),
        window=center.settings.fcr.window_days * 86_400,
        now_wall=ctx.engine.wall(),
    )
    zone = center_zone(center.settings.timezone)

    def period(r: AgentPeriod) -> dict[str, Any]:
        w, rate = r.work, r.fcr.rate()
        return {
            "start": dt.datetime.fromtimestamp(edges[r.period], zone).isoformat(),
            "handled": w.handled,
            "aht_seconds": _rounded(w.aht(), 1),
            "talk_seconds": _rounded(w.average_talk(), 1),
            "acw_seconds": _rounded(w.acw(), 1),
            "occupancy": _rounded(w.occupancy(), 4),
            "csat_answers": r.csat.answers,
            "csat_average": _rounded(r.csat.average(), 2),
            "first_contacts": r.fcr.first_contacts,
            "resolved_first": r.fcr.resolved,
            "fcr": _rounded(rate, 4),
            "transfers": w.transfers,
            "no_answers": w.no_answers,
            "queues": [
                {"queue": q, "name": center.queues[q].name if q in center.queues else q,
                 "handled": n}
                for q, n in sorted(r.queues.items())
            ],
        }  # fmt: skip

    agents: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        agents.setdefault(r.agent, []).append(period(r))
    return web.json_response(
        {
            "date": day.isoformat(),
            "by": by,
            "interval_minutes": center.settings.interval_minutes,
            "agents": [
                {"agent_id": a, "name": center.agents[a].name, "periods": periods}
                for a, periods in agents.items()
            ],
        }
    )


def _steps(start: float, end: float, step: float) -> list[float]:
    """``start`` and every ``step`` after it before ``end`` (a day of 23 or 25 hours when the
    clocks change has 46 or 50 half hours)."""
    return [start + n * step for n in range(math.ceil((end - start) / step))]


ROUTES = [
    Route("GET", "/api/supervisor/agents/assessment", agents_assessment, "Per agent: handled, "
          "AHT, ACW, occupancy, CSAT, FCR, transfers and no-answers for a day or each of its "
          "intervals (no customer data)", "supervisor", access="supervisor",
          response=Assessment,
          query=(Param("date", "YYYY-MM-DD in the center's time zone (default today)",
                       required=False),
                 Param("by", "day (default) or interval (the center's interval_minutes)",
                       required=False, values=BY),
                 Param("agent", "one agent's id (default: every agent)", required=False)),
          errors=((422, "invalid_date: not a date; invalid_by; unknown_agent"),),
          description=agents_assessment.__doc__ or ""),
]  # fmt: skip
