"""The sans-I/O routing core: feed it inputs stamped ``now``, carry out the events it returns."""

from contactcenter.compiled import is_compiled
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

COMPILED = is_compiled("contactcenter.routing.router")
"""Whether the core runs compiled with mypyc (``scripts/compile-core``) rather than as Python."""

__all__ = [
    "COMPILED",
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
