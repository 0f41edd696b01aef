"""Transfers: an agent hands a contact on, for any channel, and the next agent sees why.

* **Blind to a queue**: the contact waits in that queue in its place by original arrival.
* **Blind to an agent**: the agent (who must be ready) is rung at once; if that agent does not
  take it, it waits in its queue.
* **Warm** (to an agent): consult first. The colleague is reserved and rung; the customer
  waits on hold (a call hears hold music). Once the colleague takes the consult, the agent
  completes the transfer (and leaves) or cancels it (and carries on).

Each hand-off ends the agent's segment (wrap-up follows) and starts the next segment of the
same contact; the agent's note is stored on its segment before the contact moves, so the next
agent's screen-pop shows it with the transcript. What a call's legs do meanwhile is the voice
edge's part: it follows the core's events (``ContactHandedOff``, ``ConsultOffered``, ...).

The quick-connect list offers the queues of the contact's channel and the agents with whether
each can take it now.
"""

from __future__ import annotations

from typing import Any

from contactcenter.agents import SlotState
from contactcenter.routing import ContactState, ContactView, InvalidInput
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.callbacks import CallbackService
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Forbidden, Refused
from contactcenter.runtime.ports import ContactStore


class Transfers:
    def __init__(
        self, engine: Engine, store: ContactStore, desk: AgentDesk, callbacks: CallbackService
    ) -> None:
        self.engine = engine
        self.store = store
        self.desk = desk
        self.callbacks = callbacks

    # -- the transferring agent -----------------------------------------------------------------

    async def to_queue(
        self, agent_id: str, contact_id: str, queue: str, note: str | None = None
    ) -> None:
        view = self._active(agent_id, contact_id)
        target = self.engine.center.queues.get(queue)
        if target is None or target.channel != view.channel:
            raise InvalidInput(f"{queue!r} is not a {view.channel} queue")
        await self._note(view, note)
        router = self.engine.router
        await self.engine.submit(lambda now: router.hand_off(now, contact_id, to_queue=queue))

    async def to_agent(
        self, agent_id: str, contact_id: str, target: str, note: str | None = None
    ) -> None:
        await self._to_colleague(agent_id, contact_id, target, note)
        router = self.engine.router
        await self.engine.submit(lambda now: router.hand_off(now, contact_id, to_agent=target))

    async def consult(
        self, agent_id: str, contact_id: str, target: str, note: str | None = None
    ) -> None:
        """Warm transfer: ring ``target`` to consult while the customer waits on hold."""
        await self._to_colleague(agent_id, contact_id, target, note)
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_started(now, contact_id, target))

    async def complete(self, agent_id: str, contact_id: str) -> None:
        """Leave the customer with the consulted colleague (who must have taken the consult)."""
        view = self._active(agent_id, contact_id)
        if view.consult is None:
            raise Refused("no_consult", "no consult is going on")
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_completed(now, contact_id))

    async def cancel(self, agent_id: str, contact_id: str) -> None:
        """Call the consult off; the agent carries on with the customer."""
        view = self._active(agent_id, contact_id)
        if view.consult is None:
            raise Refused("no_consult", "no consult is going on")
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_cancelled(now, contact_id))

    # -- the consulted colleague ----------------------------------------------------------------

    async def accept(self, agent_id: str, contact_id: str) -> None:
        """The colleague takes the consult (a chat on the desktop; a call on the phone)."""
        view = self._consulted(agent_id, contact_id, SlotState.OFFERED)
        if view.channel == "voice":
            cfg = self.engine.center.agents.get(agent_id)
            where = f" (extension {cfg.extension})" if cfg is not None and cfg.extension else ""
            raise Refused("answer_on_phone", f"answer the consult on your phone{where}")
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_accepted(now, contact_id))

    async def decline(self, agent_id: str, contact_id: str) -> None:
        self._consulted(agent_id, contact_id, SlotState.OFFERED)
        router = self.engine.router
        await self.engine.submit(lambda now: router.consult_declined(now, contact_id))

    # -- the list to pick from ------------------------------------------------------------------

    def quick_connect(self, agent_id: str, channel: str) -> dict[str, Any]:
        """The queues of ``channel`` and the other agents, with whether each can take a
        ``channel`` contact now (a blind or warm transfer to an agent needs that)."""
        center, router = self.engine.center, self.engine.router
        queues = [
            {"queue": qid, "name": q.name, "waiting": len(router.waiting(qid))}
            for qid, q in center.queues.items()
            if q.channel == channel
        ]
        agents = []
        for aid, cfg in center.agents.items():
            if aid == agent_id:
                continue
            a = router.agent(aid)
            agents.append(
                {
                    "agent": aid,
                    "name": cfg.name,
                    "state": str(a.activity),
                    "can_take": a.can_take(channel),  # type: ignore[arg-type]
                }
            )
        return {"channel": channel, "queues": queues, "agents": agents}

    # -- checks ---------------------------------------------------------------------------------

    async def _to_colleague(
        self, agent_id: str, contact_id: str, target: str, note: str | None
    ) -> None:
        """The checks before ``agent_id`` rings ``target`` for a contact, and the note kept."""
        view = self._active(agent_id, contact_id)
        self._ready(target, view)
        await self._note(view, note)

    def _active(self, agent_id: str, contact_id: str) -> ContactView:
        view = self.desk.held_by(agent_id, contact_id, ContactState.ACTIVE)
        if contact_id in self.callbacks:
            raise Refused("not_transferable", "a call back cannot be transferred: book another")
        return view

    def _consulted(self, agent_id: str, contact_id: str, slot: SlotState) -> ContactView:
        view = self.engine.router.contact(contact_id)
        if view.consult != agent_id:
            raise Forbidden(f"agent {agent_id} is not consulted about {contact_id}")
        if self.engine.router.agent(agent_id).slot(contact_id) is not slot:
            raise InvalidInput(f"the consult about {contact_id} is not {slot}")
        return view

    def _ready(self, target: str, view: ContactView) -> None:
        agent = self.engine.router.agents.get(target)
        if agent is None:
            raise InvalidInput(f"unknown agent {target!r}")
        if not agent.can_take(view.channel):
            raise Refused("agent_unavailable", f"agent {target} cannot take a {view.channel} now")

    async def _note(self, view: ContactView, note: str | None) -> None:
        if note:
            await self.store.set_segment_note(view.contact_id, view.segment, note)
