"""What the bus keeps retained: each agent's state and each queue's live stats (the engine's
status is the edge's own). Read-only use of the runtime: agents' states come from the events
(and, for agents not seen changing, from the wallboard at start); queue stats from the
wallboard's rows plus the agents available per queue.

Agent states go out when they change (only the latest of a burst: a retained topic holds one
value); queue stats at most every interval, and only those that changed. After a (re)connect
everything goes out again: a broker restarted without persistence has lost it all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from contactcenter.bus import payloads
from contactcenter.bus._client import Message
from contactcenter.bus.topics import Topics
from contactcenter.events import AgentActivity, AgentStateChanged
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.wallboard import Wallboard


def ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class AgentView:
    state: str
    reason: str | None
    since_ms: int


class Retained:
    def __init__(
        self,
        engine: Engine,
        wallboard: Wallboard,
        topics: Topics,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.wallboard = wallboard
        self.topics = topics
        self.wall = wall
        self.agents: dict[str, AgentView] = {}
        self._dirty: dict[str, None] = {}
        """Agents whose state changed since it was last published (insertion-ordered)."""
        self._sent: dict[str, dict[str, object]] = {}
        """Queue id -> the stats last published (without ``ts``)."""

    def agent_changed(self, e: AgentStateChanged, ts_ms: int) -> None:
        """From the engine's listener: O(1)."""
        self.agents[e.agent_id] = AgentView(e.state.value, e.reason, ts_ms)
        self._dirty[e.agent_id] = None

    def seed(self) -> None:
        """Agents not seen changing since the edge was built, as the wallboard has them."""
        now_ms = ms(self.wall())
        for row in self.wallboard.agents():
            if row["agent"] not in self.agents:
                since = now_ms - ms(row["since"]) if row["state"] != "offline" else now_ms
                self.agents[row["agent"]] = AgentView(row["state"], row["reason"], since)

    def everything_again(self) -> None:
        """After a (re)connect: every agent and every queue is published at the next turn."""
        self._dirty = dict.fromkeys(self.agents)
        self._sent.clear()

    @property
    def agents_pending(self) -> bool:
        return bool(self._dirty)

    def agent_messages(self) -> list[Message]:
        """The state of every agent that changed since it was last published."""
        dirty, self._dirty = self._dirty, {}
        now_ms, site = ms(self.wall()), self.topics.site
        out: list[Message] = []
        for aid in dirty:
            v = self.agents[aid]
            body = payloads.agent_state(
                site, aid, v.state, v.reason, since_ms=v.since_ms, ts_ms=now_ms
            )
            out.append(Message(self.topics.agent(aid), payloads.encode(body), retain=True))
        return out

    def queue_messages(self) -> list[Message]:
        """The stats of every queue whose numbers changed since they were last published."""
        router = self.engine.router
        out: list[Message] = []
        now_ms, site = ms(self.wall()), self.topics.site
        for row in self.wallboard.queues():
            qid = row["queue"]
            available = sum(
                1
                for aid in router.queues[qid].first_step
                if router.agent(aid).activity is AgentActivity.AVAILABLE
            )
            stats = payloads.queue_stats(site, row, available)
            if self._sent.get(qid) == stats:
                continue
            self._sent[qid] = stats
            body = payloads.encode(payloads.stamped(stats, now_ms))
            out.append(Message(self.topics.queue(qid), body, retain=True))
        return out
