"""Background tasks of the runtime's services (timers, writers, pumps) and how they end."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` and return once each has ended, so that a service's ``stop`` leaves
    nothing running. A task that had already failed is logged here: nobody else awaits it.
    Cancelling the caller still cancels the wait."""
    live = [t for t in tasks if t is not None]
    for task in live:
        task.cancel()
    results = await asyncio.gather(*live, return_exceptions=True)
    for task, result in zip(live, results, strict=True):
        if isinstance(result, Exception):
            log.error("task %s had failed", task.get_name(), exc_info=result)
