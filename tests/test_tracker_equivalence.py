"""The fast rules agree with the straightforward reference (tests/reference_rules.py).

``interviewd.tracker.rules`` answers "the status at t" with prefix tables and bisects so
that an application with thousands of messages derives in linear time; the reference
re-derives every instant from scratch. Both must give the same ``Derived`` everywhere.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import reference_rules
from interviewd.config.schema import FollowupConfig
from interviewd.domain import MessageClass
from interviewd.tracker.facts import (
    ApplicationFacts,
    EmployerMessage,
    ManualStatus,
    Round,
    Status,
    UserMessage,
)
from interviewd.tracker.rules import derive
from test_tracker_properties import START, application, follow_rules, instants, zones

# A coarse grid (whole days, few of them) so that facts often share an instant: the
# tie-breaks are where a faster algorithm most easily differs.
coarse = st.integers(min_value=0, max_value=40).map(lambda d: START + timedelta(days=d))


@st.composite
def crowded_application(draw: st.DrawFn) -> ApplicationFacts:
    rounds = []
    for pk in range(1, draw(st.integers(0, 5)) + 1):
        booked = draw(coarse)
        start = booked + timedelta(days=draw(st.integers(0, 6)), hours=10)
        end = start + timedelta(hours=1)
        delay = draw(st.none() | st.integers(0, 9))
        cancelled = None if delay is None else booked + timedelta(days=delay)
        rounds.append(Round(pk, start, end, booked, cancelled))
    messages = tuple(
        EmployerMessage(
            100 + i,
            draw(coarse),
            draw(st.sampled_from(list(MessageClass))),
            draw(st.none() | st.builds(lambda t: t.date(), coarse)),
            draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, 25)))
    )
    sent = tuple(UserMessage(500 + i, draw(coarse)) for i in range(draw(st.integers(0, 6))))
    manual = tuple(
        ManualStatus(draw(st.sampled_from(list(Status))), draw(coarse))
        for _ in range(draw(st.integers(0, 3)))
    )
    return ApplicationFacts(draw(coarse), messages, sent, tuple(rounds), (), manual)


def _same(facts: ApplicationFacts, now: datetime, rules: FollowupConfig, zone: str) -> None:
    tz = ZoneInfo(zone)
    fast = dataclasses.replace(derive(facts, now, rules, tz), next_change=None)  # not in the old
    assert fast == reference_rules.derive(facts, now, rules, tz)


@settings(max_examples=400, deadline=None)
@given(application(), instants, follow_rules, zones)
def test_same_as_reference(
    facts: ApplicationFacts, now: datetime, rules: FollowupConfig, zone: str
) -> None:
    _same(facts, now, rules, zone)


@settings(max_examples=400, deadline=None)
@given(crowded_application(), coarse, follow_rules, zones)
def test_same_as_reference_with_ties(
    facts: ApplicationFacts, now: datetime, rules: FollowupConfig, zone: str
) -> None:
    _same(facts, now + timedelta(days=5), rules, zone)
