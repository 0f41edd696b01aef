"""The heap keeper: young garbage is collected each round, survivors are frozen out of the
collector's scans, cycles dropped from the frozen heap are found by a sweep, and stopping
gives the process its ordinary collector back."""

from __future__ import annotations

import asyncio
import gc
import re
import time
import urllib.request
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactcenter.runtime.heap import HeapKeeper, HeapSettings
from tests.integration.server import ROOT, ServerProcess


class Node:
    """Something that can form a reference cycle (only the cyclic collector frees it)."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture
def no_freeze() -> Iterator[None]:
    gc.unfreeze()
    yield None
    gc.unfreeze()


async def test_survivors_are_frozen_and_young_cycles_collected_each_round(no_freeze: None) -> None:
    keeper = HeapKeeper(HeapSettings(freeze_every_seconds=0.05, sweep_every_seconds=3600))
    await keeper.start()
    try:
        frozen_at_start = gc.get_freeze_count()
        assert frozen_at_start > 1000  # modules, functions, config of this process
        kept = [Node() for _ in range(5000)]
        young, young_ref = cycle()
        del young
        await asyncio.sleep(0.2)
        assert young_ref() is None  # a round collected the young cycle
        assert gc.get_freeze_count() >= frozen_at_start + 5000  # and froze what lives on
        assert all(gc.is_tracked(n) for n in kept)
    finally:
        await keeper.stop()
    assert gc.get_freeze_count() == 0


async def test_a_cycle_dropped_after_freezing_waits_for_the_sweep(no_freeze: None) -> None:
    now = [0.0]
    keeper = HeapKeeper(
        HeapSettings(freeze_every_seconds=0.05, sweep_every_seconds=10.0), clock=lambda: now[0]
    )
    await keeper.start()
    try:
        old, old_ref = cycle()
        keeper.age()  # ``old`` is frozen now
        del old
        gc.collect()
        assert old_ref() is not None  # a frozen cycle is out of the collector's reach
        await asyncio.sleep(0.2)
        assert old_ref() is not None  # rounds before the sweep leave it be
        now[0] = 10.0
        await asyncio.sleep(0.2)
        assert old_ref() is None  # the sweep found it
        assert len(keeper.sweeps) == 2  # at start and at 10 s
        assert keeper.sweeps[-1].collected >= 2
    finally:
        await keeper.stop()


async def test_stop_gives_back_the_frozen_objects_to_the_collector(no_freeze: None) -> None:
    keeper = HeapKeeper(HeapSettings(freeze_every_seconds=60, sweep_every_seconds=3600))
    await keeper.start()
    old, old_ref = cycle()
    keeper.age()
    del old
    await keeper.stop()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert old_ref() is None


async def test_each_collection_pause_is_observed_by_generation(no_freeze: None) -> None:
    pauses: list[tuple[int, float]] = []
    keeper = HeapKeeper(
        HeapSettings(freeze_every_seconds=60, sweep_every_seconds=3600),
        observe_pause=lambda gen, s: pauses.append((gen, s)),
    )
    await keeper.start()
    try:
        t0 = time.perf_counter()
        gc.collect(1)
        elapsed = time.perf_counter() - t0
        gen, seconds = pauses[-1]
        assert gen == 1 and 0 < seconds <= elapsed
    finally:
        await keeper.stop()
    pauses.clear()
    gc.collect(0)
    assert pauses == []  # the callback went with the keeper


@pytest.mark.parametrize(
    ("freeze", "sweep", "message"),
    [(0, 10, "freeze_every_seconds must be > 0"), (30, 10, "must be at least")],
)
def test_settings_refuse_nonsense(freeze: float, sweep: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HeapSettings(freeze_every_seconds=freeze, sweep_every_seconds=sweep)


def test_serve_keeps_its_heap_and_shows_the_collector_pauses(tmp_path: Path) -> None:
    """A real ``serve``: the startup sweep is logged, and the pauses are in /metrics."""
    server = ServerProcess(ROOT / "config", tmp_path / "cc.sqlite3", tmp_path)
    try:
        base = server.start()
        sweep = re.search(r"heap sweep: [\d.]+ ms, \d+ unreachable objects collected, (\d+) frozen",
                          server.log())  # fmt: skip
        assert sweep is not None, server.log()
        assert int(sweep.group(1)) > 10_000
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        pauses = r'contactcenter_gc_pause_seconds_count\{generation="(\d)"\} (\S+)'
        counts = re.findall(pauses, text)
        assert any(g == "2" and float(n) >= 1 for g, n in counts), text  # the startup sweep
    finally:
        assert server.stop() == 0
