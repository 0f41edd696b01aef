"""The engine's sign of life in the store: written every few seconds, so that after a crash a
restart knows (to within that interval) when the engine stopped, and closes what the crash cut
at that time rather than at the restart. Today's KPI tally is saved with it (``runtime/today.py``),
so a crash loses at most one interval of today's counts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.store_health import StoreHealth
from contactcenter.store.errors import StoreUnavailable

log = logging.getLogger(__name__)


class AliveStore(Protocol):
    async def mark_alive(self, wall_time: float) -> None: ...

    async def last_alive(self) -> float | None: ...


class Liveness:
    def __init__(
        self,
        store: AliveStore,
        wall: Callable[[], float],
        every: float = 2.0,
        health: StoreHealth | None = None,
        save: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.health = health or StoreHealth(wall)
        self.wall = wall
        self.every = every
        self.save = save
        """What else to write with each sign of life (today's tally), given the wall time."""
        self.stopped_wall: float | None = None
        """The last sign of life of the engine before this start (None: a first start)."""
        self._task: asyncio.Task[None] | None = None

    async def read(self) -> float | None:
        """When the engine last lived before this start (read once, before the first beat)."""
        self.stopped_wall = await self.store.last_alive()
        return self.stopped_wall

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="liveness")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        with contextlib.suppress(Exception):  # a clean stop: the last sign of life is now
            await self._mark(self.wall())

    async def _mark(self, wall_time: float) -> None:
        await self.store.mark_alive(wall_time)
        if self.save is not None:
            await self.save(wall_time)

    async def _beat(self) -> None:
        while True:
            try:
                await self._mark(self.wall())
                self.health.wrote()
            except StoreUnavailable as err:  # said once per outage, not every beat
                self.health.failed(err)
            except Exception:
                log.exception("writing the engine's sign of life failed; will retry")
            await asyncio.sleep(self.every)
