"""First-contact resolution over the API: chats of verified customers, one of whom comes back
about the same queue, and an anonymous one; the supervisors' FCR per queue and agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contactcenter.routing import ContactState
from tests.api.conftest import Api, frame
from tests.api.signing import signed
from tests.polling import until


async def chat(api: Api, **body: Any) -> str:
    """A sales chat a05 answers and the customer ends."""
    cid, token = await api.start_chat(**body)
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    assert await until(lambda: api.engine.router.contact(cid).state is ContactState.OFFERED)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    await frame(customer, "agent_joined")
    await customer.send_json({"type": "end"})
    await frame(customer, "ended")
    await customer.close()
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})
    return cid


async def test_fcr_per_queue_and_agent(api: Api) -> None:
    await api.ok("POST", "/api/agent/login", "a05")
    await chat(api, identity=signed(api, "C1008"))
    await chat(api, identity=signed(api, "C1008"))  # back about the same queue: a repeat
    await chat(api, identity=signed(api, "C1010"))
    await chat(api)  # anonymous: counted neither way
    await chat(api, customer_id="C1010")  # an unsigned claim: neither

    got = await api.ok("GET", "/api/supervisor/fcr", "sup")
    assert got["window_days"] == 7.0 and got["first"] == got["last"]
    assert got["queues"] == [
        {"queue": "sales_chat", "name": "Sales chat", "first_contacts": 2, "resolved": 1,
         "fcr": 0.5, "provisional": 2}
    ]  # fmt: skip
    assert got["agents"] == [
        {"agent_id": "a05", "name": "Elif Fischer", "first_contacts": 2, "resolved": 1,
         "fcr": 0.5}
    ]  # fmt: skip
    day = dt.date.fromisoformat(got["first"])
    month = await api.ok(
        "GET", f"/api/supervisor/fcr?from={day - dt.timedelta(days=30)}&to={day}", "sup"
    )
    assert month["queues"] == got["queues"]
    empty = await api.ok("GET", "/api/supervisor/fcr?from=2020-01-01&to=2020-01-31", "sup")
    assert empty["queues"] == [] and empty["agents"] == []


async def test_bad_periods_are_refused(api: Api) -> None:
    for query, code in (
        ("from=yesterday", "invalid_from"),
        ("from=2024-01-02&to=2024-13-01", "invalid_to"),
        ("from=2024-01-02&to=2024-01-01", "invalid_period"),
        ("from=2020-01-01&to=2024-01-01", "invalid_period"),
    ):
        status, body = await api.call("GET", f"/api/supervisor/fcr?{query}", "sup")
        assert (status, body["error"]["code"]) == (422, code), query
    status, _ = await api.call("GET", "/api/supervisor/fcr", "a05")
    assert status == 403
