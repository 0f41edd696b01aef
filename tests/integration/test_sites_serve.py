"""Two sites on one PostgreSQL database (``serve --site``), their engines running at once.

Real processes on loopback: the sites ``north`` and ``south`` share the CRM and the cases,
and each has its own contacts, users and lock. A second engine for a site that is served is
refused; supervisors of both sites write to the same customer and the same case at once and
every write is kept; a site's engine killed with -9 and started again gets back its own
waiting chats, not the other site's, while the other site serves on.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from contactcenter.store import Store
from contactcenter.store.cases import case, open_case
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    login,
    open_around_the_clock,
    set_users,
)
from tests.postgres import Postgres

USERS = [("root", "admin", None), ("boss", "supervisor", None)]
SITES = ("north", "south")
CUSTOMER = "C1008"  # a standard-tier customer of the example CRM
NOTES = 15


class Sites:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.url = url
        self.keys = tmp_path / "data-keys"  # the same for every site: they share the CRM
        self.config = tmp_path / "config"
        shutil.copytree(ROOT / "config", self.config)
        open_around_the_clock(self.config)
        self.servers: dict[str, ServerProcess] = {}
        for site in SITES:
            keys = ["--data-keys", str(self.keys), "--site", site]
            set_users(url, self.config, USERS, keys)
            logs = tmp_path / site
            logs.mkdir()
            extra = [*keys, "--state-dir", str(logs / "var")]
            self.servers[site] = ServerProcess(self.config, url, logs, extra)

    def finish(self) -> None:
        for srv in self.servers.values():
            srv.finish()


@pytest.fixture
def sites(tmp_path: Path, postgres: Postgres) -> Iterator[Sites]:
    two = Sites(tmp_path, postgres.new_database())
    try:
        yield two
    finally:
        two.finish()


async def _chats(http: aiohttp.ClientSession, base: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        async with http.post(f"{base}/api/chat", json={"name": f"C{i}", "topic": "sales"}) as r:
            assert r.status == 201, await r.text()
            ids.append((await r.json())["contact_id"])
    return ids


async def _waiting(http: aiohttp.ClientSession, base: str) -> int:
    sup = await login(http, base, "boss")
    rows = await call(http, "GET", f"{base}/api/supervisor/queues", sup)
    return int(sum(r["waiting"] for r in rows))


async def test_two_sites_serve_one_database_at_once_and_keep_apart_what_is_theirs(
    sites: Sites,
) -> None:
    north, south = sites.servers["north"], sites.servers["south"]
    bases = {"north": north.start(), "south": south.start()}

    second = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(sites.config),
         "--port", "0", "--db", sites.url, *north.extra],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert second.returncode == 1
    assert "served for site north by another engine" in second.stderr, second.stderr

    async with aiohttp.ClientSession() as http:
        mine = {"north": await _chats(http, bases["north"], 3),
                "south": await _chats(http, bases["south"], 2)}  # fmt: skip
        async with await Store.open(sites.url, data_keys=sites.keys, site="north") as store:
            case_id = await open_case(
                store, customer_id=CUSTOMER, contact_id=mine["north"][0], category="billing",
                severity="normal", description="charged twice", owner="boss", wall_time=0.0,
            )  # fmt: skip

        async def supervisor(site: str) -> None:
            base = bases[site]
            sup = await login(http, base, "boss")
            for i in range(NOTES):
                tier = "gold" if i % 2 else "standard"
                await asyncio.gather(
                    call(http, "POST", f"{base}/api/cases/{case_id}/notes", sup,
                         {"text": f"{site} note {i}"}),
                    call(http, "PUT", f"{base}/api/supervisor/customers/{CUSTOMER}/tier", sup,
                         {"tier": tier}),
                )  # fmt: skip

        await asyncio.gather(*(supervisor(site) for site in SITES))
        async with await Store.open(sites.url, data_keys=sites.keys, site="south") as store:
            notes = sorted(n.text for n in (await case(store, case_id)).notes)
            customer = await store.customer(CUSTOMER)
        assert notes == sorted(f"{s} note {i}" for s in SITES for i in range(NOTES))
        assert customer is not None and customer.tier == "standard"  # both ended on i = 14

        north.kill9()
        bases["north"] = north.start()
        assert await _waiting(http, bases["north"]) == len(mine["north"])
        assert await _waiting(http, bases["south"]) == len(mine["south"])
        sup = await login(http, bases["north"], "boss")
        for cid in mine["north"]:
            ex = await call(
                http, "GET", f"{bases['north']}/api/supervisor/contacts/{cid}/explain", sup
            )
            assert ex["state"] == "waiting", ex
    assert north.stop() == 0 and south.stop() == 0
