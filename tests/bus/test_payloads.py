"""Topics and payloads without a broker: ids that would change a topic's shape are refused,
every event kind has its schema and matches it field for field, free text that is not a code
goes out as ``other``; the buffer's overflow policy; the engine's listener costs the same
with an empty or a full buffer."""

from __future__ import annotations

import dataclasses
import logging
import time
import typing

import jsonschema_rs
import pytest

from contactcenter.bus import payloads
from contactcenter.bus.outbox import Outbox
from contactcenter.bus.topics import Topics, UnsafeTopicLevel, level
from contactcenter.events import (
    AgentActivity,
    AgentStateChanged,
    CaseEvent,
    CaseOwnerChanged,
    Event,
    WrapUpEnded,
)


@pytest.mark.parametrize("bad", ["a/b", "+", "#", "q#", "$SYS", "", "a b", "é", "x" * 65])
def test_an_id_that_is_not_one_safe_topic_level_is_refused(bad: str) -> None:
    with pytest.raises(UnsafeTopicLevel):
        level(bad)
    with pytest.raises(UnsafeTopicLevel):
        Topics("hq").agent(bad)


def test_topics() -> None:
    t = Topics("hq")
    assert (t.status, t.events, t.agent("a01"), t.queue("sales_chat")) == (
        "cc/v1/hq/engine/status", "cc/v1/hq/events", "cc/v1/hq/agent/a01/state",
        "cc/v1/hq/queue/sales_chat/stats",
    )  # fmt: skip
    with pytest.raises(UnsafeTopicLevel):
        Topics("h/q")


def example(cls: type) -> Event:
    """An instance of the event class ``cls`` with a plausible value in every field."""
    values: dict[str, typing.Any] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp)
        if f.name == "channel":
            values[f.name] = "chat"
        elif tp is AgentActivity:
            values[f.name] = AgentActivity.BUSY
        elif typing.get_origin(tp) is typing.Literal:
            values[f.name] = args[0]
        elif tp is float or f.name in ("at",):
            values[f.name] = 100.0
        elif tp is int:
            values[f.name] = 1
        elif f.name.endswith("id") or f.name in ("queue", "from_agent", "to_queue", "tier"):
            values[f.name] = "chat-0a1b" if f.name == "contact_id" else "q1"
        else:
            values[f.name] = "resolved"
    return typing.cast(Event, cls(**values))


def test_every_event_kind_matches_its_schema_field_for_field() -> None:
    schema = payloads.schema("event")
    validator = jsonschema_rs.validator_for(schema)
    variants = {v["properties"]["type"]["const"]: v for v in schema["oneOf"]}
    kinds = (*typing.get_args(Event), *typing.get_args(CaseEvent))
    assert len(variants) == len(kinds)
    for cls in kinds:
        body = payloads.event("hq", "0123456789abcdef", 7, 1_700_000_000_000, example(cls))
        validator.validate(body)
        assert set(body) == set(variants[body["type"]]["required"]), cls
        assert set(variants[body["type"]]["properties"]) == set(body), cls


def test_monotonic_instants_become_wall_clock_milliseconds() -> None:
    queued = next(c for c in typing.get_args(Event) if c.__name__ == "ContactQueued")
    e = dataclasses.replace(example(queued), at=100.0, arrived_at=97.5)
    body = payloads.event("hq", "0123456789abcdef", 1, 1_700_000_000_000, e)
    assert (body["ts"], body["arrived_ts"]) == (1_700_000_000_000, 1_699_999_997_500)
    assert "at" not in body and "arrived_at" not in body


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("resolved", "resolved"), ("follow-up", "follow-up"), ("not back after restart",
     "not back after restart"), ("+49 30 5550100", "other"), ("4930555010001", "other"),
     ("jan.novak@example.com", "other"), ("Call me on 030-555 0100!", "other"), (None, None)],
)  # fmt: skip
def test_free_text_goes_out_only_as_a_short_code(typed: str | None, sent: str | None) -> None:
    wrap = WrapUpEnded(1.0, "chat-1", "q1", "chat", "a01", typed, 3.0)
    assert payloads.event("hq", "0" * 16, 1, 0, wrap)["disposition"] == sent
    state = AgentStateChanged(1.0, "a01", AgentActivity.AVAILABLE, AgentActivity.AWAY, typed)
    assert payloads.event("hq", "0" * 16, 1, 0, state)["reason"] == sent
    moved = CaseOwnerChanged(1.0, 7, "billing", "high", "a05", typed or "sup", typed or "sup")
    sent_owner = payloads.event("hq", "0" * 16, 1, 0, moved)
    assert (sent_owner["owner"], sent_owner["by"]) == ((sent, sent) if typed else ("sup", "sup"))
    body = payloads.agent_state("hq", "a01", "away", typed, since_ms=0, ts_ms=0)
    assert body["reason"] == sent
    jsonschema_rs.validator_for(payloads.schema("agent_state")).validate(body)


def test_engine_status_payloads_match_their_schema() -> None:
    validator = jsonschema_rs.validator_for(payloads.schema("engine_status"))
    for state, reason in (("online", None), ("offline", "lost"), ("offline", "stopped")):
        validator.validate(
            payloads.engine_status("hq", "0" * 16, state, started_ms=1, ts_ms=2, reason=reason)
        )


def state_change(i: int) -> AgentStateChanged:
    return AgentStateChanged(float(i), "a01", AgentActivity.AVAILABLE, AgentActivity.BUSY, None)


def test_a_full_buffer_drops_the_oldest_counts_and_logs_once_per_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    box = Outbox(limit=3)
    with caplog.at_level(logging.WARNING, logger="contactcenter.bus"):
        for i in range(6):
            box.put(state_change(i), i)
        batch = box.take(2)
        assert [e.seq for e in batch] == [4, 5]
        box.put(state_change(6), 6)
        box.put(state_change(7), 7)
        box.put_back(batch)  # undelivered: back in front, the oldest beyond the limit dropped
        assert [e.seq for e in box.take(10)] == [6, 7, 8]
    assert (box.taken, box.dropped) == (8, 5)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "dropping the oldest" in said[0]
    box.delivered()
    assert "events seq 1-5 (5) were dropped" in caplog.records[-1].getMessage()
    box.delivered()
    assert len(caplog.records) == 2


def test_undelivered_events_go_back_in_order() -> None:
    box = Outbox(limit=10)
    for i in range(5):
        box.put(state_change(i), i)
    first = box.take(3)
    box.put(state_change(5), 5)
    box.put_back(first[1:])  # the first was acknowledged
    assert [e.seq for e in box.take(10)] == [2, 3, 4, 5, 6]
    assert box.dropped == 0


def test_the_listener_costs_the_same_with_an_empty_or_a_full_buffer() -> None:
    """O(1) per event: putting 50,000 events into a buffer that never fills and into one that
    is full (every put drops the oldest) takes about as long."""
    events = [state_change(i) for i in range(50_000)]

    boxes = {limit: Outbox(limit) for limit in (1_000_000, 100)}
    for limit, box in boxes.items():
        for e in events[:limit]:
            box.put(e, 0)
    best = dict.fromkeys(boxes, float("inf"))

    logging.getLogger("contactcenter.bus").disabled = True
    try:
        for _ in range(5):  # alternating, best of five: a loaded machine slows both alike
            for limit, box in boxes.items():
                started = time.perf_counter()
                for e in events:
                    box.put(e, 0)
                best[limit] = min(best[limit], time.perf_counter() - started)
    finally:
        logging.getLogger("contactcenter.bus").disabled = False
    roomy, full = best[1_000_000], best[100]
    assert full < 4 * roomy, (roomy, full)
    assert roomy / len(events) < 20e-6  # well under the engine's cost of an event
