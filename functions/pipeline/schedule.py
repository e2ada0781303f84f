"""When the timer fires next (for ``GET /api/status``): ``SCAN_SCHEDULE`` is what the Functions timer
trigger accepts, an NCRONTAB expression with six fields (second minute hour day month weekday, UTC)
or a TimeSpan ``hh:mm:ss`` (an interval)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import CroniterError, croniter

__all__ = ["next_occurrence"]

_TIMESPAN = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")


def next_occurrence(schedule: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC; a naive ``after`` is taken as UTC).

    TimeSpan: ``after`` + the interval (the host counts from the last run, which the caller passes).
    Returns None for a schedule neither form can read (or a zero interval), never raises.
    """
    after = after.replace(tzinfo=UTC) if after.tzinfo is None else after.astimezone(UTC)
    text = (schedule or "").strip()
    span = _TIMESPAN.match(text)
    if span:
        hours, minutes, seconds = (int(part) for part in span.groups())
        if minutes > 59 or seconds > 59:
            return None
        interval = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return after + interval if interval else None
    if len(text.split()) != 6:  # NCRONTAB always has the seconds field first
        return None
    try:
        # second_at_beginning: NCRONTAB puts seconds first; croniter's 6th field would be seconds last.
        nxt = croniter(text, after, second_at_beginning=True).get_next(datetime)
    except (CroniterError, ValueError, KeyError):
        return None
    return nxt.astimezone(UTC)
