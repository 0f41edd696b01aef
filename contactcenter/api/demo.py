"""Simulated customers and agents for ``contactcenter serve --demo``: the wallboard moves and
a newcomer can take chats on the desktop next to simulated colleagues.

Everything goes through the site's services, exactly as the HTTP edges do; a known customer's
chat carries an identity signed with the site's key and checked as the API checks it, so the
demo shows VIP routing as a real signed-in customer gets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from typing import Any

from contactcenter.api.chat_identity import ChatIdentity
from contactcenter.events import ContactAnswered, ContactOffered
from contactcenter.routing import ContactState, RoutingError
from contactcenter.runtime import Forbidden, Site

log = logging.getLogger(__name__)

LINES_CUSTOMER = (
    "Hi, I have a question about my last bill.",
    "My internet keeps dropping in the evening.",
    "I'd like to upgrade my plan.",
    "Can you tell me when my contract ends?",
)
LINES_AGENT = ("Hello! Let me look into that for you.", "Thanks for waiting, that's sorted now.")
DISPOSITIONS = ("resolved", "follow-up", "sale")


class LiveDemo:
    """Runs until cancelled. ``keep_free`` agents are never simulated (left for people)."""

    def __init__(
        self,
        site: Site,
        *,
        identity: ChatIdentity,
        agents: int = 6,
        keep_free: frozenset[str] = frozenset(),
        seed: int | None = None,
        mean_gap: float = 6.0,
    ) -> None:
        self.site = site
        self.identity = identity
        self.rng = random.Random(seed)
        self.mean_gap = mean_gap
        center = site.center
        chat_queues = set(center.settings.chat_topics.values())
        eligible = [
            a.id
            for a in center.agents.values()
            if a.id not in keep_free and chat_queues & set(a.queues)
        ]
        self.agents = eligible[-agents:] if agents else []
        self._tasks: set[asyncio.Task[None]] = set()
        self._n = 0

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        site = self.site
        for aid in self.agents:
            with contextlib.suppress(RoutingError):
                await site.agents.login(aid)
        mine = set(self.agents)
        sub = site.engine.hub.subscribe(
            lambda n: isinstance(n, ContactOffered | ContactAnswered) and n.agent_id in mine
        )
        self._spawn(self._arrivals())
        try:
            async for n in sub:
                if isinstance(n, ContactOffered):
                    self._spawn(self._ring(n))
                elif isinstance(n, ContactAnswered):
                    self._spawn(self._talk(n))
        finally:
            sub.close()
            for t in list(self._tasks):
                t.cancel()

    async def _arrivals(self) -> None:
        topics = list(self.site.center.settings.chat_topics)
        customers = list(self.site.center.customers)
        while topics:
            await asyncio.sleep(self.rng.expovariate(1 / self.mean_gap))
            self._n += 1
            known = customers and self.rng.random() < 0.3
            try:
                signed_in = None
                if known:  # as the site's page would pass it, checked as the API checks it
                    token = self.identity.sign(self.rng.choice(customers), ttl=300)
                    signed_in = self.identity.verify(token)
                cid = await self.site.chat.start_chat(
                    name=f"Demo customer {self._n}",
                    topic=self.rng.choice(topics),
                    identity=signed_in,
                )
            except Exception:
                log.exception("demo: starting a chat failed")
                continue
            self._spawn(self._customer(cid))

    async def _customer(self, cid: str) -> None:
        chat = self.site.chat
        await asyncio.sleep(self.rng.uniform(0.5, 2.0))
        with contextlib.suppress(RoutingError):
            await chat.customer_says(cid, self.rng.choice(LINES_CUSTOMER))
        await asyncio.sleep(self.rng.uniform(30, 120))  # patience
        with contextlib.suppress(RoutingError):
            if self.site.engine.router.contact(cid).state is ContactState.WAITING:
                await chat.customer_left(cid)

    async def _ring(self, offer: ContactOffered) -> None:
        await asyncio.sleep(self.rng.uniform(1.0, 4.0))
        with contextlib.suppress(RoutingError, Forbidden):
            if self.rng.random() < 0.1:
                await self.site.agents.decline(offer.agent_id, offer.contact_id)
            else:
                await self.site.agents.accept(offer.agent_id, offer.contact_id)

    async def _talk(self, ans: ContactAnswered) -> None:
        chat, desk = self.site.chat, self.site.agents
        aid, cid = ans.agent_id, ans.contact_id
        with contextlib.suppress(RoutingError, Forbidden):
            await chat.agent_says(aid, cid, LINES_AGENT[0])
            await asyncio.sleep(self.rng.uniform(8, 30))
            await chat.agent_says(aid, cid, LINES_AGENT[1])
            await asyncio.sleep(self.rng.uniform(1, 3))
            await desk.hang_up(aid, cid)
            await asyncio.sleep(self.rng.uniform(2, 6))
            await desk.wrap_up(aid, cid, self.rng.choice(DISPOSITIONS))
