"""Domain events: small slotted dataclasses that never change (the type checker sees to it),
each stamped with ``at`` first."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any, get_args

import pytest
from mypy import api as mypy_api

import contactcenter.events as events_pkg
from contactcenter.events import domain

EVENT_CLASSES = sorted(
    (
        obj
        for _, obj in inspect.getmembers(domain, inspect.isclass)
        if obj.__module__ == domain.__name__ and dataclasses.is_dataclass(obj)
    ),
    key=lambda cls: cls.__name__,
)

SAMPLE_VALUES: dict[str, Any] = {
    "at": 12.5,
    "contact_id": "c1",
    "queue": "sales",
    "from_queue": "billing",
    "to_queue": "support",
    "channel": "voice",
    "agent_id": "a01",
    "priority": 100,
    "previous": 0,
    "tier": "vip",
    "arrived_at": 10.0,
    "ring_deadline": 27.5,
    "step": 1,
    "reason": "timeout",
    "wait_seconds": 2.5,
    "threshold_seconds": 30.0,
    "outcome": "callback",
    "handle_seconds": 120.0,
    "disposition": "resolved",
    "wrap_up_seconds": 30.0,
    "state": domain.AgentActivity.BUSY,
    "segment": 2,
    "from_agent": "a02",
    "to_agent": "a03",
    "case_id": 7,
    "category": "billing",
    "severity": "high",
    "owner": "a05",
    "previous_owner": "a06",
    "by": "sup",
    "target": "resolve",
}


def sample(cls: type) -> Any:
    """An instance of ``cls`` with plausible values for every field."""
    values = {f.name: SAMPLE_VALUES[f.name] for f in dataclasses.fields(cls)}
    if cls is domain.AgentStateChanged:
        values["previous"] = domain.AgentActivity.RINGING
    return cls(**values)


def ids(cls: type) -> str:
    return cls.__name__


def test_every_event_of_the_unions_is_found_and_exported() -> None:
    """Routing's events (``Event``) and the cases' (``CaseEvent``), nothing else."""
    routing, cases = set(get_args(domain.Event)), set(get_args(domain.CaseEvent))
    union = routing | cases
    assert union == set(EVENT_CLASSES)
    assert (len(routing), len(cases)) == (19, 5)
    for cls in union:
        assert getattr(events_pkg, cls.__name__) is cls
        assert cls.__name__ in events_pkg.__all__


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=ids)
def test_at_is_the_first_field_and_a_float(cls: type) -> None:
    fields = dataclasses.fields(cls)
    assert fields[0].name == "at"
    hints = typing.get_type_hints(cls)
    assert hints["at"] is float
    assert [f.name for f in fields].count("at") == 1
    # No defaults: every event states everything it says.
    assert all(f.default is dataclasses.MISSING for f in fields)
    assert all(f.default_factory is dataclasses.MISSING for f in fields)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=ids)
def test_at_is_the_first_positional_argument(cls: type) -> None:
    expected = sample(cls)
    event = cls(*(getattr(expected, f.name) for f in dataclasses.fields(cls)))
    assert event == expected
    assert event.at == 12.5
    assert repr(event).startswith(f"{cls.__name__}(at=12.5, ")


def test_the_type_checker_refuses_any_change_to_an_event(tmp_path: Path) -> None:
    """Every field of every event is read-only to mypy (run strict over the package, so no
    checked code can change an event another layer also holds); reading them is fine."""
    lines = ["from contactcenter.events import domain"]
    assignments = 0
    for cls in EVENT_CLASSES:
        lines.append(f"def change_{cls.__name__}(e: domain.{cls.__name__}) -> None:")
        for f in dataclasses.fields(cls):
            lines.append(f"    print(e.{f.name})")
            lines.append(f"    e.{f.name} = e.{f.name}")
            assignments += 1
    snippet = tmp_path / "change.py"

    def mypy(code: list[str]) -> tuple[str, str, int]:
        snippet.write_text("\n".join(code) + "\n")
        cache = str(tmp_path / "cache")
        return mypy_api.run([str(snippet), "--strict", "--cache-dir", cache, "--no-error-summary"])

    out, err, status = mypy(lines)
    assert status == 1, err
    errors = out.splitlines()
    assert len(errors) == assignments, out
    assert all("is read-only" in e for e in errors), out
    out, err, status = mypy([line for line in lines if " = " not in line])
    assert (status, out) == (0, ""), err


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=ids)
def test_events_are_slotted(cls: type) -> None:
    names = tuple(f.name for f in dataclasses.fields(cls))
    assert cls.__slots__ == names
    event = sample(cls)
    assert not hasattr(event, "__dict__")
    with pytest.raises((AttributeError, TypeError)):
        event.extra = 1


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=ids)
def test_events_compare_and_hash_by_value(cls: type) -> None:
    a, b = sample(cls), sample(cls)
    assert a == b
    assert hash(a) == hash(b)
    later = dataclasses.replace(a, at=99.0)
    assert later != a
    assert later.at == 99.0
    assert a.at == 12.5  # replace made a copy
    assert len({a, b, later}) == 2


def test_agent_activity_values_are_the_wire_names() -> None:
    assert [a.value for a in domain.AgentActivity] == [
        "offline",
        "available",
        "away",
        "ringing",
        "busy",
        "wrap_up",
    ]
    assert domain.AgentActivity.WRAP_UP == "wrap_up"
