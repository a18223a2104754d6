"""Time arithmetic of the tracker (tracker/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interviewd.config.schema import FollowupConfig
from interviewd.tracker import calendar as cal

NY = ZoneInfo("America/New_York")
RULES = FollowupConfig(holidays=("2026-11-26", "2026-12-25"))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_add_days_keeps_local_time_across_dst() -> None:
    before = local(2026, 10, 30, 15, 0)  # EDT, UTC-4
    after = cal.add_days(before, 7, NY)
    assert after.tzinfo == UTC
    assert after.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 6, 15, 0)
    assert after - before == timedelta(days=7, hours=1)  # the clock went back an hour


def test_add_days_spring_forward() -> None:
    before = local(2026, 3, 5, 9, 0)
    after = cal.add_days(before, 7, NY)
    assert after.astimezone(NY).hour == 9
    assert after - before == timedelta(days=7) - timedelta(hours=1)


def test_add_days_fraction_is_elapsed_time() -> None:
    start = local(2026, 11, 2, 10, 0)
    assert cal.add_days(start, 1.5, NY) == (start + timedelta(days=1, hours=12)).astimezone(UTC)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 11, 6), 1, date(2026, 11, 9)),  # Friday -> Monday
        (date(2026, 11, 7), 1, date(2026, 11, 9)),  # Saturday -> Monday
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # Thanksgiving skipped
        (date(2026, 11, 4), 5, date(2026, 11, 11)),
        (date(2026, 11, 7), 0, date(2026, 11, 9)),  # 0: the day itself, or the next workday
        (date(2026, 11, 4), 0, date(2026, 11, 4)),
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas Friday and the weekend
    ],
)
def test_add_business_days(day: date, n: int, expected: date) -> None:
    assert cal.add_business_days(day, n, RULES) == expected


def test_workday_start_after() -> None:
    due = cal.workday_start_after(date(2026, 11, 6), 1, RULES, NY)
    assert due == local(2026, 11, 9, 9, 0).astimezone(UTC)
    custom = FollowupConfig(workday_start="08:30")
    assert cal.workday_start_after(date(2026, 11, 6), 1, custom, NY).astimezone(NY).minute == 30


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (local(2026, 11, 4, 14, 0), local(2026, 11, 4, 14, 0)),
        (local(2026, 11, 4, 21, 0), local(2026, 11, 5, 8, 0)),  # the start is quiet
        (local(2026, 11, 4, 23, 30), local(2026, 11, 5, 8, 0)),
        (local(2026, 11, 5, 3, 0), local(2026, 11, 5, 8, 0)),
        (local(2026, 11, 5, 8, 0), local(2026, 11, 5, 8, 0)),  # the end is not
        (local(2026, 10, 31, 23, 0), local(2026, 11, 1, 8, 0)),  # across the DST change
    ],
)
def test_alert_time_default_quiet_hours(due: datetime, expected: datetime) -> None:
    assert cal.alert_time(due, RULES, NY) == expected.astimezone(UTC)


def test_alert_time_urgent_is_immediate() -> None:
    due = local(2026, 11, 4, 23, 30)
    assert cal.alert_time(due, RULES, NY, urgent=True) == due.astimezone(UTC)


def test_quiet_hours_within_one_day() -> None:
    rules = FollowupConfig(quiet_hours_start="12:00", quiet_hours_end="13:30")
    assert cal.alert_time(local(2026, 11, 4, 12, 15), rules, NY) == local(
        2026, 11, 4, 13, 30
    ).astimezone(UTC)
    assert cal.alert_time(local(2026, 11, 4, 23, 0), rules, NY) == local(
        2026, 11, 4, 23, 0
    ).astimezone(UTC)


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    rules = FollowupConfig(quiet_hours_start="00:00", quiet_hours_end="00:00")
    due = local(2026, 11, 4, 3, 0)
    assert cal.alert_time(due, rules, NY) == due.astimezone(UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        cal.alert_time(datetime(2026, 11, 4, 3, 0), RULES, NY)


ZONES = st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"])
HOURS = st.sampled_from(["00:00", "06:30", "08:00", "12:00", "21:00", "22:45", "23:59"])


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)),
    ZONES,
    HOURS,
    HOURS,
)
def test_alert_time_is_never_quiet_and_never_early(
    naive: datetime, zone: str, start: str, end: str
) -> None:
    tz = ZoneInfo(zone)
    rules = FollowupConfig(quiet_hours_start=start, quiet_hours_end=end)
    due = naive.replace(tzinfo=UTC)
    alert = cal.alert_time(due, rules, tz)
    assert alert >= due
    assert alert - due <= timedelta(hours=25)
    assert not cal.in_quiet_hours(alert, rules, tz)
