"""Fan-out of engine notices (domain events, chat messages) to live subscribers.

Each subscriber has a bounded queue and a filter. A slow subscriber never slows the engine:
when its queue is full the oldest notice is dropped and the subscriber is told it lagged,
so a wallboard can re-read a snapshot instead of showing stale numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lagged:
    """Notices were dropped for this subscriber; ``dropped`` says how many."""

    dropped: int


class Subscription:
    def __init__(self, hub: Hub, accept: Callable[[object], bool], size: int) -> None:
        self._hub = hub
        self._accept = accept
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=size)
        self._dropped = 0

    def offer(self, notice: object) -> None:
        if not self._accept(notice):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._dropped += 1
        self._queue.put_nowait(notice)

    async def get(self) -> object:
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            return Lagged(dropped)
        return await self._queue.get()

    def close(self) -> None:
        self._hub.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[object]:
        while True:
            yield await self.get()


class Hub:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []

    def subscribe(self, accept: Callable[[object], bool], size: int = 1000) -> Subscription:
        sub = Subscription(self, accept, size)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, notice: object) -> None:
        for sub in self._subs:
            sub.offer(notice)

    def __len__(self) -> int:
        return len(self._subs)
