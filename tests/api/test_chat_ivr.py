"""The chat's front door over the real routes: a new chat runs the example chat flow
(config/ivr/chat.yaml) on the site's wall clock: hours and holidays, the menu answered by
typing, automatic replies that end self-served, and the queue the menu picks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from contactcenter.api import Settings
from contactcenter.config import Center
from contactcenter.ivr import Flows, load_flows, with_flows
from contactcenter.ivr.flow import MenuNode
from contactcenter.ivr.outcomes import IvrOutcome
from tests.api.conftest import CONFIG, Api, frame, serving
from tests.api.signing import signed
from tests.scrape import by_label

BERLIN = ZoneInfo("Europe/Berlin")
WELCOME = "Hi, welcome to Northwind Telecom! What can we help you with?"
TOPICS = [
    "1 - Sales",
    "2 - Technical support",
    "3 - Billing",
    "4 - Opening hours",
    "5 - Where is my invoice?",
]
CLOSED = (
    "Our chat is closed right now: we are here weekdays 7 AM to 10 PM and Saturdays 9 AM to 6 PM."
)
HOLIDAY = (
    "Our chat is closed today for the public holiday. We are here again on the next working "
    "day: weekdays 7 AM to 10 PM and Saturdays 9 AM to 6 PM."
)
HELPED = ["Did that answer your question?", "1 - Yes, thanks", "2 - Talk to an agent"]


class Clock:
    """The site's wall clock, set by the test (``Site(wall=...)``, as the runtime takes it)."""

    def __init__(self) -> None:
        self.wall = berlin(2026, 3, 2, 10, 0)  # a Monday morning: open

    def __call__(self) -> float:
        return self.wall


def berlin(*when: int) -> float:
    return dt.datetime(*when, tzinfo=BERLIN).timestamp()  # type: ignore[misc]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flows(center: Center) -> Flows:
    return load_flows(CONFIG, center)


@pytest.fixture
async def door(
    tmp_path: Path, center: Center, clock: Clock, flows: Flows, api_settings: Settings
) -> AsyncIterator[Api]:
    """The ``api`` fixture's app, on a center that has its IVR flows (as ``serve`` loads it)."""
    async with serving(tmp_path, with_flows(center, flows), api_settings, wall=clock) as api:
        yield api


async def outcomes(api: Api) -> dict[str, float]:
    status, text = await api.call("GET", "/metrics")
    assert status == 200
    return by_label(text, "contactcenter_chat_menu_outcomes_total", "outcome")


async def chat_socket(api: Api, started: dict[str, str]) -> aiohttp.ClientWebSocketResponse:
    cid, token = started["contact_id"], started["token"]
    return await api.client.ws_connect(f"/api/chat/{cid}/ws?token={token}")


async def say(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    await ws.send_json({"type": "message", "text": text})
    echo = await frame(ws, "message", sender="customer")
    assert echo["text"] == text


async def system_lines(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[str]:
    return [(await frame(ws, "message", sender="system"))["text"] for _ in range(n)]


async def test_a_chat_walks_the_menu_to_an_agent(door: Api) -> None:
    topics = await door.ok("GET", "/api/chat/topics")
    assert topics == {"topics": ["sales", "support", "billing"], "menu": True}
    started = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    assert started["state"] == "menu" and started["lines"] == [WELCOME, *TOPICS]
    cid = started["contact_id"]
    assert await door.store.contact(cid) is None  # in the menu: not a contact yet
    customer = await chat_socket(door, started)
    assert (await frame(customer, "status"))["state"] == "menu"
    history = await frame(customer, "history")
    assert [m["text"] for m in history["messages"]] == [WELCOME, *TOPICS]

    await say(customer, "tech support")  # a word of the label picks option 2
    status = await frame(customer, "status", state="waiting")
    assert status["position"] == 1
    assert door.engine.router.contact(cid).queue == "support_chat"

    agent = await door.ws("/api/agent/ws", "a12")
    await door.ok("POST", "/api/agent/login", "a12")
    offer = await frame(agent, "offer", contact_id=cid)
    assert offer["queue"] == "support_chat" and offer["customer_name"] == "Jan"
    await door.ok("POST", f"/api/agent/contacts/{cid}/accept", "a12")
    await frame(customer, "agent_joined")
    await agent.close()
    await customer.close()

    [visit] = await door.store.ivr_visits()
    assert (visit.call, visit.flow, visit.outcome, visit.node) == (
        cid, "chat", IvrOutcome.QUEUED, "support",
    )  # fmt: skip
    assert visit.contact_id == cid
    await door.site.chat.transcripts.flush()
    said = [(m.sender, m.text) for m in await door.store.transcript(cid)]
    assert said == [("system", WELCOME), *(("system", t) for t in TOPICS),
                    ("customer", "tech support")]  # fmt: skip
    assert (await outcomes(door))["queued"] == 1


async def test_an_automatic_reply_resolves_the_chat_without_an_agent(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Ada"})
    cid = started["contact_id"]
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await say(customer, "5")
    answer = await system_lines(customer, 4)
    assert answer[0].startswith("Your invoices are under My account > Invoices")
    assert answer[1:] == HELPED
    await say(customer, "yes")
    [glad] = await system_lines(customer, 1)
    assert glad == "Glad we could help! This chat is closed now; write again any time."
    assert (await frame(customer, "ended"))["by"] == "menu"
    await customer.close()

    [visit] = await door.store.ivr_visits()
    assert (visit.outcome, visit.reason, visit.node) == (
        IvrOutcome.SELF_SERVED, "self-served", "self_served",
    )  # fmt: skip
    assert visit.contact_id is None
    assert await door.store.contact(cid) is None  # nothing was queued, no agent involved
    assert not door.engine.router.contacts
    counted = await outcomes(door)
    assert counted["self_served"] == 1 and counted["queued"] == 0


async def test_an_automatic_reply_offers_an_agent(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Ada"})
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await say(customer, "opening hours")
    assert (await system_lines(customer, 4))[1:] == HELPED
    await say(customer, "talk to an agent")
    await frame(customer, "status", state="waiting")
    assert door.engine.router.contact(started["contact_id"]).queue == "support_chat"
    await customer.close()
    [visit] = await door.store.ivr_visits()
    assert visit.outcome is IvrOutcome.QUEUED


async def test_closed_hours_tell_the_customer_and_queue_nothing(door: Api, clock: Clock) -> None:
    clock.wall = berlin(2026, 3, 2, 22, 30)  # Monday, after 22:00
    started = await door.ok("POST", "/api/chat", body={"name": "Jan", "topic": "sales"})
    assert started["state"] == "ended" and started["lines"] == [CLOSED]
    assert await door.store.contact(started["contact_id"]) is None
    assert not door.engine.router.contacts
    [visit] = await door.store.ivr_visits()
    assert (visit.outcome, visit.reason, visit.node) == (IvrOutcome.CONTAINED, "closed", "closed")
    assert visit.started_wall == visit.ended_wall == clock.wall
    assert (await outcomes(door))["contained"] == 1
    # Tuesday 07:00 it is open again
    clock.wall = berlin(2026, 3, 3, 7, 0)
    again = await door.ok("POST", "/api/chat", body={"name": "Jan", "topic": "sales"})
    assert again["state"] == "queued"


async def test_a_holiday_closes_the_chat_all_day_or_for_its_own_hours(
    door: Api, clock: Clock
) -> None:
    clock.wall = berlin(2026, 12, 25, 10, 0)  # Christmas Day, a Friday
    started = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    assert started["state"] == "ended" and started["lines"] == [HOLIDAY]
    clock.wall = berlin(2026, 12, 24, 11, 0)  # Christmas Eve: open 08:00-12:00
    morning = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    assert morning["state"] == "menu"
    clock.wall = berlin(2026, 12, 24, 13, 0)
    afternoon = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    assert afternoon["lines"] == [HOLIDAY]
    reasons = [(v.outcome, v.reason) for v in await door.store.ivr_visits()]
    assert reasons == [(IvrOutcome.CONTAINED, "closed")] * 2  # the morning's is still open


async def test_the_widgets_topic_skips_the_menu(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Jan", "topic": "billing"})
    assert started["state"] == "queued" and started["lines"] == []
    rec = await door.store.contact(started["contact_id"])
    assert rec is not None and rec.queue == "billing_chat" and rec.topic == "billing"


async def test_a_verified_customer_keeps_tier_and_dedicated_agent(door: Api) -> None:
    started = await door.ok(
        "POST", "/api/chat", body={"name": "Mia", "identity": signed(door, "C1004")}
    )
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await say(customer, "2")
    await frame(customer, "status", state="waiting")
    contact = door.engine.router.contacts[started["contact_id"]]
    assert (contact.tier, contact.customer_id, contact.preferred_agent) == ("vip", "C1004", "a02")
    await customer.close()
    [visit] = await door.store.ivr_visits()
    assert visit.customer_id == "C1004"


async def test_a_claimed_customer_is_not_looked_up(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Mia", "customer_id": "C1004"})
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await say(customer, "2")
    await frame(customer, "status", state="waiting")
    contact = door.engine.router.contacts[started["contact_id"]]
    assert (contact.tier, contact.customer_id, contact.preferred_agent) == (
        "standard", None, None,
    )  # fmt: skip
    await customer.close()


async def test_a_customer_who_leaves_the_menu_is_on_record(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await customer.send_json({"type": "end"})
    assert (await frame(customer, "ended"))["by"] == "customer"
    await customer.close()
    [visit] = await door.store.ivr_visits()
    assert (visit.outcome, visit.node) == (IvrOutcome.ABANDONED, "topics")
    # one who never opens the socket has left after the grace period
    gone = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    await asyncio.sleep(0.6)
    visits = await door.store.ivr_visits()
    assert [(v.call, v.outcome) for v in visits][1:] == [(gone["contact_id"], IvrOutcome.ABANDONED)]
    status, body = await door.call(
        "GET", f"/api/chat/{gone['contact_id']}/ws?token={gone['token']}"
    )
    assert status == 404, body


async def test_a_wrong_answer_is_asked_again(door: Api) -> None:
    started = await door.ok("POST", "/api/chat", body={"name": "Jan"})
    customer = await chat_socket(door, started)
    await frame(customer, "history")
    await say(customer, "I want to speak to someone")
    assert await system_lines(customer, 6) == ["Sorry, I did not understand that.", *TOPICS]
    await say(customer, "9")
    lines = await system_lines(customer, 7)
    assert lines == ["Sorry, I did not get that. Please pick one of the topics.", WELCOME,
                     *TOPICS]  # fmt: skip
    await customer.close()


async def test_without_a_chat_menu_a_topic_is_required(api: Api) -> None:
    assert (await api.ok("GET", "/api/chat/topics"))["menu"] is False
    status, body = await api.call("POST", "/api/chat", body={"name": "Jan"})
    assert status == 422 and body["error"]["code"] == "topic_required"
    started = await api.ok("POST", "/api/chat", body={"name": "Jan", "topic": "sales"})
    assert started["state"] == "queued" and started["lines"] == []


class TestSilence:
    """The menu's timer runs on the loop: a customer who answers nothing is asked again, then
    the chat ends (``input_failed``), as a silent caller's call does."""

    @pytest.fixture
    def flows(self, center: Center) -> Flows:
        example = load_flows(CONFIG, center)
        chat = example.flows["chat"]
        topics = chat.nodes["topics"]
        assert isinstance(topics, MenuNode)
        quick = topics.model_copy(update={"timeout_seconds": 0.2})
        faster = chat.model_copy(update={"nodes": {**chat.nodes, "topics": quick}})
        return replace(example, flows={**example.flows, "chat": faster})

    async def test_silence_in_the_menu_ends_the_chat(self, door: Api) -> None:
        started = await door.ok("POST", "/api/chat", body={"name": "Jan"})
        customer = await chat_socket(door, started)
        await frame(customer, "history")
        assert await system_lines(customer, 7) == ["Are you still there?", WELCOME, *TOPICS]
        bye = await system_lines(customer, 1)
        assert bye == ["We have closed this chat. Write again any time!"]
        assert (await frame(customer, "ended"))["by"] == "menu"
        await customer.close()
        [visit] = await door.store.ivr_visits()
        assert (visit.outcome, visit.reason) == (IvrOutcome.INPUT_FAILED, "no-input")
