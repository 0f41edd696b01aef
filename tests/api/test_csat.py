"""CSAT over the API: a chat's customer scores it once the chat has ended; the score reaches
the supervisors' CSAT per queue and agent and ``/metrics``; nobody else may answer, nor twice,
nor too late; the comment is sealed in the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from contactcenter.routing import ContactState
from tests.api.conftest import Api, frame
from tests.polling import until

COMMENT = "Elif sorted my plan out in minutes"


async def handled_chat(api: Api, agent: str = "a05", topic: str = "sales") -> tuple[str, str]:
    """A chat ``agent`` answers; returns its id and the customer's token (chat still on)."""
    cid, token = await api.start_chat(topic=topic)
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    await api.ok("POST", "/api/agent/login", agent)
    assert await until(lambda: api.engine.router.contact(cid).state is ContactState.OFFERED)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", agent)
    await frame(customer, "agent_joined")
    await customer.send_json({"type": "end"})
    await frame(customer, "ended")
    await customer.close()
    return cid, token


def survey_samples(text: str, queue: str) -> dict[str, float]:
    """``contactcenter_survey_score`` samples of ``queue`` (chat): count, sum, buckets by le."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("contactcenter_survey_score") and s.labels.get("queue") == queue:
                key = s.name.removeprefix("contactcenter_survey_score_")
                out[key + (f"@{s.labels['le']}" if "le" in s.labels else "")] = s.value
    return out


async def test_a_customer_scores_the_chat_and_supervisors_see_it(api: Api) -> None:
    cid, token = await handled_chat(api)
    offer = await api.ok("GET", f"/api/chat/{cid}/survey?token={token}")
    assert offer["question"] == api.site.center.settings.csat.question
    assert offer["scores"] == [1, 2, 3, 4, 5]

    body = {"token": token, "score": 4, "comment": COMMENT}
    assert await api.ok("POST", f"/api/chat/{cid}/survey", body=body) == {"score": 4}

    (stored,) = await api.store.surveys(cid)
    assert (stored.score, stored.comment, stored.queue, stored.channel, stored.agent_id) == (
        4, COMMENT, "sales_chat", "chat", "a05",
    )  # fmt: skip

    csat = await api.ok("GET", "/api/supervisor/csat", "sup")
    assert csat["queues"] == [
        {"queue": "sales_chat", "name": api.site.center.queues["sales_chat"].name,
         "channel": "chat", "answers": 1, "unanswered": 0, "average": 4.0, "satisfied": 1.0}
    ]  # fmt: skip
    assert csat["agents"] == [
        {
            "agent_id": "a05",
            "name": "Elif Fischer",
            "answers": 1,
            "unanswered": 0,
            "average": 4.0,
            "satisfied": 1.0,
        }
    ]
    assert COMMENT not in str(csat)

    _, text = await api.call("GET", "/metrics")
    samples = survey_samples(text, "sales_chat")
    assert samples["count"] == 1 and samples["sum"] == 4
    assert samples["bucket@3.0"] == 0 and samples["bucket@4.0"] == 1
    assert set(k for k in samples if k.startswith("bucket")) == {
        "bucket@1.0", "bucket@2.0", "bucket@3.0", "bucket@4.0", "bucket@5.0", "bucket@+Inf",
    }  # fmt: skip

    # a second answer is refused, and nothing changes
    status, again = await api.call("POST", f"/api/chat/{cid}/survey", body={**body, "score": 1})
    assert (status, again["error"]["code"]) == (409, "already_answered")
    assert [s.score for s in await api.store.surveys(cid)] == [4]
    _, text = await api.call("GET", "/metrics")
    assert survey_samples(text, "sales_chat")["count"] == 1


async def test_only_the_chats_own_customer_may_answer(api: Api) -> None:
    cid, _ = await handled_chat(api)
    _, other_token = await api.start_chat(topic="support")
    for token in (other_token, "", "0" * 64):
        status, body = await api.call(
            "POST", f"/api/chat/{cid}/survey", body={"token": token or "x", "score": 5}
        )
        assert (status, body["error"]["code"]) == (403, "bad_token"), token
        status, body = await api.call("GET", f"/api/chat/{cid}/survey?token={token}")
        assert status == 403
    assert await api.store.surveys(cid) == []


async def test_no_survey_before_the_end_without_an_agent_or_after_the_window(api: Api) -> None:
    # still talking: not yet
    cid, token = await api.start_chat()
    customer = await api.ws(f"/api/chat/{cid}/ws?token={token}")
    await frame(customer, "status")
    await api.ok("POST", "/api/agent/login", "a05")
    assert await until(lambda: api.engine.router.contact(cid).state is ContactState.OFFERED)
    await api.ok("POST", f"/api/agent/contacts/{cid}/accept", "a05")
    status, body = await api.call(
        "POST", f"/api/chat/{cid}/survey", body={"token": token, "score": 3}
    )
    assert (status, body["error"]["code"]) == (409, "contact_open")

    # a customer who left while waiting saw no agent: nothing to score
    await api.ok("PUT", "/api/agent/state", "a05", {"state": "away", "reason": "break"})
    left, left_token = await api.start_chat(topic="support")
    gone = await api.ws(f"/api/chat/{left}/ws?token={left_token}")
    await frame(gone, "status")
    await gone.send_json({"type": "end"})
    await frame(gone, "ended")
    status, body = await api.call("GET", f"/api/chat/{left}/survey?token={left_token}")
    assert (status, body["error"]["code"]) == (409, "no_survey")

    # the first chat ended 25 hours ago (window 24 h): too late
    await customer.send_json({"type": "end"})
    await frame(customer, "ended")
    async with api.store._write() as db:
        await db.execute(
            "UPDATE contacts SET completed_wall = completed_wall - 25 * 3600 WHERE contact_id = ?",
            (cid,),
        )
    status, body = await api.call(
        "POST", f"/api/chat/{cid}/survey", body={"token": token, "score": 3}
    )
    assert (status, body["error"]["code"]) == (409, "survey_closed")
    assert await api.store.surveys(cid) == [] and await api.store.surveys(left) == []


async def test_bad_answers_are_refused_with_a_reason(api: Api) -> None:
    cid, token = await handled_chat(api)
    for bad in (
        {"token": token, "score": 6},
        {"token": token, "score": 0},
        {"token": token, "score": "4"},
        {"token": token, "score": 4.0},
        {"token": token},
        {"score": 4},
        {"token": token, "score": 4, "comment": "x" * 2001},
        {"token": token, "score": 4, "extra": 1},
    ):
        status, body = await api.call("POST", f"/api/chat/{cid}/survey", body=bad)
        assert (status, body["error"]["code"]) == (422, "invalid_body"), bad
    status, body = await api.call("GET", "/api/supervisor/csat?day=yesterday", "sup")
    assert (status, body["error"]["code"]) == (422, "invalid_day")
    status, _ = await api.call("GET", "/api/supervisor/csat", "a05")
    assert status == 403
    assert await api.store.surveys(cid) == []


async def test_the_comment_is_sealed_in_the_database(api: Api, tmp_path: Path) -> None:
    cid, token = await handled_chat(api)
    await api.ok(
        "POST", f"/api/chat/{cid}/survey", body={"token": token, "score": 2, "comment": COMMENT}
    )
    db = sqlite3.connect(tmp_path / "cc.sqlite3")
    try:
        ((raw, score),) = db.execute("SELECT comment, score FROM surveys").fetchall()
    finally:
        db.close()
    assert raw.startswith("enc1:") and COMMENT not in raw and score == 2
    for part in tmp_path.glob("cc.sqlite3*"):
        assert COMMENT.encode() not in part.read_bytes(), part.name
