"""What supervisors do to the live center: set an agent's state, move a waiting contact to
another queue or change its priority, change a customer's tier. Every intervention is
audited (who, what, when)."""

from __future__ import annotations

from contactcenter.agents import Presence
from contactcenter.routing import InvalidInput
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.ports import AuditStore


class Supervision:
    def __init__(self, engine: Engine, store: AuditStore) -> None:
        self.engine = engine
        self.store = store

    async def set_presence(
        self, actor: str, agent_id: str, presence: Presence, reason: str | None
    ) -> None:
        engine, router = self.engine, self.engine.router
        if presence is Presence.OFFLINE:
            await engine.submit(lambda now: router.agent_logged_out(now, agent_id))
        elif router.agent(agent_id).presence is Presence.OFFLINE:
            await engine.submit(lambda now: router.agent_logged_in(now, agent_id, presence, reason))
        else:
            await engine.submit(
                lambda now: router.set_agent_presence(now, agent_id, presence, reason)
            )
        await self._audit(actor, "agent_state", agent_id, {"state": presence, "reason": reason})

    async def move_contact(self, actor: str, contact_id: str, queue: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.transfer(now, contact_id, queue))
        await self._audit(actor, "move_contact", contact_id, {"queue": queue})

    async def set_priority(self, actor: str, contact_id: str, priority: int) -> None:
        """Serve a waiting contact sooner (or later) than its tier and queue say."""
        router = self.engine.router
        await self.engine.submit(lambda now: router.set_priority(now, contact_id, priority))
        await self._audit(actor, "contact_priority", contact_id, {"priority": priority})

    async def set_customer_tier(self, actor: str, customer_id: str, tier: str) -> None:
        if tier not in self.engine.center.tiers:
            raise InvalidInput(f"unknown tier {tier!r}")
        await self.store.set_customer_tier(customer_id, tier)
        router = self.engine.router
        await self.engine.submit(lambda now: router.customer_tier_changed(now, customer_id, tier))
        await self._audit(actor, "customer_tier", customer_id, {"tier": tier})

    async def _audit(self, actor: str, action: str, target: str, detail: dict[str, object]) -> None:
        await self.store.audit(actor, action, target, detail, self.engine.wall())
