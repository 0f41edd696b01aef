"""Failed logins slow the guesser's address down, never the rightful user elsewhere.

Found in issue 11: five wrong passwords from any address locked the user out for a minute from
every address, so anyone could keep a supervisor locked out. Clients here connect from
different loopback addresses (127.0.0.2, 127.0.0.3, ...) to the app on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from contactcenter.api.context import CTX
from contactcenter.api.login_throttle import LoginThrottle
from tests.api.conftest import PASSWORD, Api
from tests.scrape import by_label

GUESSES = ["letmein", "Password1", "supervisor", "hunter2", "123456", "qwerty", "admin"]


class Client:
    """Logins sent from one loopback address."""

    def __init__(self, api: Api, http: aiohttp.ClientSession) -> None:
        self.api = api
        self.http = http

    async def login(self, user: str, password: str) -> tuple[int, dict[str, Any], str | None]:
        url = self.api.client.make_url("/api/login")
        async with self.http.post(url, json={"username": user, "password": password}) as resp:
            return resp.status, await resp.json(), resp.headers.get("Retry-After")


@asynccontextmanager
async def from_address(api: Api, address: str) -> AsyncIterator[Client]:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        yield Client(api, http)


async def attempts(api: Api) -> dict[str, float]:
    status, text = await api.call("GET", "/metrics")
    assert status == 200
    return by_label(text, "contactcenter_login_attempts_total", "outcome")


async def test_guessing_from_one_address_leaves_the_user_free_elsewhere(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="contactcenter.api.auth")
    async with from_address(api, "127.0.0.2") as guesser, from_address(api, "127.0.0.3") as sup:
        for guess in GUESSES[:5]:
            status, body, _ = await guesser.login("sup", guess)
            assert status == 401 and body["error"]["code"] == "bad_credentials"
        # the guesser must wait, even with the right password ...
        status, body, retry = await guesser.login("sup", PASSWORD)
        assert status == 429 and body["error"]["code"] == "too_many_attempts"
        assert retry is not None and int(retry) >= 1
        # ... while the supervisor at another address logs in at once
        status, body, _ = await sup.login("sup", PASSWORD)
        assert status == 200 and body["role"] == "supervisor"

    assert await attempts(api) == {
        "ok": 1.0, "bad_password": 5.0, "unknown_user": 0.0, "throttled": 1.0
    }  # fmt: skip
    failed = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failed) == 5
    assert all("sup" in m and "127.0.0.2" in m for m in failed)
    assert "5 in a row" in failed[-1] and "must wait 1 s" in failed[-1]
    assert any("sup" in r.getMessage() and "127.0.0.3" in r.getMessage() for r in caplog.records)
    logged = caplog.text
    assert not any(guess in logged for guess in GUESSES[:5] if guess != "supervisor")
    assert PASSWORD not in logged


async def test_each_further_failure_doubles_the_wait_and_a_success_clears_it(api: Api) -> None:
    async with from_address(api, "127.0.0.4") as client:
        for guess in GUESSES[:5]:
            assert (await client.login("a05", guess))[0] == 401
        assert (await client.login("a05", PASSWORD))[2] == "1"
        await asyncio.sleep(1.05)
        assert (await client.login("a05", GUESSES[5]))[0] == 401  # the sixth: 2 s now
        assert (await client.login("a05", PASSWORD))[2] == "2"
        await asyncio.sleep(2.05)
        assert (await client.login("a05", PASSWORD))[0] == 200
        assert (await client.login("a05", GUESSES[6]))[0] == 401  # counted afresh
        assert (await client.login("a05", PASSWORD))[0] == 200


async def test_one_address_trying_many_user_names_is_slowed(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="contactcenter.api.auth")
    api.client.app[CTX].login_limiter.limit = 12  # type: ignore[index]
    names = [f"jan.novak{i}@example.com" for i in range(12)]  # what a customer might type
    async with from_address(api, "127.0.0.5") as sprayer, from_address(api, "127.0.0.6") as desk:
        for name in names:
            assert (await sprayer.login(name, "letmein"))[0] == 401
        status, _, retry = await sprayer.login("a06", PASSWORD)
        assert status == 429 and retry is not None and 1 <= int(retry) <= 60
        assert (await desk.login("a06", PASSWORD))[0] == 200
    counts = await attempts(api)
    assert counts["unknown_user"] == 12 and counts["throttled"] == 1
    assert "example.com" not in caplog.text  # an unknown name may be a customer's address
    assert caplog.text.count("unknown user name") == 12


def test_the_wait_doubles_up_to_the_limit_and_is_forgotten() -> None:
    now = [0.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    throttle = LoginThrottle(3, 1.0, 8.0, clock=clock)
    assert [throttle.failed("k") for _ in range(3)] == [(1, 0.0), (2, 0.0), (3, 1.0)]
    assert throttle.retry_after("k") == 1.0 and throttle.retry_after("other") is None
    now[0] = 1.0
    assert throttle.retry_after("k") is None
    waits = []
    for _ in range(5):
        waits.append(throttle.failed("k")[1])
        now[0] += waits[-1]
    assert waits == [2.0, 4.0, 8.0, 8.0, 8.0]
    now[0] += 8.0  # quiet for the longest wait: forgotten
    assert throttle.failed("k") == (1, 0.0)
    throttle.failed("k")
    throttle.succeeded("k")
    assert throttle.failed("k") == (1, 0.0)


def test_the_throttle_remembers_a_bounded_number_of_keys() -> None:
    throttle = LoginThrottle(1, 60.0, 60.0, clock=lambda: 0.0, max_keys=3)
    for key in "abcd":
        throttle.failed(key)
    assert throttle.retry_after("a") is None  # the least recently failed was forgotten
    assert all(throttle.retry_after(k) == 60.0 for k in "bcd")
