"""The planner with ``selection: random``: the router's draws come from the replication's
seed, so a replication is still a pure function of its seed."""

from __future__ import annotations

from contactcenter.events import ContactOffered, Event
from sim.builders import simple_center, stationary_model
from sim.driver import simulate


def offers(seed: int) -> list[tuple[float, str]]:
    model = stationary_model(simple_center(6, selection="random"), {"q": 60.0}, 120.0, hours=1.0)
    events: list[Event] = []
    simulate(model, seed, trace=events.extend)
    return [(e.at, e.agent_id) for e in events if isinstance(e, ContactOffered)]


def test_random_selection_replays_from_the_seed() -> None:
    first = offers(5)
    assert len(first) > 40
    assert offers(5) == first
