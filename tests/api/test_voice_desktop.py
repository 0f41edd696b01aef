"""What the agent's desktop socket says about a call that only the phone knows: the caller's
hold (from the caller's own re-INVITE), to the agent talking with them and nobody else."""

from __future__ import annotations

import asyncio

from contactcenter.runtime.voice import CallerHold
from tests.api.conftest import Api, frame


async def test_the_caller_holding_reaches_only_their_agent(api: Api) -> None:
    a05 = await api.ws("/api/agent/ws", "a05")
    a06 = await api.ws("/api/agent/ws", "a06")
    await frame(a05, "snapshot")
    await frame(a06, "snapshot")
    api.engine.hub.publish(CallerHold("a05", "voice-1", True))
    api.engine.hub.publish(CallerHold("a05", "voice-1", False))
    held = await frame(a05, "caller_hold")
    back = await frame(a05, "caller_hold")
    assert (held["contact_id"], held["held"], back["held"]) == ("voice-1", True, False)
    # a06 gets nothing of it
    try:
        async with asyncio.timeout(0.3):
            other = await a06.receive()
    except TimeoutError:
        other = None
    assert other is None, other.data if other is not None else None
