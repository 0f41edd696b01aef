"""The agent model: presence, per-contact slots, capacity and blocking (see ``state``)."""

from contactcenter.agents.state import (
    CHANNEL_BITS,
    DISCONNECTED,
    NO_ANSWER,
    PHONE_UNREACHABLE,
    PRESENCE_MOVES,
    SLOT_MOVES,
    SYSTEM_AWAY_REASONS,
    Agent,
    AgentError,
    CapacityExceeded,
    IllegalTransition,
    Presence,
    SlotState,
)

__all__ = [
    "CHANNEL_BITS",
    "DISCONNECTED",
    "NO_ANSWER",
    "PHONE_UNREACHABLE",
    "PRESENCE_MOVES",
    "SLOT_MOVES",
    "SYSTEM_AWAY_REASONS",
    "Agent",
    "AgentError",
    "CapacityExceeded",
    "IllegalTransition",
    "Presence",
    "SlotState",
]
