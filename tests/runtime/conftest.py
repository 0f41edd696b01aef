"""A live site (engine and services) on a real SQLite store in ``tmp_path``, without HTTP: the
services are driven directly, as the API and the edges drive them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from contactcenter.config import Center, load_center
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.runtime.site import RuntimeSettings
from contactcenter.store import Store

CONFIG = Path(__file__).resolve().parents[2] / "config"


def center_with(*, callbacks: dict[str, Any] | None = None) -> Center:
    """The example center, with call back settings changed."""
    center = load_center(CONFIG)
    settings = center.settings
    if callbacks:
        settings = settings.model_copy(
            update={"callbacks": settings.callbacks.model_copy(update=callbacks)}
        )
    return dataclasses.replace(center, settings=settings)


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site(tmp_path: Path) -> AsyncIterator[SiteFactory]:
    """``await make_site(center=..., db=...)``: a started site; every one is stopped (and its
    store closed) at the end. ``stop_site(site)`` stops one early (a clean restart)."""
    running: list[tuple[Site, Store]] = []

    async def make(
        center: Center | None = None,
        db: Path | None = None,
        settings: RuntimeSettings | None = None,
    ) -> Site:
        c = center or center_with()
        store = await Store.open(db or tmp_path / "cc.sqlite3")
        await store.seed_customers(c.customers.values(), c.dedicated_agent)
        site = Site(c, store, metrics=Metrics(c), settings=settings)
        await site.start()
        running.append((site, store))
        return site

    yield make
    for site, store in running:
        await site.stop()
        await store.close()
