"""The agent state machine: presence, contact slots, capacity, blocking and occupancy."""

from __future__ import annotations

import itertools
import re

import pytest

from contactcenter.agents import (
    PRESENCE_MOVES,
    SLOT_MOVES,
    Agent,
    AgentError,
    CapacityExceeded,
    IllegalTransition,
    Presence,
    SlotState,
)
from contactcenter.events import AgentActivity, ChannelName

CAPACITY: dict[ChannelName, int] = {"voice": 1, "chat": 3, "email": 2}
BLOCKS: dict[ChannelName, tuple[ChannelName, ...]] = {
    "voice": ("chat", "email"),
    "chat": ("voice",),
    "email": (),
}

OFFLINE, AVAILABLE, AWAY = Presence.OFFLINE, Presence.AVAILABLE, Presence.AWAY
OFFERED, ACTIVE, WRAP_UP = SlotState.OFFERED, SlotState.ACTIVE, SlotState.WRAP_UP


def make_agent(
    capacity: dict[ChannelName, int] | None = None,
    blocks: dict[ChannelName, tuple[ChannelName, ...]] | None = None,
) -> Agent:
    return Agent(
        "a1",
        CAPACITY if capacity is None else capacity,
        BLOCKS if blocks is None else blocks,
    )


def available(
    now: float = 0.0,
    capacity: dict[ChannelName, int] | None = None,
    blocks: dict[ChannelName, tuple[ChannelName, ...]] | None = None,
) -> Agent:
    agent = make_agent(capacity, blocks)
    agent.set_presence(now, AVAILABLE)
    return agent


def answer(agent: Agent, now: float, contact_id: str, channel: ChannelName) -> None:
    agent.offer(now, contact_id, channel)
    agent.accept(now, contact_id)


def put_in(agent: Agent, presence: Presence) -> None:
    """Bring a fresh (offline) agent into ``presence``."""
    if presence is AVAILABLE:
        agent.set_presence(0.0, AVAILABLE)
    elif presence is AWAY:
        agent.set_presence(0.0, AWAY, "break")


# -- presence -------------------------------------------------------------------------------


ALLOWED_PRESENCE = {
    (OFFLINE, AVAILABLE),
    (OFFLINE, AWAY),
    (AVAILABLE, AWAY),
    (AVAILABLE, OFFLINE),
    (AWAY, AVAILABLE),
    (AWAY, AWAY),
    (AWAY, OFFLINE),
}


def test_presence_table_is_exactly_the_documented_one() -> None:
    table = {(a, b) for a, targets in PRESENCE_MOVES.items() for b in targets}
    assert table == ALLOWED_PRESENCE
    assert set(PRESENCE_MOVES) == set(Presence)


def test_new_agent_is_offline_and_cannot_take_anything() -> None:
    agent = make_agent()
    assert agent.presence is OFFLINE
    assert agent.activity is AgentActivity.OFFLINE
    assert agent.away_reason is None
    assert agent.load() == 0
    for channel in CAPACITY:
        assert not agent.can_take(channel)
        assert agent.why_not(channel) == "offline"


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED_PRESENCE))
def test_allowed_presence_moves(source: Presence, target: Presence) -> None:
    agent = make_agent()
    put_in(agent, source)
    reason = "lunch" if target is AWAY else None
    agent.set_presence(10.0, target, reason)
    assert agent.presence is target
    assert agent.presence_since == 10.0
    assert agent.away_reason == reason


@pytest.mark.parametrize(
    ("source", "target"),
    sorted(set(itertools.product(Presence, Presence)) - ALLOWED_PRESENCE),
)
def test_disallowed_presence_moves_raise(source: Presence, target: Presence) -> None:
    agent = make_agent()
    put_in(agent, source)
    since = agent.presence_since
    with pytest.raises(IllegalTransition, match=f"cannot go {source} -> {target}"):
        agent.set_presence(10.0, target, "break" if target is AWAY else None)
    assert agent.presence is source
    assert agent.presence_since == since


def test_disallowed_moves_are_exactly_staying_put_unless_away() -> None:
    disallowed = set(itertools.product(Presence, Presence)) - ALLOWED_PRESENCE
    assert disallowed == {(OFFLINE, OFFLINE), (AVAILABLE, AVAILABLE)}


@pytest.mark.parametrize("reason", [None, ""])
@pytest.mark.parametrize("source", [OFFLINE, AVAILABLE, AWAY])
def test_going_away_needs_a_reason(source: Presence, reason: str | None) -> None:
    agent = make_agent()
    put_in(agent, source)
    with pytest.raises(IllegalTransition, match="going away needs a reason"):
        agent.set_presence(5.0, AWAY, reason)
    assert agent.presence is source


def test_away_to_away_changes_the_reason_and_available_clears_it() -> None:
    agent = available()
    agent.set_presence(1.0, AWAY, "break")
    assert agent.away_reason == "break"
    assert agent.activity is AgentActivity.AWAY
    assert agent.why_not("voice") == "away (break)"
    agent.set_presence(2.0, AWAY, "lunch")
    assert agent.away_reason == "lunch"
    assert agent.why_not("chat") == "away (lunch)"
    agent.set_presence(3.0, AVAILABLE, "ignored")
    assert agent.away_reason is None
    assert agent.activity is AgentActivity.AVAILABLE
    agent.set_presence(4.0, OFFLINE, "ignored")
    assert agent.away_reason is None


@pytest.mark.parametrize("state", [OFFERED, ACTIVE, WRAP_UP])
def test_cannot_log_out_while_holding_a_contact(state: SlotState) -> None:
    agent = available()
    agent.offer(1.0, "c1", "chat")
    if state is not OFFERED:
        agent.accept(2.0, "c1")
    if state is WRAP_UP:
        agent.complete(3.0, "c1")
    with pytest.raises(IllegalTransition, match=r"cannot log out while holding 1 contact"):
        agent.set_presence(4.0, OFFLINE)
    assert agent.presence is AVAILABLE
    assert agent.slot("c1") is state
    # Going away is fine; logging out once the slot is freed too.
    agent.set_presence(5.0, AWAY, "break")
    if state is OFFERED:
        agent.withdraw_offer(6.0, "c1", no_answer=False)
    else:
        if state is ACTIVE:
            agent.complete(6.0, "c1")
        agent.end_wrap_up(7.0, "c1")
    agent.set_presence(8.0, OFFLINE)
    assert agent.presence is OFFLINE


# -- contact slots --------------------------------------------------------------------------


def test_slot_table_is_exactly_the_documented_one() -> None:
    table = {(a, b) for a, targets in SLOT_MOVES.items() for b in targets}
    assert table == {
        (None, OFFERED),
        (None, ACTIVE),
        (OFFERED, ACTIVE),
        (OFFERED, None),
        (ACTIVE, WRAP_UP),
        (ACTIVE, None),
        (WRAP_UP, None),
    }


def test_a_resumed_contact_goes_straight_to_an_active_slot() -> None:
    agent = available()
    agent.set_presence(1.0, AWAY, "lunch")  # any presence but offline
    agent.resume(2.0, "c1", "chat")
    assert agent.slot("c1") is ACTIVE and agent.count("chat") == 1
    assert agent.activity is AgentActivity.BUSY
    with pytest.raises(IllegalTransition, match="already holds"):
        agent.resume(3.0, "c1", "chat")
    agent.resume(3.0, "c2", "chat")
    agent.resume(3.0, "c3", "chat")
    with pytest.raises(CapacityExceeded):
        agent.resume(4.0, "c4", "chat")  # capacity 3
    with pytest.raises(CapacityExceeded):
        agent.resume(4.0, "v1", "voice")  # chats block voice
    offline = Agent("b", {"voice": 1, "chat": 3}, {})
    with pytest.raises(IllegalTransition, match="offline"):
        offline.resume(1.0, "c1", "chat")


def test_a_released_slot_is_free_at_once_and_not_handled() -> None:
    agent = available()
    agent.offer(1.0, "c1", "voice")
    agent.accept(2.0, "c1")
    agent.release(5.0, "c1")
    assert agent.slots == {} and agent.count("voice") == 0
    assert agent.activity is AgentActivity.AVAILABLE and agent.can_take("voice")
    assert agent.handled == 0 and agent.idle_since == 5.0
    with pytest.raises(IllegalTransition):
        agent.release(6.0, "c1")


def test_slot_goes_offered_active_wrap_up_freed() -> None:
    agent = available()
    agent.offer(1.0, "c1", "voice")
    assert agent.slot("c1") is OFFERED
    assert agent.offered_contact == "c1"
    assert agent.activity is AgentActivity.RINGING
    assert agent.count("voice") == 1
    agent.accept(3.0, "c1")
    assert agent.slot("c1") is ACTIVE
    assert agent.offered_contact is None
    assert agent.activity is AgentActivity.BUSY
    agent.complete(60.0, "c1")
    assert agent.slot("c1") is WRAP_UP
    assert agent.activity is AgentActivity.WRAP_UP
    assert agent.count("voice") == 1  # wrap-up keeps the slot
    assert agent.load() == 1
    agent.end_wrap_up(90.0, "c1")
    assert agent.slot("c1") is None
    assert agent.count("voice") == 0
    assert agent.load() == 0
    assert agent.slots == {}
    assert agent.activity is AgentActivity.AVAILABLE
    assert agent.handled == 1


def test_withdrawn_offer_frees_the_slot_without_counting_as_handled() -> None:
    agent = available()
    agent.offer(1.0, "c1", "email")
    agent.withdraw_offer(16.0, "c1", no_answer=False)
    assert agent.slot("c1") is None
    assert agent.offered_contact is None
    assert agent.count("email") == 0
    assert agent.handled == 0
    assert agent.can_take("email")


def test_accepting_twice_is_illegal() -> None:
    agent = available()
    answer(agent, 1.0, "c1", "chat")
    with pytest.raises(IllegalTransition, match="cannot go active -> active"):
        agent.accept(2.0, "c1")
    assert agent.slot("c1") is ACTIVE


def test_completing_while_offered_is_illegal() -> None:
    agent = available()
    agent.offer(1.0, "c1", "voice")
    with pytest.raises(IllegalTransition, match="cannot go offered -> wrap_up"):
        agent.complete(2.0, "c1")
    assert agent.slot("c1") is OFFERED
    assert agent.offered_contact == "c1"


def test_ending_wrap_up_while_active_is_illegal() -> None:
    agent = available()
    answer(agent, 1.0, "c1", "voice")
    with pytest.raises(IllegalTransition, match="it is active, not wrap_up"):
        agent.end_wrap_up(2.0, "c1")
    assert agent.slot("c1") is ACTIVE
    assert agent.count("voice") == 1
    assert agent.handled == 0


def test_other_illegal_slot_moves() -> None:
    agent = available()
    answer(agent, 1.0, "c1", "chat")
    with pytest.raises(IllegalTransition, match="it is active, not offered"):
        agent.withdraw_offer(2.0, "c1", no_answer=True)
    assert agent.consecutive_no_answers == 0
    agent.complete(3.0, "c1")
    with pytest.raises(IllegalTransition, match="cannot go wrap_up -> wrap_up"):
        agent.complete(4.0, "c1")
    with pytest.raises(IllegalTransition, match="cannot go wrap_up -> active"):
        agent.accept(4.0, "c1")
    agent.end_wrap_up(5.0, "c1")
    with pytest.raises(IllegalTransition, match="does not hold contact c1"):
        agent.end_wrap_up(6.0, "c1")
    assert agent.handled == 1


@pytest.mark.parametrize("move", ["accept", "complete", "end_wrap_up", "withdraw"])
def test_moves_on_a_contact_not_held_are_illegal(move: str) -> None:
    agent = available()
    with pytest.raises(IllegalTransition, match="does not hold contact ghost"):
        if move == "withdraw":
            agent.withdraw_offer(1.0, "ghost", no_answer=True)
        else:
            getattr(agent, move)(1.0, "ghost")
    assert agent.slots == {}
    assert agent.consecutive_no_answers == 0


def test_offering_a_contact_already_held_is_illegal() -> None:
    agent = available()
    answer(agent, 1.0, "c1", "chat")
    with pytest.raises(IllegalTransition, match="already holds contact c1"):
        agent.offer(2.0, "c1", "chat")
    assert agent.count("chat") == 1


def test_errors_share_one_base() -> None:
    assert issubclass(IllegalTransition, AgentError)
    assert issubclass(CapacityExceeded, AgentError)
    assert not issubclass(CapacityExceeded, IllegalTransition)


# -- capacity, blocking and offers ----------------------------------------------------------


def test_three_chats_side_by_side_and_a_fourth_is_refused() -> None:
    agent = available()
    for i in range(3):
        assert agent.can_take("chat")
        answer(agent, float(i), f"k{i}", "chat")
    assert agent.count("chat") == 3
    assert agent.load() == 3
    assert not agent.can_take("chat")
    assert agent.why_not("chat") == "at capacity"
    with pytest.raises(CapacityExceeded, match="cannot take a chat contact: at capacity"):
        agent.offer(5.0, "k3", "chat")
    assert agent.slot("k3") is None
    assert agent.offered_contact is None
    # One chat finishing (wrap-up included) frees a slot again.
    agent.complete(6.0, "k0")
    assert not agent.can_take("chat")
    assert agent.why_not("chat") == "in wrap-up"
    agent.end_wrap_up(7.0, "k0")
    assert agent.can_take("chat")
    answer(agent, 8.0, "k3", "chat")
    assert agent.count("chat") == 3


def test_capacity_comes_from_the_map_passed_in() -> None:
    agent = available(capacity={"voice": 1, "chat": 1})
    answer(agent, 1.0, "k1", "chat")
    assert not agent.can_take("chat")
    assert agent.why_not("chat") == "at capacity"
    assert not agent.can_take("email")
    assert agent.why_not("email") == "no email capacity"
    assert agent.count("email") == 0


def test_zero_capacity_channel_is_never_offered() -> None:
    agent = available(capacity={"voice": 0, "chat": 4})
    assert not agent.can_take("voice")
    assert agent.why_not("voice") == "no voice capacity"
    with pytest.raises(CapacityExceeded, match="no voice capacity"):
        agent.offer(1.0, "c1", "voice")
    for i in range(4):
        answer(agent, 2.0, f"k{i}", "chat")
    assert agent.count("chat") == 4


def test_active_voice_call_blocks_chat_and_email() -> None:
    agent = available()
    answer(agent, 1.0, "v1", "voice")
    for channel in ("chat", "email"):
        assert not agent.can_take(channel)
        assert agent.why_not(channel) == "blocked by a voice contact"
    with pytest.raises(CapacityExceeded, match="blocked by a voice contact"):
        agent.offer(2.0, "k1", "chat")
    # Wrap-up of the call still blocks; freeing it unblocks.
    agent.complete(3.0, "v1")
    assert agent.why_not("chat") == "blocked by a voice contact"
    agent.end_wrap_up(4.0, "v1")
    assert agent.can_take("chat")
    assert agent.can_take("email")


def test_a_ringing_offer_shuts_out_every_channel() -> None:
    agent = available()
    agent.offer(1.0, "e1", "email")  # email blocks nothing, but ringing does
    for channel in CAPACITY:
        assert not agent.can_take(channel)
        assert agent.why_not(channel) == "being offered another contact"
    agent.withdraw_offer(2.0, "e1", no_answer=False)
    assert all(agent.can_take(channel) for channel in CAPACITY)


def test_chat_blocks_voice_but_not_email() -> None:
    agent = available()
    answer(agent, 1.0, "k1", "chat")
    assert not agent.can_take("voice")
    assert agent.why_not("voice") == "blocked by a chat contact"
    with pytest.raises(CapacityExceeded, match="blocked by a chat contact"):
        agent.offer(2.0, "v1", "voice")
    assert agent.can_take("email")
    assert agent.can_take("chat")


def test_email_blocks_nothing_with_the_default_map() -> None:
    agent = available()
    answer(agent, 1.0, "e1", "email")
    assert agent.can_take("voice")
    assert agent.can_take("chat")


def test_blocking_follows_the_map_passed_in() -> None:
    agent = available(blocks={"voice": (), "chat": (), "email": ("voice", "chat")})
    answer(agent, 1.0, "k1", "chat")
    assert agent.can_take("voice")  # chat blocks nothing here
    answer(agent, 2.0, "v1", "voice")
    assert agent.count("voice") == 1
    assert agent.can_take("chat")  # nor does voice
    agent.complete(3.0, "v1")
    agent.end_wrap_up(4.0, "v1")
    agent.complete(5.0, "k1")
    agent.end_wrap_up(6.0, "k1")
    answer(agent, 7.0, "e1", "email")
    assert agent.why_not("voice") == "blocked by a email contact"
    assert agent.why_not("chat") == "blocked by a email contact"
    assert agent.can_take("email")


def test_only_one_offer_at_a_time() -> None:
    agent = available()
    agent.offer(1.0, "k1", "chat")
    assert not agent.can_take("chat")
    assert agent.why_not("chat") == "being offered another contact"
    with pytest.raises(CapacityExceeded, match="being offered another contact"):
        agent.offer(2.0, "k2", "chat")
    assert agent.offered_contact == "k1"
    assert agent.count("chat") == 1
    agent.accept(3.0, "k1")
    agent.offer(4.0, "k2", "chat")
    assert agent.offered_contact == "k2"


@pytest.mark.parametrize("presence", [OFFLINE, AWAY])
def test_offers_need_an_available_agent(presence: Presence) -> None:
    agent = make_agent()
    put_in(agent, presence)
    expected = "offline" if presence is OFFLINE else "away (break)"
    with pytest.raises(
        CapacityExceeded, match=re.escape(f"cannot take a voice contact: {expected}")
    ):
        agent.offer(1.0, "c1", "voice")
    assert agent.slots == {}


def test_going_away_keeps_contacts_but_stops_new_offers() -> None:
    agent = available()
    answer(agent, 1.0, "k1", "chat")
    agent.set_presence(2.0, AWAY, "meeting")
    assert agent.slot("k1") is ACTIVE
    assert agent.activity is AgentActivity.BUSY
    assert not agent.can_take("chat")
    agent.complete(3.0, "k1")
    assert agent.activity is AgentActivity.WRAP_UP
    agent.end_wrap_up(4.0, "k1")
    assert agent.activity is AgentActivity.AWAY
    assert agent.handled == 1


def test_wrap_up_reason_only_for_the_channel_in_wrap_up() -> None:
    agent = available(capacity={"voice": 1, "chat": 1, "email": 1})
    answer(agent, 1.0, "e1", "email")
    agent.complete(2.0, "e1")  # email in wrap-up
    answer(agent, 3.0, "k1", "chat")  # chat full, and talking
    assert agent.why_not("email") == "in wrap-up"
    assert agent.why_not("chat") == "at capacity"


def test_why_not_agrees_with_can_take() -> None:
    agent = available(capacity={"voice": 1, "chat": 2, "email": 1})
    seen = []

    def check() -> None:
        for channel in CAPACITY:
            reason = agent.why_not(channel)
            assert (reason is None) == agent.can_take(channel), (channel, reason)
            seen.append(reason)

    check()
    agent.offer(1.0, "k1", "chat")
    check()
    agent.accept(2.0, "k1")
    check()
    answer(agent, 3.0, "k2", "chat")
    check()
    agent.complete(4.0, "k1")
    check()
    agent.set_presence(5.0, AWAY, "break")
    check()
    assert None in seen
    assert {"at capacity", "in wrap-up", "blocked by a chat contact", "away (break)"} <= set(seen)


# -- what agent selection reads ---------------------------------------------------------------


def test_idle_since_follows_login_freed_slots_and_return_from_away() -> None:
    agent = make_agent()
    assert agent.idle_since == 0.0
    agent.set_presence(100.0, AVAILABLE)
    assert agent.idle_since == 100.0
    answer(agent, 110.0, "k1", "chat")
    answer(agent, 115.0, "k2", "chat")
    assert agent.idle_since == 100.0  # taking contacts does not move it
    agent.complete(150.0, "k1")
    agent.end_wrap_up(160.0, "k1")
    assert agent.idle_since == 100.0  # still holds k2
    agent.complete(170.0, "k2")
    agent.end_wrap_up(180.0, "k2")
    assert agent.idle_since == 180.0  # last slot freed
    agent.offer(190.0, "v1", "voice")
    agent.withdraw_offer(205.0, "v1", no_answer=True)
    assert agent.idle_since == 205.0  # a missed offer also ends with no slot
    agent.set_presence(210.0, AWAY, "break")
    assert agent.idle_since == 205.0
    agent.set_presence(240.0, AVAILABLE)
    assert agent.idle_since == 240.0


def test_returning_from_away_while_holding_a_contact_keeps_idle_since() -> None:
    agent = available(10.0)
    answer(agent, 20.0, "k1", "chat")
    agent.set_presence(30.0, AWAY, "break")
    agent.set_presence(40.0, AVAILABLE)
    assert agent.idle_since == 10.0


def test_handled_counts_finished_wrap_ups_only() -> None:
    agent = available()
    for i in range(3):
        answer(agent, 10.0 * i, f"c{i}", "voice")
        agent.complete(10.0 * i + 5, f"c{i}")
        assert agent.handled == i
        agent.end_wrap_up(10.0 * i + 8, f"c{i}")
    agent.offer(40.0, "missed", "voice")
    agent.withdraw_offer(55.0, "missed", no_answer=True)
    assert agent.handled == 3


def test_consecutive_no_answers() -> None:
    agent = available()
    agent.offer(1.0, "c1", "voice")
    agent.withdraw_offer(16.0, "c1", no_answer=True)
    assert agent.consecutive_no_answers == 1
    agent.offer(20.0, "c2", "voice")
    agent.withdraw_offer(22.0, "c2", no_answer=False)  # declined / customer left: not counted
    assert agent.consecutive_no_answers == 1
    agent.offer(30.0, "c3", "voice")
    agent.withdraw_offer(45.0, "c3", no_answer=True)
    assert agent.consecutive_no_answers == 2
    answer(agent, 50.0, "c4", "voice")
    assert agent.consecutive_no_answers == 0  # an answer resets the run
    agent.complete(60.0, "c4")
    agent.end_wrap_up(70.0, "c4")
    agent.offer(80.0, "c5", "voice")
    agent.withdraw_offer(95.0, "c5", no_answer=True)
    assert agent.consecutive_no_answers == 1
    # Going away and back keeps the run; logging in again starts a new one.
    agent.set_presence(96.0, AWAY, "no-answer")
    agent.set_presence(97.0, AVAILABLE)
    assert agent.consecutive_no_answers == 1
    agent.set_presence(98.0, OFFLINE)
    assert agent.consecutive_no_answers == 1
    agent.set_presence(99.0, AVAILABLE)
    assert agent.consecutive_no_answers == 0


# -- occupancy ----------------------------------------------------------------------------------


def test_occupancy_over_a_scripted_shift() -> None:
    agent = make_agent()
    assert agent.occupancy(50.0) == 0.0  # offline since creation: nothing counted
    agent.set_presence(100.0, AVAILABLE)  # the 100 s offline before do not count
    assert agent.occupancy(120.0) == 0.0  # 20 s idle, 0 busy

    # A voice call: offered 130 (30 s idle), answered 135, hung up 195, wrap-up ends 215.
    agent.offer(130.0, "v1", "voice")
    agent.accept(135.0, "v1")
    assert agent.busy_seconds == 5.0
    assert agent.available_idle_seconds == 30.0
    assert agent.occupancy(150.0) == pytest.approx(20 / 50)  # busy 20, idle 30
    assert agent.occupancy(150.0) == pytest.approx(20 / 50)  # asking does not change it
    agent.complete(195.0, "v1")
    agent.end_wrap_up(215.0, "v1")
    assert agent.busy_seconds == 85.0
    assert agent.available_idle_seconds == 30.0

    # 20 s idle, then a 60 s break that counts for nothing.
    agent.set_presence(235.0, AWAY, "break")
    assert agent.available_idle_seconds == 50.0
    assert agent.occupancy(280.0) == pytest.approx(85 / 135)
    agent.set_presence(295.0, AVAILABLE)
    assert agent.busy_seconds == 85.0
    assert agent.available_idle_seconds == 50.0

    # Two chats side by side count once (305-375), wrap-up of the last one during lunch too.
    agent.offer(305.0, "k1", "chat")
    agent.accept(307.0, "k1")
    agent.offer(310.0, "k2", "chat")
    agent.accept(312.0, "k2")
    agent.complete(340.0, "k1")
    agent.end_wrap_up(350.0, "k1")
    agent.complete(360.0, "k2")
    agent.set_presence(365.0, AWAY, "lunch")
    agent.end_wrap_up(375.0, "k2")
    assert agent.busy_seconds == 85.0 + 70.0
    assert agent.available_idle_seconds == 60.0

    # Away with nothing to do (375-435), then logged out: neither counts.
    assert agent.occupancy(435.0) == pytest.approx(155 / 215)
    agent.set_presence(435.0, OFFLINE)
    assert agent.occupancy(500.0) == pytest.approx(155 / 215)
    assert agent.busy_seconds == 155.0
    assert agent.available_idle_seconds == 60.0

    # Back at 600: only the 10 s from then on are added.
    agent.set_presence(600.0, AVAILABLE)
    assert agent.occupancy(610.0) == pytest.approx(155 / 225)
    assert agent.handled == 3


def test_occupancy_counts_ringing_as_busy() -> None:
    agent = available(0.0)
    agent.offer(10.0, "v1", "voice")
    agent.withdraw_offer(25.0, "v1", no_answer=True)
    assert agent.busy_seconds == 15.0
    assert agent.available_idle_seconds == 10.0
    assert agent.occupancy(35.0) == pytest.approx(15 / 35)


def test_occupancy_ignores_time_going_backwards() -> None:
    agent = available(100.0)
    answer(agent, 110.0, "v1", "voice")
    assert agent.occupancy(105.0) == pytest.approx(0.0)  # before the last accrual: nothing new
    agent.complete(130.0, "v1")
    assert agent.busy_seconds == 20.0
    assert agent.available_idle_seconds == 10.0
