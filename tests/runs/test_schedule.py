"""Next timer occurrences: NCRONTAB (six fields, seconds first, UTC) and TimeSpan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from functions.pipeline.schedule import next_occurrence

T = datetime(2026, 1, 15, 2, 0, 0, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(("schedule", "expected"), [
    ("0 0 2 * * *", datetime(2026, 1, 16, 2, 0, tzinfo=UTC)),  # strictly after
    ("0 30 9 * * *", datetime(2026, 1, 15, 9, 30, tzinfo=UTC)),
    ("0 */5 * * * *", datetime(2026, 1, 15, 2, 5, tzinfo=UTC)),
    ("30 15 9 * * Mon-Fri", datetime(2026, 1, 15, 9, 15, 30, tzinfo=UTC)),
    ("0 0 6 * * 1", datetime(2026, 1, 19, 6, 0, tzinfo=UTC)),  # weekday 1 = Monday
    ("0 0 0 1 * *", datetime(2026, 2, 1, tzinfo=UTC)),
    ("15 * * * * *", datetime(2026, 1, 15, 2, 0, 15, tzinfo=UTC)),  # the first field is seconds
    ("00:30:00", T + timedelta(minutes=30)),
    ("1:00:00", T + timedelta(hours=1)),
    ("  0 0 2 * * *  ", datetime(2026, 1, 16, 2, 0, tzinfo=UTC)),
])
def test_next_occurrence(schedule: str, expected: datetime) -> None:
    assert next_occurrence(schedule, T) == expected


@pytest.mark.parametrize("schedule", ["", "0 0 2 * *", "a b c d e f", "00:00:00", "00:61:00", "0 0 2 30 2 *",
                                      "every day"])
def test_unreadable_schedules_give_none(schedule: str) -> None:
    assert next_occurrence(schedule, T) is None


def test_naive_and_other_zones_are_utc() -> None:
    assert next_occurrence("0 0 2 * * *", datetime(2026, 1, 15, 1, 59, 59)) == T
    cet = timezone(timedelta(hours=1))
    result = next_occurrence("0 0 2 * * *", datetime(2026, 1, 15, 2, 30, tzinfo=cet))  # 01:30 UTC
    assert result == T
    assert result.tzinfo == UTC
