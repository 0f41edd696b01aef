"""The interpreter, input by input, on small flows built in code: the exact actions each
input returns, and the named error for each input a state does not take."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.ivr import (
    CancelTimer,
    Choice,
    CollectDigits,
    CustomerInfo,
    Enqueue,
    FlowError,
    FlowLoop,
    HangUp,
    InvalidInput,
    InvalidKey,
    Lookup,
    Play,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Session,
    SessionEnded,
    StartTimer,
    State,
    StopPlayback,
    Transfer,
)
from tests.ivr.conftest import (
    CHRISTMAS_DAY_11,
    CHRISTMAS_EVE_10,
    CHRISTMAS_EVE_13,
    MONDAY_10,
    MONDAY_21,
    SUNDAY_12,
    berlin,
    drive,
    make_flow,
    session,
)

MENU: dict[str, Any] = {
    "menu": {
        "type": "menu",
        "prompt": "menu",
        "options": {"1": {"next": "sales", "label": "Sales"}, "2": "support"},
        "timeout_seconds": 4,
        "retries": 2,
        "invalid_prompt": "invalid",
        "no_input_prompt": "silence",
        "on_failure": "operator",
    },
    "sales": {"type": "enqueue", "queue": "sales"},
    "support": {"type": "enqueue", "queue": "support"},
    "operator": {"type": "enqueue", "queue": "operator"},
}

MENU_WANTS = CollectDigits(1, 1, None, (Choice("1", "Sales"), Choice("2", None)))


# -- menus ------------------------------------------------------------------------------------


def test_menu_plays_opens_input_then_times_the_caller() -> None:
    s = session(MENU)
    assert s.state is State.IDLE
    assert s.start(MONDAY_10) == [Play("menu"), MENU_WANTS]
    assert s.state is State.PROMPTING
    assert s.expecting == MENU_WANTS
    assert s.prompt_finished() == [StartTimer(4)]
    assert s.state is State.WAITING_FOR_KEYS
    assert s.digit("2") == [CancelTimer(), Enqueue("support")]
    assert s.state is State.ENDED
    assert s.outcome == Enqueue("support")
    assert s.expecting is None


def test_a_key_interrupts_the_menu_prompt() -> None:
    s = session(MENU)
    s.start(MONDAY_10)
    assert s.digit("1") == [StopPlayback(), Enqueue("sales")]


def test_invalid_key_says_sorry_and_asks_again() -> None:
    s = session(MENU)
    s.start(MONDAY_10)
    s.prompt_finished()
    assert s.digit("7") == [CancelTimer(), Play("invalid")]
    assert s.state is State.PROMPTING
    assert s.prompt_finished() == [Play("menu")]
    assert s.prompt_finished() == [StartTimer(4)]
    assert s.digit("1") == [CancelTimer(), Enqueue("sales")]


def test_silence_says_so_and_asks_again() -> None:
    s = session(MENU)
    s.start(MONDAY_10)
    s.prompt_finished()
    assert s.timeout() == [Play("silence")]
    assert not s.timer_running
    # A key during the apology interrupts it too.
    assert s.digit("2") == [StopPlayback(), Enqueue("support")]


def test_retries_used_up_go_to_the_failure_node() -> None:
    s = session(MENU)
    call = drive(s, MONDAY_10, ["5", None, "#"])
    assert call.played == ["menu", "invalid", "menu", "silence", "menu"]
    assert call.outcome == Enqueue("operator")


def test_without_a_failure_node_the_session_hangs_up() -> None:
    nodes = {**MENU, "menu": {**MENU["menu"], "on_failure": None, "retries": 1}}
    assert drive(session(nodes), MONDAY_10, ["9", "9"]).outcome == HangUp("invalid-input")
    assert drive(session(nodes), MONDAY_10, [None, None]).outcome == HangUp("no-input")


def test_zero_retries_fail_at_once_and_prompts_repeat_without_apologies() -> None:
    nodes = {
        "menu": {"type": "menu", "prompt": "menu", "options": {"1": "a"}, "retries": 1},
        "a": {"type": "hangup"},
    }
    s = session(nodes)
    s.start(MONDAY_10)
    s.prompt_finished()
    assert s.timeout() == [Play("menu")]  # no no_input_prompt: just the menu again
    s.prompt_finished()
    assert s.timeout() == [HangUp("no-input")]


def test_a_menu_of_several_prompts_plays_them_in_turn() -> None:
    nodes = {**MENU, "menu": {**MENU["menu"], "prompt": ["menu", "menu_es"]}}
    s = session(nodes)
    assert s.start(MONDAY_10) == [Play("menu"), MENU_WANTS]
    assert s.prompt_finished() == [Play("menu_es")]
    assert s.digit("1") == [StopPlayback(), Enqueue("sales")]
    s = session(nodes)
    s.start(MONDAY_10)
    s.prompt_finished()
    assert s.prompt_finished() == [StartTimer(4)]


# -- play, hang-up, transfer ------------------------------------------------------------------


def test_keys_during_a_play_node_are_dropped() -> None:
    s = session({"hello": {"type": "play", "prompt": "hello", "next": "menu"}, **MENU})
    assert s.start(MONDAY_10) == [Play("hello")]
    assert s.digit("1") == []
    assert s.state is State.PLAYING
    assert s.prompt_finished() == [Play("menu"), MENU_WANTS]


def test_hang_up_and_transfer_play_their_prompt_first() -> None:
    s = session({"bye": {"type": "hangup", "prompt": "bye", "reason": "closed"}})
    assert s.start(MONDAY_10) == [Play("bye")]
    assert s.prompt_finished() == [HangUp("closed")]
    s = session({"out": {"type": "transfer", "number": "+4930555019999", "prompt": "out"}})
    assert s.start(MONDAY_10) == [Play("out")]
    assert s.prompt_finished() == [Transfer("+4930555019999")]
    s = session({"out": {"type": "transfer", "number": "+4930555019999"}})
    assert s.start(MONDAY_10) == [Transfer("+4930555019999")]


# -- collecting digits ------------------------------------------------------------------------

COLLECT: dict[str, Any] = {
    "ask": {
        "type": "collect",
        "prompt": "ask",
        "variable": "account_number",
        "min_digits": 4,
        "max_digits": 6,
        "terminator": "#",
        "pattern": "1[0-9]+",
        "timeout_seconds": 3,
        "retries": 1,
        "invalid_prompt": "bad",
        "next": "done",
    },
    "done": {"type": "enqueue", "queue": "q"},
}


def collected(s: Session) -> str | None:
    assert s.outcome is not None
    assert isinstance(s.outcome, Enqueue)
    return s.outcome.variables.get("account_number")


def test_collect_until_the_terminator() -> None:
    s = session(COLLECT)
    assert s.start(MONDAY_10) == [Play("ask"), CollectDigits(4, 6, "#")]
    assert s.prompt_finished() == [StartTimer(3)]
    assert s.digit("1") == [StartTimer(3)]  # every key restarts the timer
    for key in "234":
        assert s.digit(key) == [StartTimer(3)]
    assert s.digit("#") == [CancelTimer(), Enqueue("q", variables={"account_number": "1234"})]


def test_collect_ends_by_itself_at_the_maximum_length() -> None:
    s = session(COLLECT)
    s.start(MONDAY_10)
    assert s.digit("1") == [StopPlayback(), StartTimer(3)]
    for key in "2345":
        s.digit(key)
    assert s.digit("6") == [CancelTimer(), Enqueue("q", variables={"account_number": "123456"})]


def test_collect_ends_at_the_timeout_when_keys_were_pressed() -> None:
    s = session(COLLECT)
    drive(s, MONDAY_10, ["10203", None])  # five keys, then silence
    assert collected(s) == "10203"


def test_collect_rejects_what_the_pattern_or_length_refuses() -> None:
    s = session(COLLECT)
    call = drive(s, MONDAY_10, ["2222#", "12#"])  # no match, too short
    assert call.played == ["ask", "bad", "ask"]  # one retry, then the session hangs up
    assert s.outcome == HangUp("invalid-input")
    s = session(COLLECT)
    call = drive(s, MONDAY_10, ["12#", "1999#"])
    assert call.played == ["ask", "bad", "ask"]
    assert collected(s) == "1999"


def test_the_terminator_alone_is_no_input() -> None:
    s = session(COLLECT)
    s.start(MONDAY_10)
    s.prompt_finished()
    assert s.digit("#") == [CancelTimer(), Play("ask")]  # no no_input_prompt
    assert s.state is State.PROMPTING


def test_without_a_terminator_hash_is_a_digit() -> None:
    nodes = {**COLLECT, "ask": {**COLLECT["ask"], "terminator": None, "pattern": "[0-9#]+"}}
    s = session(nodes)
    drive(s, MONDAY_10, ["12#4", None])
    assert collected(s) == "12#4"


# -- the post-call survey's opt-in ------------------------------------------------------------

SURVEY: dict[str, Any] = {
    "ask": {"type": "survey", "prompt": "survey_offer", "accept": "1", "timeout_seconds": 3,
            "next": "sales"},
    "sales": {"type": "enqueue", "queue": "sales"},
}  # fmt: skip


def test_the_accept_key_opts_the_caller_into_the_survey() -> None:
    s = session(SURVEY)
    assert s.start(MONDAY_10) == [Play("survey_offer"), CollectDigits(1, 1, None, (Choice("1"),))]
    assert s.prompt_finished() == [StartTimer(3)]
    yes = Enqueue("sales", survey=True, variables={"survey": "yes"})
    assert s.digit("1") == [CancelTimer(), yes]


def test_a_key_during_the_question_answers_it() -> None:
    s = session(SURVEY)
    s.start(MONDAY_10)
    assert s.digit("1") == [
        StopPlayback(),
        Enqueue("sales", survey=True, variables={"survey": "yes"}),
    ]


@pytest.mark.parametrize("keys", [["2"], ["#"], [None]])
def test_any_other_key_or_silence_is_a_no_and_nobody_is_asked_twice(keys: list[str | None]) -> None:
    call = drive(session(SURVEY), MONDAY_10, keys)
    assert call.played == ["survey_offer"]
    assert call.outcome == Enqueue("sales", survey=False, variables={"survey": "no"})


def test_an_enqueue_node_may_opt_every_caller_in() -> None:
    nodes = {"sales": {"type": "enqueue", "queue": "sales", "survey": True}}
    assert drive(session(nodes), MONDAY_10, []).outcome == Enqueue("sales", survey=True)
    nodes = {**SURVEY, "sales": {"type": "enqueue", "queue": "sales", "survey": True}}
    outcome = drive(session(nodes), MONDAY_10, ["2"]).outcome
    assert outcome == Enqueue("sales", survey=True, variables={"survey": "no"})


# -- customer lookup --------------------------------------------------------------------------

LOOKUP: dict[str, Any] = {
    "who": {"type": "lookup", "by": "phone", "found": "vip_check", "not_found": "menu"},
    "vip_check": {
        "type": "branch",
        "rules": [{"when": {"variable": "tier", "equals": "vip"}, "next": "vip"}],
        "otherwise": "menu",
    },
    "vip": {"type": "enqueue", "queue": "vip"},
    **MENU,
}
HELENA = CustomerInfo("C1001", "Helena Brandt", "vip", "a01")


def test_lookup_found_vip_is_queued_for_the_vip_line_with_the_dedicated_agent() -> None:
    s = session(LOOKUP, {"caller": "+4930555010001"})
    assert s.start(MONDAY_10) == [Lookup("phone", "+4930555010001")]
    assert s.state is State.LOOKING_UP
    assert s.digit("5") == []  # keys while looking up are dropped
    [enqueue] = s.lookup_result(HELENA)
    assert enqueue == Enqueue(
        "vip",
        tier="vip",
        customer_id="C1001",
        preferred_agent="a01",
        variables={
            "caller": "+4930555010001",
            "customer_id": "C1001",
            "customer_name": "Helena Brandt",
            "tier": "vip",
            "dedicated_agent": "a01",
        },
    )


def test_lookup_not_found_goes_to_the_main_menu() -> None:
    s = session(LOOKUP, {"caller": "+4930555099999"})
    s.start(MONDAY_10)
    assert s.lookup_result(None) == [Play("menu"), MENU_WANTS]
    assert "tier" not in s.variables


def test_lookup_found_but_not_vip_keeps_tier_and_customer_for_the_menu_choice() -> None:
    s = session(LOOKUP, {"caller": "+4930555010005"})
    s.start(MONDAY_10)
    s.lookup_result(CustomerInfo("C1005", "Ingrid Sorensen", "gold", "a02"))
    s.prompt_finished()
    [_, enqueue] = s.digit("1")
    assert enqueue == Enqueue(
        "sales", tier="gold", customer_id="C1005", preferred_agent="a02", variables=s.variables
    )


def test_an_empty_variable_is_not_looked_up() -> None:
    s = session(LOOKUP)  # no caller number (withheld)
    assert s.start(MONDAY_10) == [Play("menu"), MENU_WANTS]


def test_a_lookup_variable_other_than_the_default() -> None:
    nodes = {**LOOKUP, "who": {**LOOKUP["who"], "by": "account_number", "variable": "acct"}}
    s = session(nodes, {"acct": "100001"})
    assert s.start(MONDAY_10) == [Lookup("account_number", "100001")]


def test_enqueue_tier_override_and_no_dedicated_agent() -> None:
    nodes = {
        **LOOKUP,
        "vip": {"type": "enqueue", "queue": "vip", "tier": "gold", "dedicated_agent": False},
    }
    s = session(nodes, {"caller": "1"})
    s.start(MONDAY_10)
    [enqueue] = s.lookup_result(HELENA)
    assert isinstance(enqueue, Enqueue)
    assert (enqueue.tier, enqueue.customer_id, enqueue.preferred_agent) == ("gold", "C1001", None)


# -- business hours ---------------------------------------------------------------------------

HOURS: dict[str, Any] = {
    "hours": {
        "type": "branch",
        "rules": [
            {"when": {"all": [{"holiday": "office"}, {"not": {"open": "office"}}]}, "next": "hol"},
            {"when": {"open": "office"}, "next": "open"},
        ],
        "otherwise": "closed",
    },
    "hol": {"type": "hangup", "reason": "holiday"},
    "open": {"type": "enqueue", "queue": "q"},
    "closed": {"type": "hangup", "reason": "closed"},
}


@pytest.mark.parametrize(
    ("now", "outcome"),
    [
        (MONDAY_10, Enqueue("q")),
        (berlin(2026, 11, 23, 9, 0), Enqueue("q")),  # opening minute
        (berlin(2026, 11, 23, 8, 59), HangUp("closed")),
        (berlin(2026, 11, 23, 17, 0), HangUp("closed")),  # ranges end exclusive
        (MONDAY_21, HangUp("closed")),
        (SUNDAY_12, HangUp("closed")),
        (CHRISTMAS_DAY_11, HangUp("holiday")),
        (CHRISTMAS_EVE_10, Enqueue("q")),  # a holiday with its own hours
        (CHRISTMAS_EVE_13, HangUp("holiday")),
    ],
)
def test_after_hours_and_holidays_at_fixed_moments(now: Any, outcome: Any) -> None:
    assert drive(session(HOURS), now).outcome == outcome


def test_hours_are_the_centers_local_time_whatever_zone_now_is_given_in() -> None:
    import datetime as dt

    utc = MONDAY_10.astimezone(dt.UTC)  # 09:00 UTC in November
    assert drive(session(HOURS), utc).outcome == Enqueue("q")
    late = berlin(2026, 11, 23, 16, 59).astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert drive(session(HOURS), late).outcome == Enqueue("q")


def test_the_latest_now_given_with_any_input_counts() -> None:
    nodes = {
        "wait": {"type": "play", "prompt": "p", "next": "hours"},
        **HOURS,
    }
    s = session(nodes)
    s.start(berlin(2026, 11, 23, 16, 58))
    # The prompt ran past closing time: the driver says so with the input.
    assert s.prompt_finished(now=berlin(2026, 11, 23, 17, 1)) == [HangUp("closed")]


def test_start_needs_an_aware_datetime() -> None:
    import datetime as dt

    s = session(HOURS)
    with pytest.raises(InvalidInput, match="time zone"):
        s.start(dt.datetime(2026, 11, 23, 10, 0))
    assert s.state is State.IDLE


def test_a_flow_with_hours_needs_the_schedule() -> None:
    with pytest.raises(FlowError, match="schedule 'office'"):
        Session(make_flow(HOURS))


# -- queue state ------------------------------------------------------------------------------

WAIT: dict[str, Any] = {
    "wait_check": {
        "type": "branch",
        "rules": [
            {"when": {"queue": "support", "no_agents": True}, "next": "cb"},
            {"when": {"queue": "support", "expected_wait_above": 300}, "next": "cb"},
            {"when": {"queue": "billing", "expected_wait_above": 60}, "next": "cb"},
        ],
        "otherwise": "support",
    },
    "cb": {"type": "callback", "queue": "support", "next": "bye"},
    "bye": {"type": "hangup", "reason": "callback-requested"},
    "support": {"type": "enqueue", "queue": "support"},
}


def test_queue_state_is_asked_for_then_branched_on() -> None:
    s = session(WAIT, {"caller": "+4930555010010"})
    assert s.start(MONDAY_10) == [QueryQueueState("support")]
    assert s.state is State.QUERYING_QUEUE
    assert s.queue_state_result(QueueStatus("support", 3, 400.0)) == [
        RequestCallback("support", "+4930555010010", variables={"caller": "+4930555010010"}),
        HangUp("callback-requested"),
    ]


def test_no_agents_logged_in() -> None:
    s = session(WAIT, {"caller": "5"})
    s.start(MONDAY_10)
    [callback, _] = s.queue_state_result(QueueStatus("support", 0, float("inf")))
    assert isinstance(callback, RequestCallback)


def test_each_queue_is_asked_for_once_and_only_when_needed() -> None:
    s = session(WAIT, {"caller": "5"})
    s.start(MONDAY_10)
    assert s.queue_state_result(QueueStatus("support", 4, 30.0)) == [QueryQueueState("billing")]
    with pytest.raises(InvalidInput, match="'billing' was asked for"):
        s.queue_state_result(QueueStatus("support", 4, 30.0))
    assert s.queue_state_result(QueueStatus("billing", 2, None)) == [
        Enqueue("support", variables={"caller": "5"})
    ]


def test_callback_without_a_number() -> None:
    s = session(WAIT)
    s.start(MONDAY_10)
    assert s.queue_state_result(QueueStatus("support", 0)) == [HangUp("no-callback-number")]
    nodes = {**WAIT, "cb": {**WAIT["cb"], "no_number": "support"}}
    s = session(nodes)
    s.start(MONDAY_10)
    assert s.queue_state_result(QueueStatus("support", 0)) == [Enqueue("support")]


# -- variable conditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "variables", "holds"),
    [
        ({"variable": "tier", "equals": "vip"}, {"tier": "vip"}, True),
        ({"variable": "tier", "equals": "vip"}, {}, False),
        ({"variable": "tier", "one_of": ["vip", "gold"]}, {"tier": "gold"}, True),
        ({"variable": "tier", "one_of": ["vip", "gold"]}, {"tier": "standard"}, False),
        ({"variable": "caller", "is_set": True}, {"caller": "+49"}, True),
        ({"variable": "caller", "is_set": True}, {"caller": ""}, False),
        ({"variable": "caller", "is_set": False}, {}, True),
        ({"any": [{"variable": "a", "is_set": True}, {"variable": "b", "is_set": True}]},
         {"b": "1"}, True),
        ({"all": [{"variable": "a", "is_set": True}, {"variable": "b", "is_set": True}]},
         {"b": "1"}, False),
        ({"not": {"variable": "a", "is_set": True}}, {}, True),
    ],
)  # fmt: skip
def test_variable_conditions(when: Any, variables: dict[str, str], holds: bool) -> None:
    nodes = {
        "b": {"type": "branch", "rules": [{"when": when, "next": "yes"}], "otherwise": "no"},
        "yes": {"type": "hangup", "reason": "yes"},
        "no": {"type": "hangup", "reason": "no"},
    }
    assert drive(session(nodes, variables), MONDAY_10).outcome == HangUp("yes" if holds else "no")


# -- inputs a state does not take -------------------------------------------------------------


def test_inputs_out_of_turn_raise_and_change_nothing() -> None:
    s = session(MENU)
    with pytest.raises(InvalidInput, match="not expected in state idle"):
        s.digit("1")
    with pytest.raises(InvalidInput):
        s.prompt_finished()
    s.start(MONDAY_10)
    with pytest.raises(InvalidInput, match="start"):
        s.start(MONDAY_10)
    with pytest.raises(InvalidInput, match="timeout"):
        s.timeout()  # the prompt still plays: no timer yet
    with pytest.raises(InvalidInput, match="lookup_result"):
        s.lookup_result(None)
    with pytest.raises(InvalidInput, match="queue_state_result"):
        s.queue_state_result(QueueStatus("support", 1))
    assert s.state is State.PROMPTING
    s.prompt_finished()
    with pytest.raises(InvalidInput, match="prompt_finished"):
        s.prompt_finished()
    assert s.state is State.WAITING_FOR_KEYS and s.timer_running


@pytest.mark.parametrize("key", ["", "12", "a", "A", " ", "+"])
def test_only_dtmf_keys_are_keys(key: str) -> None:
    s = session(MENU)
    s.start(MONDAY_10)
    with pytest.raises(InvalidKey):
        s.digit(key)
    assert s.state is State.PROMPTING


def test_nothing_is_taken_after_the_end() -> None:
    s = session(MENU)
    s.start(MONDAY_10)
    s.digit("1")
    for attempt in (lambda: s.digit("1"), s.timeout, s.prompt_finished, lambda: s.start(MONDAY_10)):
        with pytest.raises(SessionEnded):
            attempt()
    assert issubclass(SessionEnded, InvalidInput)


def test_a_naive_now_with_an_input_is_refused() -> None:
    import datetime as dt

    s = session(MENU)
    s.start(MONDAY_10)
    with pytest.raises(InvalidInput, match="time zone"):
        s.prompt_finished(now=dt.datetime(2026, 1, 1))
    assert s.state is State.PROMPTING


def test_the_variables_view_is_a_copy() -> None:
    s = session(MENU, {"caller": "1"})
    view = s.variables
    view["caller"] = "2"  # type: ignore[index]
    assert s.variables == {"caller": "1"}


# -- broken flows (the loader refuses these; flows built in code can have them) -----------------


def test_a_loop_without_waiting_is_stopped() -> None:
    nodes = {
        "a": {"type": "branch", "rules": [{"when": {"variable": "x", "is_set": True}, "next": "b"}],
              "otherwise": "b"},
        "b": {"type": "branch", "rules": [{"when": {"variable": "x", "is_set": True}, "next": "a"}],
              "otherwise": "a"},
    }  # fmt: skip
    with pytest.raises(FlowLoop):
        session(nodes).start(MONDAY_10)


def test_an_unknown_node_is_a_flow_error() -> None:
    s = session({"p": {"type": "play", "prompt": "p", "next": "nowhere"}})
    s.start(MONDAY_10)
    with pytest.raises(FlowError, match="no node 'nowhere'"):
        s.prompt_finished()
