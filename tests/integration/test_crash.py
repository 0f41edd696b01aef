"""``kill -9`` of a real ``contactcenter serve`` (with its voice edge, Kamailio and SIPp
phones) in the middle of conversations, then a restart on the same database, and every record
checked.

Before the crash: a call in conversation (a05 on its phone), a chat in conversation (a06 on
its desktop), a chat waiting (nobody in billing chat) and a call back booked for later.
After the restart:

* the call is closed as ``interrupted`` at the engine's last sign of life (at most 2 s before
  the kill), its talk time up to then; a05, who does not come back, is logged out with
  ``not back after restart`` once the restart grace is over;
* the chat in conversation waits for a06 (its customer is told so and keeps writing); when
  a06's desktop reconnects it is a06's again (a new segment), and the record holds both
  segments with honest times;
* the waiting chat is back in its queue, first; the call back is still booked for later.

On a SQLite file and on a PostgreSQL database (the engine killed, the server left running).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from contactcenter.store import Store
from tests import peers
from tests.integration.server import (
    ROOT,
    ServerProcess,
    call,
    frame,
    login,
    open_around_the_clock,
    set_users,
)
from tests.polling import until
from tests.postgres import database_for
from tests.voice.harness import (
    Kamailio,
    caller_scenario,
    ensure_tools,
    free_media_port,
    free_udp_port,
    free_udp_range,
    register_extension,
    scenario,
    sipp_caller,
    sipp_uas,
)

USERS = [
    ("root", "admin", None),
    ("boss", "supervisor", None),
    ("a05", "agent", "a05"),
    ("a06", "agent", "a06"),
]
RESTART_GRACE = 8.0
KNOWN = "+4930555010008"  # Jan Novak: the IVR knows him, main menu


@pytest.fixture(scope="module")
def voice_tools() -> None:
    peers.require(ensure_tools())


def site_config(tmp: Path, kamailio_port: int) -> Path:
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    open_around_the_clock(config)
    low = free_udp_range(40)
    voice = {
        "voice": {
            "enabled": True,
            "server": {"host": "127.0.0.1", "port": kamailio_port},
            "registration": {"retry_initial_seconds": 0.5, "retry_max_seconds": 2},
            "local": {"ip": "127.0.0.1", "sip_port": free_udp_port(), "rtp_port_low": low,
                      "rtp_port_high": low + 39},
            "waiting": {"first_announcement_seconds": 30},
        }
    }  # fmt: skip
    (config / "voice.yaml").write_text(yaml.safe_dump(voice))
    return config


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_kill_9_mid_conversation_leaves_every_record_honest(
    voice_tools: None, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    kam = Kamailio(tmp_path / "kamailio")
    kam.start()
    procs = []
    config = site_config(tmp_path, kam.port)
    state = tmp_path / "var"
    keys = state / "data-keys"  # beside the SQLite file; named for PostgreSQL
    db: Path | str = state / "cc.sqlite3"
    extra: list[str] = []
    if (url := database_for(request, backend)) is not None:
        db = url
        extra = ["--data-keys", str(keys)]
    set_users(db, config, USERS, extra)
    if backend == "postgresql":
        extra += ["--state-dir", str(state)]
    srv = ServerProcess(config, db, tmp_path, extra=[*extra, "--restart-grace", str(RESTART_GRACE)])
    try:
        base = srv.start()
        async with aiohttp.ClientSession() as http:
            sup = await login(http, base, "boss")
            a05, a06 = await login(http, base, "a05"), await login(http, base, "a06")

            # -- a call in conversation: a05's phone answers and talks until our BYE -------
            sf = scenario(tmp_path / "a05.xml", "agent_uas.xml", ring_ms=300)
            port = free_udp_port()
            procs.append(sipp_uas(tmp_path, sf, port, free_media_port(), 1))
            await register_extension(tmp_path, kam.port, "2005", port)
            await call(http, "POST", f"{base}/api/agent/login", a05)
            caller_sf = caller_scenario(
                tmp_path / "caller.xml", [("pause", 3000), ("dtmf", "1"), ("audio", None),
                                          ("pause", 60_000)],
                number=KNOWN,
            )  # fmt: skip
            procs.append(sipp_caller(tmp_path, caller_sf, kam.port))

            async def a05_talks() -> bool:
                rows = await call(http, "GET", f"{base}/api/supervisor/agents", sup)
                return any(r["agent"] == "a05" and r["state"] == "busy" for r in rows)

            assert await until(a05_talks, 30), srv.log()[-3000:]

            # -- a chat in conversation with a06 on its desktop ----------------------------
            started = await call(http, "POST", f"{base}/api/chat", body={"name": "Ann",
                                 "topic": "sales"})  # fmt: skip
            chat, token = started["contact_id"], started["token"]
            customer = await http.ws_connect(f"{base}/api/chat/{chat}/ws?token={token}")
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=a06)
            await frame(desk, "snapshot")
            await call(http, "POST", f"{base}/api/agent/login", a06)
            await frame(desk, "offer", contact_id=chat)
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/accept", a06)
            await customer.send_json({"type": "message", "text": "hello before"})
            await frame(desk, "message", contact_id=chat)
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/messages", a06,
                       {"text": "hi, looking"})  # fmt: skip
            await frame(customer, "message", sender="agent")

            # -- a chat waiting, a call back booked for later --------------------------------
            waiting = await call(http, "POST", f"{base}/api/chat", body={"name": "Bo",
                                 "topic": "billing"})  # fmt: skip
            later = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
            body = {"queue": "support", "number": "+49301", "due_at": later}
            booked = await call(http, "POST", f"{base}/api/callbacks", sup, body)
            await asyncio.sleep(2.5)  # a sign of life after all of it
            killed = time.time()
            srv.kill9()
            await customer.close()
            await desk.close()

        # what the crash left on disk: the call still open, answered by a05
        async with await Store.open(db, data_keys=keys) as store:
            (cut,) = await store.open_contacts("voice")
            assert (cut.agent_id, cut.answered) == ("a05", True)
            alive = await store.last_alive()
            assert alive is not None and killed - 2.5 <= alive <= killed

        await asyncio.sleep(1.0)
        base = srv.start(port=srv.port)
        async with aiohttp.ClientSession() as http:
            a06 = await login(http, base, "a06")
            sup = await login(http, base, "boss")
            # the customer of the chat in conversation comes back: their agent is expected
            customer = await http.ws_connect(f"{base}/api/chat/{chat}/ws?token={token}")
            status = await frame(customer, "status")
            assert (status["state"], status["agent"]) == ("resuming", "Farid")
            await customer.send_json({"type": "message", "text": "still there?"})
            # a06's desktop reconnects: the chat is a06's again
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=a06)
            await frame(desk, "answered", contact_id=chat)
            await frame(customer, "agent_joined")
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/messages", a06,
                       {"text": "yes, back"})  # fmt: skip
            assert (await frame(customer, "message", sender="agent"))["text"] == "yes, back"
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/hangup", a06)
            await call(http, "POST", f"{base}/api/agent/contacts/{chat}/wrapup", a06,
                       {"disposition": "resolved"})  # fmt: skip
            # the waiting chat is first in its queue again
            other = await http.ws_connect(
                f"{base}/api/chat/{waiting['contact_id']}/ws?token={waiting['token']}"
            )
            status = await frame(other, "status")
            assert (status["state"], status["position"]) == ("waiting", 1)
            (cb,) = await call(http, "GET", f"{base}/api/callbacks", sup)
            assert (cb["id"], cb["status"], cb["due"]) == (booked["id"], "scheduled", booked["due"])
            await asyncio.sleep(RESTART_GRACE + 1)  # a05 never comes back
            for ws in (customer, desk, other):
                await ws.close()
        assert srv.stop() == 0
    finally:
        srv.finish()
        for p in procs:
            p.stop()
        kam.stop()

    async with await Store.open(db, data_keys=keys) as store:
        rec = await store.contact(cut.contact_id)
        assert rec is not None and rec.answered_wall is not None
        assert (rec.outcome, rec.end_reason, rec.agent_id) == ("interrupted", "interrupted", "a05")
        assert rec.ended_wall == alive  # the last sign of life before the kill
        assert rec.talk_seconds == pytest.approx(alive - rec.answered_wall)
        chat_rec = await store.contact(chat)
        assert chat_rec is not None
        assert (chat_rec.outcome, chat_rec.agent_id, chat_rec.segment) == ("completed", "a06", 2)
        segs = await store.segments(chat)
        assert [(s.segment, s.agent_id, s.end_reason) for s in segs] == [
            (1, "a06", "interrupted"),
            (2, "a06", "completed"),
        ]
        assert segs[0].ended_wall == alive and segs[1].answered_wall is not None
        assert segs[1].answered_wall > killed
        lines = [m.text for m in await store.transcript(chat)]
        assert lines == ["hello before", "hi, looking", "still there?", "yes, back"]
        states = await store.agent_states("a05", limit=1)
        assert (states[0].state, states[0].reason) == ("offline", "not back after restart")
        assert states[0].wall_time > killed + RESTART_GRACE
        wait_rec = await store.contact(waiting["contact_id"])
        assert wait_rec is not None and wait_rec.answered_wall is None  # never an agent
