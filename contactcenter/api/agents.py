"""The agent desktop's API: log into routing, presence, offers, chats, wrap-up, screen-pop,
and a WebSocket that pushes the agent's offers, chat lines and state changes.

An agent only ever sees and acts on contacts offered to or held by itself: the engine refuses
anything else (``Forbidden`` -> 403).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from aiohttp import web

from contactcenter.agents import Presence
from contactcenter.api import audit
from contactcenter.api.audit import nothing_shown, shown
from contactcenter.api.auth import agent_of, principal
from contactcenter.api.cases import case_json
from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError, parse_frame, read_body
from contactcenter.api.openapi import Audit, Param, Route
from contactcenter.api.schemas import (
    AgentContacts,
    AgentState,
    AgentStateBody,
    ContactNoteOut,
    ContactTranscript,
    MessageBody,
    NoteBody,
    Ok,
    PingFrame,
    QuickConnect,
    ScreenPop,
    TransferBody,
    WrapUpBody,
)
from contactcenter.api.sockets import open_socket, run_socket, send
from contactcenter.events import (
    AgentStateChanged,
    ConsultAnswered,
    ConsultEnded,
    ConsultOffered,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactOffered,
    ContactResumed,
    OfferRejected,
    WrapUpEnded,
)
from contactcenter.runtime import ChatClosed
from contactcenter.runtime.agents import UnknownDisposition
from contactcenter.runtime.hub import Lagged
from contactcenter.runtime.mail import MailReceived
from contactcenter.runtime.transcripts import ChatLine
from contactcenter.runtime.voice import CallerHold
from contactcenter.store.cases import customer_cases
from contactcenter.store.contact_notes import add_contact_note, contact_notes
from contactcenter.store.errors import StoreUnavailable


def state_of(ctx: Ctx, agent_id: str) -> dict[str, Any]:
    desk = ctx.site.agents
    a = desk.agent(agent_id)
    return {
        "agent_id": agent_id,
        "state": str(a.activity),
        "presence": str(a.presence),
        "reason": a.away_reason,
        "since_seconds": round(ctx.engine.now() - desk.state_since(agent_id), 1),
    }


def wrap_up_of(ctx: Ctx, agent_id: str, cid: str) -> dict[str, Any] | None:
    """The wrap-up the agent owes the contact: its queue's seconds, what is left of them and
    the dispositions it takes (None: not in wrap-up)."""
    wrap = ctx.site.agents.wrap_of(agent_id, cid)
    if wrap is None:
        return None
    return {
        "queue": wrap.queue,
        "seconds": ctx.engine.center.queues[wrap.queue].wrap_up_seconds,
        "seconds_left": round(max(0.0, wrap.due - ctx.engine.now()), 1),
        "dispositions": list(ctx.engine.center.dispositions(wrap.queue)),
    }


def contact_id(request: web.Request) -> str:
    cid = request.match_info["id"]
    if len(cid) > 100:
        raise ApiError(404, "unknown_contact", "unknown contact")
    return cid


async def _customer_name(ctx: Ctx, cid: str) -> str | None:
    """The one name the desktop shows for the contact's customer (offer, tab, card): the
    CRM's for a verified customer with a card, else the name the customer typed; None while
    the database cannot be read (the offer goes out without it: routing does not wait)."""
    try:
        rec = await ctx.store.contact(cid)
        if rec is None:
            return None
        if rec.verified and rec.customer_id is not None:
            customer = await ctx.store.customer(rec.customer_id)
            if customer is not None:
                return str(customer.name)
    except StoreUnavailable:
        return None
    typed: str | None = rec.customer_name
    return typed


def _queue_name(ctx: Ctx, queue: str | None) -> str | None:
    """A queue as people know it (its configured name; its id if it has none)."""
    if queue is None:
        return None
    q = ctx.engine.center.queues.get(queue)
    return (q.name or queue) if q is not None else queue


def _agent_name(ctx: Ctx, agent_id: str | None) -> str | None:
    if agent_id is None:
        return None
    a = ctx.engine.center.agents.get(agent_id)
    return (a.name or agent_id) if a is not None else agent_id


def _offer(ctx: Ctx, offer: ContactOffered, name: str | None) -> dict[str, Any]:
    q = ctx.engine.center.queues.get(offer.queue)
    cb = ctx.site.callbacks.for_contact(offer.contact_id)
    return {
        "callback": {"number": cb.record.phone, "dialled_by": _dialler(ctx)} if cb else None,
        "contact_id": offer.contact_id,
        "queue": offer.queue,
        "queue_name": _queue_name(ctx, offer.queue),
        "channel": offer.channel,
        "ring_seconds_left": round(max(0.0, offer.ring_deadline - ctx.engine.now()), 2),
        "ring_seconds": q.ring_timeout_seconds if q is not None else None,
        "customer_name": name,
    }


def _dialler(ctx: Ctx) -> str:
    """Who dials a call back's customer: the center (its voice edge) or the agent by hand."""
    return "agent" if ctx.site.callbacks.dialer is None else "center"


async def _contacts(ctx: Ctx, aid: str) -> dict[str, Any]:
    engine, desk = ctx.engine, ctx.site.agents
    held = []
    consult_offer = None
    for cid, channel, state in desk.contacts(aid):
        view = engine.router.contacts.get(cid)
        consult = view is not None and view.consult == aid
        if consult and state == "offered":
            consult_offer = cid
        held.append(
            {
                "contact_id": cid,
                "channel": channel,
                "state": state,
                "queue": view.queue if view is not None else None,
                "queue_name": _queue_name(ctx, view.queue if view is not None else None),
                "consult": consult,
                "customer_name": await _customer_name(ctx, cid),
                "wrap_up": wrap_up_of(ctx, aid, cid),
            }
        )
    offer = desk.open_offer(aid)
    return {
        "state": state_of(ctx, aid),
        "contacts": held,
        "offer": _offer(ctx, offer, await _customer_name(ctx, offer.contact_id)) if offer else None,
        "consult_offer": consult_offer,
    }


# -- presence -------------------------------------------------------------------------------


async def agent_login(request: web.Request) -> web.Response:
    ctx, aid = request.app[CTX], agent_of(request)
    desk = ctx.site.agents
    if aid in ctx.site.desktops.restorable:  # back after a restart: as it was, with its chats
        await ctx.site.desktops.returned(aid)
    elif desk.agent(aid).presence is Presence.OFFLINE:
        await desk.login(aid)
    return web.json_response(state_of(ctx, aid))


async def agent_logout(request: web.Request) -> web.Response:
    ctx, aid = request.app[CTX], agent_of(request)
    desk = ctx.site.agents
    if desk.agent(aid).presence is not Presence.OFFLINE:
        await desk.logout(aid)
    return web.json_response(state_of(ctx, aid))


def check_reason(ctx: Ctx, state: str, reason: str | None) -> None:
    reasons = ctx.engine.center.settings.away_reasons
    if state == "away" and reason not in reasons:
        raise ApiError(422, "invalid_reason", f"away needs a reason, one of: {', '.join(reasons)}")
    if state != "away" and reason is not None:
        raise ApiError(422, "invalid_reason", "only away takes a reason")


async def set_state(request: web.Request) -> web.Response:
    ctx, aid = request.app[CTX], agent_of(request)
    body = await read_body(request, AgentStateBody)
    check_reason(ctx, body.state, body.reason)
    agent = ctx.site.agents.agent(aid)
    if agent.presence is Presence.OFFLINE:
        raise ApiError(409, "not_logged_in", "log into routing first (POST /api/agent/login)")
    presence = Presence(body.state)
    if agent.presence is not presence or (
        presence is Presence.AWAY and agent.away_reason != body.reason
    ):
        await ctx.site.agents.set_presence(aid, presence, body.reason)
    shown(request, state=body.state, reason=body.reason)
    return web.json_response(state_of(ctx, aid))


# -- contacts -------------------------------------------------------------------------------


def _named(view: dict[str, Any]) -> list[str]:
    """The contacts whose customer a desktop view shows (a name, a call back's number)."""
    ids = [c["contact_id"] for c in view["contacts"] if c["customer_name"] is not None]
    offer = view["offer"]
    if offer is not None and (offer["customer_name"] is not None or offer["callback"]):
        ids.append(offer["contact_id"])
    return list(dict.fromkeys(ids))


async def list_contacts(request: web.Request) -> web.Response:
    view = await _contacts(request.app[CTX], agent_of(request))
    named = _named(view)
    if named:
        shown(request, shown=named)
    else:
        nothing_shown(request)
    return web.json_response(view)


async def accept(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    await ctx.site.agents.accept(agent_of(request), contact_id(request))
    return web.json_response({"ok": True})


async def decline(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    await ctx.site.agents.decline(agent_of(request), contact_id(request))
    return web.json_response({"ok": True})


async def hang_up(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    await ctx.site.agents.hang_up(agent_of(request), contact_id(request))
    return web.json_response({"ok": True})


async def wrap_up(request: web.Request) -> web.Response:
    """The disposition must be one of the wrap-up's queue's (``dispositions`` in its config,
    else the center's)."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    body = await read_body(request, WrapUpBody)
    known = ctx.engine.center.all_dispositions
    if body.disposition not in known:
        raise ApiError(
            422, "invalid_disposition", f"disposition must be one of: {', '.join(known)}"
        )
    try:
        await ctx.site.agents.wrap_up(aid, cid, body.disposition, body.notes)
    except UnknownDisposition as e:
        raise ApiError(422, e.code, e.message) from e
    shown(request, disposition=body.disposition, notes=body.notes is not None)
    return web.json_response({"ok": True})


async def send_message(request: web.Request) -> web.Response:
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    body = await read_body(request, MessageBody)
    view = ctx.site.agents.held_by(aid, cid)
    if view.channel != "chat":
        raise ApiError(409, "not_a_chat", f"contact {cid} is a {view.channel} contact")
    line = await ctx.site.chat.agent_says(aid, cid, body.text)
    return web.json_response({"ok": True, "at": line.wall_time})


async def _past_contacts(ctx: Ctx, customer_id: str, cid: str) -> list[dict[str, Any]]:
    """The verified customer's earlier contacts as history lines: when, channel, queue name,
    the agent who had it, the outcome, the disposition with its wrap-up notes, the agents'
    private notes, the customer's CSAT score, and whether there is a transcript to read."""
    past = [
        p for p in await ctx.store.customer_contacts(customer_id, limit=20)
        if p.contact_id != cid and p.verified  # a stranger's claim is not theirs
    ][:5]  # fmt: skip
    ids = [p.contact_id for p in past]
    notes: dict[str, list[dict[str, Any]]] = {c: [] for c in ids}
    for note in await contact_notes(ctx.store, ids):
        notes[note.contact_id].append(
            {"agent_id": note.agent_id, "agent_name": _agent_name(ctx, note.agent_id),
             "text": note.text, "at": note.wall_time}
        )  # fmt: skip
    lines = []
    for p in past:
        scores = [s.score for s in await ctx.store.surveys(p.contact_id)]
        lines.append(
            {
                "contact_id": p.contact_id,
                "channel": p.channel,
                "queue": p.queue,
                "queue_name": _queue_name(ctx, p.queue),
                "arrived": p.arrived_wall,
                "outcome": p.outcome,
                "agent_id": p.agent_id,
                "agent_name": _agent_name(ctx, p.agent_id),
                "disposition": p.disposition,
                "wrap_up_notes": p.disposition_notes,
                "private_notes": notes[p.contact_id],
                "csat": scores[-1] if scores else None,
                "transcript": p.channel == "chat",
            }
        )
    return lines


async def screen_pop(request: web.Request) -> web.Response:
    """The customer card and transcript of a contact offered to or held by the agent."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    engine = ctx.engine
    view = ctx.site.agents.involved(aid, cid)
    rec = await ctx.store.contact(cid)
    verified = rec is not None and rec.customer_id is not None and rec.verified
    customer = None  # only a verified identity shows the CRM's card (PII, history)
    if verified:
        customer = await ctx.store.customer(rec.customer_id)
    history = await _past_contacts(ctx, customer.id, cid) if customer is not None else []
    with contextlib.suppress(Exception):
        await ctx.site.chat.transcripts.flush()
    lines = await ctx.store.transcript(cid)
    card = {
        "customer_id": rec.customer_id if verified else None,  # with a card or not (yet)
        "verified": verified,
        "claimed_customer_id": rec.customer_id if rec is not None and not rec.verified else None,
        "name": customer.name if customer is not None else (rec.customer_name if rec else None),
        "tier": view.tier,
        "email": getattr(customer, "email", None),
        "phone": getattr(customer, "phone", None),
        "last_contacts": history,
    }
    segments = [
        {
            "segment": seg.segment,
            "queue": seg.queue,
            "queue_name": _queue_name(ctx, seg.queue),
            "agent_id": seg.agent_id,
            "agent_name": _agent_name(ctx, seg.agent_id),
            "end": seg.end_reason,
            "to_queue": seg.to_queue,
            "to_queue_name": _queue_name(ctx, seg.to_queue),
            "to_agent": seg.to_agent,
            "to_agent_name": _agent_name(ctx, seg.to_agent),
            "note": seg.note,
        }
        for seg in await ctx.store.segments(cid)
        if seg.segment < view.segment
    ]
    notes = [
        {"agent_id": n.agent_id, "agent_name": _agent_name(ctx, n.agent_id), "text": n.text,
         "at": n.wall_time}
        for n in await contact_notes(ctx.store, [cid])
    ]  # fmt: skip
    cb = ctx.site.callbacks.for_contact(cid)
    callback = None
    if cb is not None:
        callback = {
            "id": cb.id,
            "number": cb.record.phone,
            "status": str(cb.status),
            "attempt": cb.attempts if cb.attempts else cb.attempts + 1,
            "max_attempts": ctx.site.callbacks.settings.max_attempts,
            "dialled_by": _dialler(ctx),
        }
    open_cases = []
    if customer is not None:  # a verified customer's complaints still being worked on
        working = await customer_cases(ctx.store, customer.id, working_only=True)
        open_cases = [case_json(c, ctx.settings.cases, engine.wall()) for c in working]
    parts = [name for name, there in (
        ("card", any(card[k] for k in ("customer_id", "claimed_customer_id", "name", "email",
                                        "phone"))),
        ("history", history), ("notes", any(s["note"] for s in segments) or notes),
        ("callback", callback), ("transcript", lines), ("cases", open_cases),
    ) if there]  # fmt: skip
    shown(request, parts=parts, **({"customer": customer.id} if customer is not None else {}))
    return web.json_response(
        {
            "contact_id": cid,
            "queue": view.queue,
            "queue_name": _queue_name(ctx, view.queue),
            "channel": view.channel,
            "state": str(view.state),
            "topic": rec.topic if rec is not None else None,
            "wait_seconds": round(engine.now() - view.arrived_at, 1),
            "customer": card,
            "segment": view.segment,
            "earlier_segments": segments,
            "consult": view.consult,
            "callback": callback,
            "open_cases": open_cases,
            "private_notes": notes,
            "dispositions": list(ctx.site.agents.dispositions(aid, cid)),
            "wrap_up": wrap_up_of(ctx, aid, cid),
            "transcript": [
                {"sender": ln.sender, "text": ln.text, "at": ln.wall_time} for ln in lines
            ],
        }
    )


async def _customers(ctx: Ctx, contact_ids: list[str]) -> set[str]:
    """The verified customers of these contacts."""
    found = set()
    for cid in contact_ids:
        rec = await ctx.store.contact(cid)
        if rec is not None and rec.verified and rec.customer_id is not None:
            found.add(rec.customer_id)
    return found


async def contact_transcript(request: web.Request) -> web.Response:
    """A contact's transcript: one the agent has, or an earlier contact of the verified
    customer of one it has now (a history line's link); 403 otherwise."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    rec = await ctx.store.contact(cid)
    if rec is None:
        raise ApiError(404, "unknown_contact", f"unknown contact {cid}")
    held = [c for c, _, _ in ctx.site.agents.contacts(aid)]
    if cid not in held and not (rec.verified and rec.customer_id in await _customers(ctx, held)):
        raise ApiError(403, "forbidden", f"contact {cid} is not one of your customers'")
    with contextlib.suppress(Exception):
        await ctx.site.chat.transcripts.flush()
    lines = await ctx.store.transcript(cid)
    if lines:
        shown(request, parts=["transcript"],
              **({"customer": rec.customer_id} if rec.verified else {}))  # fmt: skip
    else:
        nothing_shown(request)
    return web.json_response(
        {
            "contact_id": cid,
            "transcript": [
                {"sender": ln.sender, "text": ln.text, "at": ln.wall_time} for ln in lines
            ],
        }
    )


async def private_note(request: web.Request) -> web.Response:
    """A private note on a contact the agent has (also in its wrap-up): agents only, shown on
    the customer's later contacts."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    body = await read_body(request, NoteBody)
    if ctx.site.agents.wrap_of(aid, cid) is None:  # a segment it handed on is not its any more
        ctx.site.agents.involved(aid, cid)
    note = await add_contact_note(ctx.store, cid, aid, body.text, ctx.engine.wall())
    shown(request, note=note.id)
    return web.json_response(
        {"id": note.id, "agent_id": aid, "agent_name": _agent_name(ctx, aid), "text": note.text,
         "at": note.wall_time},
        status=201,
    )  # fmt: skip


# -- the agent's socket ---------------------------------------------------------------------


async def _offer_read(
    ctx: Ctx,
    reads: audit.OfferReads,
    user: str,
    aid: str,
    offer: ContactOffered | ConsultOffered,
    parts: list[str],
) -> None:
    """An offer showing its customer (name, call back number) is a read: one entry per offer,
    however many of the agent's desktops show it."""
    if parts and reads.first(aid, offer.contact_id, offer.ring_deadline):
        await audit.record(ctx, user, "read_offer", offer.contact_id, {"parts": parts})


def _offer_parts(frame: dict[str, Any]) -> list[str]:
    return [part for part, there in (("name", frame.get("customer_name") is not None),
                                     ("callback", frame.get("callback"))) if there]  # fmt: skip


async def _desktop(ctx: Ctx, reads: audit.OfferReads, user: str, aid: str) -> dict[str, Any]:
    """The desktop's snapshot, with its reads logged: the ringing offer as an offer read,
    the held contacts it names as one ``read_desktop`` entry."""
    offer = ctx.site.agents.open_offer(aid)
    view = await _contacts(ctx, aid)
    named = _named(view)
    if offer is not None and view["offer"] is not None and offer.contact_id in named:
        await _offer_read(ctx, reads, user, aid, offer, _offer_parts(view["offer"]))
        named.remove(offer.contact_id)
    if named:
        await audit.record(ctx, user, "read_desktop", aid, {"shown": named})
    return view


async def agent_ws(request: web.Request) -> web.StreamResponse:
    """Pushes: ``snapshot`` (on connect and after a lag), ``offer``, ``offer_withdrawn``,
    ``answered``, ``completed`` (wrap-up starts), ``handed_off`` (a transfer: wrap-up starts),
    ``wrapup_ended``, ``consult_offer`` / ``consult_ringing`` / ``consult_answered`` /
    ``consult_ended`` (warm transfers, both sides), ``state``, ``message``, ``chat_closed``,
    ``mail`` (the customer wrote again in an e-mail thread the agent holds).
    Accepts ``{"type": "ping"}`` (answered with ``pong``)."""
    ctx, aid = request.app[CTX], agent_of(request)
    engine = ctx.engine
    reads, user = request.app[audit.OFFER_READS], principal(request).username
    mine: set[str] = {cid for cid, _, _ in ctx.site.agents.contacts(aid)}

    def wanted(n: object) -> bool:
        if isinstance(
            n, ContactOffered | ContactAnswered | ContactResumed | ContactCompleted | ConsultOffered
        ):
            if n.agent_id == aid:
                if n.contact_id not in mine:
                    mine.add(n.contact_id)
                    sub.watch(("contact", n.contact_id))  # e.g. the chat closing
                return True
            return isinstance(n, ConsultOffered) and n.from_agent == aid
        if isinstance(n, ConsultAnswered | ConsultEnded):
            return aid in (n.agent_id, n.from_agent)
        if isinstance(n, OfferRejected | WrapUpEnded | ContactHandedOff):
            return n.agent_id == aid
        if isinstance(n, AgentStateChanged):
            return n.agent_id == aid
        if isinstance(n, ChatLine):
            return n.agent_id == aid or n.contact_id in mine
        if isinstance(n, ChatClosed | MailReceived):
            return n.contact_id in mine
        if isinstance(n, CallerHold):
            return n.agent_id == aid
        return False

    # offers, answers, state changes and chat lines carry the agent; a chat closing only its
    # contact: watch the agent and the contacts it holds, not every notice of the center
    sub = engine.hub.subscribe(
        wanted, size=500, keys=[("agent", aid), *(("contact", cid) for cid in mine)]
    )
    ws = await open_socket(request)

    def forget(cid: str) -> None:
        mine.discard(cid)
        sub.unwatch(("contact", cid))

    async def frame(n: object) -> dict[str, Any] | None:
        if isinstance(n, Lagged):
            return {"type": "snapshot", **await _desktop(ctx, reads, user, aid)}
        if isinstance(n, ContactOffered):
            name = await _customer_name(ctx, n.contact_id)
            offer = _offer(ctx, n, name)
            await _offer_read(ctx, reads, user, aid, n, _offer_parts(offer))
            return {
                "type": "offer",
                **offer,
                "deadline_wall": time.time() + max(0.0, n.ring_deadline - engine.now()),
            }
        if isinstance(n, OfferRejected):
            forget(n.contact_id)
            return {"type": "offer_withdrawn", "contact_id": n.contact_id, "reason": n.reason}
        if isinstance(n, ContactAnswered | ContactResumed):
            return {"type": "answered", "contact_id": n.contact_id, "channel": n.channel}
        if isinstance(n, ContactCompleted):
            return {
                "type": "completed",
                "contact_id": n.contact_id,
                "wrap_up": wrap_up_of(ctx, aid, n.contact_id),
            }
        if isinstance(n, ContactHandedOff):  # the agent's part is over: wrap-up
            return {
                "type": "handed_off",
                "contact_id": n.contact_id,
                "to_queue": n.to_queue,
                "to_agent": n.to_agent,
                "wrap_up": wrap_up_of(ctx, aid, n.contact_id),
            }
        if isinstance(n, ConsultOffered):
            if n.agent_id != aid:
                return {"type": "consult_ringing", "contact_id": n.contact_id, "agent": n.agent_id}
            q = ctx.engine.center.queues.get(n.queue)
            left = max(0.0, n.ring_deadline - engine.now())
            name = await _customer_name(ctx, n.contact_id)
            await _offer_read(ctx, reads, user, aid, n, ["name"] if name is not None else [])
            return {
                "type": "consult_offer",
                "contact_id": n.contact_id,
                "channel": n.channel,
                "queue": n.queue,
                "queue_name": q.name if q is not None else n.queue,
                "from_agent": n.from_agent,
                "from_name": ctx.engine.center.agents[n.from_agent].name,
                "customer_name": name,
                "ring_seconds_left": round(left, 2),
                "deadline_wall": time.time() + left,
            }
        if isinstance(n, ConsultAnswered):
            return {"type": "consult_answered", "contact_id": n.contact_id, "agent": n.agent_id,
                    "from_agent": n.from_agent}  # fmt: skip
        if isinstance(n, ConsultEnded):
            if n.agent_id == aid:
                forget(n.contact_id)
            return {"type": "consult_ended", "contact_id": n.contact_id, "agent": n.agent_id,
                    "from_agent": n.from_agent, "reason": n.reason}  # fmt: skip
        if isinstance(n, WrapUpEnded):
            forget(n.contact_id)
            return {
                "type": "wrapup_ended",
                "contact_id": n.contact_id,
                "disposition": n.disposition,
            }
        if isinstance(n, AgentStateChanged):
            return {"type": "state", **state_of(ctx, aid), "previous": str(n.previous)}
        if isinstance(n, CallerHold):
            return {"type": "caller_hold", "contact_id": n.contact_id, "held": n.held}
        if isinstance(n, ChatLine):
            return {
                "type": "message",
                "contact_id": n.contact_id,
                "sender": n.sender,
                "text": n.text,
                "at": n.wall_time,
            }
        if isinstance(n, ChatClosed):
            return {"type": "chat_closed", "contact_id": n.contact_id, "by": n.by}
        if isinstance(n, MailReceived):
            return {"type": "mail", "contact_id": n.contact_id}
        return None

    async def pump() -> None:
        await send(ws, {"type": "snapshot", **await _desktop(ctx, reads, user, aid)})
        async for n in sub:
            out = await frame(n)
            if out is not None and not await send(ws, out):
                return

    async def on_frame(data: str) -> None:
        parse_frame(data, PingFrame)
        await send(ws, {"type": "pong"})

    await ctx.site.desktops.opened(aid)
    try:
        await run_socket(request, ws, pump, on_frame)
    finally:
        sub.close()
        ctx.site.desktops.closed(aid)
    return ws


async def transfer(request: web.Request) -> web.Response:
    """Blind to a queue or an agent, or warm: consult the agent first (complete or cancel
    it next)."""
    ctx, aid, cid = request.app[CTX], agent_of(request), contact_id(request)
    body = await read_body(request, TransferBody)
    transfers = ctx.site.transfers
    shown(request, to_queue=body.to_queue, to_agent=body.to_agent, warm=body.warm,
          note=body.note is not None)  # fmt: skip
    if body.to_queue is not None:
        await transfers.to_queue(aid, cid, body.to_queue, body.note)
    elif body.warm:
        assert body.to_agent is not None
        await transfers.consult(aid, cid, body.to_agent, body.note)
    else:
        assert body.to_agent is not None
        await transfers.to_agent(aid, cid, body.to_agent, body.note)
    return web.json_response({"ok": True})


def _consult_action(name: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        ctx = request.app[CTX]
        await getattr(ctx.site.transfers, name)(agent_of(request), contact_id(request))
        return web.json_response({"ok": True})

    handler.__name__ = f"consult_{name}"
    return handler


async def quick_connect(request: web.Request) -> web.Response:
    """Queues and agents to transfer a contact of ``channel`` to."""
    ctx = request.app[CTX]
    channel = request.query.get("channel", "chat")
    if channel not in ("voice", "chat", "email"):
        raise ApiError(422, "invalid_channel", "channel must be voice, chat or email")
    return web.json_response(ctx.site.transfers.quick_connect(agent_of(request), channel))


ROUTES = [
    Route("POST", "/api/agent/login", agent_login, "Log into routing (available)", "agent",
          access="agent", response=AgentState),
    Route("POST", "/api/agent/logout", agent_logout, "Log out of routing", "agent",
          access="agent", response=AgentState,
          description="Refused (409) while holding contacts; a ringing offer is withdrawn."),
    Route("PUT", "/api/agent/state", set_state, "Available, or away with a reason", "agent",
          access="agent", body=AgentStateBody, response=AgentState),
    Route("GET", "/api/agent/contacts", list_contacts, "The agent's state, held contacts and "
          "ringing offer", "agent", access="agent", response=AgentContacts,
          audit=Audit("read_contacts", reads=True)),
    Route("GET", "/api/agent/contacts/{id}", screen_pop, "Screen-pop: customer card, last "
          "contacts, transcript", "agent", access="agent", response=ScreenPop,
          audit=Audit("read_screen_pop", reads=True)),
    Route("GET", "/api/agent/contacts/{id}/transcript", contact_transcript, "A contact's "
          "transcript: one the agent has, or an earlier one of its verified customer",
          "agent", access="agent", response=ContactTranscript,
          audit=Audit("read_transcript", reads=True)),
    Route("POST", "/api/agent/contacts/{id}/notes", private_note, "A private note on the contact "
          "(agents only; shown on the customer's later contacts)", "agent", access="agent",
          body=NoteBody, response=ContactNoteOut, status=201, audit=Audit("add_contact_note")),
    Route("POST", "/api/agent/contacts/{id}/accept", accept, "Accept the ringing offer",
          "agent", access="agent", response=Ok),
    Route("POST", "/api/agent/contacts/{id}/decline", decline, "Decline the ringing offer",
          "agent", access="agent", response=Ok),
    Route("POST", "/api/agent/contacts/{id}/hangup", hang_up, "End the conversation; wrap-up "
          "starts", "agent", access="agent", response=Ok),
    Route("POST", "/api/agent/contacts/{id}/wrapup", wrap_up, "Finish wrap-up with a "
          "disposition", "agent", access="agent", body=WrapUpBody, response=Ok),
    Route("POST", "/api/agent/contacts/{id}/messages", send_message, "Write to the customer "
          "of an active chat", "agent", access="agent", body=MessageBody, response=Ok,
          audit=Audit("send_message", by="record",
                      where="the transcript: each line with its agent and time")),
    Route("POST", "/api/agent/contacts/{id}/transfer", transfer, "Transfer: blind to a queue "
          "or an agent, or warm (consult an agent first)", "agent", access="agent",
          body=TransferBody, response=Ok,
          errors=((409, "Not talking, the agent cannot take it now, or a consult goes on"),)),
    Route("POST", "/api/agent/contacts/{id}/consult/complete", _consult_action("complete"),
          "Leave the customer with the consulted agent", "agent", access="agent", response=Ok),
    Route("POST", "/api/agent/contacts/{id}/consult/cancel", _consult_action("cancel"),
          "Call the consult off and carry on", "agent", access="agent", response=Ok),
    Route("POST", "/api/agent/contacts/{id}/consult/accept", _consult_action("accept"),
          "Take a colleague's consult (a call: on the phone)", "agent", access="agent",
          response=Ok),
    Route("POST", "/api/agent/contacts/{id}/consult/decline", _consult_action("decline"),
          "Refuse a colleague's consult", "agent", access="agent", response=Ok),
    Route("GET", "/api/agent/quick-connect", quick_connect, "Queues and agents to transfer "
          "to", "agent", access="agent", response=QuickConnect,
          query=(Param("channel", "voice, chat or email (default chat)", required=False,
                       values=("voice", "chat", "email")),)),
    Route("GET", "/api/agent/ws", agent_ws, "Agent WebSocket: offers with ring countdown, "
          "chat lines, state changes", "agent", access="agent", kind="websocket",
          description=(agent_ws.__doc__ or "") + " An offer naming its customer is a read "
          "(audited once per offer), as is a snapshot naming held contacts' customers.",
          audit=Audit("read_offer", reads=True, by="handler")),
]  # fmt: skip
