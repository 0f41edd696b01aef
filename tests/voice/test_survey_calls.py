"""The post-call survey on real calls: Kamailio, the runtime with its voice edge, SIPp for the
caller and the agent's phone (see conftest). A known caller picks billing (3) in the example
menu and says yes (1) to the survey offer; a20 answers on the phone and hangs up; then the
caller stays on the line.

What is checked is what people get: the score stored with the contact and the agent, the
supervisors' CSAT and ``/metrics`` showing it, the thanks and the question heard by the
caller, and nothing kept as a score when there is none."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from contactcenter.api import Settings, build_app
from contactcenter.ivr.prompts import load_prompt
from tests.voice import audio
from tests.voice.harness import caller_scenario, sipp_caller

KNOWN = "+4930555010008"  # Jan Novak (C1008): identified by number, straight to the menu
CONFIG = Path(__file__).resolve().parents[2] / "config"
OPT_IN = [("pause", 3000), ("dtmf", "3"), ("pause", 800), ("dtmf", "1")]
"""Billing, then yes to the survey offer (the key cuts the offer short)."""
PASSWORD = "correct horse battery"


def _prompt(name: str) -> audio.Samples:
    return audio.u8_to_samples(load_prompt(CONFIG / f"{name}.wav"))


def unanswered(db: Path) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """The unanswered surveys on record: (contact, reason, queue, channel, agent)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT contact_id, reason, queue, channel, agent_id FROM unanswered_surveys"
        ).fetchall()


@contextlib.asynccontextmanager
async def serving(site: Any) -> AsyncIterator[TestClient[Any, Any]]:
    """The site's API (the runtime is started already), with a supervisor ``sup``."""
    await site.store.set_user("sup", PASSWORD, "supervisor", None)
    app = build_app(site.runtime, site.store, site.metrics, settings=Settings(),
                    manage_engine=False)  # fmt: skip
    client = TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_a_caller_who_opted_in_scores_the_call_after_the_agent_hung_up(
    make_site: Any,
) -> None:
    site = await make_site(metrics=True)
    ear = audio.RtpRecorder().start()
    agent = await site.agent("a20", "agent_uas_bye.xml", talk_ms=2500)
    # the agent hangs up about 3 s after the opt-in; the caller presses 4 during the question
    sf = caller_scenario(
        site.tmp / "score.xml", [*OPT_IN, ("pause", 7000), ("dtmf", "4")], number=KNOWN,
        end="wait", wait_ms=30_000, rtp_port=ear.port,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    try:
        assert await caller.wait(60) == 0, caller.errors()  # the engine hung up: the caller
        assert await agent.wait(10) == 0, agent.errors()
        (call,) = await site.ended(1)
    finally:
        ear.stop()
    assert call.outcome == "completed", call.timeline
    assert [t for t in call.timeline if t.startswith(("agent hung up", "survey"))] == [
        "agent hung up", "survey asked", "survey scored 4",
    ], call.timeline  # fmt: skip
    rec = await site.store.contact_record(call.contact_id)
    assert rec is not None and (rec.queue, rec.agent_id, rec.outcome) == (
        "billing", "a20", "completed",
    )  # fmt: skip
    (survey,) = await site.store.surveys(call.contact_id)
    assert (survey.score, survey.queue, survey.channel, survey.agent_id, survey.comment) == (
        4, "billing", "voice", "a20", None,
    )  # fmt: skip
    assert unanswered(site.tmp / "cc.sqlite3") == []
    heard = ear.audio()
    assert audio.match(heard, _prompt("prompts/survey_offer")[:4000]) > 0.95
    assert audio.match(heard, _prompt("voice/prompts/survey_question")[:4000]) > 0.95
    assert audio.match(heard, _prompt("voice/prompts/survey_thanks")) > 0.95

    async with serving(site) as client:
        resp = await client.post("/api/login", json={"username": "sup", "password": PASSWORD})
        token = (await resp.json())["token"]
        resp = await client.get(
            "/api/supervisor/csat", headers={"Authorization": f"Bearer {token}"}
        )
        csat = await resp.json()
        assert resp.status == 200, csat
        assert csat["queues"] == [
            {"queue": "billing", "name": "Billing", "channel": "voice", "answers": 1,
             "unanswered": 0, "average": 4.0, "satisfied": 1.0},
        ]  # fmt: skip
        assert csat["agents"] == [
            {"agent_id": "a20", "name": "Tara Ulrich", "answers": 1, "unanswered": 0,
             "average": 4.0, "satisfied": 1.0},
        ]  # fmt: skip
        text = await (await client.get("/metrics")).text()
    billing = {"queue": "billing", "channel": "voice"}
    assert _value(text, "contactcenter_survey_score_count", billing) == 1
    assert _value(text, "contactcenter_survey_score_sum", billing) == 4
    buckets = {
        s.labels["le"]: s.value
        for s in _samples(text, "contactcenter_survey_score_bucket")
        if s.labels["queue"] == "billing" and s.labels["channel"] == "voice"
    }
    assert (buckets["3.0"], buckets["4.0"], buckets["5.0"]) == (0, 1, 1)


def _value(text: str, name: str, labels: dict[str, str]) -> float:
    (found,) = [s.value for s in _samples(text, name) if s.labels == labels]
    return float(found)


def _samples(text: str, name: str) -> list[Any]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


async def test_no_key_asks_once_more_then_hangs_up_and_keeps_no_score(make_site: Any) -> None:
    site = await make_site(voice={"survey": {"timeout_seconds": 1.5}})
    agent = await site.agent("a20", "agent_uas_bye.xml", talk_ms=1500)
    sf = caller_scenario(site.tmp / "silent.xml", OPT_IN, number=KNOWN, end="wait", wait_ms=40_000)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(60) == 0, caller.errors()  # the engine hung up
    assert await agent.wait(10) == 0, agent.errors()
    (call,) = await site.ended(1)
    assert call.outcome == "completed", call.timeline
    assert [t for t in call.timeline if t.startswith("survey")] == [
        "survey asked", "survey asked", "survey unanswered",
    ], call.timeline  # fmt: skip
    assert await site.store.surveys(call.contact_id) == []
    assert unanswered(site.tmp / "cc.sqlite3") == [
        (call.contact_id, "no_response", "billing", "voice", "a20"),
    ]  # fmt: skip


async def test_a_caller_who_hangs_up_during_the_survey_leaves_no_score(make_site: Any) -> None:
    site = await make_site()
    agent = await site.agent("a20", "agent_uas_bye.xml", talk_ms=1500)
    # the agent hangs up ~2 s after the opt-in; the caller hangs up 2 s into the question
    sf = caller_scenario(site.tmp / "gone.xml", [*OPT_IN, ("pause", 4500)], number=KNOWN)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(40) == 0, caller.errors()
    assert await agent.wait(10) == 0, agent.errors()
    (call,) = await site.ended(1)
    assert call.outcome == "completed", call.timeline
    assert [t for t in call.timeline if t.startswith("survey")] == [
        "survey asked", "survey left unanswered",
    ], call.timeline  # fmt: skip
    assert await site.store.surveys(call.contact_id) == []
    assert unanswered(site.tmp / "cc.sqlite3") == [
        (call.contact_id, "hung_up", "billing", "voice", "a20"),
    ]  # fmt: skip


async def test_a_caller_who_hangs_up_before_the_agent_is_not_surveyed(make_site: Any) -> None:
    site = await make_site()
    agent = await site.agent("a20", "agent_uas.xml")  # waits for the engine's BYE
    sf = caller_scenario(site.tmp / "first.xml", [*OPT_IN, ("pause", 3000)], number=KNOWN)
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(40) == 0, caller.errors()
    assert await agent.wait(10) == 0, agent.errors()
    (call,) = await site.ended(1)
    assert call.outcome == "completed" and call.survey_wanted, call.timeline
    assert "talking with a20" in call.timeline
    assert not [t for t in call.timeline if t.startswith("survey")], call.timeline
    assert await site.store.surveys(call.contact_id) == []
    assert unanswered(site.tmp / "cc.sqlite3") == []
