"""A real ``contactcenter serve`` with ``bus.yaml``: ``online`` when it connects, the broker
publishes its last will ``offline`` when the process is killed with SIGKILL, a clean stop says
``offline`` itself; a broker that is not there keeps the engine neither from starting nor
from being healthy."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

from tests.bus.conftest import Broker, Watcher
from tests.integration.server import ServerProcess, fresh_server
from tests.scrape import value

STATUS = "cc/v1/hq/engine/status"


def enable_bus(srv: ServerProcess, broker: Broker) -> None:
    (srv.config / "bus.yaml").write_text(
        "bus:\n  enabled: true\n  site: hq\n"
        f"  port: {broker.port}\n  reconnect_initial_seconds: 0.2\n  reconnect_max_seconds: 1\n"
    )


def bus_connected(base: str) -> float:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return value(text, "contactcenter_bus_connected")


async def test_the_broker_publishes_offline_when_the_engine_is_killed(
    tmp_path: Path, broker: Broker
) -> None:
    with fresh_server(tmp_path, [("admin", "admin", None)]) as srv:
        enable_bus(srv, broker)
        async with Watcher(broker.port, STATUS) as w:
            base = await asyncio.to_thread(srv.start)
            assert "MQTT bus: broker 127.0.0.1:" in srv.log()
            await w.until(lambda: w.on(STATUS) and w.last(STATUS)["state"] == "online")
            boot = w.last(STATUS)["boot"]
            assert bus_connected(base) == 1
            killed = time.monotonic()
            srv.kill9()
            await w.until(lambda: w.last(STATUS)["state"] == "offline")
            noticed = time.monotonic() - killed
        will = w.last(STATUS)
        assert (will["reason"], will["boot"]) == ("lost", boot)
        assert noticed < 5.0, noticed  # the socket closed with the process: at once
        print(f"\nlast will seen {noticed * 1000:.0f} ms after SIGKILL")  # noqa: T201 (-s)
        async with Watcher(broker.port, STATUS) as late:  # and it stays, retained
            await late.until(lambda: late.on(STATUS))
        assert late.on(STATUS)[0].retain and late.last(STATUS)["reason"] == "lost"

        async with Watcher(broker.port, STATUS) as w:
            await asyncio.to_thread(srv.start)
            await w.until(lambda: w.last(STATUS)["state"] == "online")
            assert w.last(STATUS)["boot"] != boot
            assert await asyncio.to_thread(srv.stop) == 0
            await w.until(lambda: w.last(STATUS)["state"] == "offline")
        assert w.last(STATUS)["reason"] == "stopped"
        assert [m.json()["state"] for m in w.on(STATUS)][-2:] == ["online", "offline"]


async def test_without_its_broker_the_engine_starts_serves_and_connects_when_it_comes(
    tmp_path: Path, broker: Broker
) -> None:
    broker.stop()
    with fresh_server(tmp_path, [("admin", "admin", None)]) as srv:
        enable_bus(srv, broker)
        base = await asyncio.to_thread(srv.start)  # /healthz is 200 without the broker
        assert bus_connected(base) == 0
        assert "bus: cannot reach the broker" in srv.log()
        broker.start()
        deadline = time.monotonic() + 10
        while bus_connected(base) != 1:
            assert time.monotonic() < deadline, srv.log()
            await asyncio.sleep(0.1)
        async with Watcher(broker.port, STATUS) as w:
            await w.until(lambda: w.on(STATUS))
        assert w.last(STATUS)["state"] == "online"


async def test_a_standby_that_takes_over_comes_online_on_the_bus(
    tmp_path: Path, broker: Broker
) -> None:
    """The killed engine's last will says ``offline``; the standby that takes over connects
    to the broker itself and says ``online`` with a boot of its own; a waiting standby says
    nothing (it is not the site's engine yet)."""
    with fresh_server(tmp_path, [("admin", "admin", None)]) as srv:
        enable_bus(srv, broker)
        with srv.standby() as standby:
            async with Watcher(broker.port, STATUS) as w:
                await asyncio.to_thread(srv.start)
                await w.until(lambda: w.on(STATUS) and w.last(STATUS)["state"] == "online")
                boot = w.last(STATUS)["boot"]
                standby.launch(port=srv.port)
                await asyncio.to_thread(standby.waiting)
                await asyncio.sleep(0.5)
                assert [m.json()["state"] for m in w.on(STATUS)] == ["online"]
                srv.kill9()
                base = await asyncio.to_thread(standby.serving, 60)
                await w.until(lambda: w.last(STATUS)["state"] == "online")
            states = [(m.json()["state"], m.json()["boot"]) for m in w.on(STATUS)]
            assert states[:2] == [("online", boot), ("offline", boot)]
            assert states[-1][0] == "online" and states[-1][1] != boot
            assert bus_connected(base) == 1
            assert await asyncio.to_thread(standby.stop) == 0
