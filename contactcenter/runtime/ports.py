"""What the engine needs from the store and the metrics, as protocols (the runtime's ports)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from contactcenter.events import Event
from contactcenter.routing import Router


class CustomerLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def dedicated_agent(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


class WaitingLike(Protocol):
    @property
    def contact_id(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def customer_id(self) -> str | None: ...
    @property
    def arrived_wall(self) -> float: ...


class StoreLike(Protocol):
    async def waiting_contacts(self, channel: str) -> Sequence[WaitingLike]: ...

    async def record_events(self, events: Sequence[Event], wall_time: float) -> None: ...

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
    ) -> None: ...

    async def customer(self, customer_id: str) -> CustomerLike | None: ...

    async def find_customer(self, *, email: str | None = None) -> CustomerLike | None: ...

    async def set_customer_tier(self, customer_id: str, tier: str) -> None: ...

    async def set_disposition_notes(self, contact_id: str, notes: str) -> None: ...

    async def add_messages(
        self, messages: Sequence[tuple[str, str, str, float, str | None]]
    ) -> None: ...

    async def audit(
        self, actor: str, action: str, target: str, detail: dict[str, object], wall_time: float
    ) -> None: ...


class MetricsLike(Protocol):
    def observe_all(self, events: Iterable[Event]) -> None: ...

    def bind_router(self, router: Router, now: Callable[[], float]) -> None: ...
