"""What the wallboard and the supervisors' lists show, read from the live core, today's tally
and the call backs: per queue waiting, oldest wait, service level against target and call
backs pending (scheduled, due, being made) with the oldest; per agent state."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contactcenter.events import AgentActivity
from contactcenter.runtime.callbacks import CallbackService
from contactcenter.runtime.engine import Engine


class Wallboard:
    def __init__(self, engine: Engine, callbacks: CallbackService) -> None:
        self.engine = engine
        self.callbacks = callbacks

    def queues(self) -> list[dict[str, Any]]:
        """Per queue: waiting, oldest waiting age, today's service level, ASA, abandons."""
        engine = self.engine
        router, now = engine.router, engine.now()
        pending = self.callbacks.pending()
        rows: list[dict[str, Any]] = []
        for qid, q in engine.center.queues.items():
            waiting = router.waiting(qid)
            oldest = max((now - router.contact(c).arrived_at for c in waiting), default=0.0)
            t = engine.today.queue(qid)
            cb = pending.get(qid, {})
            rows.append(
                {
                    "queue": qid,
                    "name": q.name,
                    "channel": q.channel,
                    "waiting": len(waiting),
                    "oldest_wait_seconds": round(oldest, 1),
                    "offered": t.offered,
                    "answered": t.answered,
                    "abandoned": t.abandoned,
                    "service_level": t.sl_offered(),
                    "service_level_goal": (q.answer_target.goal_percent or 0) / 100,
                    "answer_threshold_seconds": t.threshold,
                    "asa_seconds": t.asa(),
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
            rows.append(
                {
                    "agent": aid,
                    "name": cfg.name,
                    "state": str(a.activity),
                    "reason": a.away_reason,
                    "since": round(now - a.presence_since, 1),
                    "contacts": [
                        {"contact_id": cid, "channel": ch, "state": str(st)}
                        for cid, (ch, st) in a.slots.items()
                    ],
                    "handled": a.handled,
                    "occupancy": round(a.occupancy(now), 3),
                }
            )
        return rows

    def snapshot(self) -> dict[str, Any]:
        """The wallboard page's frame: queues, agents by state, agents logged in."""
        by_state = Counter(str(a.activity) for a in self.engine.router.agents.values())
        return {
            "type": "snapshot",
            "center": self.engine.center.settings.name,
            "queues": self.queues(),
            "agents_by_state": {str(s): by_state.get(str(s), 0) for s in AgentActivity},
            "agents": [
                {k: row[k] for k in ("agent", "name", "state", "reason", "since")}
                for row in self.agents()
                if row["state"] != "offline"
            ],
        }
