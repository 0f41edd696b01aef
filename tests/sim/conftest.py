"""Shared fixtures: one process pool of two workers for the whole planner suite, and a Dask
cluster of two worker processes on loopback for a module that asks for one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import LocalCluster

from sim.cluster import loopback_cluster
from sim.replications import Runner


@pytest.fixture(scope="session")
def runner() -> Iterator[Runner]:
    with Runner(workers=2) as r:
        yield r


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with loopback_cluster(2) as c:
        yield c
