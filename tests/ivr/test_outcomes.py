"""How the menu's own end maps to the outcome IVR reports count."""

from __future__ import annotations

import pytest

from contactcenter.ivr.outcomes import IvrOutcome, outcome_of_hang_up


@pytest.mark.parametrize(
    ("reason", "booked", "expected"),
    [
        ("completed", False, IvrOutcome.CONTAINED),
        ("closed", False, IvrOutcome.CONTAINED),
        ("no-input", False, IvrOutcome.INPUT_FAILED),
        ("invalid-input", False, IvrOutcome.INPUT_FAILED),
        ("no-callback-number", False, IvrOutcome.INPUT_FAILED),
        ("callback-requested", True, IvrOutcome.CALLBACK),
        ("no-input", True, IvrOutcome.CALLBACK),  # booked first: the promise is what counts
    ],
)
def test_a_menu_that_hangs_up_itself(reason: str, booked: bool, expected: IvrOutcome) -> None:
    assert outcome_of_hang_up(reason, callback_booked=booked) is expected
