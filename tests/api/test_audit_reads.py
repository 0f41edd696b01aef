"""Every read of customer data is in the audit log: who, when, what and which contact.

The route table is walked: every GET route is called as its role in a center holding one
customer's chat (with a transcript) and call back; a route whose answer carries any of that
customer's data must be declared a read and must have left an entry naming the user and the
contact (or the ids of a list) it showed. The desktop socket's offers are reads too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

import pytest

from contactcenter.api.app import all_routes
from contactcenter.api.openapi import Route
from contactcenter.routing import ContactState
from contactcenter.store import AuditRecord
from contactcenter.store.cases import add_case_task, open_case
from contactcenter.store.errors import StoreUnavailable
from tests.api.conftest import Api, frame

NAME, PHONE, EMAIL, CUSTOMER = "Jan Novak", "+4930555010008", "jan.novak@example.com", "C1008"
SECRET = "my router serial is XK-4471"
MARKERS = (NAME, PHONE, EMAIL, CUSTOMER, SECRET)
MAIL_EDGE_READS = {"/api/agent/contacts/{id}/mail"}
"""Need a site with the mail edge: their audited reads are checked by
tests/mail/test_serve_mail.py."""
ROLE_USER = {"agent": "a05", "supervisor": "sup", "user": "a05", "admin": "root"}


async def until(predicate: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def entries_after(api: Api, last: int) -> list[AuditRecord]:
    """(Not logins: a user's first call logs them in, with its own entry.)"""
    return [e for e in await api.store.audit_log(limit=1000) if e.id > last and e.action != "login"]


async def last_id(api: Api) -> int:
    log = await api.store.audit_log(limit=1)
    return log[0].id if log else 0


async def chat_with_a05(api: Api) -> str:
    """Jan Novak chats, says something private, and a05 answers."""
    cid, token = await api.start_chat(name=NAME, topic="sales")
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    await customer.send_json({"type": "message", "text": SECRET})
    await api.ok("POST", "/api/agent/login", "a05")
    await until(lambda: api.engine.router.contact(cid).state is ContactState.OFFERED)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    await api.site.chat.transcripts.flush()
    return cid


def kind(path: str) -> str:
    """What the route's ``{id}`` (or the ids of its list) names."""
    if path.startswith("/api/callbacks"):
        return "callback"
    if path.startswith("/api/cases/") or path == "/api/supervisor/cases":
        return "case"
    if path == "/api/agent/contacts/{id}/task":
        return "task"
    return "customer" if path.startswith("/api/customers/") else "contact"


def concrete(route: Route, ids: dict[str, str]) -> str:
    return route.path.replace("{id}", ids[kind(route.path)])


async def test_every_route_showing_customer_data_is_an_audited_read(api: Api) -> None:
    cid = await chat_with_a05(api)
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    booked = await api.ok(
        "POST", "/api/callbacks", "sup",
        {"queue": "sales", "number": PHONE, "customer_id": CUSTOMER, "due_at": due},
    )  # fmt: skip
    case = await open_case(api.store, customer_id=CUSTOMER, contact_id=cid, category="billing",
                           severity="high", description=SECRET, owner="a05",
                           wall_time=time.time())  # fmt: skip
    await add_case_task(api.store, case, SECRET, time.time(), actor="a05", wall_time=time.time())
    api.site.case_tasks.wake()  # routed at once: its owner a05 is offered it beside the chat
    router = api.engine.router
    await until(lambda: any(c.channel == "task" and c.agent == "a05"
                            for c in router.contacts.values()))  # fmt: skip
    task = next(c.id for c in router.contacts.values() if c.channel == "task")
    ids = {"contact": cid, "callback": str(booked["id"]), "case": str(case), "customer": CUSTOMER,
           "task": task}  # fmt: skip
    walked, reads = 0, 0
    for route in all_routes():
        if route.method != "GET" or route.kind != "json" or route.access == "public":
            continue
        if route.path in MAIL_EDGE_READS:
            continue
        user = ROLE_USER[route.access]
        if kind(route.path) == "customer":  # an agent only while it handles them (verified)
            user = "sup"
        before = await last_id(api)
        status, body = await api.call("GET", concrete(route, ids), user)
        assert status == 200, (route.path, status, body)
        walked += 1
        shows = [m for m in MARKERS if m in json.dumps(body)]
        audit = route.audited
        if shows:
            assert audit is not None and audit.reads, f"{route.path} shows {shows} unaudited"
        if audit is None or not audit.reads:
            assert await entries_after(api, before) == [], route.path
            continue
        reads += 1
        (entry,) = await entries_after(api, before)
        assert (entry.actor, entry.action) == (user, audit.action), route.path
        assert abs(entry.wall_time - time.time()) < 5
        target = ids[kind(route.path)]
        if "{id}" in route.path:
            assert entry.target == target, (route.path, entry)
        elif route.path != "/api/audit":  # a list: the ids it showed
            assert target in map(str, entry.detail["shown"]), (route.path, entry)
    assert walked >= 8 and reads >= 4


async def test_the_screen_pop_entry_says_what_was_shown(api: Api) -> None:
    cid = await chat_with_a05(api)
    before = await last_id(api)
    pop = await api.ok("GET", f"/api/agent/contacts/{cid}", "a05")
    assert pop["transcript"][0]["text"] == SECRET
    (entry,) = await entries_after(api, before)
    assert (entry.actor, entry.action, entry.target) == ("a05", "read_screen_pop", cid)
    assert set(entry.detail["parts"]) >= {"card", "transcript"}
    assert SECRET not in json.dumps(entry.detail) and NAME not in json.dumps(entry.detail)
    # refused: nothing was shown, nothing is logged as read
    status, _ = await api.call("GET", f"/api/agent/contacts/{cid}", "a06")
    assert status == 403
    assert [e.actor for e in await entries_after(api, before)] == ["a05"]


async def test_an_empty_call_back_list_is_not_a_read(api: Api) -> None:
    before = await last_id(api)
    assert await api.ok("GET", "/api/callbacks", "sup") == []
    assert await entries_after(api, before) == []


@pytest.mark.parametrize("sockets", [1, 2])
async def test_an_offer_on_the_desktop_is_one_read(api: Api, sockets: int) -> None:
    await api.login("a05")
    desks = [await api.ws("/api/agent/ws", "a05") for _ in range(sockets)]
    for ws in desks:
        await frame(ws, "snapshot")
    await api.ok("POST", "/api/agent/login", "a05")
    before = await last_id(api)
    cid, token = await api.start_chat(name=NAME, topic="sales")
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")  # stays: not an abandon
    for ws in desks:
        offer = await frame(ws, "offer", contact_id=cid)
        assert offer["customer_name"] == NAME
    await asyncio.sleep(0.2)  # any second entry would be written by now
    reads = [e for e in await entries_after(api, before) if e.action == "read_offer"]
    assert [(e.actor, e.target) for e in reads] == [("a05", cid)]
    assert reads[0].detail["parts"] == ["name"]
    # a desktop opened later shows the ringing offer in its snapshot: the same offer, no entry
    late = await api.ws("/api/agent/ws", "a05")
    snap = await frame(late, "snapshot")
    assert snap["offer"]["contact_id"] == cid
    await asyncio.sleep(0.2)
    assert [e.action for e in await entries_after(api, before)].count("read_offer") == 1
    # once it is accepted, a new desktop's snapshot shows the held contact's name: a read
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    mark = await last_id(api)
    again = await api.ws("/api/agent/ws", "a05")
    snap = await frame(again, "snapshot")
    assert snap["contacts"][0]["customer_name"] == NAME
    await asyncio.sleep(0.2)
    (desk,) = await entries_after(api, mark)
    assert (desk.actor, desk.action, desk.detail["shown"]) == ("a05", "read_desktop", [cid])
    for ws in (*desks, late, again, customer):
        await ws.close()


async def test_the_wallboard_shows_no_customer_data(api: Api) -> None:
    await chat_with_a05(api)
    ws = await api.ws("/api/wallboard/ws", "sup")
    snap = await frame(ws, "snapshot")
    assert not [m for m in MARKERS if m in json.dumps(snap)]
    await ws.close()


async def test_no_entry_no_data(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read whose entry cannot be written (the database refuses writes) shows nothing."""
    cid = await chat_with_a05(api)

    async def refused(*args: object) -> None:
        raise StoreUnavailable("disk full")

    monkeypatch.setattr(api.store, "audit", refused)
    status, body = await api.call("GET", f"/api/agent/contacts/{cid}", "a05")
    assert status == 503 and body["error"]["code"] == "store_unavailable"
    assert not [m for m in MARKERS if m in json.dumps(body)]
