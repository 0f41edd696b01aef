"""The bus's topics, all under ``cc/v1/<site>/``.

``v1`` is the version of the payloads (a breaking change gets ``v2`` beside it, so consumers
subscribe only to what they understand). Retained topics hold the current state (a late
subscriber gets it at once); the event stream is not retained.

=====================================  ========  =============================================
topic                                  retained  payload (``contactcenter/bus/schemas/``)
=====================================  ========  =============================================
``cc/v1/<site>/engine/status``         yes       ``engine_status``: online / offline (will)
``cc/v1/<site>/agent/<agent>/state``   yes       ``agent_state``
``cc/v1/<site>/queue/<queue>/stats``   yes       ``queue_stats``
``cc/v1/<site>/events``                no        ``event``: every domain event, in order
=====================================  ========  =============================================

An id becomes one topic level only if it cannot change the topic's shape: no ``/``, ``+``,
``#``, leading ``$`` or anything outside ``[A-Za-z0-9_.-]`` (the config's own id rule).
Anything else is refused, never mapped: two ids must not land on one topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contactcenter.bus.settings import TOPIC_LEVEL

ROOT = "cc/v1"
_LEVEL = re.compile(TOPIC_LEVEL)


class UnsafeTopicLevel(ValueError):
    """An id that cannot be one MQTT topic level as it is."""


def level(value: str) -> str:
    """``value`` as one topic level, or ``UnsafeTopicLevel``."""
    if len(value) > 64 or _LEVEL.fullmatch(value) is None:
        raise UnsafeTopicLevel(f"{value!r} cannot be an MQTT topic level (allowed: {TOPIC_LEVEL})")
    return value


@dataclass(frozen=True)
class Topics:
    site: str

    def __post_init__(self) -> None:
        level(self.site)

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.site}"

    @property
    def status(self) -> str:
        return f"{self.base}/engine/status"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    def agent(self, agent_id: str) -> str:
        return f"{self.base}/agent/{level(agent_id)}/state"

    def queue(self, queue_id: str) -> str:
        return f"{self.base}/queue/{level(queue_id)}/stats"
