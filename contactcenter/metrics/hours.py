"""Which queues are open now, by the business hours the IVR checks before it queues a contact.

Hours are per schedule (``config/ivr/hours.yaml``), not per queue: a flow tests a schedule
(``{open: main}``) and then queues the caller. So a queue's hours are read from the flows: every
way from a flow's start to an ``enqueue`` of the queue passes some ``open`` tests (a branch
rule's condition, or the conditions of its ``all``); the queue is open when, on at least one
of those ways, every schedule tested is open. A way without any ``open`` test makes the queue
always open. A queue no flow queues to (e-mail, or a center without an IVR) has no hours: it is
left out (``open_queues`` does not say it is open or closed).

``any`` and ``not`` conditions are not read: a queue behind ``{not: {open: main}}`` counts as
reached without a test (open), never as closed by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from contactcenter.ivr.flow import BranchNode, Condition, EnqueueNode, Flow, successors
from contactcenter.ivr.hours import BusinessHours
from contactcenter.ivr.loader import Flows

Ways = tuple[frozenset[str], ...]
"""The sets of schedules tested on each way to a queue (an empty set: a way without a test)."""


def queue_hours(flows: Flows) -> dict[str, Ways]:
    """Per queue the flows queue to: the schedules on each way there (minimal sets only)."""
    found: dict[str, set[frozenset[str]]] = {}
    for flow in flows.flows.values():
        for queue, tested in _ways(flow):
            found.setdefault(queue, set()).add(tested)
    return {q: _minimal(ways) for q, ways in sorted(found.items())}


def _ways(flow: Flow) -> set[tuple[str, frozenset[str]]]:
    """(queue, schedules tested on the way) for every enqueue reachable in ``flow``."""
    out: set[tuple[str, frozenset[str]]] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(flow.start, frozenset[str]())]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        node_id, tested = state
        node = flow.nodes[node_id]
        if isinstance(node, EnqueueNode):
            out.add((node.queue, tested))
        elif isinstance(node, BranchNode):
            for rule in node.rules:
                todo.append((rule.next, tested | _open_tests(rule.when)))
            todo.append((node.otherwise, tested))
        else:
            todo.extend((nxt, tested) for _, nxt in successors(node))
    return out


def _open_tests(condition: Condition) -> frozenset[str]:
    """The schedules ``condition`` requires open: its own ``open``, or those of an ``all``."""
    if condition.open is not None:
        return frozenset({condition.open})
    return frozenset[str]().union(*(_open_tests(c) for c in condition.all or ()))


def _minimal(ways: set[frozenset[str]]) -> Ways:
    """Drop every way that tests more than another (it adds nothing to when the queue is
    open); sorted, so the result is the same on every run."""
    kept = [w for w in ways if not any(o < w for o in ways)]
    return tuple(sorted(kept, key=lambda w: (len(w), sorted(w))))


def open_queues(hours: BusinessHours, ways: Mapping[str, Ways], wall: float) -> dict[str, bool]:
    """Per queue with hours: open at ``wall`` (Unix seconds)."""
    now = dt.datetime.fromtimestamp(wall, dt.UTC)
    state = {s: hours.is_open(s, now) for w in ways.values() for way in w for s in way}
    return {q: any(all(state[s] for s in way) for way in w) for q, w in ways.items()}


OpenQueues = Callable[[], "dict[str, bool]"]
"""Per queue with hours: open now."""


def opening(flows: Flows | None, wall: Callable[[], float]) -> OpenQueues | None:
    """A reader of which queues are open now, on ``wall``; None without flows."""
    if flows is None:
        return None
    ways = queue_hours(flows)
    return lambda: open_queues(flows.hours, ways, wall())
