"""Understanding the dates in employer mail: promises, interview times, cancellations.

Precision before recall: every function returns None (or False) when unsure, since a
wrong date moves a clock the user trusts. Dates are read relative to the message's
date in the configured zone. Readings chosen where English is vague:

- a weekday ("by Friday", "Thursday at 2pm") is the next such day *after* the message
  day; "next Friday" is the Friday of the next calendar week (weeks start on Monday);
  "this Friday" is the Friday of the message's week (or the next one once it has passed);
- "early next week" is next week's Tuesday, "mid next week" its Wednesday, "end of next
  week" / "late next week" / plain "next week" its Friday; "end of the week" this Friday;
  "end of the month" its last day;
- "within N business days" counts from the business day after the message (so the N-th
  business day after the message day); "within N days/weeks" counts calendar days;
- numeric dates: 14/03 and 03/14 are read by whichever number cannot be a month; 03/04,
  where both can be, is left unread (None);
- zone names: ET/EST/EDT = America/New_York, CT/CST/CDT = America/Chicago,
  MT/MST/MDT = America/Denver, PT/PST/PDT = America/Los_Angeles (the zone's own offset on
  that date, whichever of standard/daylight was written), GMT/UTC/Z, BST = Europe/London,
  CET/CEST = Europe/Paris, and explicit offsets (UTC+2, GMT-05:00, +0100).
"""

from __future__ import annotations

import bisect
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import dateparser

from ..config.schema import FollowupConfig
from . import calendar as cal

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WD = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\.?"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fourteen": 14,
}  # fmt: skip
_ZONES: dict[str, str] = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "gmt": "UTC", "utc": "UTC", "z": "UTC",
    "bst": "Europe/London", "cet": "Europe/Paris", "cest": "Europe/Paris",
}  # fmt: skip


def _weekday_index(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for i, name in enumerate(WEEKDAYS):
        if name.startswith(word[:3]):
            return i
    return None


def _number(word: str) -> int | None:
    word = word.lower()
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _next_weekday(base: date, wd: int) -> date:
    """The first such weekday strictly after ``base``."""
    return base + timedelta(days=(wd - base.weekday() - 1) % 7 + 1)


def _week_day(base: date, wd: int, weeks_ahead: int) -> date:
    monday = base - timedelta(days=base.weekday())
    return monday + timedelta(weeks=weeks_ahead, days=wd)


def _month_day(base: date, month: int, day: int, year: int | None) -> date | None:
    """A day/month: in ``year`` when given, else the next one on or after ``base``
    (a date more than 2 weeks past reads as next year's)."""
    try:
        if year is not None:
            return date(year if year > 100 else 2000 + year, month, day)
        found = date(base.year, month, day)
    except ValueError:
        return None
    if found < base - timedelta(days=14):
        try:
            found = date(base.year + 1, month, day)
        except ValueError:
            return None
    return found


def _month_number(text: str) -> int | None:
    parsed = dateparser.parse(f"1 {text.rstrip('.')} 2001", languages=["en"])
    return parsed.month if parsed else None


# ---------------------------------------------------------------- explicit dates

_DATE_PATTERNS: tuple[tuple[str, str], ...] = (
    # 12 November 2026, 12th of November
    (
        "dmy",
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<m>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?\b",
    ),
    # November 12, Nov 5th, 2026
    ("mdy", rf"\b(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?"),
    # 2026-11-12
    ("iso", r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
    # 14/03, 03/14/2026, 14.03.
    ("num", r"(?<![\d/.:])(?P<a>\d{1,2})[/.](?P<b>\d{1,2})(?:[/.](?P<y>\d{2,4}))?(?![\d/:])"),
    # the 14th
    ("nth", r"\bthe\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?" + _MONTH + ")"),
)  # fmt: skip


def _explicit_dates(text: str, base: date) -> list[tuple[int, int, date]]:
    """(start, end, date) of every explicit calendar date in ``text``."""
    found: list[tuple[int, int, date]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            year = int(m["y"]) if m.groupdict().get("y") else None
            value: date | None = None
            if kind in ("dmy", "mdy"):
                month = _month_number(m["m"])
                value = _month_day(base, month, int(m["d"]), year) if month else None
            elif kind == "iso":
                value = _month_day(base, int(m["m"]), int(m["d"]), year)
            elif kind == "num":
                a, b = int(m["a"]), int(m["b"])
                if a > 12 >= b:
                    value = _month_day(base, b, a, year)
                elif b > 12 >= a:
                    value = _month_day(base, a, b, year)
            elif kind == "nth":
                day = int(m["d"])
                month, yr = base.month, base.year
                if day < base.day:
                    month, yr = (1, yr + 1) if month == 12 else (month + 1, yr)
                value = _month_day(base, month, day, yr)
            if value is not None:
                found.append((m.start(), m.end(), value))
                taken.append((m.start(), m.end()))
    return sorted(found)


def _relative_dates(text: str, base: date, rules: FollowupConfig) -> list[tuple[int, int, date]]:
    """(start, end, date) of the relative date idioms in ``text``."""
    out: list[tuple[int, int, date]] = []

    def add(m: re.Match[str], value: date | None) -> None:
        if value is not None and not any(s < m.end() and m.start() < e for s, e, _ in out):
            out.append((m.start(), m.end(), value))

    flags = re.IGNORECASE
    # Speed: each idiom's pattern runs only when a word it needs is in the text at all.
    low = text.lower()
    for m in re.finditer(
        r"\bwithin\s+(?:the\s+next\s+)?(\w+)\s+(business|working|calendar)?\s*(days?|weeks?)\b",
        text if "within" in low else "",
        flags,
    ):
        n = _number(m[1])
        if n is None or n > 60:
            continue
        if m[2] and m[2].lower() in ("business", "working") and m[3].lower().startswith("day"):
            add(m, cal.add_business_days(base, n, rules))
        else:
            add(m, base + timedelta(days=n * (7 if m[3].lower().startswith("week") else 1)))
    weeks = text if "week" in low else ""
    for m in re.finditer(r"\b(?:in|within)\s+(?:a|one|1)\s+week\b", weeks, flags):
        add(m, base + timedelta(days=7))
    for m in re.finditer(
        r"\b(early|mid|middle of|late|end of|the end of)\s+next\s+week\b", weeks, flags
    ):
        wd = {"early": 1, "mid": 2, "middle of": 2}.get(m[1].lower(), 4)
        add(m, _week_day(base, wd, 1))
    for m in re.finditer(r"\b(?:the\s+)?end\s+of\s+(?:this|the)\s+week\b", weeks, flags):
        add(m, _week_day(base, 4, 0 if base.weekday() < 4 else 1))
    months = text if "month" in low else ""
    for m in re.finditer(r"\b(?:the\s+)?end\s+of\s+(?:this|the)\s+month\b", months, flags):
        first_next = (base.replace(day=1) + timedelta(days=32)).replace(day=1)
        add(m, first_next - timedelta(days=1))
    days = text if any(d in low for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")) else ""
    for m in re.finditer(rf"\b(?:(next|this|coming)\s+)?({_WD})(?!\w)", days, flags):
        wd = _weekday_index(m[2])
        if wd is None:
            continue
        which = (m[1] or "").lower()
        if which == "next":
            add(m, _week_day(base, wd, 1))
        elif which == "this" and wd > base.weekday():
            add(m, _week_day(base, wd, 0))
        else:
            add(m, _next_weekday(base, wd))
    for m in re.finditer(r"\b(?:sometime\s+|some\s+time\s+)?next\s+week\b", weeks, flags):
        add(m, _week_day(base, 4, 1))
    for m in re.finditer(r"\btomorrow\b", text, flags):
        add(m, base + timedelta(days=1))
    for m in re.finditer(
        r"\b(?:today|end of (?:the )?day|eod|close of business|cob)\b", text, flags
    ):
        add(m, base)
    return sorted(out)


def _all_dates(text: str, base: date, rules: FollowupConfig) -> list[tuple[int, int, date]]:
    explicit = _explicit_dates(text, base)
    relative = []
    for r in _relative_dates(text, base, rules):
        if any(s < r[1] and r[0] < e for s, e, _ in explicit):
            continue
        # "Thursday, 12 November": the weekday names the date that follows (when it agrees)
        after = [
            e for e in explicit if e[0] >= r[1] and re.fullmatch(r"[\s,(]*", text[r[1] : e[0]])
        ]
        if (
            after
            and after[0][2].weekday() == r[2].weekday()
            and re.search(_WD, text[r[0] : r[1]], re.I)
        ):
            continue
        relative.append(r)
    return sorted(explicit + relative)


# ---------------------------------------------------------------- promises

_CLAUSE_SPLIT = re.compile(r"[.!?;\n]+(?=\s|$)|\s[-–—]\s|,?\s+(?:and|but|so|while|once)\s+", re.I)
_PROMISE = re.compile(
    r"\b(?:hear(?:ing)?\s+(?:back|from)|get\s+back\s+to\s+you|back\s+to\s+you|let\s+you\s+know|"
    r"decision|decide|update\s+you|an?\s+update|(?:our|some|any)\s+feedback|outcome|news|"
    r"be\s+(?:back\s+)?in\s+touch|get\s+in\s+touch|circle\s+back|reach\s+out\s+to\s+you|"
    r"contact\s+you|follow\s+up\s+with\s+you|"
    r"respond\s+to\s+you|answer|next\s+steps?|finali[sz]e|wrap\s+up|conclude|come\s+back\s+to\s+you|"
    r"(?:you(?:'ll|\s+will|\s+should)\s+(?:hear|receive|get))|inform\s+you)\b",
    re.I,
)
_CANDIDATE_TASK = re.compile(
    r"\b(?:please|kindly|let\s+us\s+know|reply|respond(?!\s+to\s+you)|submit|complete|send(?!\s+you)|"
    r"return|confirm|sign|fill|provide|share\s+(?:your|with\s+us)|upload|book|choose|select|pick|availability|"
    r"available|make\s+sure|ensure|need\s+(?:you|your)|your\s+(?:decision|answer|response|reply)|"
    r"get\s+back\s+to\s+us|tell\s+us|accept|deadline|expires?|valid)\b",
    re.I,
)
_DATE_LEAD = re.compile(
    r"(?:\b(?:by|before|no\s+later\s+than|on|until|till|around|for|within|in|at|early|mid|late|"
    r"end|the|this|next|sometime|of)\s*)+$",
    re.I,
)


_SENTENCE_SPLIT = re.compile(r"[.!?\n]+(?=\s|$)")


def _clause_before(text: str, pos: int, ends: list[int] | None = None) -> str:
    """The clause that ends at ``pos``; ``ends`` are the split ends, found once per text."""
    if ends is None:
        ends = [m.end() for m in _CLAUSE_SPLIT.finditer(text)]
    i = bisect.bisect_right(ends, pos) - 1
    return text[ends[i] if i >= 0 else 0 : pos]


def _sentence_before(text: str, pos: int, ends: list[int] | None = None) -> str:
    if ends is None:
        ends = [m.end() for m in _SENTENCE_SPLIT.finditer(text)]
    i = bisect.bisect_right(ends, pos) - 1
    return text[ends[i] if i >= 0 else 0 : pos]


def _dates_near_promises(
    text: str, base: date, rules: FollowupConfig, sentence_ends: list[int]
) -> list[tuple[int, int, date]]:
    """``_all_dates`` of the sentences around promise words only (positions in ``text``).

    Speed: a date counts only when a promise word comes before it in its sentence, so the
    dates of other sentences never matter. Each sentence with a promise word is read with two
    sentences either side, so a date that runs over a sentence end ("by Nov. 12") or sits
    next to another is read as in the whole text.
    """
    bounds = [0, *sentence_ends, len(text)]  # sentence i is text[bounds[i]:bounds[i + 1]]
    last = len(bounds) - 2
    windows: list[list[int]] = []
    for m in _PROMISE.finditer(text):
        first = bisect.bisect_right(sentence_ends, m.start())
        final = bisect.bisect_right(sentence_ends, max(m.start(), m.end() - 1))
        start, end = bounds[max(0, first - 2)], bounds[min(last, final + 2) + 1]
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [
        (start + a, end + a, value)
        for a, b in windows
        for start, end, value in _all_dates(text[a:b], base, rules)
    ]


def promised_date(text: str, sent_at: datetime, tz: ZoneInfo, rules: FollowupConfig) -> date | None:
    """The employer's own date for a decision or next step, or None when there is none
    (or when it cannot be read with confidence). Deadlines asked of the candidate
    ("let us know your availability by Friday") are never promises."""
    # Speed: a date is a promise only next to promise words; most mail has none at all.
    if not _PROMISE.search(text):
        return None
    base = cal.local_date(sent_at, tz)
    found: set[date] = set()
    clause_ends = [m.end() for m in _CLAUSE_SPLIT.finditer(text)]
    sentence_ends = [m.end() for m in _SENTENCE_SPLIT.finditer(text)]
    for start, _end, value in _dates_near_promises(text, base, rules, sentence_ends):
        clause = _clause_before(text, start, clause_ends)
        sentence = _sentence_before(text, start, sentence_ends)
        if _CANDIDATE_TASK.search(clause):
            continue
        if not _PROMISE.search(clause) and (
            not _PROMISE.search(sentence) or _CANDIDATE_TASK.search(sentence)
        ):
            continue
        if value < base or value > base + timedelta(days=120):
            continue
        found.add(value)
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------- interview times

_TIME = re.compile(
    r"(?<![\d:/.])(?P<h>\d{1,2})(?:[:.](?P<m>[0-5]\d))?\s*(?P<ap>[ap]\.?m\.?)?"
    r"(?:\s*(?:-|–|—|to|until|till)\s*(?P<h2>\d{1,2})(?:[:.](?P<m2>[0-5]\d))?\s*(?P<ap2>[ap]\.?m\.?)?)?"
    r"(?![\d/])",
    re.I,
)
_ZONE = re.compile(
    r"^\s*\(?\s*(?:(?P<name>[A-Za-z]{1,8})(?:\s*(?P<sign>[+-])\s*(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)?"
    r"|(?P<sign2>[+-])(?P<oh2>\d{2}):?(?P<om2>\d{2}))\b",
)
_DURATION = re.compile(
    r"\b(?:for\s+)?(?:(?P<n>\d{1,3}|an?|one|two)[\s-]*(?P<u>minutes?|mins?|hours?|hrs?|h)\b)",
    re.I,
)
_NOT_A_SLOT = re.compile(
    r"\b(?:your\s+availability|what\s+times?|which\s+(?:of\s+(?:these|the\s+following)\s+)?"
    r"(?:times?|slots?|days?|options?)|following\s+(?:times|slots|options)|options|"
    r"pick\s+a\s+(?:time|slot)|choose\s+a\s+(?:time|slot)|book\s+a\s+(?:time|slot)|"
    r"select\s+a\s+(?:time|slot)|calendly|scheduling\s+link|when\s+(?:are|would)\s+you|"
    r"does\s+any|do\s+any|would\s+either|either\s+of)\b",
    re.I,
)
_DEADLINE_BEFORE = re.compile(r"\b(?:by|before|no\s+later\s+than|until|till)\s*$", re.I)


def _zone_at(text: str, pos: int, fallback: tzinfo) -> tzinfo | None:
    """The zone written right after a time, or ``fallback``; None for an unknown name."""
    m = _ZONE.match(text[pos:])
    if m is None:
        return fallback
    if m["sign2"]:
        minutes = int(m["oh2"]) * 60 + int(m["om2"])
        return timezone(timedelta(minutes=minutes if m["sign2"] == "+" else -minutes))
    name = m["name"].lower()
    if name not in _ZONES:
        if m["name"].isupper() and len(m["name"]) in (3, 4) and m["name"].endswith("T"):
            return None  # a zone we do not know: do not guess
        return fallback
    if m["sign"]:
        if name not in ("utc", "gmt"):
            return None
        minutes = int(m["oh"]) * 60 + int(m["om"] or 0)
        return timezone(timedelta(minutes=minutes if m["sign"] == "+" else -minutes))
    return ZoneInfo(_ZONES[name])


def _to_24(hour: int, ampm: str | None) -> int | None:
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.lower().startswith("p")
        return (hour % 12) + (12 if pm else 0)
    return hour if hour <= 23 else None


def _times(text: str) -> list[tuple[int, int, time, time | None]]:
    """(start, end, start time, end time) of every clock time that reads as one."""
    out = []
    for m in _TIME.finditer(text):
        ap, ap2 = m["ap"], m["ap2"]
        if not ap and not ap2 and not m["m"]:
            continue  # a bare number is no time
        if m["h2"] and not (ap2 or m["m2"] or ap):
            # "10:30-11" reads as a range only with a minute or am/pm on one side
            pass
        start_ap = ap or (ap2 if m["h2"] else None)
        h = _to_24(int(m["h"]), start_ap)
        if h is None:
            continue
        start = time(h, int(m["m"] or 0))
        end = None
        if m["h2"]:
            h2 = _to_24(int(m["h2"]), ap2 or ap)
            if h2 is None:
                continue
            end = time(h2, int(m["m2"] or 0))
            if ap2 and not ap and end <= start and h + 12 < 24:
                start = time(h + 12, start.minute)  # "11-12pm" stays, "1-2pm" already pm
        out.append((m.start(), m.end(), start, end))
    return out


def interview_time(
    text: str, sent_at: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime | None] | None:
    """Start (and end, when given) of the one interview slot a scheduling mail confirms
    or proposes; None when it offers several, asks for availability, or is unclear."""
    if _NOT_A_SLOT.search(text):
        return None
    base = cal.local_date(sent_at, tz)
    times = [t for t in _times(text) if not _DEADLINE_BEFORE.search(text[: t[0]])]
    if not times:
        return None
    slots = {(t[2], t[3]) for t in times}
    if len(slots) != 1:
        return None
    pos, end_pos, start_t, end_t = times[0]
    dates = _all_dates(text, base, FollowupConfig())
    dates = [d for d in dates if not _DEADLINE_BEFORE.search(text[: d[0]])]
    sentence_start = len(_sentence_before(text, pos))
    near = [d for d in dates if pos - sentence_start - 5 <= d[0] <= end_pos + 80]
    candidates = {d[2] for d in near} or {d[2] for d in dates}
    if len(candidates) != 1:
        return None
    day = candidates.pop()
    zone = _zone_at(text, end_pos, tz)
    if zone is None:
        return None
    start = datetime.combine(day, start_t, tzinfo=zone)
    if end_t is not None:
        end = datetime.combine(day, end_t, tzinfo=zone)
        if end <= start:
            return None
    else:
        end = None
        duration = _DURATION.search(text)
        if duration:
            n = _number(duration["n"])
            if n:
                unit = duration["u"].lower()
                end = start + (timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n))
    if start.astimezone(UTC) < sent_at.astimezone(UTC):
        return None
    return start.astimezone(UTC), end.astimezone(UTC) if end else None


# ---------------------------------------------------------------- advancing, cancel, move

_NEGATIVE = re.compile(
    r"\b(?:not|n't|unable|unfortunately|regret|other\s+candidates?|decided\s+to\s+(?:pursue|go))\b",
    re.I,
)
_ADVANCING = re.compile(
    r"\b(?:move\s+(?:you\s+)?(?:forward|on|ahead)|moving\s+(?:you\s+)?(?:forward|on|ahead)|"
    r"advance\s+you|advancing\s+you|progress(?:ing)?\s+you|invite\s+you\s+to\s+(?:the\s+|a\s+)?"
    r"(?:next|final|second|third|onsite|on-site|last)|selected\s+(?:you\s+)?for\s+the\s+"
    r"(?:next|final)|through\s+to\s+the\s+(?:next|final)|to\s+the\s+(?:next|final)\s+"
    r"(?:round|stage|step|interview)|next\s+round|final\s+round|final\s+stage|"
    r"(?:passed|cleared)\s+the)\b",
    re.I,
)
_CANCEL = re.compile(
    r"\b(?:cancel(?:l?ed|l?ing|lation)?|call(?:ed|ing)?\s+off|no\s+longer\s+(?:take\s+place|"
    r"happen|go\s+ahead|needed|be\s+able\s+to\s+meet)|won't\s+be\s+able\s+to\s+meet)\b",
    re.I,
)
_RESCHEDULE = re.compile(
    r"\b(?:re-?schedul\w*|postpon\w*|push(?:ed|ing)?\s+(?:back|it|the|our|your)|"
    r"mov(?:e|ed|ing)\s+(?:the|our|your|it|this)\b[^.!?\n]{0,40}?\bto\b|moved\s+to|"
    r"new\s+(?:time|date|slot)|different\s+time|change\s+(?:the|our)\s+(?:time|date)|"
    r"shift(?:ed)?\s+(?:the|our|it))",
    re.I,
)
_CONDITIONAL = re.compile(
    r"\b(?:if\s+you|should\s+you|in\s+case|if\s+needed|if\s+necessary|policy|feel\s+free)\b", re.I
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def is_advancing(text: str) -> bool:
    """Feedback saying the candidate moves on to a next stage."""
    return any(_ADVANCING.search(s) and not _NEGATIVE.search(s) for s in _sentences(text))


def mentions_cancellation(text: str) -> bool:
    """The mail cancels a meeting outright (a cancellation that also offers a new time is
    a reschedule, not a cancellation)."""
    for s in _sentences(text):
        if _CANCEL.search(s) and not _CONDITIONAL.search(s) and not _RESCHEDULE.search(s):
            return not mentions_reschedule(text)
    return False


def mentions_reschedule(text: str) -> bool:
    """The mail moves a meeting to another time."""
    return any(_RESCHEDULE.search(s) and not _CONDITIONAL.search(s) for s in _sentences(text))
