"""Table-driven tests of the tracker's text understanding (tracker/extract.py).

Sentences are our own. The message date is Wednesday 2026-11-04 10:00 in New York
unless a case says otherwise. Precision first: a case expecting None must get None.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewd.config.schema import FollowupConfig
from interviewd.tracker.calendar import local_date
from interviewd.tracker.extract import (
    _CANDIDATE_TASK,
    _CLAUSE_SPLIT,
    _PROMISE,
    _SENTENCE_SPLIT,
    _all_dates,
    _clause_before,
    _sentence_before,
    interview_time,
    is_advancing,
    mentions_cancellation,
    mentions_reschedule,
    promised_date,
)

NY = ZoneInfo("America/New_York")
SENT = datetime(2026, 11, 4, 10, 0, tzinfo=NY)  # a Wednesday
RULES = FollowupConfig(holidays=("2026-11-11",))

PROMISES: list[tuple[str, date | None]] = [
    ("We will get back to you by Friday.", date(2026, 11, 6)),
    (
        "Our manager is travelling, so I'll be back in touch by Friday, November 6 with news.",
        date(2026, 11, 6),
    ),
    ("We will circle back with you by Monday.", date(2026, 11, 9)),
    ("You should hear from us early next week.", date(2026, 11, 10)),
    (
        "The panel meets Monday and we expect to have a decision by end of next week.",
        date(2026, 11, 13),
    ),
    ("We'll be in touch within 5 business days.", date(2026, 11, 12)),  # Nov 11 is a holiday
    ("Expect an update from our team by the 14th.", date(2026, 11, 14)),
    ("We aim to make a final decision by December 14.", date(2026, 12, 14)),
    ("We will let you know on 14/11 at the latest.", date(2026, 11, 14)),
    (
        "Thanks for your time today! We'll let you know the outcome by next Friday.",
        date(2026, 11, 13),
    ),
    (
        "Our hiring manager is travelling, so expect to hear back within two weeks.",
        date(2026, 11, 18),
    ),
    ("We hope to share next steps by Monday.", date(2026, 11, 9)),
    ("You will hear from us no later than Nov 20, 2026.", date(2026, 11, 20)),
    ("We'll come back to you with feedback by tomorrow.", date(2026, 11, 5)),
    ("We plan to finalize our decision by the end of this week.", date(2026, 11, 6)),
    ("The team will decide mid next week and we'll update you then.", date(2026, 11, 11)),
    ("We'll get back to you with an answer within a week.", date(2026, 11, 11)),
    (
        "Thank you for interviewing with us. You'll receive our decision by 2026-11-16.",
        date(2026, 11, 16),
    ),
    # deadlines asked of the candidate: never promises
    ("Please let us know your availability by Friday.", None),
    ("Please complete the assessment by Monday.", None),
    ("Kindly reply by November 10 to confirm your slot.", None),
    ("Could you send us your references by Thursday?", None),
    ("We need your signed consent form by the 12th.", None),
    ("The offer is valid until Friday, so please give us your decision by then.", None),
    # no date, several dates, or vague
    ("We'll get back to you soon.", None),
    ("We will be in touch in due course.", None),
    ("We'd like to invite you to an interview on Friday.", None),
    ("You may hear from us on Monday or on Thursday.", None),
    ("We'll let you know on 03/04.", None),  # both numbers can be a month: unread
]

SLOTS: list[tuple[str, tuple[datetime, datetime | None] | None]] = [
    (
        "Confirming your interview on Thursday at 2pm ET.",
        (datetime(2026, 11, 5, 14, 0, tzinfo=NY), None),
    ),
    (
        "Your video call is set for next Tuesday 10:30 for 45 minutes.",
        (datetime(2026, 11, 10, 10, 30, tzinfo=NY), datetime(2026, 11, 10, 11, 15, tzinfo=NY)),
    ),
    (
        "We have booked Thursday, 12 November at 14:00 GMT with the panel.",
        (
            datetime(2026, 11, 12, 14, 0, tzinfo=ZoneInfo("UTC")),
            None,
        ),
    ),
    (
        "The onsite starts at 3:30 PM PST on Nov 5.",
        (datetime(2026, 11, 5, 15, 30, tzinfo=ZoneInfo("America/Los_Angeles")), None),
    ),
    (
        "See you Friday 2-3pm at our office.",
        (datetime(2026, 11, 6, 14, 0, tzinfo=NY), datetime(2026, 11, 6, 15, 0, tzinfo=NY)),
    ),
    (
        "The call with Dana is confirmed for November 9th, 9:00-9:30 am.",
        (datetime(2026, 11, 9, 9, 0, tzinfo=NY), datetime(2026, 11, 9, 9, 30, tzinfo=NY)),
    ),
    (
        "Tomorrow at 11am works great, talk then!",
        (datetime(2026, 11, 5, 11, 0, tzinfo=NY), None),
    ),
    (
        "Interview: Monday 16/11 at 16:00 CET, one hour.",
        (
            datetime(2026, 11, 16, 16, 0, tzinfo=ZoneInfo("Europe/Paris")),
            datetime(2026, 11, 16, 17, 0, tzinfo=ZoneInfo("Europe/Paris")),
        ),
    ),
    ("Please share your availability for next week.", None),
    ("Would Thursday at 2pm or Friday at 10am work for you?", None),
    ("Here are a few options: Mon 9am, Tue 1pm, Wed 4pm.", None),
    ("Please pick a time that suits you using this scheduling link.", None),
    ("Please confirm by 5pm Thursday.", None),
    ("Looking forward to speaking with you soon.", None),
]

ADVANCING: list[tuple[str, bool]] = [
    ("Great news: we'd like to move you to the next round.", True),
    ("You've been selected for the final stage of our process.", True),
    ("The team enjoyed meeting you and we would like to invite you to a final interview.", True),
    ("We are happy to advance you to the onsite.", True),
    ("Unfortunately we have decided not to move forward with your application.", False),
    ("We are moving forward with other candidates.", False),
    ("Thanks for your time, we are still reviewing candidates.", False),
]

CANCEL: list[tuple[str, bool, bool]] = [  # text, cancellation, reschedule
    ("I'm sorry, but we have to cancel tomorrow's interview.", True, False),
    ("The interview has been called off as the role is on hold.", True, False),
    ("Could we reschedule our call to Friday at 3pm?", False, True),
    ("We need to move the interview to next Tuesday.", False, True),
    ("We have to cancel Thursday's slot; can we reschedule to Monday?", False, True),
    ("If you need to cancel or reschedule, just reply to this email.", False, False),
    ("Looking forward to meeting you on Thursday.", False, False),
    ("The interview has been postponed until further notice.", False, True),
]


@pytest.mark.parametrize(("text", "expected"), PROMISES)
def test_promised_date(text: str, expected: date | None) -> None:
    assert promised_date(text, SENT, NY, RULES) == expected


@pytest.mark.parametrize(("text", "expected"), SLOTS)
def test_interview_time(text: str, expected: tuple[datetime, datetime | None] | None) -> None:
    assert interview_time(text, SENT, NY) == expected


@pytest.mark.parametrize(("text", "expected"), ADVANCING)
def test_is_advancing(text: str, expected: bool) -> None:
    assert is_advancing(text) is expected


@pytest.mark.parametrize(("text", "cancel", "move"), CANCEL)
def test_cancel_and_reschedule(text: str, cancel: bool, move: bool) -> None:
    assert (mentions_cancellation(text), mentions_reschedule(text)) == (cancel, move)


def test_promise_across_lines_and_sent_on_friday() -> None:
    friday = datetime(2026, 11, 6, 16, 0, tzinfo=NY)
    text = "Hi Sam,\n\nThanks again for coming in.\nWe will get back to you by Friday.\n\nBest"
    assert promised_date(text, friday, NY, RULES) == date(2026, 11, 13)


def test_explicit_zone_overrides_the_configured_one() -> None:
    london = ZoneInfo("Europe/London")
    got = interview_time("Call confirmed: Thursday at 9am PT.", SENT, london)
    assert got == (datetime(2026, 11, 5, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), None)


# -- reading only the sentences around promise words ------------------------------------------

_FRAGMENTS = [
    "We expect to have a decision by Friday",
    "I will get back to you by November 12",
    "Please send your availability by Thursday",
    "The panel meets on Nov. 3",
    "You should hear from us within 5 business days",
    "Our office is closed on 12/24",
    "Let us know by the end of the week",
    "We will be in touch early next week",
    "Sent: Friday, February 27, 2026 10:33 AM",
    "An update will follow by Friday 3/6",
    "Thanks for your patience",
    "the 14th works for us",
    "Your decision is needed by Monday",
]
_SEPARATORS = [". ", ".\n\n", "! ", "\n", " - ", ", and ", "; ", " ", "?\n"]


def _promised_from_every_date(text: str, sent_at: datetime) -> date | None:
    """promised_date as it was before it read only the sentences near promise words."""
    base = local_date(sent_at, NY)
    found = set()
    clause_ends = [m.end() for m in _CLAUSE_SPLIT.finditer(text)]
    sentence_ends = [m.end() for m in _SENTENCE_SPLIT.finditer(text)]
    for start, _end, value in _all_dates(text, base, RULES):
        clause = _clause_before(text, start, clause_ends)
        sentence = _sentence_before(text, start, sentence_ends)
        if _CANDIDATE_TASK.search(clause):
            continue
        if not _PROMISE.search(clause) and (
            not _PROMISE.search(sentence) or _CANDIDATE_TASK.search(sentence)
        ):
            continue
        if base <= value <= base + timedelta(days=120):
            found.add(value)
    return found.pop() if len(found) == 1 else None


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_FRAGMENTS), st.sampled_from(_SEPARATORS)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 400),
)
def test_reading_near_promises_only_changes_nothing(parts: list[tuple[str, str]], day: int) -> None:
    text = "".join(f"{fragment}{separator}" for fragment, separator in parts)
    sent_at = datetime(2026, 1, 1, 9, tzinfo=NY) + timedelta(days=day)
    assert promised_date(text, sent_at, NY, RULES) == _promised_from_every_date(text, sent_at)


def test_a_weekday_is_not_read_as_naming_a_date_written_before_it() -> None:
    # "Friday, February 27" earlier in the text says nothing about the "Friday" after it.
    text = "Sent: Friday, February 27, 2026\n\nWe will have an answer for you by Friday."
    assert promised_date(text, datetime(2026, 2, 2, 9, tzinfo=NY), NY, RULES) == date(2026, 2, 6)
