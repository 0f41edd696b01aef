"""The sans-I/O routing core: feed it inputs stamped ``now``, carry out the events it returns."""

from contactcenter.routing.contact import ContactState
from contactcenter.routing.explain import Candidate, Explanation
from contactcenter.routing.router import (
    ClockWentBackwards,
    ContactView,
    InvalidInput,
    Lapse,
    Router,
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)

__all__ = [
    "Candidate",
    "ClockWentBackwards",
    "ContactState",
    "ContactView",
    "Explanation",
    "InvalidInput",
    "Lapse",
    "Router",
    "RoutingError",
    "UnknownAgent",
    "UnknownContact",
    "UnknownQueue",
]
