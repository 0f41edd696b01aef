"""Complaint cases over HTTP: an agent opens one from a contact it handles; whoever may see a
case reads it (history, notes, tasks), moves it, escalates it to a supervisor, hands it to a
department or to another owner, adds notes and follow-up tasks; supervisors list the cases
still being worked on per category, with the overdue and escalated ones, and their counts.

Who may see a case: a supervisor or admin; the agent who owns it; an agent now handling a
contact of the case's (verified) customer, or a task of the case routed to it. Every read is
audited (a case shows its customer's complaint), every change too, and each change is also in
the case's own history. Opening, escalating, an owner change and resolving are case events
(``runtime/case_tasks.py``: the MQTT bus and the metrics).

Escalation is a step, not an e-mail: the case moves to ``escalated`` and a supervisor becomes
its owner: the one named (``to``), else the supervisor who escalates it; an agent who names
none leaves it on the supervisors' list of escalated cases until one takes it (``PUT
.../owner``). Its follow-up tasks are then offered to that owner first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from contactcenter.api.audit import shown
from contactcenter.api.auth import RANK, Principal, agent_of, principal
from contactcenter.api.callbacks import parse_time
from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError, read_body
from contactcenter.api.openapi import Audit, Route
from contactcenter.api.schemas import Body, Ident, Text
from contactcenter.cases import CaseError, CasePolicy, CaseStatus, DepartmentRequired
from contactcenter.events import CaseEscalated, CaseOpened, CaseOwnerChanged, CaseResolved
from contactcenter.store.cases import (
    CaseRecord,
    SameOwner,
    UnknownCase,
    UnknownTask,
    add_case_note,
    add_case_task,
    case,
    change_owner,
    complete_task,
    customer_cases,
    move_case,
    open_case,
    task_work,
    working_cases,
    working_clocks,
)

log = logging.getLogger(__name__)

METRICS_EVERY = 60.0
"""Seconds between recounts of the case gauges (cases turn overdue with time alone)."""


# -- bodies -------------------------------------------------------------------------------------


class OpenCaseBody(Body):
    category: Ident
    severity: Ident
    description: Text


class CaseStatusBody(Body):
    status: CaseStatus = Field(strict=False, description="Where the case moves; "
                               "`with_department` needs POST .../department (it names the "
                               "department)")  # fmt: skip


class DepartmentBody(Body):
    department: Ident


class EscalateBody(Body):
    to: Ident | None = Field(default=None, description="The supervisor who owns the case from "
                             "now on (default: the supervisor escalating it)")  # fmt: skip


class OwnerBody(Body):
    owner: Ident = Field(description="The user (agent or supervisor) the case is handed to")


class TaskCardOut(BaseModel):
    contact_id: str
    case_id: int
    task_id: int
    title: str | None
    due: float
    done: float | None
    category: str
    category_name: str
    severity: str
    status: CaseStatus
    owner: str


class TaskDoneOut(BaseModel):
    ok: bool
    case_id: int


class CategoryCounts(BaseModel):
    category: str
    name: str
    open: int = Field(description="Cases still being worked on")
    overdue: int
    escalated: int


class CaseNoteBody(Body):
    text: Text


class CaseTaskBody(Body):
    title: Text
    due_at: str | None = Field(default=None, description="ISO 8601 with its UTC offset")
    due_in_hours: float | None = Field(default=None, gt=0, le=24 * 365)

    @model_validator(mode="after")
    def _one_due(self) -> CaseTaskBody:
        if (self.due_at is None) == (self.due_in_hours is None):
            raise ValueError("give the due time as due_at or due_in_hours (one of them)")
        return self


class CaseOut(BaseModel):
    id: int
    customer_id: str
    contact_id: str = Field(description="The contact the case was opened from")
    category: str
    severity: str
    status: CaseStatus
    owner: str
    department: str | None
    description: str | None
    opened: float
    acknowledge_by: float | None = Field(description="Its severity's target (wall seconds)")
    resolve_by: float | None
    overdue: bool
    history: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[dict[str, Any]] = Field(default_factory=list)
    tasks: list[dict[str, Any]] = Field(default_factory=list)


class PolicyItem(BaseModel):
    id: str
    name: str


class CasePolicyOut(BaseModel):
    categories: list[PolicyItem]
    severities: list[dict[str, Any]] = Field(description="With their targets in hours")
    departments: list[PolicyItem]


class CategoryCases(BaseModel):
    category: str
    name: str
    open: int = Field(description="Cases still being worked on")
    overdue: int
    escalated: int
    cases: list[CaseOut]


# -- helpers ------------------------------------------------------------------------------------


def case_json(rec: CaseRecord, policy: CasePolicy, now_wall: float) -> dict[str, Any]:
    """A case as the API shows it, with its targets and whether it is past one."""
    sev = policy.severities.get(rec.severity)
    return {
        "id": rec.id,
        "customer_id": rec.customer_id,
        "contact_id": rec.contact_id,
        "category": rec.category,
        "category_name": _category_name(policy, rec.category),
        "severity": rec.severity,
        "status": str(rec.status),
        "owner": rec.owner,
        "department": rec.department,
        "description": rec.description,
        "opened": rec.opened_wall,
        "acknowledged": rec.acknowledged_wall,
        "resolved": rec.resolved_wall,
        "closed": rec.closed_wall,
        "acknowledge_by": rec.opened_wall + sev.acknowledge_within_hours * 3600 if sev else None,
        "resolve_by": rec.opened_wall + sev.resolve_within_hours * 3600 if sev else None,
        "overdue": _overdue(rec, policy, now_wall),
        "history": [
            {"actor": h.actor, "at": h.wall_time, "action": h.action, "status": str(h.status),
             **h.detail}
            for h in rec.history
        ],
        "notes": [{"id": n.id, "author": n.author, "text": n.text, "at": n.wall_time}
                  for n in rec.notes],
        "tasks": [{"id": t.id, "title": t.title, "due": t.due_wall, "created_by": t.created_by,
                   "done_by": t.done_by, "done": t.done_wall} for t in rec.tasks],
    }  # fmt: skip


def _category_name(policy: CasePolicy, category: str) -> str:
    found = policy.categories.get(category)
    return (found.name if found is not None else "") or category


def _overdue(rec: CaseRecord, policy: CasePolicy, now_wall: float) -> bool:
    return policy.overdue(rec.severity, rec.status, rec.opened_wall, rec.acknowledged_wall,
                          now_wall)  # fmt: skip


def _case_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "unknown_case", "unknown case")
    return int(raw)


async def _customers_on_hand(ctx: Ctx, aid: str) -> set[str]:
    """The verified customers of the contacts the agent holds now (of a task: its case's)."""
    out = set()
    for cid, channel, _ in ctx.site.agents.contacts(aid):
        if channel == "task":
            work = await task_work(ctx.store, cid)
            if work is not None:
                out.add(work.customer_id)
            continue
        rec = await ctx.store.contact(cid)
        if rec is not None and rec.verified and rec.customer_id is not None:
            out.add(rec.customer_id)
    return out


async def _may_see(ctx: Ctx, p: Principal, customer_id: str, owner: str | None) -> bool:
    if RANK.get(p.role, 0) >= RANK["supervisor"]:
        return True
    if p.agent_id is None:
        return False
    return p.agent_id == owner or customer_id in await _customers_on_hand(ctx, p.agent_id)


async def _visible(request: web.Request) -> CaseRecord:
    """The case of the path, if this user may see it (404 unknown, 403 not theirs)."""
    ctx = request.app[CTX]
    try:
        rec = await case(ctx.store, _case_id(request))
    except UnknownCase:
        raise ApiError(404, "unknown_case", "unknown case") from None
    if not await _may_see(ctx, principal(request), rec.customer_id, rec.owner):
        raise ApiError(403, "forbidden", "the case is not yours, nor is its customer on your "
                       "contacts")  # fmt: skip
    return rec


async def _answer(request: web.Request, case_id: int, status: int = 200) -> web.Response:
    ctx = request.app[CTX]
    rec = await case(ctx.store, case_id)
    await count_cases(ctx)
    shown(request, target=str(case_id), customer=rec.customer_id)
    return web.json_response(case_json(rec, ctx.settings.cases, ctx.engine.wall()), status=status)


def _known(what: str, value: str, known: Mapping[str, object]) -> None:
    """422 unless ``value`` is one of the policy's ``known`` ids."""
    if value not in known:
        listed = ", ".join(known) or "(none in config/cases.yaml)"
        raise ApiError(422, f"unknown_{what}", f"{what} must be one of: {listed}")


def _refused(err: Exception) -> ApiError:
    if isinstance(err, DepartmentRequired):
        return ApiError(422, "department_required", str(err))
    if isinstance(err, UnknownTask):
        return ApiError(404, "unknown_task", str(err))
    return ApiError(409, "case_refused", str(err))


# -- handlers -----------------------------------------------------------------------------------


async def case_policy(request: web.Request) -> web.Response:
    """The categories, severities (with their targets) and departments a case may name."""
    policy = request.app[CTX].settings.cases
    return web.json_response(
        {
            "categories": [{"id": c.id, "name": c.name or c.id}
                           for c in policy.categories.values()],
            "severities": [s.model_dump() | {"name": s.name or s.id}
                           for s in policy.severities.values()],
            "departments": [{"id": d.id, "name": d.name or d.id}
                            for d in policy.departments.values()],
        }
    )  # fmt: skip


async def open_from_contact(request: web.Request) -> web.Response:
    """Open a case from a contact the agent handles; its customer must be verified."""
    ctx, aid, cid = request.app[CTX], agent_of(request), request.match_info["id"]
    ctx.site.agents.involved(aid, cid)  # 404 unknown, 403 unless the agent handles it
    body = await read_body(request, OpenCaseBody)
    policy = ctx.settings.cases
    _known("category", body.category, policy.categories)
    _known("severity", body.severity, policy.severities)
    if not body.description.strip():
        raise ApiError(422, "empty_description", "describe the complaint")
    rec = await ctx.store.contact(cid)
    if rec is None or rec.customer_id is None or not rec.verified:
        raise ApiError(422, "customer_not_verified",
                       "a case needs the contact's customer verified (signed in)")  # fmt: skip
    case_id = await open_case(
        ctx.store, customer_id=rec.customer_id, contact_id=cid, category=body.category,
        severity=body.severity, description=body.description.strip(), owner=aid,
        wall_time=ctx.engine.wall(),
    )  # fmt: skip
    ctx.site.case_tasks.announce(
        CaseOpened(ctx.engine.now(), case_id, body.category, body.severity, aid)
    )
    return await _answer(request, case_id, status=201)


async def get_case(request: web.Request) -> web.Response:
    """A case with its history, notes and follow-up tasks."""
    ctx = request.app[CTX]
    rec = await _visible(request)
    shown(request, target=str(rec.id), customer=rec.customer_id)
    return web.json_response(case_json(rec, ctx.settings.cases, ctx.engine.wall()))


async def _move(
    request: web.Request, to: CaseStatus, department: str | None = None,
    owner: str | None = None,
) -> web.Response:  # fmt: skip
    ctx = request.app[CTX]
    rec = await _visible(request)
    actor = principal(request).username
    try:
        before = await move_case(ctx.store, rec.id, to, actor=actor, wall_time=ctx.engine.wall(),
                                 department=department, owner=owner)  # fmt: skip
    except CaseError as err:
        raise _refused(err) from None
    tasks, now = ctx.site.case_tasks, ctx.engine.now()
    if before is not None and owner is not None:
        tasks.announce(CaseOwnerChanged(now, rec.id, rec.category, rec.severity, before, owner,
                                        actor))  # fmt: skip
    if to is CaseStatus.ESCALATED:
        tasks.announce(CaseEscalated(now, rec.id, rec.category, rec.severity, owner or rec.owner,
                                     actor))  # fmt: skip
    elif to is CaseStatus.RESOLVED:
        tasks.announce(CaseResolved(now, rec.id, rec.category, rec.severity, rec.owner, actor))
    tasks.wake()  # a reopened case's tasks may be due
    return await _answer(request, rec.id)


async def _supervisor(ctx: Ctx, username: str) -> None:
    """422 unless ``username`` is a supervisor's (or an admin's) login."""
    user = await ctx.store.user(username)
    if user is None or RANK.get(user.role, 0) < RANK["supervisor"]:
        raise ApiError(422, "not_a_supervisor", f"{username!r} is no supervisor's login")


async def set_case_status(request: web.Request) -> web.Response:
    """Move a case to another status (the moves ``contactcenter.cases.TRANSITIONS`` allows)."""
    body = await read_body(request, CaseStatusBody)
    return await _move(request, body.status)


async def escalate_case(request: web.Request) -> web.Response:
    """Escalate a case to a supervisor, who owns it from then on (see the module)."""
    ctx, p = request.app[CTX], principal(request)
    body = await read_body(request, EscalateBody) if request.body_exists else EscalateBody()
    await _visible(request)  # (a bad body is a 400 whatever the case; then 404, 403)
    owner = body.to
    if owner is None and RANK.get(p.role, 0) >= RANK["supervisor"]:
        owner = p.username
    if owner is not None:
        await _supervisor(ctx, owner)
    shown(request, to=owner)
    return await _move(request, CaseStatus.ESCALATED, owner=owner)


async def set_owner(request: web.Request) -> web.Response:
    """Hand a case to another user: its owner or a supervisor may."""
    ctx, p = request.app[CTX], principal(request)
    body = await read_body(request, OwnerBody)
    rec = await _visible(request)
    if RANK.get(p.role, 0) < RANK["supervisor"] and p.agent_id != rec.owner:
        raise ApiError(403, "forbidden", "only the case's owner or a supervisor hands it on")
    if await ctx.store.user(body.owner) is None:
        raise ApiError(422, "unknown_user", f"no login {body.owner!r}")
    try:
        before = await change_owner(ctx.store, rec.id, body.owner, actor=p.username,
                                    wall_time=ctx.engine.wall())  # fmt: skip
    except SameOwner as err:
        raise ApiError(409, "same_owner", str(err)) from None
    except CaseError as err:
        raise _refused(err) from None
    ctx.site.case_tasks.announce(
        CaseOwnerChanged(ctx.engine.now(), rec.id, rec.category, rec.severity, before,
                         body.owner, p.username)
    )  # fmt: skip
    return await _answer(request, rec.id)


async def hand_to_department(request: web.Request) -> web.Response:
    """Hand a case to a back-office department."""
    body = await read_body(request, DepartmentBody)
    departments = request.app[CTX].settings.cases.departments
    _known("department", body.department, departments)
    return await _move(request, CaseStatus.WITH_DEPARTMENT, body.department)


async def add_note(request: web.Request) -> web.Response:
    """Add a note to a case."""
    ctx = request.app[CTX]
    body = await read_body(request, CaseNoteBody)  # a bad body is a 400 whatever the case
    rec = await _visible(request)
    if not body.text.strip():
        raise ApiError(422, "empty_note", "the note is empty")
    try:
        await add_case_note(ctx.store, rec.id, body.text.strip(),
                            author=principal(request).username,
                            wall_time=ctx.engine.wall())  # fmt: skip
    except CaseError as err:
        raise _refused(err) from None
    return await _answer(request, rec.id, status=201)


async def add_task(request: web.Request) -> web.Response:
    """Add a follow-up task with a due time to a case."""
    ctx = request.app[CTX]
    body = await read_body(request, CaseTaskBody)
    rec = await _visible(request)
    now = ctx.engine.wall()
    if body.due_at is not None:
        due = parse_time(body.due_at)
    else:
        due = now + (body.due_in_hours or 0.0) * 3600
    if not body.title.strip():
        raise ApiError(422, "empty_task", "say what is to be done")
    try:
        await add_case_task(ctx.store, rec.id, body.title.strip(), due,
                            actor=principal(request).username, wall_time=now)  # fmt: skip
    except CaseError as err:
        raise _refused(err) from None
    ctx.site.case_tasks.wake()  # routed as work when due
    return await _answer(request, rec.id, status=201)


async def finish_task(request: web.Request) -> web.Response:
    """Mark a follow-up task of a case done."""
    ctx = request.app[CTX]
    rec = await _visible(request)
    raw = request.match_info["task"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "unknown_task", "unknown task")
    try:
        await complete_task(ctx.store, rec.id, int(raw), actor=principal(request).username,
                            wall_time=ctx.engine.wall())  # fmt: skip
    except (CaseError, UnknownTask) as err:
        raise _refused(err) from None
    return await _answer(request, rec.id)


async def list_customer_cases(request: web.Request) -> web.Response:
    """A customer's cases, newest first (without history, notes or tasks)."""
    ctx = request.app[CTX]
    customer = request.match_info["id"]
    if len(customer) > 100 or not await _may_see(ctx, principal(request), customer, None):
        raise ApiError(403, "forbidden", "the customer is not on your contacts")
    found = await customer_cases(ctx.store, customer)
    shown(request, target=customer, shown=[c.id for c in found])
    now = ctx.engine.wall()
    return web.json_response([case_json(c, ctx.settings.cases, now) for c in found])


async def supervisor_cases(request: web.Request) -> web.Response:
    """Per category: the cases still being worked on, how many are overdue and escalated."""
    ctx = request.app[CTX]
    policy, now = ctx.settings.cases, ctx.engine.wall()
    found = await working_cases(ctx.store)
    by_category: dict[str, list[dict[str, Any]]] = {c: [] for c in policy.categories}
    for rec in found:
        by_category.setdefault(rec.category, []).append(case_json(rec, policy, now))
    shown(request, target="cases", shown=[c.id for c in found])
    out = []
    for category, cases in by_category.items():
        cases.sort(key=lambda c: (not c["overdue"], c["status"] != "escalated", c["opened"]))
        name = _category_name(policy, category)
        out.append(
            {"category": category, "name": name, "open": len(cases),
             "overdue": sum(c["overdue"] for c in cases),
             "escalated": sum(c["status"] == "escalated" for c in cases), "cases": cases}
        )  # fmt: skip
    return web.json_response(out)


async def task_card(request: web.Request) -> web.Response:
    """The follow-up task a ``task`` contact offered to or held by the agent routes."""
    ctx, aid, cid = request.app[CTX], agent_of(request), _contact_id(request)
    ctx.site.agents.held_by(aid, cid)  # 404 unknown, 403 unless offered to or held by the agent
    work = await task_work(ctx.store, cid)
    if work is None:
        raise ApiError(404, "not_a_task", "the contact routes no task")
    shown(request, target=cid, case=work.case_id, customer=work.customer_id, task=work.task_id)
    return web.json_response(
        {"contact_id": cid, "case_id": work.case_id, "task_id": work.task_id,
         "title": work.title, "due": work.due_wall, "done": work.done_wall,
         "category": work.category, "category_name": _category_name(ctx.settings.cases,
                                                                    work.category),
         "severity": work.severity, "status": str(work.status), "owner": work.owner}
    )  # fmt: skip


async def task_done(request: web.Request) -> web.Response:
    """Done: the task is marked done and the contact ends (its wrap-up starts)."""
    ctx, aid, cid = request.app[CTX], agent_of(request), _contact_id(request)
    case_id = await ctx.site.case_tasks.done(aid, cid, principal(request).username)
    shown(request, target=cid, case=case_id)
    await count_cases(ctx)
    return web.json_response({"ok": True, "case_id": case_id})


def _contact_id(request: web.Request) -> str:
    cid = request.match_info["id"]
    if len(cid) > 100:
        raise ApiError(404, "unknown_contact", "unknown contact")
    return cid


async def cases_summary(request: web.Request) -> web.Response:
    """Per category: cases being worked on, overdue and escalated (counts only)."""
    ctx = request.app[CTX]
    policy, now = ctx.settings.cases, ctx.engine.wall()
    rows = {c: [0, 0, 0] for c in policy.categories}
    for c in await working_clocks(ctx.store):
        row = rows.setdefault(c.category, [0, 0, 0])
        row[0] += 1
        row[1] += policy.overdue(c.severity, c.status, c.opened_wall, c.acknowledged_wall, now)
        row[2] += c.status is CaseStatus.ESCALATED
    return web.json_response(
        [{"category": c, "name": _category_name(policy, c), "open": n, "overdue": late,
          "escalated": up} for c, (n, late, up) in rows.items()]
    )  # fmt: skip


# -- metrics ------------------------------------------------------------------------------------


async def count_cases(ctx: Ctx) -> None:
    """Set the case gauges (open and overdue per category and severity) from the store."""
    if ctx.metrics is None:
        return
    policy, now = ctx.settings.cases, ctx.engine.wall()
    found = await working_clocks(ctx.store)
    working = Counter((c.category, c.severity) for c in found)
    overdue = Counter(
        (c.category, c.severity)
        for c in found
        if policy.overdue(c.severity, c.status, c.opened_wall, c.acknowledged_wall, now)
    )
    ctx.metrics.cases_counted(policy, working, overdue)


def watch_cases(ctx: Ctx, every: float = METRICS_EVERY) -> None:
    """Recount the case gauges now and every ``every`` seconds (overdue comes with time)."""

    async def loop() -> None:
        while True:
            try:
                await count_cases(ctx)
            except Exception:
                log.exception("counting the cases for the metrics failed")
            await asyncio.sleep(every)

    ctx.spawn(loop(), name="case-metrics")


ROUTES = [
    Route("GET", "/api/cases/policy", case_policy, "Categories, severities with their targets, "
          "and departments (config/cases.yaml)", "cases", access="user",
          response=CasePolicyOut),
    Route("POST", "/api/agent/contacts/{id}/cases", open_from_contact, "Open a complaint case "
          "from a contact the agent handles (its customer verified)", "cases", access="agent",
          body=OpenCaseBody, response=CaseOut, status=201, audit=Audit("open_case"),
          errors=((403, "The contact is not with this agent"),
                  (422, "Unknown category or severity, or the customer is not verified"))),
    Route("GET", "/api/cases/{id}", get_case, "A case with its history, notes and follow-up "
          "tasks", "cases", access="user", response=CaseOut,
          audit=Audit("read_case", reads=True),
          errors=((403, "Not the case's owner, nor handling its customer"),
                  (404, "No such case"))),
    Route("PUT", "/api/cases/{id}/status", set_case_status, "Move a case to another status",
          "cases", access="user", body=CaseStatusBody, response=CaseOut,
          audit=Audit("case_status"),
          errors=((409, "The move is not allowed from the case's status"),)),
    Route("POST", "/api/cases/{id}/escalate", escalate_case, "Escalate a case to a "
          "supervisor, who owns it from then on (the body may be left out)", "cases",
          access="user", body=EscalateBody, response=CaseOut, audit=Audit("escalate_case"),
          errors=((409, "The case cannot be escalated from its status"),
                  (422, "The user named is no supervisor"))),
    Route("PUT", "/api/cases/{id}/owner", set_owner, "Hand a case to another user (its "
          "owner or a supervisor may)", "cases", access="user", body=OwnerBody,
          response=CaseOut, audit=Audit("case_owner"),
          errors=((403, "Neither the case's owner nor a supervisor"),
                  (409, "The case is that user's already, or closed"),
                  (422, "No such user"))),
    Route("POST", "/api/cases/{id}/department", hand_to_department, "Hand a case to a "
          "back-office department", "cases", access="user", body=DepartmentBody,
          response=CaseOut, audit=Audit("case_to_department"),
          errors=((422, "Unknown department"),)),
    Route("POST", "/api/cases/{id}/notes", add_note, "Add a note to a case", "cases",
          access="user", body=CaseNoteBody, response=CaseOut, status=201,
          audit=Audit("case_note"), errors=((409, "The case is closed"),)),
    Route("POST", "/api/cases/{id}/tasks", add_task, "Add a follow-up task with a due time",
          "cases", access="user", body=CaseTaskBody, response=CaseOut, status=201,
          audit=Audit("case_task"), errors=((409, "The case is closed"),)),
    Route("POST", "/api/cases/{id}/tasks/{task}/done", finish_task, "Mark a follow-up task "
          "done", "cases", access="user", response=CaseOut, audit=Audit("case_task_done"),
          errors=((404, "No such task on the case"), (409, "Done already, or the case is "
                                                         "closed"))),
    Route("GET", "/api/customers/{id}/cases", list_customer_cases, "A customer's cases, newest "
          "first", "cases", access="user", response=CaseOut, many=True,
          audit=Audit("read_customer_cases", reads=True),
          errors=((403, "The customer is not on the agent's contacts"),)),
    Route("GET", "/api/agent/contacts/{id}/task", task_card, "The follow-up task a task "
          "contact routes: its case, what to do, when it was due", "cases", access="agent",
          response=TaskCardOut, audit=Audit("read_task", reads=True),
          errors=((403, "The contact is not with this agent"),
                  (404, "No such contact, or it routes no task"))),
    Route("POST", "/api/agent/contacts/{id}/task/done", task_done, "Done: mark the task done "
          "and end the contact (wrap-up starts)", "cases", access="agent",
          response=TaskDoneOut, audit=Audit("task_done"),
          errors=((403, "The contact is not with this agent"),
                  (409, "Not working on it, or it routes no task"))),
    Route("GET", "/api/supervisor/cases/summary", cases_summary, "Per category: how many "
          "cases are being worked on, overdue and escalated (no case or customer shown)",
          "cases", access="supervisor", response=CategoryCounts, many=True),
    Route("GET", "/api/supervisor/cases", supervisor_cases, "Cases being worked on per "
          "category: open, overdue (past their severity's targets) and escalated", "cases",
          access="supervisor", response=CategoryCases, many=True,
          audit=Audit("read_cases", reads=True)),
]  # fmt: skip
