"""The audit trail: every read of customer data and every change, with who, when and what;
and the admins' way to read it (``GET /api/audit``, itself a read that is logged).

What a route leaves is declared on it (``Route.audit``; a change that declares nothing is
logged under its handler's name) and written here, by ``audited``, around the handler: after a
successful answer and before it is sent, so nothing is shown without its entry (a failed
write is a 503 instead of the data; a change's entry is held back and written when the
database takes writes again). Handlers only say what they showed (``shown``: the parts,
the ids of a list) or that they showed nothing of a customer (``nothing_shown``). Entries
name ids and parts, never the data itself. Offers pushed on the desktop's socket are reads
too, one entry per offer however many desktops show it (``OfferReads``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from contactcenter.api.auth import principal
from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError, Handler
from contactcenter.api.openapi import Audit, Param, Route
from contactcenter.api.schemas import AuditPage

MAX_LIMIT = 1000
"""Most entries one page of ``GET /api/audit`` holds."""

OTHER_ACTIONS = (
    "login",
    "read_offer",
    "read_desktop",
    "read_audit",
    "retention",
    "erase_customer",
    "user_set",
)
"""Actions not declared on a route: logins (public, written by the handler), the desktop
socket's reads, the commands' changes."""


@dataclass
class Note:
    """What a handler says about its call, for the route's entry."""

    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    empty: bool = False


NOTE = web.RequestKey("audit_note", Note)


def shown(request: web.Request, target: str | None = None, **detail: Any) -> None:
    """What the handler showed or changed: the target (default: the path's id) and detail
    (parts shown, ids of a list as ``shown``; never the customer's data itself)."""
    note = request.get(NOTE) or Note()
    if target is not None:
        note.target = target
    note.detail.update(detail)
    request[NOTE] = note


def nothing_shown(request: web.Request) -> None:
    """This read showed nothing of a customer (e.g. an empty list): no entry."""
    request[NOTE] = Note(empty=True)


async def record(
    ctx: Ctx, actor: str, action: str, target: str, detail: dict[str, Any], *, change: bool = False
) -> None:
    """Write the entry. A read's entry is written before the data is shown (no entry, no
    data); a change has been made already, so its entry is held back and written later if the
    database refuses it now (``HeldWrites``), rather than telling the user it failed."""
    wall = ctx.engine.wall()
    if change:
        await ctx.audit_writes.write(lambda: ctx.store.audit(actor, action, target, detail, wall))
    else:
        await ctx.store.audit(actor, action, target, detail, wall)


def audited(route: Route) -> Handler:
    """The route's handler, writing its audit entry after each successful answer (unless the
    runtime service writes it, or another record keeps it)."""
    audit = route.audited
    handler = route.handler
    if audit is None or audit.by != "route" or route.kind == "websocket":
        return handler

    async def logged(request: web.Request) -> web.StreamResponse:
        resp = await handler(request)
        note = request.get(NOTE) or Note()
        if 200 <= resp.status < 300 and not note.empty:
            p = principal(request)
            target = note.target or request.match_info.get("id") or p.agent_id or p.username
            await record(request.app[CTX], p.username, audit.action, target, note.detail,
                         change=not audit.reads)  # fmt: skip
        return resp

    logged.__name__ = handler.__name__
    logged.__doc__ = handler.__doc__
    return logged


def actions(routes: Iterable[Route]) -> list[str]:
    """Every action the audit log may hold."""
    named = {a.action for r in routes if (a := r.audited) is not None and a.by != "record"}
    return sorted(named | set(OTHER_ACTIONS))


class OfferReads:
    """Offers already logged as read, so an agent with several desktops (or a snapshot
    showing the ringing offer again) leaves one entry per offer. Bounded: the oldest are
    forgotten first, long after they stopped ringing."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str, float], None] = OrderedDict()
        self._size = size

    def first(self, agent_id: str, contact_id: str, ring_deadline: float) -> bool:
        """True the first time this offer is shown to this agent."""
        key = (agent_id, contact_id, ring_deadline)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


OFFER_READS = web.AppKey("offer_reads", OfferReads)


# -- the log for admins ------------------------------------------------------------------------


def parse_when(name: str, text: str) -> float:
    """An ISO 8601 time with its UTC offset, or seconds since the epoch (422 otherwise)."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ApiError(422, "invalid_time", f"{name}: not a time: {text!r}")
        return seconds
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        hint = " (send a + in a query as %2B)" if " " in text else ""
        raise ApiError(
            422, "invalid_time", f"{name}: not an ISO 8601 time or epoch seconds: {text!r}{hint}"
        ) from None
    if when.tzinfo is None:
        raise ApiError(422, "invalid_time", f"{name}: give the time with its UTC offset (Z)")
    return when.timestamp()


def _whole(name: str, text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(422, f"invalid_{name}", f"{name} must be a whole number {low}-{high}")
    return int(text)


def _iso(wall: float) -> str:
    return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat().replace("+00:00", "Z")


def routes(known: Sequence[str]) -> list[Route]:
    """``GET /api/audit``; ``known`` are the actions its filter accepts."""

    async def audit_log(request: web.Request) -> web.Response:
        """The audit log, newest first, filtered; page on with ``before`` = ``next_before``."""
        q = request.query
        action = q.get("action")
        if action is not None and action not in known:
            raise ApiError(422, "invalid_action", f"action must be one of: {', '.join(known)}")
        limit = _whole("limit", q.get("limit", "100"), 1, MAX_LIMIT)
        before = _whole("before", q["before"], 1, 2**62) if "before" in q else None
        since = parse_when("since", q["since"]) if "since" in q else None
        until = parse_when("until", q["until"]) if "until" in q else None
        filters = {k: q[k] for k in ("actor", "action", "target", "since", "until", "before")
                   if k in q}  # fmt: skip
        for name in ("actor", "target"):
            if len(filters.get(name, "")) > 200:
                raise ApiError(422, f"invalid_{name}", f"{name} is too long")
        found = await request.app[CTX].store.audit_log(
            limit, actor=q.get("actor"), action=action, target=q.get("target"),
            since_wall=since, until_wall=until, before_id=before,
        )  # fmt: skip
        shown(request, target="audit_log", filters=filters, entries=len(found))
        return web.json_response(
            {
                "entries": [
                    {
                        "id": e.id,
                        "actor": e.actor,
                        "action": e.action,
                        "target": e.target,
                        "detail": e.detail,
                        "at": e.wall_time,
                        "time": _iso(e.wall_time),
                    }
                    for e in found
                ],
                "next_before": found[-1].id if len(found) == limit else None,
            }
        )

    return [
        Route("GET", "/api/audit", audit_log, "The audit log: who read or changed what, when",
              "admin", access="admin", response=AuditPage, audit=Audit("read_audit", reads=True),
              description=(audit_log.__doc__ or "") + " Every read of customer data and every "
              "change is an entry (action, actor, target: a contact, customer, call back, "
              "agent or user; detail: the parts shown or what changed, never the data). "
              "A list read names the ids it showed in `detail.shown`; `target` matches those "
              "too.",
              query=(Param("actor", "who (a user name, or a command)", required=False),
                     Param("action", "what", required=False, values=tuple(known)),
                     Param("target", "a contact, customer, call back, agent or user id",
                           required=False),
                     Param("since", "from this time on (ISO 8601 with offset, or epoch "
                           "seconds)", required=False),
                     Param("until", "up to this time (same forms)", required=False),
                     Param("before", "only entries older than this id (paging)",
                           required=False),
                     Param("limit", f"at most this many, 1-{MAX_LIMIT} (default 100)",
                           required=False)),
              errors=((422, "A filter is not a known action, a time, or a number in range"),)),
    ]  # fmt: skip
