"""Property tests of derive: invariants over random facts and random instants."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from interviewd.config.schema import FollowupConfig
from interviewd.domain import MessageClass
from interviewd.tracker import calendar as cal
from interviewd.tracker.facts import (
    CLOSED_STATUSES,
    ApplicationFacts,
    EmployerMessage,
    FollowUpState,
    ManualStatus,
    Round,
    Status,
    UserAction,
    UserActionKind,
    UserMessage,
)
from interviewd.tracker.rules import derive

START = datetime(2026, 9, 1, tzinfo=UTC)
OPEN = (FollowUpState.PENDING, FollowUpState.SNOOZED)

instants = st.integers(min_value=0, max_value=120 * 24 * 4).map(
    lambda q: START + timedelta(minutes=15 * q)
)
zones = st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"])


@st.composite
def rounds(draw: st.DrawFn, pk: int) -> Round:
    booked = draw(instants)
    start = booked + timedelta(hours=draw(st.integers(1, 24 * 20)))
    end = start + timedelta(minutes=draw(st.sampled_from([30, 45, 60, 240])))
    cancelled = draw(st.none() | st.just(booked + timedelta(hours=draw(st.integers(0, 24 * 25)))))
    return Round(pk, start, end, booked, cancelled)


@st.composite
def messages(draw: st.DrawFn, pk: int) -> EmployerMessage:
    at = draw(instants)
    label = draw(st.sampled_from(list(MessageClass)))
    promised = draw(st.none() | st.dates(date(2026, 8, 20), date(2027, 1, 31)))
    return EmployerMessage(pk, at, label, promised, draw(st.booleans()))


@st.composite
def application(draw: st.DrawFn) -> ApplicationFacts:
    n_rounds = draw(st.integers(0, 3))
    n_msgs = draw(st.integers(0, 5))
    rs = tuple(draw(rounds(pk)) for pk in range(1, n_rounds + 1))
    ms = tuple(draw(messages(pk)) for pk in range(100, 100 + n_msgs))
    sent = tuple(UserMessage(200 + i, draw(instants)) for i in range(draw(st.integers(0, 3))))
    epochs = [f"r{r.round_pk}" for r in rs] + [str(m.message_pk) for m in ms]
    keys = [f"thank_you:{r.round_pk}" for r in rs] + [
        f"check_in:{e}:{n}" for e in epochs for n in (1, 2)
    ]
    actions = ()
    if keys:
        actions = tuple(
            UserAction(
                draw(st.sampled_from(keys)),
                kind := draw(st.sampled_from(list(UserActionKind))),
                at := draw(instants),
                at + timedelta(hours=draw(st.integers(1, 200)))
                if kind == UserActionKind.SNOOZE
                else None,
            )
            for _ in range(draw(st.integers(0, 3)))
        )
    manual = tuple(
        ManualStatus(draw(st.sampled_from(list(Status))), draw(instants))
        for _ in range(draw(st.integers(0, 1)))
    )
    return ApplicationFacts(draw(instants), ms, sent, rs, actions, manual)


follow_rules = st.builds(
    FollowupConfig,
    thank_you_due_hours=st.sampled_from([0.5, 24, 30]),
    thank_you_overdue_hours=st.sampled_from([48, 72]),
    thank_you_expires_days=st.sampled_from([3, 7]),
    check_in_days=st.integers(1, 10),
    second_check_in_days=st.integers(1, 20),
    second_check_in_after_promise_days=st.integers(1, 10),
    promise_grace_business_days=st.integers(0, 3),
    max_check_ins=st.integers(0, 3),
    silent_after_days=st.integers(1, 30),
    workday_start=st.sampled_from(["09:00", "07:30", "22:00"]),
    quiet_hours_start=st.sampled_from(["21:00", "13:00", "00:00"]),
    quiet_hours_end=st.sampled_from(["08:00", "14:30", "00:00"]),
    holidays=st.just(("2026-11-26", "2026-12-25")),
)


def cause_time(facts: ApplicationFacts, key: str) -> datetime:
    kind, _, rest = key.partition(":")
    if kind == "thank_you":
        return next(r.end for r in facts.rounds if str(r.round_pk) == rest)
    epoch = rest.split(":")[0]
    if epoch.startswith("r"):
        return next(r.end for r in facts.rounds if f"r{r.round_pk}" == epoch)
    return next(m.at for m in facts.employer_messages if str(m.message_pk) == epoch)


@settings(max_examples=300, deadline=None)
@given(application(), instants, follow_rules, zones, st.randoms(use_true_random=False))
def test_invariants(
    facts: ApplicationFacts, now: datetime, rules: FollowupConfig, zone: str, rnd: random.Random
) -> None:
    tz = ZoneInfo(zone)
    d = derive(facts, now, rules, tz)

    # a closed application has no open follow-up
    if d.status in CLOSED_STATUSES:
        assert not d.open_followups
    # never more check-ins per epoch than the cap
    per_epoch = Counter(f.key.split(":")[1] for f in d.followups if f.key.startswith("check_in"))
    assert all(n <= rules.max_check_ins for n in per_epoch.values())
    assert len({f.key for f in d.followups}) == len(d.followups)
    for f in d.followups:
        # alerts never fall in quiet hours; nothing is due before its cause
        assert f.alert_at is not None and not cal.in_quiet_hours(f.alert_at, rules, tz)
        assert f.alert_at >= f.due
        cause = cause_time(facts, f.key)
        assert f.due > cause or (f.due == cause and rules.thank_you_due_hours == 0)
        assert cause <= now  # follow-ups exist only once their cause happened
        if f.closed_at is not None:
            assert f.closed_at <= now
        if f.state is FollowUpState.SNOOZED:
            assert any(a.kind == UserActionKind.SNOOZE for a in facts.actions)
    assert d.last_contact is None or d.last_contact <= now
    assert all(a.at <= b.at for a, b in zip(d.history, d.history[1:], strict=False))
    assert not d.history or d.history[-1].to_status == d.status

    # deterministic and independent of the order of the facts
    def shuffled(items: tuple) -> tuple:  # type: ignore[type-arg]
        items = list(items)
        rnd.shuffle(items)
        return tuple(items)

    again = ApplicationFacts(
        facts.created_at,
        shuffled(facts.employer_messages),
        shuffled(facts.user_messages),
        shuffled(facts.rounds),
        shuffled(facts.actions),
        shuffled(facts.manual_statuses),
    )
    assert derive(again, now, rules, tz) == d
    assert derive(facts, now, rules, tz) == d


@settings(max_examples=400, deadline=None)
@given(
    application(),
    instants,
    follow_rules,
    zones,
    st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_nothing_changes_before_next_change(
    facts: ApplicationFacts, now: datetime, rules: FollowupConfig, zone: str, fraction: float
) -> None:
    """Recomputing at any instant before ``next_change`` gives the same answer, so the daemon
    may leave an application alone until then."""
    tz = ZoneInfo(zone)
    d = derive(facts, now, rules, tz)
    if d.next_change is None:
        later = now + timedelta(days=400 * fraction)
    else:
        assert d.next_change > now
        # (timedelta * float rounds to the microsecond: keep strictly before next_change)
        later = min(
            now + (d.next_change - now) * fraction, d.next_change - timedelta(microseconds=1)
        )
    again = derive(facts, later, rules, tz)
    assert again.status == d.status and again.history == d.history
    assert again.followups == d.followups and again.last_contact == d.last_contact
    assert again.next_change == d.next_change
