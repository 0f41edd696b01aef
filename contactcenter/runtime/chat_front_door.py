"""The web chat's front door: a new chat runs its entry's IVR flow (``config/ivr/entries.yaml``,
``chat: {web: chat}``) as text before it reaches a queue, as a call runs the phone menu.

The same interpreter decides (``ivr.Session`` behind ``ivr.TextMenu``): opening hours and
holidays on the site's wall clock in the center's time zone, the menu (the customer types the
option's number or a word of its label), automatic replies (a prompt shown, then a hang-up
node with reason ``self-served``), and the queue (the flow's ``enqueue``). The widget's topic,
when the customer picked one, is the flow's variable ``topic``; a flow may skip its menu for
it. Only a verified customer's id is given to the flow (``customer_id``), so a lookup can find
only a customer the site vouched for.

A chat in the menu is not a contact yet: nothing is stored but its ``IvrVisit`` when it
leaves the menu (queued, self-served, contained, input failed, abandoned), with the node it was
at. Queued, it becomes a contact with this id (stored before it is routed, as every chat) and
the menu's lines go into its transcript, so the agent sees what the customer chose. A chat
still in the menu when the engine stops is on record as abandoned (reason ``stopped``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from contactcenter.identity import Identity
from contactcenter.ivr import (
    Action,
    CancelTimer,
    CustomerInfo,
    Enqueue,
    Flows,
    HangUp,
    InvalidInput,
    Lookup,
    QueryQueueState,
    QueueStatus,
    StartTimer,
    TextMenu,
    Turn,
)
from contactcenter.ivr.outcomes import IvrOutcome, IvrVisit, outcome_of_hang_up
from contactcenter.runtime import waiting
from contactcenter.runtime.chat import ChatClosed, ChatService, new_chat_id
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.ports import ContactStore
from contactcenter.runtime.transcripts import ChatLine
from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

ENTRY = "web"
"""The chat widget's entry point in ``entries.yaml``."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A new chat after its first turn: ``state`` is ``menu`` (waiting for the customer),
    ``queued`` or ``ended`` (the menu ended it at once, e.g. closed); ``lines``: what the menu
    said."""

    contact_id: str
    state: str
    lines: tuple[str, ...]


@dataclass(eq=False)
class _MenuChat:
    contact_id: str
    flow: str
    menu: TextMenu
    name: str
    topic: str | None
    identity: Identity | None
    started_wall: float
    lines: list[ChatLine] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timer: asyncio.TimerHandle | None = None
    timer_gen: int = 0
    ended: str | None = None
    """``queued`` or ``ended`` once the chat left the menu."""


class ChatFrontDoor:
    """Runs the chat entry's flow for new chats; ``runs`` is False without one (chats then
    go straight to their topic's queue, ``ChatService.start_chat``)."""

    def __init__(
        self, engine: Engine, store: ContactStore, chat: ChatService, flows: Flows | None
    ) -> None:
        self.engine = engine
        self.store = store
        self.chat = chat
        self.flows = flows
        self.flow = flows.for_chat(ENTRY) if flows is not None else None
        self._chats: dict[str, _MenuChat] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def runs(self) -> bool:
        return self.flow is not None

    def in_menu(self, contact_id: str) -> bool:
        return contact_id in self._chats

    def lines(self, contact_id: str) -> list[ChatLine]:
        """What was said in the menu so far (the socket's history)."""
        chat = self._chats.get(contact_id)
        return list(chat.lines) if chat is not None else []

    def now(self) -> dt.datetime:
        """The site's wall clock as an aware time (hours are read in the center's zone)."""
        return dt.datetime.fromtimestamp(self.engine.wall(), dt.UTC)

    async def open(self, *, name: str, topic: str | None, identity: Identity | None) -> Opened:
        """A new chat enters the menu; it has run to its first question (or its end) when this
        returns."""
        assert self.flow is not None and self.flows is not None
        variables = {"topic": topic} if topic else {}
        if identity is not None and identity.verified:
            variables["customer_id"] = identity.customer_id
        session = self.flows.session(self.flow, variables)
        chat = _MenuChat(
            new_chat_id(), self.flow.id, TextMenu(session, self.flows.texts), name, topic,
            identity, self.engine.wall(),
        )  # fmt: skip
        self._chats[chat.contact_id] = chat
        async with chat.lock:
            try:
                await self._apply(chat, chat.menu.start(self.now()))
            except StoreUnavailable:  # a new chat cannot be promised: 503, nothing half made
                self._cancel_timer(chat)
                del self._chats[chat.contact_id]
                raise
            except Exception:
                log.exception("chat menu of %s failed", chat.contact_id)
                await self._leave(chat, IvrOutcome.FAILED, "error")
        said = tuple(ln.text for ln in chat.lines)
        return Opened(chat.contact_id, chat.ended or "menu", said)

    async def reply(self, contact_id: str, text: str) -> None:
        """The customer typed ``text`` while in the menu."""
        chat = self._chats.get(contact_id)
        if chat is None:
            raise InvalidInput(f"chat {contact_id} is not in the menu")
        async with chat.lock:
            if chat.ended is not None:
                return  # queued meanwhile: the line came too late for the menu
            self._say(chat, "customer", text)
            await self._step(chat, lambda: chat.menu.reply(text, now=self.now()))

    async def customer_left(self, contact_id: str) -> None:
        """The customer closed the chat (or its socket stayed away) while in the menu."""
        chat = self._chats.get(contact_id)
        if chat is None:
            return
        async with chat.lock:
            if chat.ended is None:
                await self._leave(chat, IvrOutcome.ABANDONED, "customer-left")
                self.engine.hub.publish(ChatClosed(contact_id, "customer"))

    async def stop(self) -> None:
        """The engine stops: chats in the menu are on record as abandoned there."""
        for task in list(self._tasks):
            task.cancel()
        for chat in list(self._chats.values()):
            if chat.ended is None:
                await self._leave(chat, IvrOutcome.ABANDONED, "stopped")

    # -- driving the session -----------------------------------------------------------------

    async def _step(self, chat: _MenuChat, step: Callable[[], Turn]) -> None:
        try:
            turn = step()
        except InvalidInput as e:  # e.g. a timer that fired as the customer answered
            log.debug("chat %s: menu input refused: %s", chat.contact_id, e)
            return
        try:
            await self._apply(chat, turn)
        except Exception:
            log.exception("chat menu of %s failed", chat.contact_id)
            await self._leave(chat, IvrOutcome.FAILED, "error")
            self.engine.hub.publish(ChatClosed(chat.contact_id, "center"))

    async def _apply(self, chat: _MenuChat, turn: Turn) -> None:
        for text in turn.lines:
            self._say(chat, "system", text)
        session = chat.menu.session
        for action in turn.actions:
            if chat.ended is not None:
                return
            if isinstance(action, StartTimer):
                self._start_timer(chat, action.seconds)
            elif isinstance(action, CancelTimer):
                self._cancel_timer(chat)
            elif isinstance(action, Lookup):
                found = await self._lookup(action)
                await self._step(chat, partial(self._answer, chat, session.lookup_result, found))
            elif isinstance(action, QueryQueueState):
                agents, wait = waiting.queue_status(self.engine, action.queue)
                status = QueueStatus(action.queue, agents, wait)
                await self._step(
                    chat, partial(self._answer, chat, session.queue_state_result, status)
                )
            elif isinstance(action, Enqueue):
                await self._queue(chat, action)
            elif isinstance(action, HangUp):
                await self._leave(chat, outcome_of_hang_up(action.reason, callback_booked=False),
                                  action.reason)  # fmt: skip
                self.engine.hub.publish(ChatClosed(chat.contact_id, "menu"))
            else:  # the loader keeps call backs and transfers out of chat flows
                raise InvalidInput(f"a chat menu cannot {type(action).__name__}")

    def _answer(self, chat: _MenuChat, input_: Callable[..., list[Action]], value: object) -> Turn:
        """The session's answer to what the driver found (a customer, a queue's state)."""
        return chat.menu.feed(input_(value, now=self.now()))

    async def _lookup(self, action: Lookup) -> CustomerInfo | None:
        if action.by == "customer_id":
            found = await self.store.customer(action.value)
        else:
            found = await self.store.find_customer(**{action.by: action.value})
        if found is None:
            return None
        return CustomerInfo(found.id, found.name, found.tier, found.dedicated_agent)

    async def _queue(self, chat: _MenuChat, action: Enqueue) -> None:
        """The menu chose the queue: the chat becomes a contact (stored, then routed)."""
        self._cancel_timer(chat)
        await self.chat.queue_chat(
            chat.contact_id, action.queue, name=chat.name, topic=chat.topic,
            identity=chat.identity, tier=action.tier,
        )  # fmt: skip
        for line in chat.lines:  # the agent sees what the customer chose
            self.chat.transcripts.add(line)
        await self._leave(chat, IvrOutcome.QUEUED, None, queued=True)

    async def _leave(
        self, chat: _MenuChat, outcome: IvrOutcome, reason: str | None, *, queued: bool = False
    ) -> None:
        """The chat leaves the menu: on record however it ended, and counted."""
        if chat.ended is not None:
            return
        chat.ended = "queued" if queued else "ended"
        self._cancel_timer(chat)
        self._chats.pop(chat.contact_id, None)
        verified = chat.identity is not None and chat.identity.verified
        visit = IvrVisit(
            call=chat.contact_id,
            flow=chat.flow,
            started_wall=chat.started_wall,
            ended_wall=self.engine.wall(),
            outcome=outcome,
            node=chat.menu.session.node,
            reason=reason,
            contact_id=chat.contact_id if queued else None,
            customer_id=chat.identity.customer_id if verified and chat.identity else None,
        )
        metrics = self.engine.metrics
        if metrics is not None:
            metrics.chat_menu_ended(str(outcome))
        try:
            await self.store.add_ivr_visit(visit)
        except Exception:  # the record is lost, the chat goes on
            log.exception("chat %s: menu visit not recorded", chat.contact_id)

    def _say(self, chat: _MenuChat, sender: str, text: str) -> None:
        line = ChatLine(chat.contact_id, sender, text, None, self.engine.wall())
        chat.lines.append(line)
        self.engine.hub.publish(line)

    # -- the menu's timer --------------------------------------------------------------------

    def _start_timer(self, chat: _MenuChat, seconds: float) -> None:
        self._cancel_timer(chat)
        gen = chat.timer_gen
        chat.timer = asyncio.get_running_loop().call_later(seconds, self._fire, chat, gen)

    def _cancel_timer(self, chat: _MenuChat) -> None:
        chat.timer_gen += 1
        if chat.timer is not None:
            chat.timer.cancel()
            chat.timer = None

    def _fire(self, chat: _MenuChat, gen: int) -> None:
        task = asyncio.create_task(self._timed_out(chat, gen))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _timed_out(self, chat: _MenuChat, gen: int) -> None:
        async with chat.lock:
            if chat.ended is None and gen == chat.timer_gen:
                chat.timer = None
                session = chat.menu.session
                await self._step(chat, lambda: chat.menu.feed(session.timeout(now=self.now())))
