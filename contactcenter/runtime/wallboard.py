"""What the wallboard and the supervisors' lists show, read from the live core, today's tally
and the call backs.

* Per queue: the agents who can serve it (eligible at some escalation step, as the metrics'
  ``contactcenter_queue_agents`` counts them; an agent counts in every queue it can serve) by
  what they do: staffed (logged in), available, on a contact (ringing or in conversation), in
  after-contact work, away; contacts waiting and the oldest wait; service level against its
  goal, ASA, AHT and abandon rate (``contactcenter.kpi``); transfers; call backs pending
  (scheduled, due, being made) with the oldest.
* Per agent: state, away reason, time in that state (since the state or the reason last
  changed, not since log-in), contacts held, contacts handled and occupancy (the agent model's:
  busy / (busy + available idle), as the metrics and the planner define it).
* The contacts waiting, in the order each queue serves them.
* What keeps the site from serving fully (a mailbox or mail server out, the store refusing
  writes, ...): the ``/healthz`` problems.

"Today" is since midnight in the center's time zone, kept across restarts (``today.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from contactcenter.events import AgentActivity, AgentStateChanged, Event
from contactcenter.runtime.callbacks import CallbackService
from contactcenter.runtime.engine import Engine

WAITING_SHOWN = 50
"""Waiting contacts per queue a snapshot lists (the queue's row counts them all)."""

_ON_CONTACT = (AgentActivity.RINGING, AgentActivity.BUSY)


class Wallboard:
    def __init__(
        self,
        engine: Engine,
        callbacks: CallbackService,
        problems: Callable[[], list[str]] = list,
    ) -> None:
        """``problems``: what keeps the site from serving fully (a mailbox, the store, the
        bus), shown on the board as ``/healthz`` says it."""
        self.engine = engine
        self.callbacks = callbacks
        self.problems = problems
        self.started_wall = engine.wall()
        self._changed_at: dict[str, float] = {}
        """Agent id -> when its activity last changed (the core's clock)."""
        engine.listen(self._observe)

    def _observe(self, e: Event) -> None:
        if isinstance(e, AgentStateChanged):
            self._changed_at[e.agent_id] = e.at

    def queues(self) -> list[dict[str, Any]]:
        """Per queue: agents by what they do, waiting, oldest wait, today's KPIs, call backs."""
        engine = self.engine
        router, now = engine.router, engine.now()
        pending = self.callbacks.pending()
        rows: list[dict[str, Any]] = []
        for qid, q in engine.center.queues.items():
            waiting = router.waiting(qid)
            oldest = max((now - router.contact(c).arrived_at for c in waiting), default=0.0)
            agents = Counter(router.agent(aid).activity for aid in router.queues[qid].first_step)
            t = engine.today.queue(qid)
            cb = pending.get(qid, {})
            rows.append(
                {
                    "queue": qid,
                    "name": q.name,
                    "channel": q.channel,
                    "agents_staffed": agents.total() - agents[AgentActivity.OFFLINE],
                    "agents_available": agents[AgentActivity.AVAILABLE],
                    "agents_on_contact": sum(agents[a] for a in _ON_CONTACT),
                    "agents_after_contact_work": agents[AgentActivity.WRAP_UP],
                    "agents_away": agents[AgentActivity.AWAY],
                    "waiting": len(waiting),
                    "oldest_wait_seconds": round(oldest, 1),
                    "offered": t.offered,
                    "answered": t.answered,
                    "abandoned": t.abandoned,
                    "service_level": t.sl_offered(),
                    "service_level_goal": (q.answer_target.goal_percent or 0) / 100,
                    "answer_threshold_seconds": t.threshold,
                    "asa_seconds": t.asa(),
                    "aht_seconds": t.aht(),
                    "abandon_rate": t.abandon_rate(),
                    "transfers_in": t.transferred_in,
                    "transfers_out": t.handed_off,
                    "callbacks_scheduled": cb.get("scheduled", 0),
                    "callbacks_due": cb.get("queued", 0),
                    "callbacks_in_progress": cb.get("in_progress", 0),
                    "callbacks_oldest_seconds": round(cb.get("oldest", 0.0), 1),
                }
            )
        return rows

    def agents(self) -> list[dict[str, Any]]:
        """Per agent: state, away reason, seconds in it, contacts held, handled, occupancy."""
        engine = self.engine
        now = engine.now()
        rows: list[dict[str, Any]] = []
        for aid, cfg in engine.center.agents.items():
            a = engine.router.agent(aid)
            # The state shown is the activity with its away reason: either changing starts it.
            since = max(self._changed_at.get(aid, a.presence_since), a.presence_since)
            rows.append(
                {
                    "agent": aid,
                    "name": cfg.name,
                    "state": str(a.activity),
                    "reason": a.away_reason,
                    "since": round(now - since, 1),
                    "contacts": [
                        {"contact_id": cid, "channel": ch, "state": str(st)}
                        for cid, (ch, st) in a.slots.items()
                    ],
                    "handled": a.handled,
                    "occupancy": round(a.occupancy(now), 3),
                }
            )
        return rows

    def waiting(self, per_queue: int | None = None) -> list[dict[str, Any]]:
        """The contacts waiting (or being rung) in each queue, in the order they will be served;
        at most ``per_queue`` of each queue (None: all). No customer data."""
        engine = self.engine
        router, now = engine.router, engine.now()
        rows: list[dict[str, Any]] = []
        for qid in engine.center.queues:
            for place, cid in enumerate(router.waiting(qid)[:per_queue], start=1):
                view = router.contact(cid)
                rows.append({"contact_id": cid, "queue": qid, "channel": view.channel,
                             "place": place, "priority": view.priority, "tier": view.tier,
                             "wait_seconds": round(now - view.arrived_at, 1),
                             "segment": view.segment, "state": str(view.state),
                             "agent": view.agent})  # fmt: skip
        return rows

    def snapshot(self) -> dict[str, Any]:
        """The wallboard page's frame: queues, agents by state, the agents logged in, and the
        first ``WAITING_SHOWN`` contacts waiting in each queue."""
        by_state = Counter(str(a.activity) for a in self.engine.router.agents.values())
        return {
            "type": "snapshot",
            "center": self.engine.center.settings.name,
            "started": self.started_wall,
            "queues": self.queues(),
            "agents_by_state": {str(s): by_state.get(str(s), 0) for s in AgentActivity},
            "agents": [row for row in self.agents() if row["state"] != "offline"],
            "waiting": self.waiting(WAITING_SHOWN),
            "waiting_shown_per_queue": WAITING_SHOWN,
            "problems": self.problems(),
        }
