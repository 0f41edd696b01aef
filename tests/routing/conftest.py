"""Small centers built in code, so each routing test states exactly the agents and queues it
needs, plus helpers to pick events out of what the router returns.

Defaults: skills ``sales``, ``support``, ``billing``, ``vip_care``; tiers ``vip`` (priority 100,
weight 3), ``gold`` (50, 1.5), ``standard`` (0, 1); channel defaults (voice 30 s / capacity 1 /
blocks chat and email, chat 10 s / capacity 3 / blocks voice); ``no_answer_limit`` 2,
``reoffer_delay_seconds`` 10. A queue defaults to voice, skill ``sales`` >= 2, one open step,
ring timeout 15 s and no wrap-up; an agent to ``sales`` 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from contactcenter.config import (
    AgentConfig,
    CenterSettings,
    Customer,
    EscalationStep,
    QueueConfig,
    RoutingSettings,
    Skill,
    Tier,
    build_center,
    load_center,
)
from contactcenter.events import Event
from contactcenter.routing import Router

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

SKILLS = ("sales", "support", "billing", "vip_care")
TIERS = (
    Tier(id="vip", priority=100, weight=3.0),
    Tier(id="gold", priority=50, weight=1.5),
    Tier(id="standard", priority=0, weight=1.0),
)

E = TypeVar("E")


def settings(**routing: Any) -> CenterSettings:
    return CenterSettings(
        name="test center",
        skills=tuple(Skill(id=s) for s in SKILLS),
        tiers=TIERS,
        routing=RoutingSettings(**routing),
    )


def step(after: float = 0, **kw: Any) -> EscalationStep:
    return EscalationStep(after_seconds=after, **kw)


def queue(qid: str = "q", **kw: Any) -> QueueConfig:
    kw.setdefault("channel", "voice")
    kw.setdefault("skills", {"sales": 2})
    kw.setdefault("wrap_up_seconds", 0)
    return QueueConfig(id=qid, **kw)


def agent(aid: str, queues: dict[str, int] | None = None, **kw: Any) -> AgentConfig:
    kw.setdefault("skills", {"sales": 3})
    return AgentConfig(id=aid, queues=queues if queues is not None else {"q": 1}, **kw)


def customer(cid: str, tier: str = "standard") -> Customer:
    return Customer(id=cid, name=f"customer {cid}", tier=tier)


def make_router(
    queues: Sequence[QueueConfig],
    agents: Sequence[AgentConfig],
    customers: Iterable[Customer] = (),
    **routing: Any,
) -> Router:
    center = build_center(settings(**routing), list(queues), list(agents), list(customers))
    return Router(center)


def example_router() -> Router:
    """The Northwind example center from ``config/``."""
    return Router(load_center(CONFIG_DIR))


def of(events: Iterable[Event], kind: type[E]) -> list[E]:
    """The events of one type, in order."""
    return [e for e in events if isinstance(e, kind)]


def one(events: Iterable[Event], kind: type[E]) -> E:
    """The single event of ``kind`` (fails the test when there are none or several)."""
    found = of(events, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


def kinds(events: Iterable[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def login(r: Router, now: float, *agent_ids: str) -> list[Event]:
    out: list[Event] = []
    for aid in agent_ids:
        out += r.agent_logged_in(now, aid)
    return out


@pytest.fixture
def example() -> Router:
    return example_router()
