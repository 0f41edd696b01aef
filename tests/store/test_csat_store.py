"""Survey answers in the store: what they are about (the last segment an agent answered), one
per contact, and CSAT of a period per queue and agent."""

from __future__ import annotations

import pytest

from contactcenter.events import (
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactQueued,
    Event,
)
from contactcenter.kpi import Csat
from contactcenter.store import DuplicateSurvey, Store
from contactcenter.store.surveys import csat_between

T0 = 1_700_000_000.0


async def chat(store: Store, cid: str, arrived: float, *agents: str, queue: str = "sales_chat",
               transfer_to: str = "support_chat") -> None:  # fmt: skip
    """A chat answered by each of ``agents`` in turn (a transfer between two), then completed."""
    await store.create_contact(
        cid, channel="chat", queue=queue, arrived_wall=arrived, tier="standard"
    )
    events: list[Event] = [ContactQueued(0, cid, queue, "chat", 0, "standard", 0, 1)]
    for n, agent in enumerate(agents, start=1):
        q = queue if n == 1 else transfer_to
        events.append(ContactAnswered(0, cid, q, "chat", agent, 3.0, n))
        if n < len(agents):
            events.append(ContactHandedOff(0, cid, q, "chat", agent, 60.0, n, transfer_to, None))
        else:
            events.append(ContactCompleted(0, cid, q, "chat", agent, 60.0))
    await store.record_events(events, arrived + 10)


async def test_an_answer_is_about_the_last_segment_an_agent_answered(store: Store) -> None:
    await chat(store, "one", T0, "a05")
    await chat(store, "moved", T0, "a05", "a12")
    first = await store.add_survey("one", 5, None, T0 + 100)
    moved = await store.add_survey("moved", 2, "sent around", T0 + 100)
    assert (first.queue, first.channel, first.agent_id) == ("sales_chat", "chat", "a05")
    assert (moved.queue, moved.channel, moved.agent_id) == ("support_chat", "chat", "a12")
    assert moved.comment == "sent around"
    with pytest.raises(DuplicateSurvey):
        await store.add_survey("moved", 5, None, T0 + 200)
    assert [s.score for s in await store.surveys("moved")] == [2]


async def test_csat_of_a_period_per_queue_and_agent(store: Store) -> None:
    scores = {"c1": ("a05", 5), "c2": ("a05", 3), "c3": ("a06", 4), "c4": ("a05", 1)}
    for i, (cid, (agent, score)) in enumerate(scores.items()):
        await chat(store, cid, T0 + i, agent)
        await store.add_survey(cid, score, None, T0 + 100 + i * 1000)  # c4 at T0 + 3100
    await store.add_survey("unknown-contact", 1, None, T0 + 150)  # about nothing: not counted
    report = await csat_between(store, T0, T0 + 3000)
    assert report.queues == {("sales_chat", "chat"): Csat(3, 12, 2)}
    assert report.agents == {"a05": Csat(2, 8, 1), "a06": Csat(1, 4, 1)}
    assert report.agents["a05"].average() == 4.0
    assert report.agents["a05"].satisfied_share() == 0.5
    later = await csat_between(store, T0 + 3000, T0 + 9000)
    assert later.agents == {"a05": Csat(1, 1, 0)}
    assert (await csat_between(store, T0 + 9000, T0 + 9999)).queues == {}


async def test_a_survey_that_got_no_score_counts_as_unanswered_never_in_the_average(
    store: Store,
) -> None:
    await chat(store, "scored", T0, "a05")
    await chat(store, "silent", T0 + 1, "a05")
    await store.add_survey("scored", 4, None, T0 + 100)
    await store.add_unanswered_survey("silent", "no_response", T0 + 100)
    report = await csat_between(store, T0, T0 + 3000)
    assert report.queues == {("sales_chat", "chat"): Csat(1, 4, 1, unanswered=1)}
    assert report.agents == {"a05": Csat(1, 4, 1, unanswered=1)}
    assert report.agents["a05"].average() == 4.0
