"""Scenario tests of the tracker's rules (tracker/rules.py: derive)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from interviewd.config.schema import FollowupConfig
from interviewd.domain import MessageClass
from interviewd.tracker.facts import (
    ApplicationFacts,
    Derived,
    EmployerMessage,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    ManualStatus,
    Round,
    Status,
    UserAction,
    UserActionKind,
    UserMessage,
)
from interviewd.tracker.rules import derive

NY = ZoneInfo("America/New_York")
RULES = FollowupConfig()
P, DONE, CANCELLED = FollowUpState.PENDING, FollowUpState.DONE, FollowUpState.CANCELLED


def t(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    """A local New York time in 2026 (November unless said)."""
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def round_(pk: int, day: int, hour: int = 14, booked: int = 1, month: int = 11) -> Round:
    return Round(pk, t(day, hour, month=month), t(day, hour + 1, month=month), t(booked, 9))


def msg(pk: int, at: datetime, label: MessageClass, **kw: object) -> EmployerMessage:
    return EmployerMessage(pk, at, label, **kw)  # type: ignore[arg-type]


def facts(**kw: object) -> ApplicationFacts:
    kw.setdefault("created_at", t(1, 8, month=10))
    return ApplicationFacts(**kw)  # type: ignore[arg-type]


def get(d: Derived, key: str) -> FollowUp:
    found = [f for f in d.followups if f.key == key]
    assert found, f"{key} not in {[f.key for f in d.followups]}"
    return found[0]


def keys(d: Derived) -> list[str]:
    return [f.key for f in d.followups]


ONE_ROUND = facts(rounds=(round_(1, 9),))  # Monday 9 Nov 14:00-15:00


def test_thank_you_due_overdue_expired() -> None:
    assert "thank_you:1" not in keys(derive(ONE_ROUND, t(9, 14, 30), RULES, NY))
    d = derive(ONE_ROUND, t(9, 16), RULES, NY)
    ty = get(d, "thank_you:1")
    assert (ty.kind, ty.state, ty.round_pk) == (FollowUpKind.THANK_YOU, P, 1)
    assert ty.due == utc(t(10, 15)) and ty.overdue == utc(t(11, 15))
    assert ty.expires == utc(t(16, 15))
    assert d.status is Status.INTERVIEWED and d.last_contact == utc(t(9, 15))
    late = get(derive(ONE_ROUND, t(17), RULES, NY), "thank_you:1")
    assert late.state is FollowUpState.EXPIRED and late.closed_at == utc(t(16, 15))


def test_thank_you_alert_waits_for_quiet_hours_to_end() -> None:
    evening = facts(rounds=(Round(1, t(9, 21), t(9, 22), t(1, 9)),))
    ty = get(derive(evening, t(10, 23), RULES, NY), "thank_you:1")
    assert ty.due == utc(t(10, 22)) and ty.alert_at == utc(t(11, 8))


def test_thank_you_completed_by_a_reply_sent_after_the_round() -> None:
    for sent in (t(9, 18), t(10, 20)):  # before it is due (the note is sent) and when due
        f = dataclasses.replace(ONE_ROUND, user_messages=(UserMessage(77, sent),))
        ty = get(derive(f, t(12), RULES, NY), "thank_you:1")
        assert (ty.state, ty.closed_by_message_pk, ty.closed_at) == (DONE, 77, utc(sent))


def test_mail_sent_before_the_round_ended_completes_nothing() -> None:
    f = dataclasses.replace(ONE_ROUND, user_messages=(UserMessage(77, t(9, 14, 30)),))
    assert get(derive(f, t(10, 16), RULES, NY), "thank_you:1").state is P


def test_default_check_ins_and_the_cap() -> None:
    d = derive(ONE_ROUND, t(29), RULES, NY)
    first, second = get(d, "check_in:r1:1"), get(d, "check_in:r1:2")
    assert first.due == utc(t(16, 15)) and first.kind is FollowUpKind.CHECK_IN
    assert first.state is CANCELLED and first.closed_at == second.due  # replaced
    assert second.due == utc(t(23, 15)) and second.state is P
    assert second.kind is FollowUpKind.SECOND_CHECK_IN
    assert not any(k.startswith("check_in:") and k.endswith(":3") for k in keys(d))
    one = derive(ONE_ROUND, t(29), dataclasses.replace(RULES, max_check_ins=1), NY)
    assert [k for k in keys(one) if k.startswith("check_in")] == ["check_in:r1:1"]


def test_next_check_in_is_listed_ahead_but_not_due() -> None:
    d = derive(ONE_ROUND, t(12), RULES, NY)
    ahead = get(d, "check_in:r1:1")
    assert ahead.state is P and ahead.due > utc(t(12))
    assert "check_in:r1:2" not in keys(d)


def test_check_in_not_done_by_mail_sent_before_it_was_due() -> None:
    f = dataclasses.replace(ONE_ROUND, user_messages=(UserMessage(5, t(12)),))
    d = derive(f, t(17), RULES, NY)
    assert get(d, "thank_you:1").state is DONE
    assert get(d, "check_in:r1:1").state is P
    f2 = dataclasses.replace(ONE_ROUND, user_messages=(UserMessage(6, t(16, 17)),))
    ci = get(derive(f2, t(17), RULES, NY), "check_in:r1:1")
    assert (ci.state, ci.closed_by_message_pk) == (DONE, 6)


def test_promised_date_over_a_weekend_and_a_holiday() -> None:
    # feedback on Tuesday 17 Nov promising news by Friday 20 Nov
    fb = msg(3, t(17), MessageClass.FEEDBACK, promised=date(2026, 11, 20))
    f = dataclasses.replace(ONE_ROUND, employer_messages=(fb,))
    d = derive(f, t(24, 12), RULES, NY)
    assert d.status is Status.AWAITING_DECISION
    assert get(d, "check_in:3:1").due == utc(t(23, 9))  # Monday, start of the workday
    change = d.history[-1]
    assert change.message_pk == 3
    assert (
        change.reason == "feedback from the employer on 2026-11-17: decision promised by 2026-11-20"
    )
    holiday = dataclasses.replace(RULES, holidays=("2026-11-23",))
    d2 = derive(f, t(30, 12), holiday, NY)
    assert get(d2, "check_in:3:1").due == utc(t(24, 9))
    assert get(d2, "check_in:3:2").due == utc(t(1, 9, month=12))  # 7 days after the first


def test_a_promise_already_past_is_ignored() -> None:
    fb = msg(3, t(17), MessageClass.FEEDBACK, promised=date(2026, 11, 2))
    f = dataclasses.replace(ONE_ROUND, employer_messages=(fb,))
    assert get(derive(f, t(25), RULES, NY), "check_in:3:1").due == utc(t(24, 10))


def test_silence_and_its_undoing() -> None:
    d = derive(ONE_ROUND, t(1, 12, month=12), RULES, NY)
    assert d.status is Status.SILENT
    assert d.history[-1].at == utc(t(30, 15)) and "not a rejection" in d.history[-1].reason
    assert not d.open_followups
    fb = msg(9, t(2, 10, month=12), MessageClass.FEEDBACK)
    d2 = derive(dataclasses.replace(ONE_ROUND, employer_messages=(fb,)), t(3, month=12), RULES, NY)
    assert d2.status is Status.AWAITING_DECISION
    assert (d2.history[-1].from_status, d2.history[-1].message_pk) == (Status.SILENT, 9)
    assert d2.last_contact == utc(t(2, 10, month=12))
    assert get(d2, "check_in:9:1").due == utc(t(9, 10, month=12))


def test_other_mail_never_moves_a_clock() -> None:
    ack = msg(4, t(12), MessageClass.OTHER)
    d = derive(dataclasses.replace(ONE_ROUND, employer_messages=(ack,)), t(17), RULES, NY)
    assert d.last_contact == utc(t(9, 15)) and "check_in:r1:1" in keys(d)


def test_no_check_in_while_a_round_is_upcoming() -> None:
    sched = msg(2, t(2), MessageClass.SCHEDULING)
    f = facts(employer_messages=(sched,), rounds=(round_(1, 20, booked=2),))
    d = derive(f, t(19), RULES, NY)
    assert d.status is Status.SCHEDULED
    assert not any(k.startswith("check_in") for k in keys(d))


def test_reschedule_moves_the_clocks() -> None:
    moved = facts(rounds=(Round(1, t(12, 14), t(12, 15), t(1, 9)),))
    d = derive(moved, t(10, 16), RULES, NY)
    assert d.status is Status.SCHEDULED and "thank_you:1" not in keys(d)
    ty = get(derive(moved, t(13, 9), RULES, NY), "thank_you:1")
    assert ty.due == utc(t(13, 15))


def test_cancelled_round_goes_back_to_the_previous_status() -> None:
    fb = msg(1, t(3), MessageClass.FEEDBACK)
    sched = msg(2, t(5), MessageClass.SCHEDULING)
    rnd = Round(7, t(12, 14), t(12, 15), t(5), cancelled_at=t(10))
    f = facts(rounds=(round_(1, 2),), employer_messages=(fb, sched), user_messages=())
    f = dataclasses.replace(f, rounds=(*f.rounds, rnd))
    d = derive(f, t(13), RULES, NY)
    assert d.status is Status.AWAITING_DECISION
    assert [h.to_status for h in d.history][-3:] == [
        Status.AWAITING_DECISION,
        Status.SCHEDULED,
        Status.AWAITING_DECISION,
    ]
    assert "cancelled" in d.history[-1].reason
    assert "thank_you:7" not in keys(d)
    assert d.last_contact == utc(t(5))


def test_round_cancelled_after_it_ended_cancels_its_thank_you() -> None:
    rnd = Round(1, t(9, 14), t(9, 15), t(1), cancelled_at=t(9, 18))
    ty = get(derive(facts(rounds=(rnd,)), t(10), RULES, NY), "thank_you:1")
    assert (ty.state, ty.closed_at) == (CANCELLED, utc(t(9, 18)))


def test_rejection_after_a_second_round_closes_everything() -> None:
    f = facts(
        rounds=(round_(1, 2), round_(2, 9, booked=4)),
        employer_messages=(
            msg(1, t(4), MessageClass.SCHEDULING),
            msg(2, t(10, 9), MessageClass.REJECTION),
        ),
    )
    d = derive(f, t(20), RULES, NY)
    assert d.status is Status.REJECTED and d.history[-1].message_pk == 2
    assert not d.open_followups
    assert get(d, "thank_you:2").state is CANCELLED
    assert get(d, "thank_you:2").closed_at == utc(t(10, 9))
    assert not any(k.startswith("check_in:2:") or k.startswith("check_in:r2") for k in keys(d))


def test_offer_keeps_a_due_thank_you_and_cancels_check_ins() -> None:
    rules = dataclasses.replace(RULES, check_in_days=3, thank_you_expires_days=10)
    f = dataclasses.replace(ONE_ROUND, employer_messages=(msg(8, t(13), MessageClass.OFFER),))
    d = derive(f, t(13, 12), rules, NY)
    assert d.status is Status.OFFER
    assert get(d, "thank_you:1").state is P
    ci = get(d, "check_in:r1:1")
    assert (ci.state, ci.closed_at) == (CANCELLED, utc(t(13)))
    assert not any(k.startswith("check_in:8") for k in keys(d))


def test_manual_withdrawn_stays_closed_until_a_new_round() -> None:
    f = dataclasses.replace(
        ONE_ROUND,
        manual_statuses=(ManualStatus(Status.WITHDRAWN, t(10)),),
        employer_messages=(msg(1, t(12), MessageClass.FEEDBACK),),
    )
    d = derive(f, t(20), RULES, NY)
    assert d.status is Status.WITHDRAWN and not d.open_followups
    assert get(d, "thank_you:1").state is CANCELLED
    later = dataclasses.replace(
        f,
        employer_messages=(*f.employer_messages, msg(2, t(21), MessageClass.SCHEDULING)),
        rounds=(*f.rounds, round_(2, 25, booked=21)),
    )
    assert derive(later, t(22), RULES, NY).status is Status.SCHEDULED


def test_open_manual_status_lasts_until_the_next_employer_message() -> None:
    f = dataclasses.replace(ONE_ROUND, manual_statuses=(ManualStatus(Status.ADVANCING, t(10)),))
    assert derive(f, t(11), RULES, NY).status is Status.ADVANCING
    f2 = dataclasses.replace(f, employer_messages=(msg(1, t(12), MessageClass.FEEDBACK),))
    assert derive(f2, t(13), RULES, NY).status is Status.AWAITING_DECISION


def test_snooze_dismiss_done() -> None:
    key = "check_in:r1:1"  # due Monday 16 Nov 15:00
    snooze = UserAction(key, UserActionKind.SNOOZE, t(16, 16), until=t(17, 23))
    f = dataclasses.replace(ONE_ROUND, actions=(snooze,))
    ci = get(derive(f, t(17, 12), RULES, NY), key)
    assert ci.state is FollowUpState.SNOOZED and ci.alert_at == utc(t(18, 8))
    ci = get(derive(f, t(18, 9), RULES, NY), key)
    assert ci.state is P and ci.alert_at == utc(t(18, 8))
    for kind, state in (
        (UserActionKind.DISMISS, FollowUpState.DISMISSED),
        (UserActionKind.DONE, DONE),
    ):
        f2 = dataclasses.replace(ONE_ROUND, actions=(UserAction(key, kind, t(16, 17)),))
        ci = get(derive(f2, t(17), RULES, NY), key)
        assert (ci.state, ci.closed_at) == (state, utc(t(16, 17)))


def test_days_keep_the_local_clock_across_dst() -> None:
    f = facts(rounds=(Round(1, t(29, 14, month=10), t(29, 15, month=10), t(20, month=10)),))
    d = derive(f, t(6, 16), RULES, NY)
    ci = get(d, "check_in:r1:1")
    assert ci.due.astimezone(NY).hour == 15 and ci.due == utc(t(5, 15))
    ty = get(d, "thank_you:1")
    assert ty.expires == utc(t(5, 15))  # 7 calendar days: same clock time
    assert ty.due == utc(t(30, 15, month=10))


def test_facts_in_any_order_give_the_same_result() -> None:
    msgs = (msg(1, t(3), MessageClass.FEEDBACK), msg(2, t(5), MessageClass.SCHEDULING))
    a = facts(rounds=(round_(1, 2), round_(2, 12, booked=5)), employer_messages=msgs)
    b = facts(rounds=(round_(2, 12, booked=5), round_(1, 2)), employer_messages=msgs[::-1])
    assert derive(a, t(30), RULES, NY) == derive(b, t(30), RULES, NY)
