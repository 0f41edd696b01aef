"""Chat traffic through a live site's services, as the HTTP edges drive them: agents who take
offers (declining some), talk briefly, transfer some chats to another queue and wrap up;
customers who arrive in a burst and some of whom leave before an agent answers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from contactcenter.events import ContactAnswered, ContactOffered
from contactcenter.routing import ContactState, RoutingError
from contactcenter.runtime import Forbidden, Site

TOPICS = ("sales", "support", "billing")


def chat_agents(site: Site, per_queue: int) -> list[str]:
    """``per_queue`` agents of the first tier of each chat queue."""
    out: dict[str, None] = {}
    for queue in site.center.settings.chat_topics.values():
        tier1 = [a.id for a in site.center.agents.values() if a.queues.get(queue) == 1]
        out |= dict.fromkeys(tier1[:per_queue])
    return list(out)


@dataclass
class Floor:
    """Agents working chats until the ``async with`` ends. ``answered``: contact -> seconds
    from its start (``Burst``) to the answer, as a customer would wait for an agent."""

    site: Site
    agents: list[str]
    rng: random.Random
    talk: float = 0.05
    decline: float = 0.1
    transfer: float = 0.1
    answered_at: dict[str, float] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _loop: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Floor:
        for aid in self.agents:
            await self.site.agents.login(aid)
        mine = set(self.agents)
        sub = self.site.engine.hub.subscribe(
            lambda n: isinstance(n, ContactOffered | ContactAnswered) and n.agent_id in mine,
            size=100_000,
        )

        async def run() -> None:
            async for n in sub:
                if isinstance(n, ContactOffered):
                    self._spawn(self._ring(n))
                elif isinstance(n, ContactAnswered):
                    if n.segment == 1:
                        self.answered_at[n.contact_id] = time.monotonic()
                    self._spawn(self._talk(n))

        self._loop = asyncio.create_task(run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.cancel()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(self._loop, *self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ring(self, offer: ContactOffered) -> None:
        await asyncio.sleep(0)
        with contextlib.suppress(RoutingError, Forbidden):
            if self.rng.random() < self.decline:
                await self.site.agents.decline(offer.agent_id, offer.contact_id)
            else:
                await self.site.agents.accept(offer.agent_id, offer.contact_id)

    async def _talk(self, ans: ContactAnswered) -> None:
        site, aid, cid = self.site, ans.agent_id, ans.contact_id
        with contextlib.suppress(RoutingError, Forbidden):
            await asyncio.sleep(self.talk)
            if ans.segment == 1 and self.rng.random() < self.transfer:
                other = self.rng.choice(
                    [q for q in ("sales_chat", "support_chat") if q != ans.queue]
                )
                await site.transfers.to_queue(aid, cid, other)
            else:
                await site.agents.hang_up(aid, cid)
            await asyncio.sleep(self.talk / 2)
            await site.agents.wrap_up(aid, cid, self.rng.choice(("resolved", "no-resolution")))


@dataclass
class Burst:
    """``n`` chats started ``gap`` seconds apart; a ``leave`` share of the customers close
    the chat ``patience`` seconds in (an abandon if no agent has answered yet)."""

    site: Site
    rng: random.Random
    topics: tuple[str, ...] = TOPICS
    started_at: dict[str, float] = field(default_factory=dict)
    took: list[float] = field(default_factory=list)
    """Seconds each ``start_chat`` took (stored, routed, events dispatched)."""

    async def run(self, n: int, gap: float, leave: float = 0.2, patience: float = 0.01) -> None:
        leaving = []
        for i in range(n):
            started = time.monotonic()
            cid = await self.site.chat.start_chat(
                name=f"Customer {i}", topic=self.rng.choice(self.topics)
            )
            self.started_at[cid] = started
            self.took.append(time.monotonic() - started)
            if self.rng.random() < leave:
                leaving.append(asyncio.create_task(self._leave(cid, patience)))
            await asyncio.sleep(gap)
        await asyncio.gather(*leaving)

    async def _leave(self, cid: str, patience: float) -> None:
        await asyncio.sleep(patience)
        with contextlib.suppress(RoutingError):
            if self.site.engine.router.contact(cid).state in (
                ContactState.WAITING,
                ContactState.OFFERED,
            ):
                await self.site.chat.customer_left(cid)

    def waits(self, floor: Floor) -> list[float]:
        """Seconds from each chat's start to its answer (chats answered only)."""
        return [
            floor.answered_at[c] - t for c, t in self.started_at.items() if c in floor.answered_at
        ]
