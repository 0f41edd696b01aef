"""Fan-out of engine notices (domain events, chat messages) to live subscribers.

Each subscriber has a bounded queue and a filter. A slow subscriber never slows the engine:
when its queue is full the oldest notice is dropped and the subscriber is told it lagged,
so a wallboard can re-read a snapshot instead of showing stale numbers.

A subscriber either sees every notice (a wallboard) or only notices published under keys it
watches: a notice's keys are its contact, its agent and its queue, where it has them
(``keys_of``). An agent's desktop watches its agent and the contacts it holds, a customer's chat
its contact (and its queue while it waits), so publishing a chat line costs a few dictionary
look-ups instead of one filter call per open socket. The filter still decides what is queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

Key = tuple[str, str]
"""("contact", contact id), ("agent", agent id) or ("queue", queue id)."""

_KEYED_BY = (("contact_id", "contact"), ("agent_id", "agent"), ("queue", "queue"))


def keys_of(notice: object) -> list[Key]:
    """The keys a notice is published under: its contact, agent and queue, where it has them."""
    keys: list[Key] = []
    for attr, kind in _KEYED_BY:
        value = getattr(notice, attr, None)
        if isinstance(value, str):
            keys.append((kind, value))
    return keys


@dataclass(frozen=True, slots=True)
class Lagged:
    """Notices were dropped for this subscriber; ``dropped`` says how many."""

    dropped: int


class Subscription:
    def __init__(
        self, hub: Hub, accept: Callable[[object], bool], size: int, *, keyed: bool = False
    ) -> None:
        self._hub = hub
        self._accept = accept
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=size)
        self._dropped = 0
        self.keys: set[Key] | None = set() if keyed else None
        """The keys watched (None: every notice is offered)."""

    def offer(self, notice: object) -> None:
        if not self._accept(notice):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._dropped += 1
        self._queue.put_nowait(notice)

    def watch(self, key: Key) -> None:
        """Also receive notices published under ``key`` (for a keyed subscription)."""
        if self.keys is not None and key not in self.keys:
            self.keys.add(key)
            self._hub._watch(key, self)

    def unwatch(self, key: Key) -> None:
        if self.keys is not None and key in self.keys:
            self.keys.discard(key)
            self._hub._unwatch(key, self)

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
        """Subscribers offered every notice."""
        self._keyed: dict[Key, dict[Subscription, None]] = {}
        """Key -> subscribers watching it (an insertion-ordered set)."""

    def subscribe(
        self,
        accept: Callable[[object], bool],
        size: int = 1000,
        *,
        keys: Iterable[Key] | None = None,
    ) -> Subscription:
        """A subscription offered every notice, or with ``keys`` only notices published under
        a key it watches (``Subscription.watch``/``unwatch`` change them later)."""
        sub = Subscription(self, accept, size, keyed=keys is not None)
        if keys is None:
            self._subs.append(sub)
        else:
            for key in keys:
                sub.watch(key)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        if sub.keys:
            for key in list(sub.keys):
                sub.unwatch(key)

    def _watch(self, key: Key, sub: Subscription) -> None:
        self._keyed.setdefault(key, {})[sub] = None

    def _unwatch(self, key: Key, sub: Subscription) -> None:
        subs = self._keyed.get(key)
        if subs is not None:
            subs.pop(sub, None)
            if not subs:
                del self._keyed[key]

    def publish(self, notice: object) -> None:
        for sub in tuple(self._subs):
            sub.offer(notice)
        if not self._keyed:
            return
        seen: set[Subscription] = set()
        for key in keys_of(notice):
            watching = self._keyed.get(key)
            if not watching:
                continue
            # a filter may watch or unwatch keys while it runs: iterate over a copy
            for sub in tuple(watching):
                if sub not in seen:
                    seen.add(sub)
                    sub.offer(notice)

    def watchers(self, key: Key) -> int:
        """How many keyed subscriptions watch ``key``."""
        return len(self._keyed.get(key, ()))

    def __len__(self) -> int:
        keyed = {sub for subs in self._keyed.values() for sub in subs}
        return len(self._subs) + len(keyed)
