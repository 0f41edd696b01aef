"""Shared pieces of the IVR tests: the example center, fixed moments, small flows built in
code, and a scripted caller that drives a session the way the voice edge would.

Moments are in the example center's zone (Europe/Berlin); ``main`` is open Mon-Fri 08-20,
Sat 09-14, closed on holidays (Christmas Eve and New Year's Eve 08-12 only).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contactcenter.config import Center, load_center
from contactcenter.ivr import (
    Action,
    BusinessHours,
    CustomerInfo,
    FinalAction,
    Flow,
    Flows,
    Lookup,
    Play,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Session,
    StartTimer,
    State,
    find_customer,
    load_flows,
)
from contactcenter.ivr.flow import HoursFile

EXAMPLE = Path(__file__).resolve().parents[2] / "config"
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


MONDAY_10 = berlin(2026, 11, 23, 10, 0)
MONDAY_21 = berlin(2026, 11, 23, 21, 0)
SUNDAY_12 = berlin(2026, 11, 22, 12, 0)
CHRISTMAS_DAY_11 = berlin(2026, 12, 25, 11, 0)  # a Friday
CHRISTMAS_EVE_10 = berlin(2026, 12, 24, 10, 0)  # a Thursday, open 08-12
CHRISTMAS_EVE_13 = berlin(2026, 12, 24, 13, 0)

VIP_PHONE = "+4930555010001"  # C1001 Helena Brandt, vip, dedicated agent a01


@pytest.fixture(scope="session")
def center() -> Center:
    return load_center(EXAMPLE)


@pytest.fixture(scope="session")
def flows(center: Center) -> Flows:
    return load_flows(EXAMPLE, center)


OFFICE = BusinessHours(
    BERLIN,
    HoursFile.model_validate(
        {
            "schedules": {
                "office": {
                    "weekly": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                    "holidays": [
                        {"date": "2026-12-25", "name": "Christmas Day"},
                        {"date": "2026-12-24", "hours": ["09:00-12:00"]},
                    ],
                }
            }
        }
    ).schedules,
)
"""A small schedule for flows built in code."""


def make_flow(nodes: Mapping[str, Any], start: str | None = None) -> Flow:
    """A flow from node dicts as they would be written in YAML; ``start``: the first node."""
    return Flow.model_validate(
        {"id": "test", "start": start or next(iter(nodes)), "nodes": dict(nodes)}
    )


def session(
    nodes: Mapping[str, Any], variables: Mapping[str, str] | None = None, **kw: Any
) -> Session:
    return Session(make_flow(nodes, kw.pop("start", None)), variables, hours=OFFICE, **kw)


@dataclass
class Call:
    """What a scripted call did."""

    played: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    callbacks: list[RequestCallback] = field(default_factory=list)
    outcome: FinalAction | None = None

    def of(self, kind: type[Any]) -> list[Any]:
        return [a for a in self.actions if isinstance(a, kind)]


def drive(
    session: Session,
    now: dt.datetime,
    script: Sequence[str | None] = (),
    *,
    lookup: Callable[[Lookup], CustomerInfo | None] = lambda _: None,
    queues: Mapping[str, QueueStatus] | None = None,
) -> Call:
    """Run a call the way the voice edge would, with a caller who listens to every prompt.

    Whenever the session starts its timer to wait for keys, the caller takes the next item of
    ``script``: a string is pressed key by key (``"100006#"``), None is silence (the timer
    runs out). Lookups are answered by ``lookup``, queue states from ``queues``.
    """
    call = Call()
    todo: deque[Action] = deque(session.start(now))
    said = deque(script)
    typing: deque[str] = deque()
    while todo:
        action = todo.popleft()
        call.actions.append(action)
        if isinstance(action, Play):
            call.played.append(action.prompt)
            todo.extend(session.prompt_finished())
        elif isinstance(action, StartTimer):
            assert session.state is State.WAITING_FOR_KEYS
            if not typing:
                assert said, f"the caller has nothing more to say at {session.node!r}"
                item = said.popleft()
                if item is None:
                    todo.extend(session.timeout())
                    continue
                typing.extend(item)
            todo.extend(session.digit(typing.popleft()))
        elif isinstance(action, Lookup):
            todo.extend(session.lookup_result(lookup(action)))
        elif isinstance(action, QueryQueueState):
            assert queues is not None, f"no queue states for {action.queue!r}"
            todo.extend(session.queue_state_result(queues[action.queue]))
        elif isinstance(action, RequestCallback):
            call.callbacks.append(action)
    assert not said and not typing, f"unused script: {list(typing)} {list(said)}"
    assert session.state is State.ENDED
    call.outcome = session.outcome
    return call


def center_lookup(center: Center) -> Callable[[Lookup], CustomerInfo | None]:
    return lambda action: find_customer(center, action.by, action.value)
