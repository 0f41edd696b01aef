"""Short garbage-collector pauses for a server that holds thousands of long-lived sessions.

CPython's cyclic collector scans every tracked object in a full (generation 2) collection and
runs one whenever the long-lived heap has grown by a quarter. With 5,000 chat sessions the
heap holds about 800,000 objects, and each full collection stopped the event loop for 0.1-0.9
s while sessions came in: relayed lines waited behind it. Nearly all of those objects live as
long as their session, so scanning them over and over finds nothing.

The keeper collects fully only what is young: every ``freeze_every`` seconds it collects the
objects created since the last round (a pause proportional to that round's survivors, not to
the heap) and then freezes the survivors (``gc.freeze``: the collector ignores them; reference
counting still frees them). What a frozen object's cycle leaves behind when it is dropped is
only found by a *sweep* (unfreeze, full collection, freeze), one full pause every
``sweep_every`` seconds; the log says how long it took and what it found, and the pause
histogram shows every collection's pause.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contactcenter.runtime.background import cancel_and_wait

log = logging.getLogger(__name__)

PauseObserver = Callable[[int, float], None]
"""(generation, seconds) of one collection."""


@dataclass(frozen=True)
class HeapSettings:
    freeze_every_seconds: float = 10.0
    """How often young survivors are collected and frozen (bounds an automatic pause)."""
    sweep_every_seconds: float = 3600.0
    """How often the frozen heap is swept for cycles dropped since (one full pause)."""

    def __post_init__(self) -> None:
        if not self.freeze_every_seconds > 0:
            raise ValueError(f"freeze_every_seconds must be > 0, got {self.freeze_every_seconds}")
        if self.sweep_every_seconds < self.freeze_every_seconds:
            raise ValueError(
                f"sweep_every_seconds ({self.sweep_every_seconds}) must be at least "
                f"freeze_every_seconds ({self.freeze_every_seconds})"
            )


@dataclass(frozen=True)
class Sweep:
    """What one sweep of the frozen heap did."""

    pause_seconds: float
    collected: int
    frozen: int


class HeapKeeper:
    """Freezes the long-lived heap in rounds and sweeps it now and then (see the module doc).

    One per process: ``gc.freeze`` is process-wide. ``stop`` unfreezes, so whatever embeds the
    keeper (a test, a tool) gets the ordinary collector back.
    """

    def __init__(
        self,
        settings: HeapSettings | None = None,
        *,
        observe_pause: PauseObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or HeapSettings()
        self._observe = observe_pause
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._last_sweep = 0.0
        self._gc_started: dict[int, float] = {}
        self.sweeps: list[Sweep] = []
        """Every sweep so far, oldest first (kept for the log and tests)."""

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("heap keeper already started")
        if self._observe is not None:
            gc.callbacks.append(self._on_gc)
        self.sweep()  # the startup objects: modules, config, tables
        self._task = asyncio.create_task(self._run(), name="heap-keeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        gc.unfreeze()

    def age(self) -> None:
        """Collect the young generations, then freeze what survived."""
        gc.collect(1)
        gc.freeze()

    def sweep(self) -> Sweep:
        """Collect the whole heap, frozen part included, then freeze it again."""
        t0 = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        done = Sweep(time.perf_counter() - t0, collected, gc.get_freeze_count())
        self._last_sweep = self._clock()
        self.sweeps.append(done)
        del self.sweeps[:-16]
        log.info(
            "heap sweep: %.1f ms, %d unreachable objects collected, %d frozen",
            done.pause_seconds * 1000,
            done.collected,
            done.frozen,
        )
        return done

    async def _run(self) -> None:
        every = self.settings.freeze_every_seconds
        while True:
            await asyncio.sleep(every)
            if self._clock() - self._last_sweep >= self.settings.sweep_every_seconds:
                self.sweep()
            else:
                self.age()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        gen = int(info["generation"])
        if phase == "start":
            self._gc_started[gen] = time.perf_counter()
        elif (t0 := self._gc_started.pop(gen, None)) is not None and self._observe is not None:
            self._observe(gen, time.perf_counter() - t0)
