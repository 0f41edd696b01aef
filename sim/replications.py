"""Independent replications in parallel processes, reproducible from one base seed.

Replication ``i`` always gets child ``i`` of ``SeedSequence(seed).spawn(n)`` (or of the given
spawn key), whichever worker runs it and in whatever order they finish, so results depend on
the seed only, never on the number of workers or the executor: this process, a local
process pool (the default) or a Dask cluster (``sim.cluster``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from functools import partial
from types import TracebackType

import numpy as np

from sim.cluster import DaskCluster, Replication
from sim.driver import simulate
from sim.scenario import Model
from sim.statistics import Summary, Tallies, summarize

Progress = Callable[[int, int], None]
"""Called with (replications done, replications in all)."""


def seeds(
    base: int, n: int, key: Sequence[int] = (), *, first: int = 0
) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``base`` (under an optional spawn ``key``), children
    ``first`` to ``first + n - 1``: a run extended by more replications keeps the seeds it
    had (child ``i`` is the one ``SeedSequence.spawn`` gives as its ``i``-th)."""
    return [np.random.SeedSequence(base, spawn_key=(*key, i)) for i in range(first, first + n)]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class Runner:
    """Runs replications: in this process (``workers`` 1), in a local process pool reused
    across calls (the default: one process per core), or on the Dask cluster whose scheduler
    is at ``scheduler`` (then ``workers`` does not apply: the cluster has its own)."""

    def __init__(self, workers: int | None = None, *, scheduler: str | None = None) -> None:
        self.workers = workers if workers is not None else default_workers()
        self._pool: Executor | None = None
        self._cluster = DaskCluster(scheduler) if scheduler is not None else None

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(
        self,
        model: Model,
        seed_list: Sequence[np.random.SeedSequence],
        *,
        by_tier: bool = False,
        progress: Progress | None = None,
    ) -> list[Tallies]:
        """One ``Tallies`` per seed, in seed order."""
        return self.map(partial(simulate, model, by_tier=by_tier), seed_list, progress=progress)

    def map(
        self,
        replication: Replication,
        seed_list: Sequence[np.random.SeedSequence],
        *,
        progress: Progress | None = None,
    ) -> list[Tallies]:
        """``replication`` (a picklable function of a seed) for every seed, in seed order."""
        n = len(seed_list)
        if self._cluster is not None:
            return self._cluster.map(replication, seed_list, progress)
        if self.workers <= 1 or n <= 1:
            out = []
            for i, s in enumerate(seed_list):
                out.append(replication(s))
                if progress is not None:
                    progress(i + 1, n)
            return out
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        futures = {self._pool.submit(replication, s): i for i, s in enumerate(seed_list)}
        results: list[Tallies | None] = [None] * n
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, n)
        return [r for r in results if r is not None]


def replicate(
    model: Model,
    *,
    replications: int | None = None,
    seed: int | None = None,
    runner: Runner | None = None,
    by_tier: bool = False,
    progress: Progress | None = None,
) -> list[Tallies]:
    """``replications`` runs of ``model`` (defaults from the scenario)."""
    n = replications if replications is not None else model.replications
    seed_list = seeds(model.seed if seed is None else seed, n)
    if runner is not None:
        return runner.run(model, seed_list, by_tier=by_tier, progress=progress)
    with Runner() as own:
        return own.run(model, seed_list, by_tier=by_tier, progress=progress)


def summary_of(model: Model, tallies: Sequence[Tallies], intervals: slice = slice(None)) -> Summary:
    return summarize(
        tallies,
        queues=tuple(model.center.queues),
        groups=tuple(g.name for g in model.groups),
        confidence=model.confidence,
        intervals=intervals,
        tiers=tuple(t.id for t in model.center.settings.tiers),
    )
