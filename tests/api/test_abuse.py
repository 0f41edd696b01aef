"""No anonymous customer can exhaust the engine: chat lines are limited in rate per chat and per
client address, in size, and in what one chat's transcript may hold; a chat has a few sockets
at most. Each refusal reaches the customer as an error frame and is counted in ``/metrics`` (by
reason, never by customer)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contactcenter.api import Settings
from contactcenter.api.ratelimit import Limits
from contactcenter.config import Center
from contactcenter.runtime import Site
from contactcenter.runtime.errors import Refused
from contactcenter.store import Store
from tests.api.conftest import Api, frame
from tests.scrape import by_label

BASE = Settings(chat_grace=0.3, wallboard_min_interval=0.05)


def limited(**limits: Any) -> Any:
    """Run the test with these ``Limits`` (the rest default)."""
    settings = replace(BASE, limits=Limits(**limits))
    return pytest.mark.parametrize("api_settings", [settings], ids=["limits"])


async def refused_lines(api: Api) -> dict[str, float]:
    """``contactcenter_chat_lines_refused_total`` by reason, as scraped from ``/metrics``."""
    status, text = await api.call("GET", "/metrics")
    assert status == 200
    return by_label(text, "contactcenter_chat_lines_refused_total", "reason")


async def answered_chat(api: Api, agent: str = "a05") -> tuple[str, Any, Any]:
    """A chat answered by ``agent``: (contact id, customer socket, agent socket)."""
    await api.login(agent)
    desk = await api.ws("/api/agent/ws", agent)
    await frame(desk, "snapshot")
    await api.ok("POST", "/api/agent/login", agent)
    cid, token = await api.start_chat()
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(desk, "offer", contact_id=cid)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)
    await frame(customer, "agent_joined")
    return cid, customer, desk


async def outcomes(ws: Any, n: int) -> list[dict[str, Any]]:
    """The customer's next ``n`` answers to its lines: its own line back, or an error."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(got) < n:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data["type"] == "error" or (
                data["type"] == "message" and data["sender"] == "customer"
            ):
                got.append(data)
    return got


async def say(ws: Any, text: str) -> dict[str, Any]:
    """Send a line and wait for its answer: the line back (sent), or an error frame."""
    await ws.send_json({"type": "message", "text": text})
    return (await outcomes(ws, 1))[0]


async def kinds(ws: Any, *texts: str) -> list[str]:
    """What became of each line, said one after the other: "message" or the error code."""
    got = [await say(ws, t) for t in texts]
    return [g["error"]["code"] if g["type"] == "error" else g["type"] for g in got]


async def stored(api: Api, cid: str, sender: str = "customer") -> list[str]:
    await api.site.chat.transcripts.flush()
    return [m.text for m in await api.store.transcript(cid) if m.sender == sender]


async def test_a_flood_of_lines_stores_what_a_fast_typist_could_write(api: Api) -> None:
    """With the defaults: 200 lines at once, as fast as a socket takes them, keep what a real
    customer could type in that moment (a burst of 20); the rest are refused, each with an
    error frame saying when to try again."""
    cid, customer, desk = await answered_chat(api)
    burst = Limits().chat_lines
    for i in range(200):
        await customer.send_json({"type": "message", "text": f"line {i}"})
    got = await outcomes(customer, 200)
    kept = [g["text"] for g in got if g["type"] == "message"]
    assert kept == [f"line {i}" for i in range(burst)]
    errors = [g["error"] for g in got if g["type"] == "error"]
    assert len(errors) == 200 - burst
    assert {e["code"] for e in errors} == {"too_fast"}
    assert all(0 < e["retry_after_seconds"] <= Limits().chat_lines_window for e in errors)
    for i in range(burst):  # the agent reads exactly what was kept
        assert (await frame(desk, "message", contact_id=cid))["text"] == f"line {i}"
    assert await stored(api, cid) == kept
    assert (await refused_lines(api))["chat_lines"] == 200 - burst


@limited(chat_lines=3, chat_lines_window=0.5)
async def test_a_refused_customer_may_write_again_when_told(api: Api) -> None:
    cid, customer, _ = await answered_chat(api)
    for i in range(3):
        assert (await say(customer, f"quick {i}"))["type"] == "message"
    refused = await say(customer, "quick 3")
    assert refused["error"]["code"] == "too_fast"
    await asyncio.sleep(refused["error"]["retry_after_seconds"])
    assert (await say(customer, "and now?"))["text"] == "and now?"
    assert await stored(api, cid) == ["quick 0", "quick 1", "quick 2", "and now?"]


@limited(chat_lines=100, address_lines=6, address_window=60.0)
async def test_lines_are_limited_per_address_over_all_its_chats(api: Api) -> None:
    """Two chats from one address share its allowance; another address has its own."""
    chats = []
    for _ in range(2):
        cid, token = await api.start_chat()
        ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
        await frame(ws, "status")
        chats.append((cid, ws))
    said = [await kinds(ws, f"{cid} {i}") for i in range(4) for cid, ws in chats]
    assert said == [["message"]] * 6 + [["too_fast"]] * 2
    kept = [await stored(api, cid) for cid, _ in chats]
    assert sum(len(k) for k in kept) == 6
    assert (await refused_lines(api))["address_lines"] == 2

    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        base = api.client.make_url("/")
        async with other.post(f"{base}api/chat", json={"name": "Eva", "topic": "sales"}) as r:
            assert r.status == 201
            started = await r.json()
        url = f"{base}api/chat/{started['contact_id']}/ws?token={started['token']}"
        async with other.ws_connect(url) as ws:
            assert (await say(ws, "from elsewhere"))["text"] == "from elsewhere"


@limited(chat_lines=100, address_bytes=5500, address_window=60.0)
async def test_bytes_are_limited_per_address(api: Api) -> None:
    cid, token = await api.start_chat()
    ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    said = await kinds(ws, *(str(i) * 1000 for i in range(7)))
    assert said == ["message"] * 5 + ["too_fast"] * 2
    assert await kinds(ws, "short") == ["message"]  # what is left of the allowance
    assert (await refused_lines(api))["address_bytes"] == 2


@limited(line_bytes=1000)
async def test_a_line_is_limited_in_bytes(api: Api) -> None:
    cid, customer, desk = await answered_chat(api)
    too_long = await say(customer, "€" * 400)  # 400 characters, 1200 bytes
    assert too_long["error"]["code"] == "line_too_long"
    assert "1000 bytes" in too_long["error"]["message"]
    assert (await say(customer, "a" * 1000))["text"] == "a" * 1000
    assert (await frame(desk, "message", contact_id=cid))["text"] == "a" * 1000
    assert (await refused_lines(api))["line_size"] == 1


@limited(transcript_bytes=5000)
async def test_a_chat_transcript_has_a_quota(api: Api) -> None:
    """2,000-character lines fill the quota; then the customer is told, and the agent can still
    write (the quota is on what an anonymous customer may store)."""
    cid, customer, _ = await answered_chat(api)
    said = await kinds(customer, "a" * 2000, "b" * 2000, "c" * 2000, "d" * 1000, "e")
    assert said == ["message", "message", "transcript_full", "message", "transcript_full"]
    assert await stored(api, cid) == ["a" * 2000, "b" * 2000, "d" * 1000]
    await api.ok("POST", f"/api/agent/contacts/{cid}/messages", "a05", {"text": "x" * 2000})
    assert await stored(api, cid, "agent") == ["x" * 2000]
    assert (await refused_lines(api))["transcript_quota"] == 2


async def test_the_quota_holds_across_a_restart(tmp_path: Path, center: Center) -> None:
    """After a restart the chat's quota counts what the store already holds."""
    store = await Store.open(tmp_path / "cc.sqlite3")
    try:
        site = Site(center, store)
        await site.start()
        cid = await site.chat.start_chat(name="Jo", topic="sales")
        await site.chat.customer_says(cid, "a" * 3000, quota=5000)
        await site.stop()

        again = Site(center, store)
        await again.start()
        await again.chat.customer_says(cid, "b" * 2000, quota=5000)
        with pytest.raises(Refused) as refused:
            await again.chat.customer_says(cid, "c", quota=5000)
        assert refused.value.code == "transcript_full"
        await again.stop()
        assert [m.text[0] for m in await store.transcript(cid)] == ["a", "b"]
    finally:
        await store.close()


@limited(chat_sockets=2)
async def test_a_chat_has_few_sockets(api: Api) -> None:
    """2,000 sockets on one chat were all accepted; now a chat has ``chat_sockets``."""
    cid, token = await api.start_chat()
    url = f"/api/chat/{cid}/ws?token={token}"
    first, second = await api.ws(url), await api.ws(url)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws(url)
    assert refused.value.status == 429
    status, body = await api.call("GET", url)  # the plain GET sees the JSON refusal
    assert status == 429 and body["error"]["code"] == "too_many_sockets"
    await first.close()
    third = await api.ws(url)
    assert (await frame(third, "status"))["state"] == "waiting"
    await second.send_json({"type": "ping"})
    await frame(second, "pong")
    await second.close()
    await third.close()
