"""Connections to the real HTTP server (``listen``, as ``contactcenter serve`` runs it) on
loopback, driven by raw sockets: a socket that sends nothing, half a header, a header
trickled byte by byte or 1 byte of a 100-byte body is closed in bounded time; an idle
keep-alive is closed; connections are capped per client address and in all (refused with a
503 the client can read); a WebSocket peer that stops answering pings is dropped."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from contactcenter.api import Settings, build_app
from contactcenter.api.connections import listen
from contactcenter.api.ratelimit import Limits
from contactcenter.config import Center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.store import Store
from tests.polling import until
from tests.scrape import by_label

SECRET = b"s" * 32
GRACE = 0.3
"""Generous margin over a timeout for a loaded machine; every wait is bounded by it."""
SLACK = 3.0


class Server:
    def __init__(self, port: int, site: Site) -> None:
        self.port = port
        self.site = site
        self.base = f"http://127.0.0.1:{port}"

    async def connect(
        self, source: str = "127.0.0.1"
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))

    async def counted(self, name: str) -> dict[str, float]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.base}/metrics") as resp:
            text = await resp.text()
        return by_label(text, name, "reason")


@asynccontextmanager
async def serving(tmp_path: Path, center: Center, **limits: Any) -> AsyncIterator[Server]:
    store = await Store.open(tmp_path / "cc.sqlite3")
    metrics = Metrics(center)
    site = Site(center, store, metrics=metrics)
    settings = Settings(chat_grace=GRACE, limits=Limits(**limits))
    app = build_app(site, store, metrics, chat_secret=SECRET, settings=settings)
    runner = await listen(app, "127.0.0.1", 0)
    try:
        port = next(a[1] for a in runner.addresses if isinstance(a, tuple))
        yield Server(port, site)
    finally:
        await runner.cleanup()
        await store.close()


async def closed_after(reader: asyncio.StreamReader, within: float) -> tuple[bytes, float]:
    """Read until the server closes; (everything it sent, seconds it took)."""
    start = time.monotonic()
    got = b""
    async with asyncio.timeout(within):
        while chunk := await reader.read(65536):
            got += chunk
    return got, time.monotonic() - start


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def json_of(answer: bytes) -> Any:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


async def test_a_silent_socket_is_closed(tmp_path: Path, center: Center) -> None:
    async with serving(tmp_path, center, idle_timeout=0.5) as srv:
        reader, writer = await srv.connect()
        got, took = await closed_after(reader, 0.5 + SLACK)
        assert got == b"" and took >= 0.4
        writer.close()


async def test_half_a_header_is_closed(tmp_path: Path, center: Center) -> None:
    async with serving(tmp_path, center, idle_timeout=0.5) as srv:
        reader, writer = await srv.connect()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        got, took = await closed_after(reader, 0.5 + SLACK)
        assert got == b"" and took >= 0.4
        writer.close()


async def test_a_trickled_header_does_not_keep_the_socket(tmp_path: Path, center: Center) -> None:
    """A byte every 0.1 s does not reset the clock: the header must be whole in time."""
    async with serving(tmp_path, center, idle_timeout=0.5) as srv:
        reader, writer = await srv.connect()
        start = time.monotonic()

        async def trickle() -> None:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.1)

        sender = asyncio.create_task(trickle())
        got, _ = await closed_after(reader, 0.5 + SLACK)
        assert got == b"" and time.monotonic() - start < 0.5 + SLACK
        sender.cancel()
        writer.close()


async def test_one_byte_of_a_body_is_a_408_and_closed(tmp_path: Path, center: Center) -> None:
    async with serving(tmp_path, center, body_timeout=0.5) as srv:
        reader, writer = await srv.connect()
        writer.write(
            b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        got, took = await closed_after(reader, 0.5 + SLACK)
        assert status_of(got) == 408 and took >= 0.4
        assert json_of(got)["error"]["code"] == "body_timeout"
        writer.close()
        assert (await srv.counted("contactcenter_connections_cut_total"))["body_timeout"] == 1


async def test_an_idle_keep_alive_is_closed_and_a_prompt_client_is_served(
    tmp_path: Path, center: Center
) -> None:
    """A body sent in two parts within the time is served; then the idle connection closes."""
    async with serving(tmp_path, center, idle_timeout=0.6, body_timeout=0.6) as srv:
        reader, writer = await srv.connect()
        body = json.dumps({"name": "Jo", "topic": "sales"}).encode()
        writer.write(
            b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[:5]
        )
        await asyncio.sleep(0.2)
        writer.write(body[5:])
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SLACK)
        assert status_of(head) == 201
        got, took = await closed_after(reader, 0.6 + SLACK)  # the rest of the answer, then EOF
        assert b"contact_id" in got and took >= 0.4
        writer.close()


async def test_connections_are_capped_per_address(tmp_path: Path, center: Center) -> None:
    async with serving(tmp_path, center, address_connections=4) as srv:
        held = [await srv.connect("127.0.0.2") for _ in range(4)]
        reader, writer = await srv.connect("127.0.0.2")
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got, _ = await closed_after(reader, SLACK)
        assert status_of(got) == 503 and b"Retry-After" in got
        assert json_of(got)["error"]["code"] == "too_many_connections"
        writer.close()
        async with aiohttp.ClientSession() as http, http.get(f"{srv.base}/healthz") as resp:
            assert resp.status == 200  # another address is served
        held[0][1].close()  # one of the four goes: the address may connect again
        await held[0][1].wait_closed()

        async def served() -> bool:
            reader, writer = await srv.connect("127.0.0.2")
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            got, _ = await closed_after(reader, SLACK)
            writer.close()
            return status_of(got) == 200

        deadline = time.monotonic() + SLACK
        while not await served():
            assert time.monotonic() < deadline, "the address was not let in again"
        for _, w in held[1:]:
            w.close()
        assert (await srv.counted("contactcenter_connections_refused_total"))["address_cap"] >= 1


async def test_connections_are_capped_in_all(tmp_path: Path, center: Center) -> None:
    async with serving(tmp_path, center, address_connections=4, connections=6) as srv:
        held = [await srv.connect("127.0.0.2") for _ in range(4)]
        held += [await srv.connect("127.0.0.3") for _ in range(2)]
        reader, writer = await srv.connect("127.0.0.4")
        got, _ = await closed_after(reader, SLACK)
        assert status_of(got) == 503
        assert json_of(got)["error"]["code"] == "too_many_connections"
        writer.close()
        for _, w in held:
            w.close()
        async with aiohttp.ClientSession() as http:
            ok = False
            deadline = time.monotonic() + SLACK
            while not ok and time.monotonic() < deadline:
                async with http.get(f"{srv.base}/healthz") as resp:
                    ok = resp.status == 200
            assert ok
            async with http.get(f"{srv.base}/chat") as resp:  # a page: sent as a file
                assert resp.status == 200 and "<html" in (await resp.text()).lower()
        assert (await srv.counted("contactcenter_connections_refused_total"))["global_cap"] >= 1


async def test_a_websocket_peer_that_stops_answering_is_dropped(
    tmp_path: Path, center: Center
) -> None:
    """A customer's socket whose peer is gone (it never answers a ping) is closed after about
    1.5 heartbeats, and the customer counts as gone; a live client stays connected."""
    async with serving(tmp_path, center, heartbeat=0.4) as srv:
        async with aiohttp.ClientSession() as http:
            chats = []
            for name in ("Jo", "Ann"):
                async with http.post(
                    f"{srv.base}/api/chat", json={"name": name, "topic": "sales"}
                ) as resp:
                    chats.append(await resp.json())
            live, dead = chats
            url = f"{srv.base}/api/chat/{live['contact_id']}/ws?token={live['token']}"
            async with http.ws_connect(url) as ws:
                frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

                async def read() -> None:  # a client answers pings while it reads
                    async for msg in ws:
                        frames.put_nowait(json.loads(msg.data))

                reading = asyncio.create_task(read())
                reader, writer = await srv.connect()
                path = f"/api/chat/{dead['contact_id']}/ws?token={dead['token']}"
                key = base64.b64encode(os.urandom(16)).decode()
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n".encode()
                )
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SLACK)
                assert status_of(head) == 101
                _, took = await closed_after(reader, 0.6 + SLACK)  # it never answers a ping
                assert took >= 0.4
                writer.close()
                assert await until(
                    lambda: dead["contact_id"] not in srv.site.engine.router.contacts,
                    GRACE + SLACK,
                ), "the customer whose socket died was not taken as gone"

                await asyncio.sleep(1.0)  # 2.5 heartbeats
                await ws.send_json({"type": "ping"})
                async with asyncio.timeout(SLACK):
                    while (await frames.get())["type"] != "pong":
                        pass
                assert not ws.closed and live["contact_id"] in srv.site.engine.router.contacts
                reading.cancel()
        assert (await srv.counted("contactcenter_connections_cut_total"))["heartbeat"] == 1
