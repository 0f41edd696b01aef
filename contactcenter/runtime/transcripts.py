"""Chat lines and their batched journey into the store.

Relaying a chat line must not wait for a disk write, so lines are queued and written in
batches (one transaction per batch) by a background task; ``stop`` flushes what is left. While
the database refuses writes, lines are held in order and retried every ``retry`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.ports import ContactStore
from contactcenter.runtime.store_health import StoreHealth
from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatLine:
    """A chat message between a customer and an agent (not a routing event)."""

    contact_id: str
    sender: str  # "customer" | "agent" | "system"
    text: str
    agent_id: str | None
    wall_time: float


class TranscriptWriter:
    def __init__(
        self,
        store: ContactStore,
        *,
        max_delay: float = 0.05,
        retry: float = 1.0,
        health: StoreHealth | None = None,
    ) -> None:
        self._store = store
        self._retry = retry
        self._health = health or StoreHealth()
        self._pending: list[ChatLine] = []
        self._wake = asyncio.Event()
        self._max_delay = max_delay
        self._task: asyncio.Task[None] | None = None

    def add(self, line: ChatLine) -> None:
        self._pending.append(line)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="transcript-writer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self._store.add_messages(
                [(ln.contact_id, ln.sender, ln.text, ln.wall_time, ln.agent_id) for ln in batch]
            )
        except BaseException:
            self._pending[:0] = batch  # keep them for the next try
            self._health.holding("chat lines", len(self._pending))
            raise
        self._health.holding("chat lines", len(self._pending))
        self._health.wrote()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._max_delay)
            try:
                await self.flush()
            except StoreUnavailable as err:
                self._health.failed(err)
                await asyncio.sleep(self._retry)
                self._wake.set()
            except Exception:
                log.exception("writing chat transcripts failed; will retry")
