"""The runtime's ports: what its parts need from the store, the metrics and the edges, and what
they offer each other, as small protocols (the SQLite store, the voice edge and the services
satisfy them structurally)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from contactcenter.events import Event
from contactcenter.ivr.outcomes import IvrVisit
from contactcenter.routing import Router
from contactcenter.store.records import OpenContact

# -- store ------------------------------------------------------------------------------------


class CustomerLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def dedicated_agent(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...


class ContactRecordLike(Protocol):
    @property
    def arrived_wall(self) -> float: ...
    @property
    def customer_name(self) -> str | None: ...


class ChatLineLike(Protocol):
    @property
    def sender(self) -> str: ...
    @property
    def text(self) -> str: ...


class EventStore(Protocol):
    async def record_events(self, events: Sequence[Event], wall_time: float) -> None: ...


class ContactStore(EventStore, Protocol):
    async def create_contact(
        self,
        contact_id: str,
        *,
        channel: str,
        queue: str,
        arrived_wall: float,
        customer_id: str | None,
        tier: str,
        customer_name: str | None,
        topic: str | None,
        verified: bool = False,
    ) -> None: ...

    async def open_contacts(self, channel: str) -> list[OpenContact]: ...

    async def close_contact(
        self, contact_id: str, wall_time: float, reason: str, outcome: str
    ) -> bool: ...

    async def end_segment(self, contact_id: str, wall_time: float, reason: str) -> None: ...

    async def contact(self, contact_id: str) -> ContactRecordLike | None: ...

    async def mark_ended(self, contact_id: str, wall_time: float, reason: str) -> bool: ...

    async def set_disposition_notes(self, contact_id: str, notes: str) -> None: ...

    async def set_segment_note(self, contact_id: str, segment: int, note: str) -> None: ...

    async def add_hold(
        self, contact_id: str, seconds: float, segment: int | None = None
    ) -> None: ...

    async def customer(self, customer_id: str) -> CustomerLike | None: ...

    async def find_customer(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        account_number: str | None = None,
    ) -> CustomerLike | None: ...

    async def add_messages(
        self, messages: Sequence[tuple[str, str, str, float, str | None]]
    ) -> None: ...

    async def transcript(self, contact_id: str) -> Sequence[ChatLineLike]: ...

    async def add_ivr_visit(self, visit: IvrVisit) -> None: ...


class AuditStore(Protocol):
    async def set_customer_tier(self, customer_id: str, tier: str) -> None: ...

    async def audit(
        self, actor: str, action: str, target: str, detail: dict[str, object], wall_time: float
    ) -> None: ...


# -- metrics ----------------------------------------------------------------------------------


class MetricsLike(Protocol):
    def observe_all(self, events: Iterable[Event]) -> None: ...

    def bind_router(self, router: Router, now: Callable[[], float]) -> None: ...

    def bind_callbacks(self, pending: Callable[[], dict[str, dict[str, float | int]]]) -> None: ...

    def callback_booked(self, queue: str, source: str) -> None: ...

    def callback_attempt(self, queue: str, outcome: str) -> None: ...

    def callback_ended(self, queue: str, outcome: str) -> None: ...

    def chat_menu_ended(self, outcome: str) -> None:
        """A chat left its menu (``IvrOutcome``: queued, self_served, ...)."""
        ...

    def store_write_failed(self) -> None: ...

    def store_events_held(self, count: int) -> None: ...

    def observe_survey(self, queue: str, channel: str, score: float) -> None: ...

    def case_event(self, event: str, category: str) -> None:
        """A case event (``runtime/case_tasks.py``) of a category in the case policy."""
        ...


# -- between the agents' desk and the channels ------------------------------------------------


class ContactHandler(Protocol):
    """What an agent's contact buttons do for one channel (chat, voice, ...)."""

    async def accept(self, agent_id: str, contact_id: str) -> None: ...

    async def decline(self, agent_id: str, contact_id: str) -> None: ...

    async def hang_up(self, agent_id: str, contact_id: str) -> None: ...

    async def agent_returned(self, agent_id: str) -> None:
        """The agent is back after a restart: hand it back what it held."""
        ...

    async def agent_lost(self, agent_id: str) -> None:
        """The agent is gone (its desktop went away, or it did not come back after a
        restart): its contacts must not wait for it."""
        ...


# -- edges ------------------------------------------------------------------------------------


class Edge(Protocol):
    """An edge the runtime runs (e.g. the voice edge): started after the services, stopped
    before them."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def problems(self) -> list[str]:
        """What stops the edge from serving right now (empty: healthy), for ``/healthz``."""
        ...


class CallControl(Protocol):
    """What the voice service asks of the voice edge: act on the call of a contact, and make
    call backs (agent first)."""

    async def call_back(self, contact_id: str, agent_id: str, number: str) -> None: ...

    async def hang_up(self, contact_id: str) -> bool:
        """End the call of ``contact_id`` (both legs) and return once its end is recorded;
        False when the edge has no such call in conversation."""
        ...
