"""The agent state machine. Everything that changes an agent's state lives in this module.

An agent has a **presence** (offline, available, away with a reason) and, per contact, a
**slot** that goes offered -> active -> wrap-up -> freed (an active slot of a consult that was
called off is freed at once; a contact the agent held when the engine stopped is resumed
straight into an active slot). Both are tables below; a move that
is not in them raises ``IllegalTransition``. Per-channel capacity and blocking decide whether
a new contact of a channel can be offered (``can_take``). Time comes in as ``now``; this
module never reads a clock.

It also keeps what agent selection needs: idle-since, contacts handled, and occupancy
(busy seconds / (busy + available-idle seconds)).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from mypy_extensions import mypyc_attr

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
    None: frozenset({SlotState.OFFERED, SlotState.ACTIVE}),
    SlotState.OFFERED: frozenset({SlotState.ACTIVE, None}),
    SlotState.ACTIVE: frozenset({SlotState.WRAP_UP, None}),
    SlotState.WRAP_UP: frozenset({None}),
}
"""Allowed moves of one contact slot; ``None`` is "no slot"."""

# Enum members as plain globals for the hot paths below: ``Presence.AVAILABLE`` goes through
# the enum metaclass, several times the cost of a global lookup.
_OFFLINE, _AVAILABLE, _AWAY = Presence.OFFLINE, Presence.AVAILABLE, Presence.AWAY
_OFFERED, _ACTIVE, _WRAP_UP = SlotState.OFFERED, SlotState.ACTIVE, SlotState.WRAP_UP
_A_OFFLINE, _A_AVAILABLE = AgentActivity.OFFLINE, AgentActivity.AVAILABLE
_A_AWAY, _A_RINGING = AgentActivity.AWAY, AgentActivity.RINGING
_A_BUSY, _A_WRAP_UP = AgentActivity.BUSY, AgentActivity.WRAP_UP

NO_ANSWER = "no-answer"
"""Away reason the routing core sets after ``no_answer_limit`` ring timeouts in a row."""
DISCONNECTED = "disconnected"
"""Away reason the runtime sets when an agent's desktop went away."""
PHONE_UNREACHABLE = "phone-unreachable"
"""Away reason the routing core sets when the no-answer limit is reached by offers whose
phone could not be reached at all (not registered, unavailable: the SIP server said so)."""
SYSTEM_AWAY_REASONS = (NO_ANSWER, DISCONNECTED, PHONE_UNREACHABLE)
"""Away reasons the center itself sets: valid whatever the config lists."""

CHANNEL_BITS: Mapping[ChannelName, int] = {"voice": 1, "chat": 2, "email": 4, "task": 8}
"""One bit per channel: sets of channels as ints (``Agent.room``), cheap to compare."""


class AgentError(Exception):
    """Base of the agent model's errors."""


class IllegalTransition(AgentError):
    """A state change the tables above do not allow."""


class CapacityExceeded(AgentError):
    """An offer the agent cannot take: no free slot, blocked by another channel, or busy ringing."""


# Compiled (mypyc), still copied and pickled as a Python class is (serializable alone leaves
# the attributes of instances made from Python unset: mypyc/mypyc#1172).
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Agent:
    """One agent's live state."""

    __slots__ = (
        "_accrued_at",
        "_blocked",
        "_blocks_others",
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
        "room",
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
        self._blocks_others: dict[ChannelName, tuple[tuple[ChannelName, int], ...]] = {
            ch: tuple((o, CHANNEL_BITS[o]) for o in self.blocks.get(ch, ()) if o != ch)
            for ch in self.capacity
        }
        """Channel -> (channel, bit) of the other channels a held slot of it blocks."""
        self.room = 0
        """Bits (``CHANNEL_BITS``) of the channels with a free slot that nothing blocks: what
        ``can_take`` needs besides presence and ringing, kept up to date on every slot move."""
        for ch, cap in self.capacity.items():
            if cap > 0:
                self.room |= CHANNEL_BITS[ch]
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
        if self.presence is _OFFLINE:
            return _A_OFFLINE
        if self.offered_contact is not None:
            return _A_RINGING
        if self._n_active:
            return _A_BUSY
        if self._n_wrap:
            return _A_WRAP_UP
        if self.presence is _AWAY:
            return _A_AWAY
        return _A_AVAILABLE

    def load(self) -> int:
        """Contacts the agent holds in any slot state."""
        return len(self.slots)

    def count(self, channel: ChannelName) -> int:
        return self._counts.get(channel, 0)

    def can_take(self, channel: ChannelName) -> bool:
        """Whether a new contact of ``channel`` may be offered now."""
        return (
            self.presence is _AVAILABLE
            and self.offered_contact is None
            and self.room & CHANNEL_BITS.get(channel, 0) != 0
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

    def accrued(self, now: float) -> tuple[float, float]:
        """Seconds busy (holding a contact: ringing, talking or in wrap-up) and available with
        nothing held, logged in, up to ``now``; reading them changes nothing."""
        busy, idle = self.busy_seconds, self.available_idle_seconds
        if self.presence is not _OFFLINE:
            dt = max(0.0, now - self._accrued_at)
            if self.slots:
                busy += dt
            elif self.presence is _AVAILABLE:
                idle += dt
        return busy, idle

    def occupancy(self, now: float) -> float:
        """Busy share of the time the agent was available or busy; 0 before any such time."""
        busy, idle = self.accrued(now)
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

    # offer, accept, complete and end_wrap_up are the routing hot path: for the slot state
    # they expect, each does inline what ``_move`` would do; any other goes through ``_move``.

    def offer(self, now: float, contact_id: str, channel: ChannelName) -> None:
        slots = self.slots
        if contact_id in slots:
            raise IllegalTransition(f"agent {self.id}: already holds contact {contact_id}")
        if not self.can_take(channel):
            raise CapacityExceeded(
                f"agent {self.id} cannot take a {channel} contact: {self.why_not(channel)}"
            )
        self._accrue(now)
        self._take_slot(channel)
        slots[contact_id] = (channel, _OFFERED)
        self.offered_contact = contact_id

    def accept(self, now: float, contact_id: str) -> None:
        held = self.slots.get(contact_id)
        if held is not None and held[1] is _OFFERED:
            self._accrue(now)
            self._n_active += 1
            self.slots[contact_id] = (held[0], _ACTIVE)
        else:
            self._move(now, contact_id, self._channel_of(contact_id), _ACTIVE)
        self.offered_contact = None
        self.consecutive_no_answers = 0

    def withdraw_offer(self, now: float, contact_id: str, *, no_answer: bool) -> None:
        """The offer ended unanswered (declined, rang out, or the customer left)."""
        self._expect(contact_id, SlotState.OFFERED, "withdraw the offer of")
        channel = self._channel_of(contact_id)
        self._move(now, contact_id, channel, None)
        self.offered_contact = None
        if no_answer:
            self.consecutive_no_answers += 1

    def complete(self, now: float, contact_id: str) -> None:
        held = self.slots.get(contact_id)
        if held is not None and held[1] is _ACTIVE:
            self._accrue(now)
            self._n_active -= 1
            self._n_wrap += 1
            self.slots[contact_id] = (held[0], _WRAP_UP)
        else:
            self._move(now, contact_id, self._channel_of(contact_id), _WRAP_UP)

    def end_wrap_up(self, now: float, contact_id: str) -> None:
        held = self.slots.get(contact_id)
        if held is not None and held[1] is _WRAP_UP:
            self._accrue(now)
            self._n_wrap -= 1
            del self.slots[contact_id]
            self._free_slot(held[0])
            if not self.slots:
                self.idle_since = now
        else:
            self._expect(contact_id, SlotState.WRAP_UP, "end the wrap-up of")
        self.handled += 1

    def resume(self, now: float, contact_id: str, channel: ChannelName) -> None:
        """Take back, straight into an active slot, a contact the agent held when the engine
        stopped: it needs to be logged in (any presence) with room for the channel."""
        if contact_id in self.slots:
            raise IllegalTransition(f"agent {self.id}: already holds contact {contact_id}")
        if self.presence is Presence.OFFLINE:
            raise IllegalTransition(f"agent {self.id} is offline")
        if not self.room & CHANNEL_BITS.get(channel, 0):
            raise CapacityExceeded(f"agent {self.id} has no room for a {channel} contact")
        self._move(now, contact_id, channel, SlotState.ACTIVE)

    def release(self, now: float, contact_id: str) -> None:
        """Free an active slot without wrap-up (a consult that was called off)."""
        self._expect(contact_id, SlotState.ACTIVE, "release")
        self._move(now, contact_id, self._channel_of(contact_id), None)

    def slot(self, contact_id: str) -> SlotState | None:
        held = self.slots.get(contact_id)
        return held[1] if held else None

    # -- internals ------------------------------------------------------------------------

    # Slots are only taken and freed in channels the agent has capacity for (an offer needs
    # ``can_take``); ``room`` changes only in the channel itself and those it blocks.

    def _take_slot(self, channel: ChannelName) -> None:
        counts, blocked, room = self._counts, self._blocked, self.room
        counts[channel] += 1
        if counts[channel] >= self.capacity[channel]:
            room &= ~CHANNEL_BITS[channel]
        for other, bit in self._blocks_others[channel]:
            blocked[other] = blocked.get(other, 0) + 1
            room &= ~bit
        self.room = room

    def _free_slot(self, channel: ChannelName) -> None:
        counts, blocked, capacity, room = self._counts, self._blocked, self.capacity, self.room
        counts[channel] -= 1
        if counts[channel] < capacity[channel] and not blocked.get(channel, 0):
            room |= CHANNEL_BITS[channel]
        for other, bit in self._blocks_others[channel]:
            left = blocked[other] = blocked.get(other, 0) - 1
            if not left and other in capacity and counts[other] < capacity[other]:
                room |= bit
        self.room = room

    def _expect(self, contact_id: str, state: SlotState, what: str) -> None:
        held = self.slots.get(contact_id)
        if held is None:
            raise IllegalTransition(f"agent {self.id} does not hold contact {contact_id}")
        if held[1] is not state:
            raise IllegalTransition(
                f"agent {self.id}: cannot {what} contact {contact_id}: it is {held[1]}, not {state}"
            )

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
            self._free_slot(channel)
            if not self.slots:
                self.idle_since = now
        else:
            if old is None:
                self._take_slot(channel)
            self.slots[contact_id] = (channel, new)

    def _accrue(self, now: float) -> None:
        if now > self._accrued_at:  # (``now - _accrued_at > 0``, without the subtraction)
            if self.presence is not _OFFLINE:
                dt = now - self._accrued_at
                if self.slots:
                    self.busy_seconds += dt
                elif self.presence is _AVAILABLE:
                    self.available_idle_seconds += dt
            self._accrued_at = now
