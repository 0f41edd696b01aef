"""An admin erases a customer over HTTP: the card and what the contacts held of them go, the
erasure is in the audit log, open work refuses it (409), and the config naming the customer
is pointed out."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import Api, frame


async def test_an_admin_erases_a_customer(api: Api) -> None:
    cid, token = await api.start_chat(name="Peter Hansen", topic="sales", customer_id="C1010")
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    await customer.send_json({"type": "message", "text": "Peter here, call me on my mobile"})
    await customer.send_json({"type": "end"})
    await frame(customer, "ended")
    await customer.close()
    status, data = await api.call("POST", "/api/admin/customers/C1010/erase", "root")
    assert status == 200, data
    assert data["counts"]["crm_card"] == 1 and data["counts"]["transcript_lines"] == 1
    assert data["in_config"] is True  # config/customers.yaml seeds C1010
    assert await api.store.customer("C1010") is None
    rec = await api.store.contact(cid)
    assert rec is not None and (rec.customer_id, rec.customer_name) == (data["marker"], None)
    assert rec.outcome == "abandoned"  # the record stays for statistics
    assert await api.store.transcript(cid) == []
    (entry, *_) = await api.store.audit_log(limit=1)
    assert (entry.actor, entry.action, entry.target) == ("root", "erase_customer", data["marker"])
    again = await api.ok("POST", "/api/admin/customers/C1010/erase", "root")
    assert set(again["counts"].values()) == {0}


async def test_open_work_is_a_409(api: Api) -> None:
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    await api.ok("POST", "/api/callbacks", "sup",
                 {"queue": "sales", "number": "+4930555010008", "due_at": due})  # fmt: skip
    status, data = await api.call("POST", "/api/admin/customers/C1008/erase", "root")
    assert (status, data["error"]["code"]) == (409, "customer_busy"), data
    assert "still open" in data["error"]["message"]
    assert await api.store.customer("C1008") is not None
    status, _ = await api.call("POST", f"/api/admin/customers/{'C' * 65}/erase", "root")
    assert status == 404
