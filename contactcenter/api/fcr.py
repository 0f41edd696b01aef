"""First-contact resolution for supervisors: per queue and per agent over a period of the
center's days (``store/fcr.py``; the rule is ``contactcenter.kpi.first_contacts``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError
from contactcenter.api.openapi import Param, Route
from contactcenter.kpi import Fcr
from contactcenter.runtime.today import center_zone
from contactcenter.store.fcr import fcr_between


def local_day(ctx: Ctx, given: str | None, name: str) -> dt.date:
    """The center's local date ``given`` (YYYY-MM-DD; None: today), else 422."""
    if given is None:
        zone = center_zone(ctx.engine.center.settings.timezone)
        return dt.datetime.fromtimestamp(ctx.engine.wall(), zone).date()
    try:
        return dt.date.fromisoformat(given)
    except ValueError:
        raise ApiError(422, f"invalid_{name}", f"{name}: not a date (YYYY-MM-DD)") from None


def day_start(ctx: Ctx, day: dt.date) -> float:
    """Local midnight starting ``day``, as wall-clock seconds."""
    zone = center_zone(ctx.engine.center.settings.timezone)
    return dt.datetime.combine(day, dt.time(), zone).timestamp()


class FcrRow(BaseModel):
    first_contacts: int
    resolved: int
    fcr: float | None


class FcrQueueRow(FcrRow):
    queue: str
    name: str
    provisional: int
    """First contacts whose window is still open: they may yet be repeated."""


class FcrAgentRow(FcrRow):
    agent_id: str
    name: str


class FcrPeriod(BaseModel):
    first: str
    last: str
    window_days: float
    queues: list[FcrQueueRow]
    agents: list[FcrAgentRow]


def _row(f: Fcr) -> dict[str, Any]:
    rate = f.rate()
    return {
        "first_contacts": f.first_contacts,
        "resolved": f.resolved,
        "fcr": round(rate, 4) if rate is not None else None,
    }


async def fcr_period(request: web.Request) -> web.Response:
    """FCR of the first contacts that arrived from day ``from`` to day ``to`` (inclusive,
    the center's time zone; default today): verified customers only."""
    ctx = request.app[CTX]
    first = local_day(ctx, request.query.get("from"), "from")
    last = local_day(ctx, request.query.get("to"), "to") if "to" in request.query else first
    if last < first:
        raise ApiError(422, "invalid_period", "to is before from")
    if (last - first).days > 366:
        raise ApiError(422, "invalid_period", "a period is a year at most")
    center = ctx.engine.center
    window = center.settings.fcr.window_days * 86_400
    report = await fcr_between(
        ctx.store,
        day_start(ctx, first),
        day_start(ctx, last + dt.timedelta(days=1)),
        window=window,
        now_wall=ctx.engine.wall(),
    )
    queues, agents = center.queues, center.agents
    return web.json_response(
        {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "window_days": center.settings.fcr.window_days,
            "queues": [
                {"queue": q, "name": queues[q].name if q in queues else q,
                 "provisional": report.provisional.get(q, 0), **_row(f)}
                for q, f in sorted(report.queues.items())
            ],
            "agents": [
                {"agent_id": a, "name": agents[a].name if a in agents else a, **_row(f)}
                for a, f in sorted(report.agents.items())
            ],
        }
    )  # fmt: skip


ROUTES = [
    Route("GET", "/api/supervisor/fcr", fcr_period, "First-contact resolution per queue and "
          "agent for a period (verified customers; no customer data)", "supervisor",
          access="supervisor", response=FcrPeriod,
          query=(Param("from", "first day, YYYY-MM-DD in the center's time zone (default "
                       "today)", required=False),
                 Param("to", "last day (default: from)", required=False)),
          errors=((422, "invalid_from, invalid_to, invalid_period: not a date, or a bad period"),),
          description=fcr_period.__doc__ or ""),
]  # fmt: skip
