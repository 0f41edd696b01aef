"""Business hours: is a schedule open at a given moment? Pure: the moment is an argument."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from contactcenter.ivr.flow import Holiday, Schedule, minutes


class UnknownSchedule(KeyError):
    """A schedule name that ``config/ivr/hours.yaml`` does not define."""


@dataclass(frozen=True)
class BusinessHours:
    """The center's schedules, evaluated in its time zone (``center.yaml`` ``timezone``)."""

    timezone: ZoneInfo
    schedules: Mapping[str, Schedule] = field(default_factory=dict)

    def local(self, now: dt.datetime) -> dt.datetime:
        """``now`` (timezone-aware) as the center's local time."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"{now!r} has no time zone; pass an aware datetime")
        return now.astimezone(self.timezone)

    def holiday(self, schedule: str, now: dt.datetime) -> Holiday | None:
        """The holiday of ``schedule`` that ``now`` falls on (local date), if any."""
        day = self.local(now).date()
        return next((h for h in self._schedule(schedule).holidays if h.date == day), None)

    def is_holiday(self, schedule: str, now: dt.datetime) -> bool:
        return self.holiday(schedule, now) is not None

    def is_open(self, schedule: str, now: dt.datetime) -> bool:
        """Open at ``now``: inside the day's ranges (a holiday's own hours replace the week's)."""
        local = self.local(now)
        holiday = self.holiday(schedule, now)
        ranges = (
            holiday.hours
            if holiday is not None
            else self._schedule(schedule).weekly.on(local.weekday())
        )
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in map(minutes, ranges))

    def _schedule(self, name: str) -> Schedule:
        try:
            return self.schedules[name]
        except KeyError:
            raise UnknownSchedule(name) from None
