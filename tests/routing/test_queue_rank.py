"""Which queue an agent who serves several takes from when it becomes ready: the SLA-risk
default (tier weight x wait / answer threshold) or the agent's strict ``queue_rank`` (Amazon
Connect's routing-profile priority)."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.config import ConfigError
from contactcenter.events import ContactOffered
from contactcenter.routing import Router

from .conftest import agent, login, make_router, one, queue

QUEUES = [
    queue("fast", answer_target={"threshold_seconds": 10}),
    queue("slow", answer_target={"threshold_seconds": 100}),
]


def center(**agent_kw: Any) -> Router:
    """One agent of both queues, busy on a first contact while one contact waits in each:
    ``slow``'s since t=1 (score 1 x 49 / 100 at t=50), ``fast``'s since t=45 (5 / 10)."""
    r = make_router(QUEUES, [agent("a", {"fast": 1, "slow": 1}, **agent_kw)])
    login(r, 0, "a")
    one(r.contact_arrived(0, "first", "fast"), ContactOffered)
    r.offer_accepted(0, "first")
    r.contact_arrived(1, "s", "slow")
    r.contact_arrived(45, "f", "fast")
    return r


def next_offer(r: Router) -> str:
    """The contact offered to ``a`` when it finishes its first contact at t=50."""
    return one(r.contact_completed(50, "first"), ContactOffered).contact_id


def test_by_default_the_agent_takes_the_contact_most_at_risk_of_its_target() -> None:
    assert next_offer(center()) == "f"  # 0.5 of its threshold waited, against 0.49


def test_queue_priority_does_not_rank_queues_for_an_agent() -> None:
    """A queue's ``priority`` orders contacts inside the queue (and follows overflows); it
    does not make an agent prefer the queue."""
    queues = [
        queue("fast", answer_target={"threshold_seconds": 10}),
        queue("slow", answer_target={"threshold_seconds": 100}, priority=500),
    ]
    r = make_router(queues, [agent("a", {"fast": 1, "slow": 1})])
    login(r, 0, "a")
    r.contact_arrived(0, "first", "fast")
    r.offer_accepted(0, "first")
    r.contact_arrived(1, "s", "slow")
    r.contact_arrived(45, "f", "fast")
    assert next_offer(r) == "f"


def test_strict_rank_takes_the_first_ranked_queue_however_long_the_other_waits() -> None:
    assert next_offer(center(queue_rank={"slow": 1, "fast": 2})) == "s"
    assert next_offer(center(queue_rank={"fast": 1, "slow": 2})) == "f"


def test_equal_ranks_fall_back_to_the_risk_of_the_target() -> None:
    assert next_offer(center(queue_rank={"slow": 1, "fast": 1})) == "f"


def test_queues_left_out_of_the_rank_come_after_the_ranked_ones() -> None:
    assert next_offer(center(queue_rank={"slow": 3})) == "s"


def test_the_rank_is_the_agents_own() -> None:
    """Two agents with opposite ranks each take their own first queue."""
    r = make_router(
        QUEUES,
        [
            agent("sales_first", {"fast": 1, "slow": 1}, queue_rank={"fast": 1, "slow": 2}),
            agent("slow_first", {"fast": 1, "slow": 1}, queue_rank={"slow": 1, "fast": 2}),
        ],
    )
    login(r, 0, "sales_first", "slow_first")
    for cid, q in (("x1", "fast"), ("x2", "slow")):
        r.contact_arrived(0, cid, q)
    for cid in ("x1", "x2"):
        r.offer_accepted(0, cid)
    r.contact_arrived(1, "s", "slow")
    r.contact_arrived(2, "f", "fast")
    owner = {r.contact(c).agent: c for c in ("x1", "x2")}
    offered = one(r.contact_completed(50, owner["slow_first"]), ContactOffered)
    assert (offered.agent_id, offered.contact_id) == ("slow_first", "s")
    offered = one(r.contact_completed(51, owner["sales_first"]), ContactOffered)
    assert (offered.agent_id, offered.contact_id) == ("sales_first", "f")


def test_a_rank_naming_an_unknown_queue_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        make_router(QUEUES, [agent("a", {"fast": 1}, queue_rank={"nope": 1})])
    assert "agents[0].queue_rank.nope" in str(err.value.issues[0])
    assert "unknown queue 'nope'" in str(err.value.issues[0])
