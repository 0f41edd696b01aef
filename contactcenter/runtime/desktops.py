"""Agents' desktops: who is connected, and what happens when a desktop goes away.

* **Ghosts.** An agent whose last desktop socket closed (a closed browser, a dead network: the
  socket's heartbeat notices) and does not come back within ``grace_seconds`` is made
  unavailable: away with reason ``disconnected`` (recorded in the agent state log), and the
  chats it was answering go back to the head of their queues. Its phone calls go on.
* **Restarts.** Agents who were logged in when the engine stopped are not put back into
  routing blind (nobody may be at those desktops): each comes back as it was (available, or
  away with its reason) when its desktop reconnects or it logs in within
  ``restart_grace_seconds``, and takes back the chats it was answering; otherwise it stays
  logged out, recorded as ``not back after restart``, and its chats go back to their queues.

The channel services do the contact part (``ContactHandler.agent_returned`` / ``agent_lost``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from contactcenter.agents import DISCONNECTED, Presence
from contactcenter.routing import RoutingError
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.ports import ContactHandler
from contactcenter.store.records import AgentStateRecord

log = logging.getLogger(__name__)

NOT_BACK = "not back after restart"
"""Recorded for an agent logged out because it did not come back after a restart."""


class DesktopStore(Protocol):
    async def last_agent_states(self) -> dict[str, AgentStateRecord]: ...

    async def log_agent_state(
        self, agent_id: str, previous: str, state: str, reason: str | None, wall_time: float
    ) -> None: ...


class Desktops:
    def __init__(
        self,
        engine: Engine,
        store: DesktopStore,
        desk: AgentDesk,
        *,
        grace_seconds: float = 30.0,
        restart_grace_seconds: float = 120.0,
    ) -> None:
        self.engine = engine
        self.store = store
        self.desk = desk
        self.grace_seconds = grace_seconds
        self.restart_grace_seconds = restart_grace_seconds
        self.open: dict[str, int] = {}
        """Agent id -> desktop sockets open."""
        self.restorable: dict[str, AgentStateRecord] = {}
        """Agents logged in when the engine stopped, not back yet: their last state."""
        self._timers: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Note the agents who were logged in when the engine stopped (from each agent's
        latest logged state); each gets ``restart_grace_seconds`` to come back."""
        for agent_id, rec in (await self.store.last_agent_states()).items():
            if rec.state != "offline" and agent_id in self.engine.center.agents:
                self.restorable[agent_id] = rec
                self._later(agent_id, self.restart_grace_seconds, self._not_back)
        if self.restorable:
            log.info("%d agent(s) were logged in before the restart", len(self.restorable))

    async def stop(self) -> None:
        timers = list(self._timers.values())
        self._timers.clear()
        await cancel_and_wait(*timers)

    # -- what the API reports -------------------------------------------------------------------

    async def opened(self, agent_id: str) -> None:
        """A desktop of the agent connected."""
        self.open[agent_id] = self.open.get(agent_id, 0) + 1
        self._cancel(agent_id)
        await self.returned(agent_id)

    def closed(self, agent_id: str) -> None:
        """A desktop of the agent went away: unless another is open or one comes back within
        the grace period, the agent is made unavailable."""
        left = self.open.get(agent_id, 1) - 1
        if left > 0:
            self.open[agent_id] = left
            return
        self.open.pop(agent_id, None)
        if self.desk.agent(agent_id).presence is not Presence.OFFLINE:
            self._later(agent_id, self.grace_seconds, self._gone)

    async def returned(self, agent_id: str) -> None:
        """The agent is back after a restart (its desktop or a log-in): as it was, with the
        chats it was answering."""
        rec = self.restorable.pop(agent_id, None)
        if rec is None:
            return
        self._cancel(agent_id)
        router = self.engine.router
        presence, reason = Presence.AVAILABLE, None
        if rec.state == "away" and rec.reason in self.engine.center.settings.away_reasons:
            presence, reason = Presence.AWAY, rec.reason
        if router.agent(agent_id).presence is Presence.OFFLINE:
            await self.engine.submit(
                lambda now: router.agent_logged_in(now, agent_id, presence, reason)
            )
        for handler in self._handlers():
            await handler.agent_returned(agent_id)
        log.info("agent %s is back after the restart (%s)", agent_id, rec.state)

    # -- timers ---------------------------------------------------------------------------------

    async def _gone(self, agent_id: str) -> None:
        """The agent's desktop did not come back: unavailable, its chats requeued."""
        router = self.engine.router
        agent = router.agent(agent_id)
        if agent.presence is Presence.OFFLINE or self.open.get(agent_id):
            return
        if agent.presence is not Presence.AWAY or agent.away_reason != DISCONNECTED:
            await self.engine.submit(
                lambda now: router.set_agent_presence(now, agent_id, Presence.AWAY, DISCONNECTED)
            )
        for handler in self._handlers():  # away first: nothing handed back is offered to it
            await handler.agent_lost(agent_id)
        log.info("agent %s: desktop gone for %.0f s: set away", agent_id, self.grace_seconds)

    async def _not_back(self, agent_id: str) -> None:
        rec = self.restorable.pop(agent_id, None)
        if rec is None:
            return
        await self.store.log_agent_state(
            agent_id, rec.state, "offline", NOT_BACK, self.engine.wall()
        )
        for handler in self._handlers():
            await handler.agent_lost(agent_id)
        log.info("agent %s did not come back after the restart: logged out", agent_id)

    def _later(self, agent_id: str, delay: float, then: Callable[[str], Awaitable[None]]) -> None:
        self._cancel(agent_id)

        async def wait_then() -> None:
            await asyncio.sleep(delay)
            self._timers.pop(agent_id, None)
            try:
                await then(agent_id)
            except RoutingError as e:  # the agent moved on meanwhile
                log.debug("agent %s: %s", agent_id, e)

        self._timers[agent_id] = asyncio.get_running_loop().create_task(
            wait_then(), name=f"desktop-{agent_id}"
        )

    def _cancel(self, agent_id: str) -> None:
        task = self._timers.pop(agent_id, None)
        if task is not None:
            task.cancel()

    def _handlers(self) -> Sequence[ContactHandler]:
        return list(self.desk.handlers.values())
