"""The example center's real flows (``config/ivr/``), called end to end with scripted callers,
customer lookups answered from ``config/customers.yaml``, and the Enqueue handed to the
routing core to see the VIP's dedicated agent rung first."""

from __future__ import annotations

import pytest

from contactcenter.config import Center
from contactcenter.events import ContactOffered
from contactcenter.ivr import (
    Enqueue,
    FinalAction,
    Flows,
    HangUp,
    Lookup,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Transfer,
    find_customer,
)
from contactcenter.routing import Router
from tests.ivr.conftest import (
    CHRISTMAS_DAY_11,
    CHRISTMAS_EVE_10,
    CHRISTMAS_EVE_13,
    MONDAY_10,
    MONDAY_21,
    SUNDAY_12,
    VIP_PHONE,
    berlin,
    center_lookup,
    drive,
)

UNKNOWN_PHONE = "+4930555099999"
MENU = ["main_menu", "main_menu_spanish"]
SHORT_WAIT = {"support": QueueStatus("support", agents_logged_in=6, expected_wait_seconds=40)}


def call(
    flows: Flows,
    center: Center,
    script: list[str | None],
    *,
    caller: str = UNKNOWN_PHONE,
    now: object = MONDAY_10,
    queues: dict[str, QueueStatus] | None = None,
) -> tuple[list[str], FinalAction | None, list[RequestCallback]]:
    flow = flows.for_dialled("1000")
    assert flow is not None
    session = flows.session(flow, {"caller": caller, "dialled": "1000"})
    done = drive(session, now, script, lookup=center_lookup(center), queues=queues)  # type: ignore[arg-type]
    return done.played, done.outcome, done.callbacks


def test_the_ivr_extension_runs_the_main_flow(flows: Flows) -> None:
    flow = flows.for_dialled("1000")
    assert flow is not None and flow.id == "main"
    assert flows.for_dialled("2000") is None
    chat = flows.for_chat("web")
    assert chat is not None and chat.id == "chat"


def test_a_vip_known_by_number_goes_to_the_vip_line_and_their_agent(
    flows: Flows, center: Center
) -> None:
    played, outcome, _ = call(flows, center, [], caller=VIP_PHONE)
    assert played == ["welcome", "vip_welcome"]
    assert isinstance(outcome, Enqueue)
    assert (outcome.queue, outcome.tier, outcome.customer_id, outcome.preferred_agent) == (
        "vip",
        "vip",
        "C1001",
        "a01",
    )
    assert outcome.variables["customer_name"] == "Helena Brandt"

    # The routing core rings the dedicated agent first, although others are free.
    router = Router(center)
    for agent in ("a02", "a03", "a01"):
        router.agent_logged_in(0.0, agent)
    events = router.contact_arrived(
        1.0,
        "call-1",
        outcome.queue,
        tier=outcome.tier,
        customer_id=outcome.customer_id,
        preferred_agent=outcome.preferred_agent,
    )
    offers = [e for e in events if isinstance(e, ContactOffered)]
    assert [o.agent_id for o in offers] == ["a01"]


def test_a_vip_identified_by_account_number(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, ["100006#"])
    assert played == ["welcome", "account_number", "vip_welcome"]
    assert isinstance(outcome, Enqueue)
    assert (outcome.queue, outcome.customer_id, outcome.preferred_agent) == ("vip", "C1006", "a03")
    assert outcome.variables["account_number"] == "100006"


def test_a_gold_customer_chooses_billing_and_keeps_tier_and_agent(
    flows: Flows, center: Center
) -> None:
    played, outcome, _ = call(flows, center, ["100005#", "3", "1"])
    assert played == ["welcome", "account_number", *MENU, "survey_offer"]
    assert isinstance(outcome, Enqueue)
    assert outcome == Enqueue(
        "billing",
        tier="gold",
        customer_id="C1005",
        preferred_agent="a02",
        variables=outcome.variables,
        survey=True,  # pressed 1 when asked about the survey after the call
    )


@pytest.mark.parametrize("answer", ["2", None])
def test_a_billing_caller_who_declines_or_ignores_the_survey_offer_is_not_surveyed(
    flows: Flows, center: Center, answer: str | None
) -> None:
    played, outcome, _ = call(flows, center, [None, None, "3", answer])
    assert played[-1] == "survey_offer"
    assert isinstance(outcome, Enqueue) and (outcome.queue, outcome.survey) == ("billing", False)


def test_an_unknown_account_hears_so_and_reaches_the_menu(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, ["999999#", "1"])
    assert played == ["welcome", "account_number", "account_unknown", *MENU]
    assert isinstance(outcome, Enqueue)
    assert (outcome.queue, outcome.tier, outcome.customer_id) == ("sales", None, None)


def test_a_caller_without_an_account_number_waits_into_the_menu(
    flows: Flows, center: Center
) -> None:
    played, outcome, _ = call(flows, center, [None, None, "1"])
    assert played == ["welcome", "account_number", "account_number", *MENU]
    assert isinstance(outcome, Enqueue) and outcome.queue == "sales"


def test_a_malformed_account_number_is_refused_then_retried(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, ["12#", "100001#"])
    assert played == [
        "welcome",
        "account_number",
        "account_invalid",
        "account_number",
        "vip_welcome",
    ]
    assert isinstance(outcome, Enqueue) and outcome.queue == "vip"


@pytest.mark.parametrize(
    ("key", "queue", "before"),
    [
        ("1", "sales", []),
        ("3", "billing", ["survey_offer"]),
        ("4", "complaints", ["complaints_intro"]),
        ("9", "spanish", ["spanish_hold"]),
        ("0", "support", []),
    ],
)
def test_main_menu_choices(
    flows: Flows, center: Center, key: str, queue: str, before: list[str]
) -> None:
    script = [None, None, key, *([None] if before == ["survey_offer"] else [])]
    played, outcome, _ = call(flows, center, script)
    assert played[-len(before) - 2 :] == [*MENU, *before]
    assert isinstance(outcome, Enqueue) and outcome.queue == queue
    assert not outcome.survey  # only billing asks, and silence is a no


def test_support_with_a_short_wait_is_queued(flows: Flows, center: Center) -> None:
    _, outcome, _ = call(flows, center, [None, None, "2"], queues=SHORT_WAIT)
    assert isinstance(outcome, Enqueue) and outcome.queue == "support"


@pytest.mark.parametrize(
    "status",
    [QueueStatus("support", 5, 420.0), QueueStatus("support", 0, float("inf"))],
)
def test_support_with_a_long_wait_offers_a_callback(
    flows: Flows, center: Center, status: QueueStatus
) -> None:
    played, outcome, callbacks = call(
        flows, center, [None, None, "2", "1"], queues={"support": status}
    )
    assert played[-2:] == ["long_wait_menu", "callback_booked"]
    assert outcome == HangUp("callback-requested")
    [callback] = callbacks
    assert (callback.queue, callback.number) == ("support", UNKNOWN_PHONE)


def test_support_with_a_long_wait_can_keep_waiting(flows: Flows, center: Center) -> None:
    queues = {"support": QueueStatus("support", 5, 420.0)}
    _, outcome, callbacks = call(flows, center, [None, None, "2", "2"], queues=queues)
    assert isinstance(outcome, Enqueue) and outcome.queue == "support"
    assert callbacks == []


def test_three_bad_menu_tries_reach_the_operator(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, [None, None, "7", None, "8"])
    assert played[3:] == [*MENU, "invalid_choice", *MENU, "no_input", *MENU]
    assert isinstance(outcome, Enqueue) and outcome.queue == "support"


def test_the_menu_can_be_interrupted(flows: Flows, center: Center) -> None:
    session = flows.session("main", {"caller": VIP_PHONE[:-1] + "9"})  # unknown number
    actions = session.start(MONDAY_10)
    actions += session.prompt_finished()  # welcome
    assert actions[-1] == Lookup("phone", "+4930555010009")
    session.lookup_result(find_customer(center, "phone", "+4930555010009"))  # Laura, gold
    assert session.node == "main_menu"
    [_stop, enqueue] = session.digit("1")
    assert isinstance(enqueue, Enqueue) and enqueue.tier == "gold"


@pytest.mark.parametrize(("now", "message"), [(MONDAY_21, "closed"), (SUNDAY_12, "closed")])
def test_after_hours_callback(flows: Flows, center: Center, now: object, message: str) -> None:
    played, outcome, callbacks = call(flows, center, ["1"], now=now)
    assert played == ["welcome", message, "after_hours_menu", "callback_booked"]
    assert outcome == HangUp("callback-requested")
    assert [c.number for c in callbacks] == [UNKNOWN_PHONE]


def test_after_hours_outage_line(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, ["2"], now=MONDAY_21)
    assert played[-1] == "transferring_outage"
    assert outcome == Transfer("+4930555019999")


def test_after_hours_silence_says_goodbye(flows: Flows, center: Center) -> None:
    played, outcome, _ = call(flows, center, [None, None], now=MONDAY_21)
    assert played == ["welcome", "closed", "after_hours_menu", "after_hours_menu", "goodbye"]
    assert outcome == HangUp("closed")


def test_after_hours_with_a_withheld_number_cannot_book_a_callback(
    flows: Flows, center: Center
) -> None:
    played, outcome, callbacks = call(flows, center, ["1"], caller="", now=MONDAY_21)
    assert played[-1] == "goodbye" and callbacks == []
    assert outcome == HangUp("closed")


def test_holidays(flows: Flows, center: Center) -> None:
    played, _, _ = call(flows, center, ["1"], now=CHRISTMAS_DAY_11)
    assert played[:2] == ["welcome", "closed_holiday"]
    played, _, _ = call(flows, center, ["1"], now=CHRISTMAS_EVE_13)
    assert played[:2] == ["welcome", "closed_holiday"]
    # Christmas Eve morning is open.
    _, outcome, _ = call(flows, center, [], caller=VIP_PHONE, now=CHRISTMAS_EVE_10)
    assert isinstance(outcome, Enqueue)


def test_saturday_hours(flows: Flows, center: Center) -> None:
    _, outcome, _ = call(flows, center, [], caller=VIP_PHONE, now=berlin(2026, 11, 28, 13, 59))
    assert isinstance(outcome, Enqueue)
    played, _, _ = call(flows, center, ["1"], now=berlin(2026, 11, 28, 14, 0))
    assert played[1] == "closed"


def test_queue_state_is_only_asked_for_support(flows: Flows, center: Center) -> None:
    session = flows.session("main", {"caller": VIP_PHONE})
    done = drive(session, MONDAY_10, [], lookup=center_lookup(center))
    assert done.of(QueryQueueState) == []
