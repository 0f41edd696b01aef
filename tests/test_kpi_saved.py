"""Today's tally survives a restart as counts only (``Tally.to_dict`` / ``Tally.from_dict``):
the same KPIs come back, under the thresholds of the config it is loaded with."""

from __future__ import annotations

import json

import pytest

from contactcenter.events import ContactAbandoned, ContactAnswered, ContactQueued
from contactcenter.kpi import Tally

THRESHOLDS = {"sales": 30.0, "support": 20.0}


def _day() -> Tally:
    tally = Tally(THRESHOLDS, 5.0)
    tally.observe_all(
        [
            ContactQueued(1.0, "k1", "sales", "voice", 0, "standard", 1.0, 1),
            ContactQueued(2.0, "k2", "sales", "voice", 0, "standard", 2.0, 1),
            ContactQueued(3.0, "k3", "support", "voice", 0, "standard", 3.0, 1),
            ContactAnswered(12.0, "k1", "sales", "voice", "a05", 11.0, 1),
            ContactAbandoned(4.0, "k2", "sales", "voice", 2.0, 1),
            ContactAnswered(53.0, "k3", "support", "voice", "a06", 50.0, 1),
        ]
    )
    return tally


def test_round_trip_gives_the_same_kpis_and_holds_counts_only() -> None:
    day = _day()
    saved = json.dumps(day.to_dict())
    assert "k1" not in saved and "a05" not in saved  # no contact or agent ids
    back = Tally.from_dict(THRESHOLDS, 5.0, json.loads(saved))
    assert back.queues == day.queues
    sales = back.queue("sales")
    assert (sales.offered, sales.answered, sales.abandoned, sales.abandoned_short) == (2, 1, 1, 1)
    assert sales.sl_offered() == 0.5 and sales.asa() == 11.0
    assert back.queue("support").sl_offered() == 0.0


def test_a_queue_gone_from_the_config_is_dropped_and_the_thresholds_are_the_configs() -> None:
    saved = _day().to_dict()
    back = Tally.from_dict({"sales": 10.0}, 3.0, saved)
    assert list(back.queues) == ["sales"]
    assert (back.queue("sales").threshold, back.queue("sales").short_abandon) == (10.0, 3.0)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"sales": {"entered": 1}},
        {"queues": {"sales": {"entered": "1"}}},
        {"queues": {"sales": {"entered": 1, "threshold": 5}}},
        {"queues": {"sales": {"nonsense": 1}}},
        {"queues": {"sales": {"entered": True}}},
    ],
)
def test_a_malformed_tally_is_refused_with_a_reason(bad: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        Tally.from_dict(THRESHOLDS, 5.0, bad)
