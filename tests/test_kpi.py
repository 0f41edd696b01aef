"""KPI definitions (``contactcenter/kpi.py``): AHT from hand-worked events, and the same numbers
as the metrics' series on the scripted shift (one definition for wallboard, metrics, planner)."""

from __future__ import annotations

import pytest

from contactcenter.events import ContactCompleted, ContactHandedOff, WrapUpEnded
from contactcenter.kpi import Tally
from contactcenter.metrics import Metrics
from tests.metrics.scenario import center, run_shift


def test_aht_is_talk_plus_wrap_up_over_segments_handled() -> None:
    tally = Tally({"sales": 30.0, "support": 30.0}, 5.0)
    assert tally.queue("sales").aht() is None  # nothing handled yet
    tally.observe_all(
        [
            ContactCompleted(10.0, "k1", "sales", "voice", "a05", handle_seconds=100.0),
            WrapUpEnded(30.0, "k1", "sales", "voice", "a05", "resolved", wrap_up_seconds=20.0),
            ContactHandedOff(
                50.0, "k2", "sales", "voice", "a06", 50.0, 1, to_queue="support", to_agent=None
            ),
            WrapUpEnded(60.0, "k2", "sales", "voice", "a06", None, wrap_up_seconds=10.0),
        ]
    )
    sales = tally.queue("sales")
    assert sales.handled == 2
    assert sales.aht() == (100 + 20 + 50 + 10) / 2
    assert tally.queue("support").aht() is None  # the transfer is handled where it was


def test_aht_matches_the_metrics_series_on_the_scripted_shift() -> None:
    example = center()
    shift = run_shift(example)
    tally = Tally(
        {q: t.answer_target.threshold_seconds or 0 for q, t in example.queues.items()},
        example.settings.routing.short_abandon_seconds,
    )
    tally.observe_all(shift.events)
    metrics = Metrics(example)
    metrics.observe_all(shift.events)
    checked = 0
    for qid, q in example.queues.items():
        labels = {"queue": qid, "channel": q.channel}
        count = metrics.registry.get_sample_value("contactcenter_handle_time_seconds_count", labels)
        if not count:
            continue
        talk = metrics.registry.get_sample_value("contactcenter_handle_time_seconds_sum", labels)
        wrap = metrics.registry.get_sample_value("contactcenter_wrap_up_time_seconds_sum", labels)
        assert talk is not None
        assert tally.queue(qid).aht() == pytest.approx((talk + (wrap or 0.0)) / count), qid
        checked += 1
    assert checked == 1  # sales: 113 s of talk and 25 s of wrap-up over 2 segments
    assert tally.queue("sales").aht() == (113 + 25) / 2
