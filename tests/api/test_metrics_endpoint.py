"""/metrics: queue-labelled series, and never a customer's or contact's id."""

from __future__ import annotations

import re

from tests.api.conftest import Api, frame
from tests.api.signing import signed


async def test_metrics_have_queue_labels_and_no_ids(api: Api) -> None:
    await api.ok("POST", "/api/agent/login", "a05")
    cid, token = await api.start_chat(identity=signed(api, "C1008"))
    ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    await frame(ws, "agent_joined")
    await ws.send_json({"type": "end"})
    await frame(ws, "ended")
    await ws.close()
    await api.ok("POST", f"/api/agent/contacts/{cid}/wrapup", "a05", {"disposition": "resolved"})

    resp = await api.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    assert re.search(r'^\w+\{[^}]*queue="sales_chat"[^}]*\} [0-9.e+]+$', text, re.M)
    answered = [ln for ln in text.splitlines() if "answered" in ln and 'queue="sales_chat"' in ln]
    assert answered
    assert cid not in text and "chat-" not in text
    assert "C1008" not in text and "jan.novak" not in text.lower()
