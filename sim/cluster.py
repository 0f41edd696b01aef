"""Replications on a Dask distributed cluster (``--scheduler ADDRESS``).

The planner's work is embarrassingly parallel: every replication is a pure function of the
model and its seed (``sim.replications.seeds``), so a cluster runs the same tasks the local
pool does and returns the same results, whichever worker ran which. The replication (the
model with it, up to megabytes for a day of hundreds of agents) is scattered to every worker
once per batch; each task then carries only its seed.

Dask is imported here only, when a planner asks for a cluster: the default local pool and
the engine never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.statistics import Tallies

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

Replication = Callable[[np.random.SeedSequence], Tallies]

CONNECT_SECONDS = 10.0


class ClusterError(ValueError):
    """The cluster cannot be reached or has no workers (one line for the planner)."""


def _apply(replication: Replication, seed: np.random.SeedSequence) -> Tallies:
    """A task: the worker's copy of the scattered replication run for one seed."""
    return replication(seed)


class DaskCluster:
    """A connection to the scheduler at ``address`` (``tcp://host:8786``), kept for every
    batch of a planner's command and closed with it. The cluster itself is the planner's:
    closing leaves it running."""

    def __init__(self, address: str, *, timeout: float = CONNECT_SECONDS) -> None:
        from distributed import Client

        try:
            self._client: Client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:  # (a scheduler without workers would hold every task forever)
            self._client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as e:
            self._client.close()
            raise ClusterError(f"the Dask scheduler at {address} has no workers: {e}") from None

    def map(
        self,
        replication: Replication,
        seed_list: Sequence[np.random.SeedSequence],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Tallies]:
        """One ``Tallies`` per seed, in seed order."""
        from distributed import as_completed

        client = self._client
        n = len(seed_list)
        shared = client.scatter(replication, broadcast=True, hash=False)
        futures = [client.submit(_apply, shared, s, pure=False) for s in seed_list]
        slot = {f.key: i for i, f in enumerate(futures)}
        results: list[Tallies | None] = [None] * n
        try:
            for done, future in enumerate(as_completed(futures, loop=client.loop), start=1):
                results[slot[future.key]] = future.result()
                if progress is not None:
                    progress(done, n)
        finally:
            client.cancel([*futures, shared])
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._client.close()


def loopback_cluster(workers: int) -> LocalCluster:
    """A Dask cluster of ``workers`` single-threaded worker processes on this machine's
    loopback (scheduler and dashboard on free ports): the tests', the benchmark's, and a
    planner's way to try ``--scheduler`` out. Close it (a context manager) to stop them."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",
    )
