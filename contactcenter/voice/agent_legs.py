"""Why an agent's phone did not take an offer: the SIP status of the failed leg, named, and
whether the phone was reached at all. Both the caller's call and a call back ring agents."""

from __future__ import annotations

_BY_STATUS: dict[int, tuple[str, bool]] = {
    404: ("not_registered", False),
    408: ("no_response", False),
    410: ("not_registered", False),
    480: ("unavailable", False),
    486: ("busy", True),
    487: ("cancelled", True),
    503: ("unavailable", False),
    600: ("busy", True),
    603: ("declined", True),
}
"""Status -> (reason, reached). Reached: busy or declined on the phone (the agent's choice,
a decline). Not reached: the offer fails and counts toward the no-answer limit."""


def agent_leg_failure(status: int) -> tuple[str, bool]:
    """(reason, reached) for a failed agent leg's final status; unknown: ``failed``, not
    reached."""
    return _BY_STATUS.get(status, ("failed", False))
