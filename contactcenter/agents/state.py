"""The agent state machine. Everything that changes an agent's state lives in this module.

An agent has a **presence** (offline, available, away with a reason) and, per contact, a
**slot** that goes offered -> active -> wrap-up -> freed. Both are tables below; a move that
is not in them raises ``IllegalTransition``. Per-channel capacity and blocking decide whether
a new contact of a channel can be offered (``can_take``). Time comes in as ``now``; this
module never reads a clock.

It also keeps what agent selection needs: idle-since, contacts handled, and occupancy
(busy seconds / (busy + available-idle seconds)).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from contactcenter.events import AgentActivity, ChannelName


class Presence(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"


class SlotState(StrEnum):
    OFFERED = "offered"
    ACTIVE = "active"
    WRAP_UP = "wrap_up"


PRESENCE_MOVES: Mapping[Presence, frozenset[Presence]] = {
    Presence.OFFLINE: frozenset({Presence.AVAILABLE, Presence.AWAY}),
    Presence.AVAILABLE: frozenset({Presence.AWAY, Presence.OFFLINE}),
    Presence.AWAY: frozenset({Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE}),
}
"""Allowed presence changes (away -> away changes the reason)."""

SLOT_MOVES: Mapping[SlotState | None, frozenset[SlotState | None]] = {
    None: frozenset({SlotState.OFFERED}),
    SlotState.OFFERED: frozenset({SlotState.ACTIVE, None}),
    SlotState.ACTIVE: frozenset({SlotState.WRAP_UP}),
    SlotState.WRAP_UP: frozenset({None}),
}
"""Allowed moves of one contact slot; ``None`` is "no slot"."""


class AgentError(Exception):
    """Base of the agent model's errors."""


class IllegalTransition(AgentError):
    """A state change the tables above do not allow."""


class CapacityExceeded(AgentError):
    """An offer the agent cannot take: no free slot, blocked by another channel, or busy ringing."""


class Agent:
    """One agent's live state."""

    __slots__ = (
        "_accrued_at",
        "_blocked",
        "_counts",
        "_n_active",
        "_n_wrap",
        "available_idle_seconds",
        "away_reason",
        "blocks",
        "busy_seconds",
        "capacity",
        "consecutive_no_answers",
        "handled",
        "id",
        "idle_since",
        "offered_contact",
        "presence",
        "presence_since",
        "slots",
    )

    def __init__(
        self,
        agent_id: str,
        capacity: Mapping[ChannelName, int],
        blocks: Mapping[ChannelName, tuple[ChannelName, ...]],
    ) -> None:
        self.id = agent_id
        self.capacity: dict[ChannelName, int] = dict(capacity)
        self.blocks: dict[ChannelName, tuple[ChannelName, ...]] = dict(blocks)
        self.presence = Presence.OFFLINE
        self.away_reason: str | None = None
        self.presence_since = 0.0
        self.slots: dict[str, tuple[ChannelName, SlotState]] = {}
        self._counts: dict[ChannelName, int] = dict.fromkeys(self.capacity, 0)
        self._blocked: dict[ChannelName, int] = dict.fromkeys(self.capacity, 0)
        """Channel -> held slots of other channels that block it."""
        self._n_active = 0
        self._n_wrap = 0
        self.offered_contact: str | None = None
        self.idle_since = 0.0
        self.handled = 0
        self.consecutive_no_answers = 0
        self.busy_seconds = 0.0
        self.available_idle_seconds = 0.0
        self._accrued_at = 0.0

    # -- derived state -------------------------------------------------------------------

    @property
    def activity(self) -> AgentActivity:
        if self.presence is Presence.OFFLINE:
            return AgentActivity.OFFLINE
        if self.offered_contact is not None:
            return AgentActivity.RINGING
        if self._n_active:
            return AgentActivity.BUSY
        if self._n_wrap:
            return AgentActivity.WRAP_UP
        if self.presence is Presence.AWAY:
            return AgentActivity.AWAY
        return AgentActivity.AVAILABLE

    def load(self) -> int:
        """Contacts the agent holds in any slot state."""
        return len(self.slots)

    def count(self, channel: ChannelName) -> int:
        return self._counts.get(channel, 0)

    def can_take(self, channel: ChannelName) -> bool:
        """Whether a new contact of ``channel`` may be offered now."""
        return (
            self.presence is Presence.AVAILABLE
            and self.offered_contact is None
            and self._counts.get(channel, 0) < self.capacity.get(channel, 0)
            and not self._blocked.get(channel, 0)
        )

    def why_not(self, channel: ChannelName) -> str | None:
        """The reason ``can_take`` is false, in words for ``explain``; None when it is true."""
        if self.presence is Presence.OFFLINE:
            return "offline"
        if self.presence is Presence.AWAY:
            return f"away ({self.away_reason})"
        if self.offered_contact is not None:
            return "being offered another contact"
        if self.capacity.get(channel, 0) == 0:
            return f"no {channel} capacity"
        for other, n in self._counts.items():
            if n and other != channel and channel in self.blocks.get(other, ()):
                return f"blocked by a {other} contact"
        if self._counts.get(channel, 0) >= self.capacity[channel]:
            in_wrap = any(ch == channel and s is SlotState.WRAP_UP for ch, s in self.slots.values())
            return "in wrap-up" if in_wrap else "at capacity"
        return None

    def occupancy(self, now: float) -> float:
        """Busy share of the time the agent was available or busy; 0 before any such time."""
        busy, idle = self.busy_seconds, self.available_idle_seconds
        if self.presence is not Presence.OFFLINE:
            dt = max(0.0, now - self._accrued_at)
            if self.slots:
                busy += dt
            elif self.presence is Presence.AVAILABLE:
                idle += dt
        total = busy + idle
        return busy / total if total > 0 else 0.0

    # -- presence -------------------------------------------------------------------------

    def set_presence(self, now: float, presence: Presence, reason: str | None = None) -> None:
        if presence not in PRESENCE_MOVES[self.presence]:
            raise IllegalTransition(f"agent {self.id}: cannot go {self.presence} -> {presence}")
        if presence is Presence.OFFLINE and self.slots:
            raise IllegalTransition(
                f"agent {self.id}: cannot log out while holding {len(self.slots)} contact(s)"
            )
        if presence is Presence.AWAY and not reason:
            raise IllegalTransition(f"agent {self.id}: going away needs a reason")
        self._accrue(now)
        if self.presence is Presence.OFFLINE:
            self.consecutive_no_answers = 0
        if presence is Presence.AVAILABLE and not self.slots:
            self.idle_since = now
        self.presence = presence
        self.away_reason = reason if presence is Presence.AWAY else None
        self.presence_since = now

    # -- contact slots --------------------------------------------------------------------

    def offer(self, now: float, contact_id: str, channel: ChannelName) -> None:
        if contact_id in self.slots:
            raise IllegalTransition(f"agent {self.id}: already holds contact {contact_id}")
        if not self.can_take(channel):
            raise CapacityExceeded(
                f"agent {self.id} cannot take a {channel} contact: {self.why_not(channel)}"
            )
        self._move(now, contact_id, channel, SlotState.OFFERED)
        self.offered_contact = contact_id

    def accept(self, now: float, contact_id: str) -> None:
        channel = self._channel_of(contact_id)
        self._move(now, contact_id, channel, SlotState.ACTIVE)
        self.offered_contact = None
        self.consecutive_no_answers = 0

    def withdraw_offer(self, now: float, contact_id: str, *, no_answer: bool) -> None:
        """The offer ended unanswered (declined, rang out, or the customer left)."""
        channel = self._channel_of(contact_id)
        self._move(now, contact_id, channel, None)
        self.offered_contact = None
        if no_answer:
            self.consecutive_no_answers += 1

    def complete(self, now: float, contact_id: str) -> None:
        self._move(now, contact_id, self._channel_of(contact_id), SlotState.WRAP_UP)

    def end_wrap_up(self, now: float, contact_id: str) -> None:
        self._move(now, contact_id, self._channel_of(contact_id), None)
        self.handled += 1

    def slot(self, contact_id: str) -> SlotState | None:
        held = self.slots.get(contact_id)
        return held[1] if held else None

    # -- internals ------------------------------------------------------------------------

    def _channel_of(self, contact_id: str) -> ChannelName:
        held = self.slots.get(contact_id)
        if held is None:
            raise IllegalTransition(f"agent {self.id} does not hold contact {contact_id}")
        return held[0]

    def _move(
        self, now: float, contact_id: str, channel: ChannelName, new: SlotState | None
    ) -> None:
        held = self.slots.get(contact_id)
        old = held[1] if held else None
        if new not in SLOT_MOVES[old]:
            raise IllegalTransition(
                f"agent {self.id}, contact {contact_id}: cannot go {old or 'none'} -> "
                f"{new or 'none'}"
            )
        self._accrue(now)
        if old is SlotState.ACTIVE:
            self._n_active -= 1
        elif old is SlotState.WRAP_UP:
            self._n_wrap -= 1
        if new is SlotState.ACTIVE:
            self._n_active += 1
        elif new is SlotState.WRAP_UP:
            self._n_wrap += 1
        if new is None:
            del self.slots[contact_id]
            self._counts[channel] -= 1
            for other in self.blocks.get(channel, ()):
                if other != channel:
                    self._blocked[other] = self._blocked.get(other, 0) - 1
            if not self.slots:
                self.idle_since = now
        else:
            if old is None:
                self._counts[channel] = self._counts.get(channel, 0) + 1
                for other in self.blocks.get(channel, ()):
                    if other != channel:
                        self._blocked[other] = self._blocked.get(other, 0) + 1
            self.slots[contact_id] = (channel, new)

    def _accrue(self, now: float) -> None:
        if self.presence is not Presence.OFFLINE:
            dt = now - self._accrued_at
            if dt > 0:
                if self.slots:
                    self.busy_seconds += dt
                elif self.presence is Presence.AVAILABLE:
                    self.available_idle_seconds += dt
        self._accrued_at = max(self._accrued_at, now)
