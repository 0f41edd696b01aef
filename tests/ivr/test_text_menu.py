"""The text adapter: flows on a chat, prompts as lines, typed replies as keys."""

from __future__ import annotations

import pytest

from contactcenter.config import Center
from contactcenter.ivr import (
    Choice,
    CollectDigits,
    Enqueue,
    Flows,
    HangUp,
    Lookup,
    StartTimer,
    TextMenu,
    find_customer,
)
from contactcenter.ivr.text_menu import (
    DIGITS_ONLY,
    NOT_UNDERSTOOD,
    ONE_MOMENT,
    choice_lines,
    parse_reply,
)
from tests.ivr.conftest import MONDAY_10, MONDAY_21, berlin

CHAT_MENU = CollectDigits(
    1,
    1,
    None,
    (Choice("1", "Sales"), Choice("2", "Technical support"), Choice("3", "Billing")),
)
ACCOUNT = CollectDigits(4, 16, "#")
WELCOME = "Hi, welcome to Northwind Telecom! What can we help you with?"
CHOICES = ["1 - Sales", "2 - Technical support", "3 - Billing"]
TOPICS = [*CHOICES, "4 - Opening hours", "5 - Where is my invoice?"]
"""The example chat flow's menu: the topics, then its automatic replies."""


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("1", "1"),
        (" 2 ", "2"),
        ("sales", "1"),
        ("SALES!", "1"),
        ("Billing please", None),  # "please" names no choice
        ("bill", "3"),
        ("tech support", "2"),
        ("support", "2"),
        ("s", None),  # too short to name anything
        ("", None),
        ("hello", None),
    ],
)
def test_parse_reply_in_a_menu(typed: str, keys: str | None) -> None:
    assert parse_reply(typed, CHAT_MENU) == keys


def test_ambiguous_words_pick_nothing() -> None:
    menu = CollectDigits(1, 1, None, (Choice("1", "Sales chat"), Choice("2", "Support chat")))
    assert parse_reply("chat", menu) is None
    assert parse_reply("sup", menu) == "2"


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("100001", "100001#"),  # the terminator a caller would press is added
        ("100 001", "100001#"),
        ("1000-01", "100001#"),
        ("100001#", "100001#"),
        ("1234567890123456", "1234567890123456"),  # at the maximum: nothing to end
        ("#", "#"),
        ("abc", None),
    ],
)
def test_parse_reply_when_collecting(typed: str, keys: str | None) -> None:
    assert parse_reply(typed, ACCOUNT) == keys


def test_choice_lines_show_labelled_choices() -> None:
    assert choice_lines(CHAT_MENU) == CHOICES
    assert choice_lines(CollectDigits(1, 1, None, (Choice("1"),))) == []


def chat(flows: Flows, variables: dict[str, str] | None = None) -> TextMenu:
    return TextMenu(flows.session("chat", variables), flows.texts)


def test_a_chat_through_the_chat_flow(flows: Flows) -> None:
    menu = chat(flows)
    turn = menu.start(MONDAY_10)
    assert turn.lines == [WELCOME, *TOPICS]
    assert turn.actions == [StartTimer(300)]  # the driver runs the timer
    turn = menu.reply("billing")
    assert turn.lines == []
    assert turn.actions[-1] == Enqueue("billing_chat")


def test_a_signed_in_customer_is_looked_up(flows: Flows, center: Center) -> None:
    menu = chat(flows, {"customer_id": "C1004"})
    turn = menu.start(MONDAY_10)
    assert turn.lines == []
    assert turn.actions == [Lookup("customer_id", "C1004")]
    # The driver answers the session and hands the result back to the menu.
    found = find_customer(center, "customer_id", "C1004")
    turn = menu.feed(menu.session.lookup_result(found))
    assert turn.lines == [WELCOME, *TOPICS]
    turn = menu.reply("2")
    assert turn.actions[-1] == Enqueue(
        "support_chat",
        tier="vip",
        customer_id="C1004",
        preferred_agent="a02",
        variables=menu.session.variables,
    )


def test_what_the_menu_does_not_understand_is_not_a_wrong_answer(flows: Flows) -> None:
    menu = chat(flows)
    menu.start(MONDAY_10)
    turn = menu.reply("I want to talk to someone")
    assert turn.lines == [NOT_UNDERSTOOD, *TOPICS]
    assert turn.actions == []
    # A choice that does not exist is: the flow's own apology, then the menu again.
    turn = menu.reply("7")
    assert turn.lines == [
        "Sorry, I did not get that. Please pick one of the topics.",
        WELCOME,
        *TOPICS,
    ]


def test_silence_on_the_chat_runs_out_like_on_the_phone(flows: Flows) -> None:
    menu = chat(flows)
    menu.start(MONDAY_10)
    turn = menu.feed(menu.session.timeout())
    assert turn.lines == ["Are you still there?", WELCOME, *TOPICS]
    turn = menu.feed(menu.session.timeout())
    assert turn.lines == ["We have closed this chat. Write again any time!"]
    assert turn.actions == [HangUp("no-input")]
    assert menu.reply("1").lines == [ONE_MOMENT]


def test_the_chat_is_closed_at_night(flows: Flows) -> None:
    turn = chat(flows).start(berlin(2026, 11, 23, 22, 30))
    assert turn.lines[0].startswith("Our chat is closed right now")
    assert turn.actions == [HangUp("closed")]


def test_the_phone_flow_as_text(flows: Flows, center: Center) -> None:
    """The voice flow runs on text too: an account number typed without the hash key."""
    menu = TextMenu(flows.session("main", {}), flows.texts)
    turn = menu.start(MONDAY_10)
    assert turn.lines == [
        "Welcome to Northwind Telecom.",
        "Please enter your account number, then press hash.",
    ]
    assert menu.reply("hm").lines == [NOT_UNDERSTOOD, DIGITS_ONLY]
    turn = menu.reply("100 002")
    assert turn.actions[-1] == Lookup("account_number", "100002")
    turn = menu.feed(menu.session.lookup_result(find_customer(center, "account_number", "100002")))
    assert turn.lines == ["Welcome back. Connecting you to your account team."]
    assert turn.actions[-1] == Enqueue(
        "vip",
        tier="vip",
        customer_id="C1002",
        preferred_agent="a01",
        variables=turn.actions[-1].variables,  # type: ignore[union-attr]
    )


def test_after_hours_menu_as_text(flows: Flows) -> None:
    menu = TextMenu(flows.session("main", {"caller": "+4930555099999"}), flows.texts)
    turn = menu.start(MONDAY_21)
    assert turn.lines[-2:] == ["1 - Call me back", "2 - Report a network outage"]
    turn = menu.reply("call me back")
    assert turn.lines == ["Thank you. We will call you back. Goodbye."]
    assert turn.actions[-1] == HangUp("callback-requested")


def test_a_prompt_without_text_shows_its_id(flows: Flows) -> None:
    menu = TextMenu(flows.session("chat", {}), {})
    assert menu.start(MONDAY_10).lines[0] == "[chat_welcome]"
