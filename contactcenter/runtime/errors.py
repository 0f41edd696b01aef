"""The runtime's named refusals; the HTTP API maps each to a status code (``api/errors.py``)."""

from __future__ import annotations


class Forbidden(Exception):
    """The caller may not act on that contact or agent (e.g. another agent's offer)."""


class Refused(Exception):
    """A request that does not fit what is happening now, with a stable machine ``code``
    (e.g. ``answer_on_phone``: a voice offer is answered on the agent's phone)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
