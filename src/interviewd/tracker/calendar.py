"""Pure time arithmetic for the follow-up clocks, in one configured time zone.

Every datetime in is timezone-aware; every datetime out is in UTC. "Days" keep the
local clock time across daylight-saving changes; business days skip Saturday,
Sunday and ``FollowupConfig.holidays``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..config.schema import FollowupConfig


def parse_hhmm(text: str) -> time:
    """'09:00' -> time(9, 0)."""
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime: {dt!r}")


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant the local clock shows ``clock`` on ``day`` (first one when ambiguous;
    a time in a spring-forward gap is read with the offset before the change), in UTC."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def local_date(dt: datetime, tz: ZoneInfo) -> date:
    _require_aware(dt)
    return dt.astimezone(tz).date()


def add_days(dt: datetime, days: float, tz: ZoneInfo) -> datetime:
    """``dt`` plus calendar days in ``tz``: same local clock time across DST changes.

    A fractional part (e.g. 7.5 days) is added as elapsed hours after the whole days.
    """
    _require_aware(dt)
    whole = int(days)
    local = dt.astimezone(tz).replace(tzinfo=None) + timedelta(days=whole)
    moved = local.replace(tzinfo=tz).astimezone(UTC)
    return moved + timedelta(days=days - whole)


def holidays(rules: FollowupConfig) -> frozenset[date]:
    return frozenset(date.fromisoformat(h) for h in rules.holidays)


def is_business_day(day: date, rules: FollowupConfig) -> bool:
    return day.weekday() < 5 and day not in holidays(rules)


def add_business_days(day: date, n: int, rules: FollowupConfig) -> date:
    """The n-th business day after ``day`` (n >= 1); for n == 0, ``day`` itself when it is a
    business day, else the next business day."""
    if n < 0:
        raise ValueError("n must be >= 0")
    off = holidays(rules)

    def business(d: date) -> bool:
        return d.weekday() < 5 and d not in off

    current = day
    if n == 0:
        while not business(current):
            current += timedelta(days=1)
        return current
    while n:
        current += timedelta(days=1)
        if business(current):
            n -= 1
    return current


def workday_start_after(day: date, n: int, rules: FollowupConfig, tz: ZoneInfo) -> datetime:
    """Start of the workday (``workday_start`` local) ``n`` business days after ``day``."""
    return at_local(add_business_days(day, n, rules), parse_hhmm(rules.workday_start), tz)


def in_quiet_hours(dt: datetime, rules: FollowupConfig, tz: ZoneInfo) -> bool:
    _require_aware(dt)
    start, end = parse_hhmm(rules.quiet_hours_start), parse_hhmm(rules.quiet_hours_end)
    clock = dt.astimezone(tz).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def quiet_end(dt: datetime, rules: FollowupConfig, tz: ZoneInfo) -> datetime:
    """The end of the quiet period ``dt`` falls in (``dt`` itself when it does not)."""
    if not in_quiet_hours(dt, rules, tz):
        return dt.astimezone(UTC)
    end = parse_hhmm(rules.quiet_hours_end)
    day = local_date(dt, tz)
    candidate = at_local(day, end, tz)
    if candidate <= dt:
        candidate = at_local(day + timedelta(days=1), end, tz)
    return candidate


def alert_time(
    due: datetime, rules: FollowupConfig, tz: ZoneInfo, urgent: bool = False
) -> datetime:
    """When to tell the user about something due at ``due``: ``due`` itself, or the end of
    the quiet hours it falls in. Urgent alerts (offers, rejections) are never delayed."""
    _require_aware(due)
    if urgent:
        return due.astimezone(UTC)
    return quiet_end(due, rules, tz)
