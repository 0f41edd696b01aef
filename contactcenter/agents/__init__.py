"""The agent model: presence, per-contact slots, capacity and blocking (see ``state``)."""

from contactcenter.agents.state import (
    CHANNEL_BITS,
    PRESENCE_MOVES,
    SLOT_MOVES,
    Agent,
    AgentError,
    CapacityExceeded,
    IllegalTransition,
    Presence,
    SlotState,
)

__all__ = [
    "CHANNEL_BITS",
    "PRESENCE_MOVES",
    "SLOT_MOVES",
    "Agent",
    "AgentError",
    "CapacityExceeded",
    "IllegalTransition",
    "Presence",
    "SlotState",
]
