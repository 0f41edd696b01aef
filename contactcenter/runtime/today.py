"""Today's KPI tally: the center's calendar day in its time zone (``timezone`` in center.yaml).

The tally starts afresh at the first event or read after local midnight. It is saved (counts
only, ``Tally.to_dict``) under its local date with every sign of life and at a clean stop, and
a start on the same day takes it back, so a restart does not empty "today". A ``kill -9``
loses what was counted since the last save (at most the sign of life's interval, 2 s).

Why saved counts and not a rebuild from the stored records: the tally's definitions live in
``contactcenter.kpi`` over domain events (overflows, transfers, short abandons, wrap-up per
segment); rebuilding them from contact rows would be a second definition to keep in step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contactcenter.config import ConfigError, ConfigIssue
from contactcenter.kpi import Tally

log = logging.getLogger(__name__)


def center_zone(name: str) -> ZoneInfo:
    """The center's time zone (``timezone`` in center.yaml); ConfigError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            [ConfigIssue("center.yaml", "timezone", f"unknown time zone {name!r}")]
        ) from None


class TallyStore(Protocol):
    async def save_tally(self, day: str, tally: str, wall_time: float) -> None: ...

    async def tally(self, day: str) -> str | None: ...


class DayTally:
    """The tally of the center's current local day, turning over at local midnight."""

    def __init__(
        self,
        thresholds: Mapping[str, float],
        short_abandon: float,
        zone: ZoneInfo,
        wall: Callable[[], float],
    ) -> None:
        self.thresholds = thresholds
        self.short_abandon = short_abandon
        self.zone = zone
        self.wall = wall
        self.day = self.day_of(wall())
        """The local date (``YYYY-MM-DD``) ``_tally`` counts."""
        self._tally = Tally(thresholds, short_abandon)

    def day_of(self, wall_time: float) -> str:
        return datetime.fromtimestamp(wall_time, self.zone).date().isoformat()

    def current(self) -> Tally:
        """Today's tally, a fresh one if local midnight has passed since the last call."""
        day = self.day_of(self.wall())
        if day != self.day:
            self.day, self._tally = day, Tally(self.thresholds, self.short_abandon)
        return self._tally

    async def save(self, store: TallyStore, wall_time: float) -> None:
        tally = self.current()
        await store.save_tally(self.day, json.dumps(tally.to_dict()), wall_time)

    async def restore(self, store: TallyStore) -> None:
        """Take back what today counted before this start (replacing what was counted since:
        call it once the contacts waiting at the stop are back in their queues, as their
        queueing again is not a new offer). An unreadable saved tally is said and skipped."""
        self.current()
        saved = await store.tally(self.day)
        if saved is None:
            return
        try:
            self._tally = Tally.from_dict(self.thresholds, self.short_abandon, json.loads(saved))
        except ValueError as err:  # (json.JSONDecodeError is one)
            log.error("today's saved tally (%s) is unreadable, today counts from zero: %s",
                      self.day, err)  # fmt: skip
