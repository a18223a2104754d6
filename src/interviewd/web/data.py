"""What the pages show, shaped for the templates from the service layer's own views.

Nothing here decides a status or a due time: those come from ``TrackingService``
(``board``, ``followups``, ``timeline``). This module only groups, counts and
formats, so the web and the CLI can never disagree.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import select

from ..applications import JOB_LABELS, TrackingService
from ..store import Store
from ..store.models import Application, InterviewRound, Message
from ..tracker.facts import Status

#: Board columns, in the order a search moves through them.
COLUMNS: tuple[str, ...] = tuple(s.value for s in Status)

KIND_NAMES = {
    "thank_you": "Thank-you note",
    "check_in": "Check-in",
    "second_check_in": "Second check-in",
}


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def local_text(value: str | datetime | None, tz: tzinfo, with_year: bool = False) -> str:
    """A time the way a person reads it in their own zone: 'Thu 5 Nov 14:00'."""
    when = parse_time(value)
    if when is None:
        return "-"
    local = when.astimezone(tz)
    text = f"{local:%a} {local.day} {local:%b}"
    if with_year:
        text += f" {local.year}"
    return f"{text} {local:%H:%M}"


def relative_text(value: str | datetime | None, now: datetime) -> str:
    """'in 3 days', '2 hours ago': how far a time is from now."""
    when = parse_time(value)
    if when is None:
        return ""
    delta = when - now
    seconds = abs(delta.total_seconds())
    if seconds < 90:
        return "now"
    if seconds < 5400:
        amount = f"{round(seconds / 60)} min"
    elif seconds < 36 * 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        amount = f"{round(seconds / 86400)} days"
    return f"in {amount}" if delta.total_seconds() > 0 else f"{amount} ago"


# -- the board -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    status: str
    cards: list[Any]


def board_columns(tracking: TrackingService, at: datetime) -> list[Column]:
    """One column per status, empty ones included so the board keeps its shape."""
    grouped: dict[str, list[Any]] = {s: [] for s in COLUMNS}
    for row in tracking.board(at):
        grouped.setdefault(row.status, []).append(row)
    return [Column(status, cards) for status, cards in grouped.items()]


# -- statistics --------------------------------------------------------------------


@dataclass(slots=True)
class Bar:
    label: str
    value: float
    text: str
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass(slots=True)
class Chart:
    """A bar chart laid out here, drawn as inline SVG by the template (which escapes labels)."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    horizontal: bool = False
    unit: str = ""
    empty: bool = False
    ticks: list[tuple[float, str]] = field(default_factory=list)


def column_chart(title: str, labels: list[str], values: list[float], unit: str = "") -> Chart:
    """Vertical bars (counts over time): 40 px a bar, at most 300 px plot height."""
    width, height, top, bottom = max(320, 40 * len(values) + 40), 200, 20, 40
    peak = max(values, default=0) or 1
    bars: list[Bar] = []
    slot = (width - 40) / max(1, len(values))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (height - top - bottom) * value / peak
        bars.append(
            Bar(
                label=label,
                value=value,
                text=f"{value:g}",
                x=30 + i * slot + slot * 0.15,
                y=height - bottom - h,
                width=slot * 0.7,
                height=h,
            )
        )
    return Chart(title, bars, width, height, unit=unit, empty=not any(values))


def row_chart(title: str, labels: list[str], values: list[float], unit: str) -> Chart:
    """Horizontal bars (one per company), labels left of the bars."""
    row, label_width, width = 28, 170, 560
    height = max(row * len(values) + 10, 40)
    peak = max(values, default=0) or 1
    bars = [
        Bar(
            label=label,
            value=value,
            text=f"{value:.1f} {unit}",
            x=label_width,
            y=5 + i * row,
            width=max(2.0, (width - label_width - 90) * value / peak),
            height=row - 8,
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    return Chart(title, bars, width, height, horizontal=True, unit=unit, empty=not values)


def _week_start(when: datetime, tz: tzinfo) -> datetime:
    local = when.astimezone(tz)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def _weekly(
    times: list[datetime], now: datetime, tz: tzinfo, weeks: int
) -> tuple[list[str], list[float]]:
    last = _week_start(now, tz)
    starts = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = Counter(_week_start(t, tz) for t in times)
    return [f"{s.day} {s:%b}" for s in starts], [float(counts.get(s, 0)) for s in starts]


def _days(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds() / 86400)


def stats(tracking: TrackingService, store: Store, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """The search in numbers: counts over time, answers, and what silence turned into."""
    with store.session() as s:
        apps = list(s.scalars(select(Application).order_by(Application.id)))
        names = {a.id: a.company.name for a in apps}
        created = {a.id: a.created_at for a in apps}
        rounds = [
            r.start
            for r in s.scalars(select(InterviewRound).where(InterviewRound.cancelled_at.is_(None)))
        ]
        employer = s.execute(
            select(Message.application_pk, Message.date, Message.stored_at, Message.label).where(
                Message.application_pk.is_not(None),
                Message.from_user.is_(False),
                Message.status == "ok",
                Message.label.in_(sorted(JOB_LABELS)),
            )
        ).all()
    first_answer: dict[int, datetime] = {}
    decision: dict[int, datetime] = {}
    for app_pk, date, stored_at, label in employer:
        when = date or stored_at
        if app_pk not in first_answer or when < first_answer[app_pk]:
            first_answer[app_pk] = when
        if label in ("offer", "rejection") and (app_pk not in decision or when < decision[app_pk]):
            decision[app_pk] = when
    first = min(created.values(), default=None)
    span = (now - first).days // 7 + 1 if first else 1
    weeks = min(26, max(8, span))
    week_labels, app_counts = _weekly(list(created.values()), now, tz, weeks)
    _labels, round_counts = _weekly(rounds, now, tz, weeks)

    def per_company(times: dict[int, datetime]) -> Chart:
        by_company: dict[str, list[float]] = {}
        for app_pk, when in times.items():
            if app_pk in created:
                by_company.setdefault(names[app_pk], []).append(_days(when - created[app_pk]))
        ordered = sorted(by_company.items(), key=lambda kv: statistics.median(kv[1]))
        return row_chart(
            "",
            [name for name, _v in ordered],
            [statistics.median(v) for _n, v in ordered],
            "days",
        )

    went_silent = answered = 0
    for app in apps:
        history = tracking.timeline(app.id)["history"]
        if any(h["to"] == Status.SILENT.value for h in history):
            went_silent += 1
            if any(
                h["from"] == Status.SILENT.value and h["to"] != Status.WITHDRAWN.value
                for h in history
            ):
                answered += 1
    total = len(apps)
    return {
        "total": total,
        "interviews": len(rounds),
        "answered": len(first_answer),
        "response_rate": (len(first_answer) / total) if total else None,
        "applications_chart": column_chart("Applications per week", week_labels, app_counts),
        "interviews_chart": column_chart("Interviews per week", week_labels, round_counts),
        "first_answer_chart": per_company(first_answer),
        "decision_chart": per_company(decision),
        "went_silent": went_silent,
        "silence_answered": answered,
    }


# -- the calendar feed ---------------------------------------------------------------


def calendar_feed(tracking: TrackingService, store: Store, now: datetime) -> bytes:
    """Interview rounds and open follow-ups' due times as one iCalendar feed."""
    cal = Calendar()
    cal.add("prodid", "-//interviewd//web board//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "interviewd")
    with store.session() as s:
        rows = s.execute(
            select(InterviewRound, Application).join(
                Application, InterviewRound.application_pk == Application.id
            )
        ).all()
        for round_, app in rows:
            event = Event()
            event.add("uid", f"round-{round_.id}@interviewd")
            event.add("dtstamp", now)
            event.add("dtstart", round_.start)
            event.add("dtend", round_.end)
            role = f" ({app.role})" if app.role else ""
            event.add("summary", f"Interview: {app.company.name}{role}")
            if round_.location:
                event.add("location", round_.location)
            about = [round_.kind] if round_.kind else []
            if round_.interviewers:
                about.append("With " + ", ".join(round_.interviewers))
            if about:
                event.add("description", "\n".join(about))
            event.add("status", "CANCELLED" if round_.cancelled_at else "CONFIRMED")
            cal.add_component(event)
    data = tracking.followups(now)
    for bucket in ("overdue", "due", "coming"):
        for f in data[bucket]:
            due = parse_time(f["due"])
            assert due is not None
            event = Event()
            event.add("uid", f"followup-{f['application_id']}-{f['key']}@interviewd")
            event.add("dtstamp", now)
            event.add("dtstart", due)
            event.add("dtend", due + timedelta(minutes=15))
            event.add("summary", f"{kind_name(f['kind'])}: {f['company']}")
            event.add("description", f["reason"])
            cal.add_component(event)
    return cal.to_ical()
