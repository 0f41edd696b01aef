"""State read at scrape time: contacts waiting per queue, agents per activity, and per queue the
activities of the agents who can serve it.

A *state source* is a no-argument callable returning a ``LiveState``. The metrics call it on
every scrape, so it must be cheap and must run where the state may be read: in the live
runtime, the asyncio loop thread (serve ``/metrics`` from an aiohttp handler, not from a
separate HTTP-server thread). ``router_state`` builds one from a ``Router`` and the driver's
clock; ``Metrics`` falls back to a source derived from the events it has seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contactcenter.events import AgentActivity
from contactcenter.routing import ContactState, Router


@dataclass(slots=True)
class QueueLoad:
    """Unanswered contacts of one queue.

    ``waiting``: in the queue, not being offered (what ``Router.waiting`` lists and the
    wallboard shows). ``ringing``: being offered to an agent right now.
    ``oldest_arrived_at``: the earliest original arrival among the *waiting* ones (answer-time
    targets count from it); None when none waits.
    """

    waiting: int = 0
    ringing: int = 0
    oldest_arrived_at: float | None = None


@dataclass(frozen=True, slots=True)
class LiveState:
    """A snapshot: ``now`` on the same clock as the events' ``at`` (monotonic live,
    ``env.now`` simulated); queues missing from ``queues`` have nobody waiting; states
    missing from ``agents`` have no agents. ``queue_agents``: per queue, the agents who can
    serve it (eligible at some escalation step) by activity; an agent counts in every queue it
    can serve; empty when the source cannot tell (no router)."""

    now: float
    queues: Mapping[str, QueueLoad] = field(default_factory=dict)
    agents: Mapping[AgentActivity, int] = field(default_factory=dict)
    queue_agents: Mapping[str, Mapping[AgentActivity, int]] = field(default_factory=dict)


StateSource = Callable[[], LiveState]


def router_state(router: Router, now: Callable[[], float]) -> StateSource:
    """A state source reading ``router`` (read-only) at call time, stamped with ``now()``.

    One pass over the router's contacts and agents, and one over each queue's eligible agents:
    O(contacts + agents x queues) per scrape.
    """

    def read() -> LiveState:
        t = now()
        loads: dict[str, QueueLoad] = {}
        # list() copies in one C call, so a concurrent insert cannot break the iteration.
        for c in list(router.contacts.values()):
            state = c.state
            if state is ContactState.WAITING:
                load = loads.get(c.queue)
                if load is None:
                    load = loads[c.queue] = QueueLoad()
                load.waiting += 1
                if load.oldest_arrived_at is None or c.arrived_at < load.oldest_arrived_at:
                    load.oldest_arrived_at = c.arrived_at
            elif state is ContactState.OFFERED:
                load = loads.get(c.queue)
                if load is None:
                    load = loads[c.queue] = QueueLoad()
                load.ringing += 1
        agents: dict[AgentActivity, int] = {}
        for agent in list(router.agents.values()):
            activity = agent.activity
            agents[activity] = agents.get(activity, 0) + 1
        per_queue: dict[str, dict[AgentActivity, int]] = {}
        for qid, qs in router.queues.items():
            counts = per_queue[qid] = {}
            for aid in qs.first_step:
                activity = router.agents[aid].activity
                counts[activity] = counts.get(activity, 0) + 1
        return LiveState(t, loads, agents, per_queue)

    return read
