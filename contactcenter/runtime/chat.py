"""Web chats, from the customer's first line to the end: queueing, identity (only a verified
one routes), the lines both sides write (batched into the store), who ended it, and chats
brought back after a restart.

A chat is in the store before the customer is told it is queued; after a crash, waiting chats
are put back in their queues with their original arrival times.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from functools import partial

from contactcenter.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactRemoved,
    Event,
    WrapUpEnded,
)
from contactcenter.identity import Identity
from contactcenter.routing import ContactState, InvalidInput, RoutingError
from contactcenter.runtime.callbacks import CallbackService, Origin
from contactcenter.runtime.desk_channel import DeskChannel
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Forbidden, Refused
from contactcenter.runtime.intake import NewContact, hand_back, queue_again, queue_contact
from contactcenter.runtime.ports import ContactStore
from contactcenter.runtime.transcripts import ChatLine, TranscriptWriter
from contactcenter.store.records import OpenContact

log = logging.getLogger(__name__)


def new_chat_id() -> str:
    """A new chat's contact id (also its IVR visit's id while it is in the menu)."""
    return f"chat-{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class ChatClosed:
    """The chat ended; ``by`` is who ended it ("customer", "agent", "center", "callback", or
    "menu": the chat's menu ended it, e.g. closed or answered by an automatic reply)."""

    contact_id: str
    by: str


class ChatService(DeskChannel):
    def __init__(self, engine: Engine, store: ContactStore, callbacks: CallbackService) -> None:
        self.engine = engine
        self.store = store
        self.callbacks = callbacks
        self.transcripts = TranscriptWriter(store, health=engine.store_health)
        self.agents: dict[str, str] = {}
        """Chat contact id -> agent talking with the customer (set on answer)."""
        self.resumable: dict[str, OpenContact] = {}
        """Chats an agent was answering when the engine stopped, waiting for that agent."""
        self._written: dict[str, int] = {}
        """Chat contact id -> UTF-8 bytes of the customer's lines (a restored chat's are read
        from the store at its first new line)."""
        engine.listen(self._observe)

    def _observe(self, e: Event) -> None:
        if e.__class__ is ContactAnswered:  # (most events are not a chat's)
            assert isinstance(e, ContactAnswered)
            if e.channel == "chat":
                self.agents[e.contact_id] = e.agent_id
        elif isinstance(e, ContactHandedOff) and e.channel == "chat":
            self.agents.pop(e.contact_id, None)  # until the next agent answers
        elif isinstance(e, ContactAbandoned | ContactRemoved | WrapUpEnded):
            if isinstance(e, WrapUpEnded) and self.agents.get(e.contact_id) != e.agent_id:
                return  # the wrap-up of a segment handed on: the chat goes on
            self.agents.pop(e.contact_id, None)
            self._written.pop(e.contact_id, None)
            if isinstance(e, ContactRemoved) and e.channel == "chat":
                by = "callback" if e.outcome == "callback" else "center"
                self.engine.hub.publish(ChatClosed(e.contact_id, by))

    async def start(self, stopped_wall: float | None = None) -> None:
        """Bring back the chats that were not over when the engine stopped (its last sign of
        life: ``stopped_wall``). Waiting ones go
        back to their queues with their arrival times (their place); one an agent was
        answering waits for that agent (``agent_returned``), or goes back to its queue if the
        agent does not return (``agent_lost``). Only a verified customer drives routing."""
        cut = min(stopped_wall or self.engine.wall(), self.engine.wall())
        restored = await self.store.open_contacts("chat")
        for oc in restored:
            if oc.queue not in self.engine.center.queues:
                log.warning("open chat in unknown queue %s dropped from routing", oc.queue)
                continue
            if oc.agent_id is not None and oc.answered:
                # the conversation the stop cut ends there; the next segment is with its agent
                await self.store.end_segment(oc.contact_id, cut, "interrupted")
                self.resumable[oc.contact_id] = oc
                self.agents[oc.contact_id] = oc.agent_id
            else:
                await queue_again(
                    self.engine, oc, oc.segment + 1 if oc.segment_ended else oc.segment
                )
        if restored:
            log.info(
                "restored %d chat(s), %d waiting for their agent",
                len(restored),
                len(self.resumable),
            )
        self.transcripts.start()

    async def agent_returned(self, agent_id: str) -> None:
        """The agent is back after a restart: the chats it was answering are its again."""
        engine = self.engine
        for oc in [oc for oc in self.resumable.values() if oc.agent_id == agent_id]:
            del self.resumable[oc.contact_id]
            try:
                await engine.submit(
                    partial(
                        engine.router.contact_resumed,
                        contact_id=oc.contact_id,
                        queue=oc.queue,
                        agent_id=agent_id,
                        segment=oc.segment + 1,
                        arrived_at=engine.now() - max(0.0, engine.wall() - oc.arrived_wall),
                        tier=oc.tier if oc.tier in engine.center.tiers else None,
                        customer_id=oc.customer_id if oc.verified else None,
                    )
                )
            except RoutingError as e:  # no room for it now: it goes back to its queue
                log.info("chat %s not resumed with %s (%s): queued", oc.contact_id, agent_id, e)
                await queue_again(self.engine, oc, oc.segment + 1)

    async def agent_lost(self, agent_id: str) -> None:
        """The agent is gone: its chats go back to the head of their queues (their place), and
        its chat wrap-ups end (nobody is there to do them)."""
        for oc in [oc for oc in self.resumable.values() if oc.agent_id == agent_id]:
            del self.resumable[oc.contact_id]
            self.agents.pop(oc.contact_id, None)
            await queue_again(self.engine, oc, oc.segment + 1)
        await hand_back(self.engine, agent_id, "chat")

    async def stop(self) -> None:
        await self.transcripts.stop()

    # -- the customer's side --------------------------------------------------------------------

    async def start_chat(self, *, name: str, topic: str, identity: Identity | None = None) -> str:
        """Queue a new chat; it is in the store before this returns. Returns the contact id.

        Only a verified ``identity`` (signed by the site's backend, checked at the edge) buys
        the customer's tier and dedicated agent; a claimed one is kept for the record and the
        agent's card (marked not verified) and routes like an anonymous chat.
        """
        queue = self.engine.center.settings.chat_topics.get(topic)
        if queue is None:
            raise InvalidInput(f"unknown topic {topic!r}")
        contact_id = new_chat_id()
        await self.queue_chat(contact_id, queue, name=name, topic=topic, identity=identity)
        return contact_id

    async def queue_chat(
        self,
        contact_id: str,
        queue: str,
        *,
        name: str,
        topic: str | None,
        identity: Identity | None,
        tier: str | None = None,
    ) -> None:
        """Queue chat ``contact_id`` in ``queue`` (stored before it is routed): the way in of
        ``start_chat`` and of a chat whose menu chose the queue (``ChatFrontDoor``). ``tier``
        (a menu's ``enqueue`` may name one) takes the place of the verified customer's."""
        claimed = identity.customer_id if identity is not None else None
        verified = claimed if identity is not None and identity.verified else None
        trusted = await self.store.customer(verified) if verified is not None else None
        self._written[contact_id] = 0
        if trusted is not None and trusted.phone:  # a removal at max wait can call back
            self.callbacks.note_origin(
                contact_id,
                Origin(trusted.phone, queue, self.engine.wall(), trusted.tier, trusted.id, True,
                       name, "chat"),
            )  # fmt: skip
        await queue_contact(
            self.engine,
            self.store,
            NewContact(
                contact_id,
                "chat",
                queue,
                tier=tier or (trusted.tier if trusted is not None else None),
                customer_id=verified,
                claimed_customer_id=claimed,
                preferred_agent=trusted.dedicated_agent if trusted is not None else None,
                name=name,
                topic=topic,
            ),
        )

    async def customer_says(
        self, contact_id: str, text: str, *, quota: int | None = None
    ) -> ChatLine:
        """A line from the customer. With ``quota``, the customer's lines of this chat may hold
        that many UTF-8 bytes in all (``Refused("transcript_full")`` beyond), so an anonymous
        customer cannot fill the store."""
        if contact_id not in self.resumable:
            self.engine.router.contact(contact_id)  # unknown contact -> UnknownContact
        size = len(text.encode())
        if quota is not None:
            if contact_id not in self._written:
                stored = await self.store.transcript(contact_id)
                self._written.setdefault(
                    contact_id, sum(len(m.text.encode()) for m in stored if m.sender == "customer")
                )
            if self._written[contact_id] + size > quota:
                raise Refused(
                    "transcript_full",
                    f"this chat holds all it can from you ({quota} bytes): "
                    "please end it and start a new one",
                )
        self._written[contact_id] = self._written.get(contact_id, 0) + size
        return self._line(contact_id, "customer", text, self.agents.get(contact_id))

    def is_open(self, contact_id: str) -> bool:
        """Whether the chat goes on (routed, or waiting for its agent after a restart)."""
        return contact_id in self.engine.router.contacts or contact_id in self.resumable

    async def request_callback(
        self, contact_id: str, number: str, due_wall: float | None = None
    ) -> None:
        """The waiting customer asks to be called back instead (keeping their place, or at
        the time they name): the chat leaves its queue and the call back is booked (stored
        before the customer is told: ``ChatClosed`` by ``callback``)."""
        router = self.engine.router
        view = router.contact(contact_id)
        if view.state not in (ContactState.WAITING, ContactState.OFFERED):
            raise Refused("with_agent", "an agent is with you: ask them to call you back")
        if self.engine.center.callback_queue(view.queue) is None:
            raise Refused("no_callback_queue", "call backs are not offered for this topic")
        rec = await self.store.contact(contact_id)
        arrived = rec.arrived_wall if rec is not None else self.engine.wall()
        trusted = router.contacts[contact_id].customer_id  # only a verified claim is kept
        self.callbacks.note_origin(
            contact_id,
            Origin(number, view.queue, arrived, view.tier, trusted, trusted is not None,
                   rec.customer_name if rec is not None else None, "chat", due_wall),
        )  # fmt: skip
        await self.engine.submit(lambda now: router.accept_callback(now, contact_id))

    async def customer_left(self, contact_id: str) -> None:
        """The customer closed the chat: an abandon while waiting, the end of it when active
        (or, waiting for its agent after a restart, cut by the restart)."""
        if self.resumable.pop(contact_id, None) is not None:
            self.agents.pop(contact_id, None)
            self._written.pop(contact_id, None)
            await self.store.close_contact(contact_id, self.engine.wall(), "customer_left",
                                           "interrupted")  # fmt: skip
            self.engine.hub.publish(ChatClosed(contact_id, "customer"))
            return
        router = self.engine.router
        view = router.contact(contact_id)
        if view.state in (ContactState.WAITING, ContactState.OFFERED):
            await self.engine.submit(lambda now: router.contact_abandoned(now, contact_id))
        elif view.state is ContactState.ACTIVE:
            await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
        self.engine.hub.publish(ChatClosed(contact_id, "customer"))

    # -- the agent's side (``ContactHandler`` for chats) ----------------------------------------

    async def agent_says(self, agent_id: str, contact_id: str, text: str) -> ChatLine:
        view = self.engine.router.contact(contact_id)
        if view.agent != agent_id:
            raise Forbidden(f"contact {contact_id} is not with agent {agent_id}")
        if view.state is not ContactState.ACTIVE:
            raise InvalidInput(f"contact {contact_id} is {view.state}")
        return self._line(contact_id, "agent", text, agent_id)

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        router = self.engine.router
        events = await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
        if any(isinstance(e, ContactCompleted) for e in events):
            self.engine.hub.publish(ChatClosed(contact_id, "agent"))

    def _line(self, contact_id: str, sender: str, text: str, agent_id: str | None) -> ChatLine:
        line = ChatLine(contact_id, sender, text, agent_id, self.engine.wall())
        self.transcripts.add(line)
        self.engine.hub.publish(line)
        return line
