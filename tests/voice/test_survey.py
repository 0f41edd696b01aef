"""The post-call survey's steps (``voice/survey.py``), input by input: the exact action each
input returns, and the inputs a step drops."""

from __future__ import annotations

import pytest

from contactcenter.voice.survey import (
    Ask,
    Done,
    PhoneSurvey,
    Scored,
    Step,
    Unanswered,
    Wait,
)


def test_a_score_after_the_question_is_kept_then_thanked_for() -> None:
    s = PhoneSurvey(timeout_seconds=8, repeats=1)
    assert s.start() == Ask()
    assert s.played() == Wait(8)
    assert s.key("4") == Scored(4)
    assert s.step is Step.THANKING
    assert s.key("5") is None  # one score: keys during the thanks are dropped
    assert s.timeout() is None
    assert s.played() == Done()
    assert s.step is Step.ENDED


def test_a_key_during_the_question_answers_it() -> None:
    s = PhoneSurvey(timeout_seconds=8, repeats=1)
    s.start()
    assert s.key("1") == Scored(1)


@pytest.mark.parametrize("first", ["timeout", "0", "6", "9", "*", "#"])
def test_no_key_or_no_score_asks_once_more_then_the_survey_is_unanswered(first: str) -> None:
    s = PhoneSurvey(timeout_seconds=8, repeats=1)
    s.start()
    s.played()
    assert (s.timeout() if first == "timeout" else s.key(first)) == Ask()
    assert s.step is Step.ASKING
    assert s.played() == Wait(8)
    assert s.timeout() == Unanswered()
    assert s.step is Step.ENDED
    assert s.key("3") is None  # too late: nothing is kept as a score


def test_asked_again_a_score_still_counts() -> None:
    s = PhoneSurvey(timeout_seconds=8, repeats=1)
    s.start()
    assert s.key("7") == Ask()  # while the question plays
    assert s.key("2") == Scored(2)


def test_repeats_zero_asks_only_once_and_three_asks_four_times() -> None:
    once = PhoneSurvey(timeout_seconds=5, repeats=0)
    once.start()
    once.played()
    assert once.timeout() == Unanswered()
    four = PhoneSurvey(timeout_seconds=5, repeats=3)
    four.start()
    asks = 1
    while True:
        four.played()
        action = four.timeout()
        if action == Unanswered():
            break
        assert action == Ask()
        asks += 1
    assert asks == 4


def test_a_late_timer_while_the_question_plays_again_is_dropped() -> None:
    s = PhoneSurvey(timeout_seconds=8, repeats=2)
    s.start()
    assert s.timeout() is None  # no timer runs while the question plays
    assert s.step is Step.ASKING
