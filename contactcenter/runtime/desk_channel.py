"""The offer buttons of a channel whose contacts are answered on the agent's desktop (chat,
e-mail, case tasks): accepting or declining an offer is the core's input and nothing more (a
call is answered on the phone instead: ``runtime/voice.py``)."""

from __future__ import annotations

from contactcenter.runtime.engine import Engine


class DeskChannel:
    """Base of such a channel's service (its ``ContactHandler``); ``engine`` is set by it."""

    engine: Engine

    async def accept(self, agent_id: str, contact_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_accepted(now, contact_id))

    async def decline(self, agent_id: str, contact_id: str) -> None:
        router = self.engine.router
        await self.engine.submit(lambda now: router.offer_declined(now, contact_id))
