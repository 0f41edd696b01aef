"""A case's follow-up task through a real ``contactcenter serve``: a task due now on a case the
agent owns is routed as work when the engine starts; the owner's desktop socket gets the offer
on the ``task`` channel, its card names the case and the task, Accept, Done and the wrap-up
end it, and after a clean stop the store holds the task done by that agent and the task's
contact ended with its disposition. A second start routes nothing again. On a SQLite file
and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from contactcenter.store import Store
from contactcenter.store.cases import add_case_task, case, open_case
from tests.integration.server import call, frame, fresh_server, login
from tests.postgres import database_for


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_due_task_is_offered_accepted_and_done_on_a_real_server(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = database_for(request, backend)
    keys = tmp_path / "var" / "data-keys"  # the server's (beside the SQLite file, or named)
    users = [("a05", "agent", "a05"), ("sup", "supervisor", None)]
    with fresh_server(tmp_path, users, url) as srv:
        async with await Store.open(srv.db, data_keys=keys) as store:
            now = time.time()
            case_id = await open_case(
                store, customer_id="C1008", contact_id="chat-x", category="billing",
                severity="normal", description="charged twice", owner="a05", wall_time=now,
            )  # fmt: skip
            await add_case_task(store, case_id, "refund the second charge", now, actor="a05",
                                wall_time=now)  # fmt: skip
        base = srv.start()
        async with aiohttp.ClientSession() as http:
            auth = await login(http, base, "a05")
            async with http.ws_connect(f"{base}/api/agent/ws", headers=auth) as ws:
                await call(http, "POST", f"{base}/api/agent/login", auth)
                offer = await frame(ws, "offer", channel="task")
                cid = offer["contact_id"]
                card = await call(http, "GET", f"{base}/api/agent/contacts/{cid}/task", auth)
                assert (card["case_id"], card["title"]) == (case_id, "refund the second charge")
                await call(http, "POST", f"{base}/api/agent/contacts/{cid}/accept", auth)
                await frame(ws, "answered", contact_id=cid)
                await call(http, "POST", f"{base}/api/agent/contacts/{cid}/task/done", auth)
                await frame(ws, "completed", contact_id=cid)
                await call(http, "POST", f"{base}/api/agent/contacts/{cid}/wrapup", auth,
                           {"disposition": "resolved"})  # fmt: skip
                await frame(ws, "wrapup_ended", contact_id=cid)
        assert srv.stop() == 0
        srv.start()  # nothing is routed again
        await asyncio.sleep(1.0)
        assert srv.stop() == 0
        async with await Store.open(srv.db, data_keys=keys) as store:
            [task] = (await case(store, case_id)).tasks
            assert (task.done_by, task.contact_id) == ("a05", cid)
            contact = await store.contact(cid)
            assert contact is not None
            assert (contact.channel, contact.disposition) == ("task", "resolved")
            assert [r.contact_id for r in await store.contact_records()
                    if r.channel == "task"] == [cid]  # fmt: skip
