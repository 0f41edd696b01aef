"""Waiting in tests for something that happens on its own time (a record written, a socket
closed), bounded: the one ``until`` every test uses."""

from __future__ import annotations

import asyncio
import inspect
import time


async def until(predicate: object, timeout: float = 5.0, step: float = 0.02) -> bool:
    """Wait until ``predicate()`` (plain or async) is true, or ``timeout`` seconds have passed;
    returns its last truth value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()  # type: ignore[operator]
        if inspect.isawaitable(value):
            value = await value
        if value or time.monotonic() > deadline:
            return bool(value)
        await asyncio.sleep(step)
