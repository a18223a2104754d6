"""End-to-end scenarios of the follow-up playbook: mail in, statuses and follow-ups out.

Every scenario runs the whole pipeline on real .eml files (parser, shipped
classifier, SQLite store, matching, tracker rules) and moves the clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from interviewd.config import parse_config_text
from interviewd.service import load_classifier
from timeline import Timeline, ics, local

DANA = "Dana Whitfield <dana.whitfield@larkspurhealth.org>"
OMAR = "Omar Haddad <omar@northwind-robotics.com>"


@pytest.fixture(scope="module")
def classifier():
    return load_classifier(parse_config_text("accounts: []"))


@pytest.fixture
def tl(tmp_path, classifier):
    timeline = Timeline(tmp_path, classifier)
    yield timeline
    timeline.close()


def invite(
    tl: Timeline,
    day: int,
    hour: int = 14,
    *,
    sender: str = DANA,
    company: str = "Larkspur Health",
    role: str = "Staff Nurse",
    uid: str = "round-1",
    sequence: int = 0,
    sent_day: int = 2,
) -> str:
    start = local(2026, 11, day, hour)
    body = (
        f"Hi Sam,\n\nThank you for your interest in the {role} position at {company}. "
        f"I'd like to confirm your interview on {start:%A, %B} {day} at {hour % 12 or 12}:00 "
        f"{'PM' if hour >= 12 else 'AM'} Eastern. You will meet our nurse manager and a charge "
        "nurse; the calendar invitation is attached.\n\nBest,\nDana"
    )
    return tl.mail(
        local(2026, 11, sent_day, 10),
        sender,
        f"Interview confirmation - {role}",
        body,
        calendar=ics(
            uid, start, start + timedelta(hours=1), summary=f"Interview: {role}", sequence=sequence
        ),
    )


def test_scheduling_mail_opens_an_application_with_a_round(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    [row] = tl.board(local(2026, 11, 2, 11))
    assert (row.company, row.status) == ("Larkspur Health", "scheduled")
    assert row.round and row.round["start"].startswith("2026-11-05T19:00")


def test_thank_you_due_after_24_hours_and_overdue_after_48(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    assert tl.kinds(local(2026, 11, 5, 16), "due") == []
    assert tl.kinds(local(2026, 11, 6, 15, 30), "due") == [("Larkspur Health", "thank_you")]
    assert tl.kinds(local(2026, 11, 7, 15, 30), "overdue") == [("Larkspur Health", "thank_you")]
    assert tl.status(local(2026, 11, 5, 16), "Larkspur Health") == "interviewed"


def test_thank_you_completed_by_a_reply_after_the_round(tl):
    first = invite(tl, day=5)
    tl.sent(
        local(2026, 11, 5, 18),
        "dana.whitfield@larkspurhealth.org",
        "Thank you",
        "Dear Dana, thank you for your time today.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 5, 19))
    kinds = tl.kinds(local(2026, 11, 6, 16))
    assert ("Larkspur Health", "thank_you") not in kinds


def test_mail_sent_before_the_round_completes_nothing(tl):
    first = invite(tl, day=5)
    tl.sent(
        local(2026, 11, 3, 9),
        "dana.whitfield@larkspurhealth.org",
        "Re: Interview confirmation",
        "Thanks Dana, see you Thursday.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 3, 10))
    assert tl.kinds(local(2026, 11, 6, 16), "due") == [("Larkspur Health", "thank_you")]


def test_thank_you_to_the_company_domain_completes_it(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    tl.sent(
        local(2026, 11, 6, 8),
        "hiring@larkspurhealth.org",
        "Thank you",
        "Thank you for the interview yesterday.",
    )
    tl.sync(local(2026, 11, 6, 9))
    assert ("Larkspur Health", "thank_you") not in tl.kinds(local(2026, 11, 6, 16))


def feedback(tl: Timeline, day: int, text: str, sender: str = DANA, reply_to: str = "") -> str:
    return tl.mail(
        local(2026, 11, day, 11),
        sender,
        "Staff Nurse - update",
        f"Hi Sam,\n\n{text}\n\nBest,\nDana",
        reply_to=reply_to,
    )


def test_promised_date_sets_the_check_in_one_business_day_after(tl):
    first = invite(tl, day=5)
    feedback(
        tl,
        9,
        "Thanks again for meeting the team last week. We are finishing the last "
        "interviews and will let you know our decision by Friday, November 13.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 9, 12))
    assert tl.status(local(2026, 11, 9, 12), "Larkspur Health") == "awaiting_decision"
    due = [f for f in tl.open_followups(local(2026, 11, 16, 9, 30)) if f["kind"] == "check_in"]
    assert len(due) == 1
    assert due[0]["due"].startswith("2026-11-16T14:00")  # 09:00 in New York


def test_promise_over_a_holiday_moves_to_the_next_business_day(tmp_path, classifier):
    tl = Timeline(tmp_path, classifier, extra_config="followups: {holidays: ['2026-11-16']}\n")
    first = invite(tl, day=5)
    feedback(tl, 9, "We will let you know our decision by Friday, November 13.", reply_to=first)
    tl.sync(local(2026, 11, 9, 12))
    checkins = [f for f in tl.open_followups(local(2026, 11, 18)) if f["kind"] == "check_in"]
    assert checkins and checkins[0]["due"].startswith("2026-11-17T14:00")
    tl.close()


def test_default_check_ins_after_7_and_14_days_then_silent(tl):
    first = invite(tl, day=5)
    feedback(
        tl,
        9,
        "Thank you for interviewing with us. The team is still meeting candidates "
        "and we will be in touch.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 9, 12))
    assert ("Larkspur Health", "check_in") in tl.kinds(local(2026, 11, 16, 12), "due")
    later = tl.kinds(local(2026, 11, 23, 12))
    assert ("Larkspur Health", "second_check_in") in later
    assert tl.status(local(2026, 12, 1, 12), "Larkspur Health") == "silent"
    assert tl.kinds(local(2026, 12, 1, 12)) == []


def test_silence_is_undone_by_the_next_employer_message(tl):
    first = invite(tl, day=5)
    feedback(
        tl,
        9,
        "Thank you for interviewing with us. We are still meeting candidates and will be in touch.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 9, 12))
    assert tl.status(local(2026, 12, 2), "Larkspur Health") == "silent"
    tl.mail(
        local(2026, 12, 3, 10),
        DANA,
        "Re: Staff Nurse - update",
        "Hi Sam,\n\nApologies for the long wait. The panel liked your interview very much and "
        "we expect to make a final decision within 5 business days.\n\nDana",
        reply_to=first,
    )
    tl.sync(local(2026, 12, 3, 11))
    assert tl.status(local(2026, 12, 3, 11), "Larkspur Health") == "awaiting_decision"


def test_reschedule_by_invite_moves_the_round_and_its_clock(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    start = local(2026, 11, 10, 15)
    tl.mail(
        local(2026, 11, 3, 9),
        DANA,
        "Updated invitation: Interview: Staff Nurse",
        "Hi Sam, the nurse manager had a conflict, so we moved your interview to Tuesday "
        "November 10 at 3 PM. The updated invitation is attached.",
        calendar=ics(
            "round-1",
            start,
            start + timedelta(hours=1),
            summary="Interview: Staff Nurse",
            sequence=1,
        ),
    )
    tl.sync(local(2026, 11, 3, 10))
    [row] = tl.board(local(2026, 11, 3, 10))
    assert row.round["start"].startswith("2026-11-10T20:00")
    assert ("Larkspur Health", "thank_you") not in tl.kinds(local(2026, 11, 6, 16), "due")
    assert ("Larkspur Health", "thank_you") in tl.kinds(local(2026, 11, 11, 16), "due")


def test_cancellation_by_invite_cancels_the_round(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    start = local(2026, 11, 5, 14)
    tl.mail(
        local(2026, 11, 4, 9),
        DANA,
        "Canceled: Interview: Staff Nurse",
        "This interview has been canceled. We will reach out to find a new time.",
        calendar=ics(
            "round-1",
            start,
            start + timedelta(hours=1),
            summary="Interview: Staff Nurse",
            method="CANCEL",
            sequence=2,
        ),
    )
    tl.sync(local(2026, 11, 4, 10))
    [row] = tl.board(local(2026, 11, 6, 16))
    assert row.status != "scheduled" and row.status != "interviewed"
    assert ("Larkspur Health", "thank_you") not in tl.kinds(local(2026, 11, 6, 16))


def test_rejection_after_a_second_round_closes_everything(tl):
    first = invite(tl, day=5)
    invite(tl, day=12, uid="round-2", sent_day=9)
    tl.sync(local(2026, 11, 9, 12))
    tl.mail(
        local(2026, 11, 16, 10),
        DANA,
        "Your application",
        "Hi Sam,\n\nThank you for the time you spent with us over two rounds. After careful "
        "consideration we have decided to move forward with another candidate. We wish you "
        "the very best in your search.\n\nDana",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 16, 11))
    assert tl.status(local(2026, 11, 16, 11), "Larkspur Health") == "rejected"
    assert tl.kinds(local(2026, 11, 30)) == []


def test_offer_keeps_a_due_thank_you_and_cancels_check_ins(tl):
    first = invite(tl, day=5)
    tl.mail(
        local(2026, 11, 6, 10),
        DANA,
        "Good news",
        "Hi Sam,\n\nI'm delighted to offer you the Staff Nurse position at Larkspur Health. "
        "The written offer letter with salary and start date is attached; could we talk "
        "tomorrow to go through it?\n\nDana",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 6, 11))
    assert tl.status(local(2026, 11, 6, 11), "Larkspur Health") == "offer"
    kinds = tl.kinds(local(2026, 11, 6, 16))
    assert ("Larkspur Health", "thank_you") in kinds
    assert all(k != "check_in" for _c, k in tl.kinds(local(2026, 11, 20)))


def test_two_applications_at_one_company_are_kept_apart(tl):
    a = tl.mail(
        local(2026, 11, 2, 9),
        OMAR,
        "Interview - Data Analyst",
        "Hi Sam, thanks for applying for the Data Analyst role. Could we schedule a "
        "30-minute phone screen? Are you free Thursday at 2pm ET?",
    )
    b = tl.mail(
        local(2026, 11, 2, 10),
        "Lena Park <lena@northwind-robotics.com>",
        "Interview - Robotics Engineer",
        "Hi Sam, thanks for applying for the Robotics Engineer role. I'd like to set up "
        "a technical interview. Does Friday at 11am ET work for you?",
    )
    tl.sync(local(2026, 11, 2, 12))
    tl.mail(
        local(2026, 11, 10, 9),
        OMAR,
        "Re: Interview - Data Analyst",
        "Hi Sam, unfortunately we have decided not to move forward with your application "
        "for the Data Analyst role.",
        reply_to=a,
    )
    tl.sync(local(2026, 11, 10, 10))
    statuses = sorted(r.status for r in tl.board(local(2026, 11, 10, 10)))
    assert len(statuses) == 2 and "rejected" in statuses and statuses != ["rejected"] * 2
    assert b


def test_ats_relay_is_matched_to_its_company(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    tl.mail(
        local(2026, 11, 9, 8),
        "Larkspur Health via Greenhouse <no-reply@greenhouse.io>",
        "Update on your application",
        "Hi Sam,\n\nThank you for interviewing with Larkspur Health. Unfortunately we will "
        "not be moving forward with your candidacy for the Staff Nurse role.\n\nLarkspur "
        "Health Recruiting",
    )
    tl.sync(local(2026, 11, 9, 9))
    rows = tl.board(local(2026, 11, 9, 9))
    assert [(r.company, r.status) for r in rows] == [("Larkspur Health", "rejected")]


def test_newsletters_and_job_alerts_open_nothing(tl):
    tl.mail(
        local(2026, 11, 2, 7),
        "Hireloop Alerts <alerts@hireloop.example>",
        "12 new Data Analyst jobs near you",
        "Here are new jobs matching your alert: Data Analyst II, Reporting Analyst, "
        "BI Analyst. Unsubscribe at any time.",
    )
    tl.mail(
        local(2026, 11, 2, 8),
        "Career Weekly <news@careerweekly.example>",
        "5 ways to handle a rejection email",
        "This week: how to reply to a rejection, negotiating an offer, and the STAR method.",
    )
    tl.sync(local(2026, 11, 2, 9))
    assert tl.board(local(2026, 11, 2, 9)) == []


def test_an_employers_newsletter_is_not_attached_to_the_application(tl):
    invite(tl, day=5)
    news = tl.mail(
        local(2026, 11, 3, 7),
        "Larkspur Health News <news@larkspurhealth.org>",
        "Larkspur Health this month: our new cardiac wing",
        "Read about our new cardiac wing, the volunteer of the month and the autumn fun run.",
        headers={"List-Unsubscribe": "<https://larkspurhealth.org/unsubscribe>"},
    )
    tl.sync(local(2026, 11, 3, 8))
    [row] = tl.board(local(2026, 11, 3, 8))
    assert row.company == "Larkspur Health"
    [message] = [m for m in tl.store.recent_messages(10) if m.message_id == news]
    assert (message.label, message.application_pk) == ("other", None)


def test_job_mail_from_webmail_naming_no_company_waits_in_review(tl):
    friendly = tl.mail(
        local(2026, 11, 2, 9),
        "Jo Smith <jo.smith1987@gmail.com>",
        "Interview invitation",
        "Hi Sam,\n\nI would like to schedule a 30-minute interview with you for the Data "
        "Analyst role. Are you available on Thursday at 2pm ET? Please let me know a time "
        "that works.\n\nThanks,\nJo",
    )
    tl.sync(local(2026, 11, 2, 10))
    [message] = [m for m in tl.store.recent_messages(10) if m.message_id == friendly]
    assert message.label == "scheduling"  # the case under test: job mail by its label
    assert tl.board(local(2026, 11, 2, 10)) == []  # no application called "Jo Smith"
    assert [m.message_id for m in tl.store.review_queue()] == [friendly]
    assert message.match_reason == "no company found in this mail"


def test_quiet_hours_delay_the_alert_not_the_due_time(tl):
    invite(tl, day=5, hour=22 - 1)  # 21:00-22:00: due at 22:00 the next day, in quiet hours
    tl.sync(local(2026, 11, 2, 11))
    [f] = [f for f in tl.open_followups(local(2026, 11, 7)) if f["kind"] == "thank_you"]
    assert f["due"].startswith("2026-11-07T03:00")  # 22:00 New York
    assert f["alert_at"].startswith("2026-11-07T13:00")  # 08:00 New York


def test_promise_on_a_friday_checks_in_on_monday(tl):
    first = invite(tl, day=5)
    feedback(
        tl,
        9,
        "We expect to reach a decision by Friday, November 20, and I'll be in touch then.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 9, 12))
    due = [f for f in tl.open_followups(local(2026, 11, 24)) if f["kind"] == "check_in"]
    assert due and due[0]["due"].startswith("2026-11-23T14:00")


def test_a_new_employer_message_restarts_the_count(tl):
    first = invite(tl, day=5)
    feedback(tl, 9, "The team is still meeting candidates and we will be in touch.", reply_to=first)
    tl.sync(local(2026, 11, 9, 12))
    tl.mail(
        local(2026, 11, 18, 10),
        DANA,
        "Re: Staff Nurse - update",
        "Hi Sam, a quick note: we need one more week to decide; thanks for your patience.",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 18, 11))
    checkins = [f for f in tl.open_followups(local(2026, 11, 19)) if "check_in" in f["kind"]]
    assert checkins and all(f["due"] > "2026-11-24" for f in checkins)


def test_manual_withdrawn_closes_follow_ups(tl):
    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    [row] = tl.board(local(2026, 11, 2, 11))
    from interviewd.tracker.facts import Status

    tl.tracking.set_status(row.application_pk, Status.WITHDRAWN)
    assert tl.status(local(2026, 11, 6, 16), "Larkspur Health") == "withdrawn"
    assert tl.kinds(local(2026, 11, 6, 16)) == []


def test_interview_added_by_hand_gets_its_thank_you(tl):
    app, _round = tl.tracking.add_interview(
        "Quarry Lane Software",
        "Backend Engineer",
        local(2026, 11, 4, 10),
        None,
        ["maria@quarrylane.example"],
        "asked about the billing migration",
    )
    assert ("Quarry Lane Software", "thank_you") in tl.kinds(local(2026, 11, 5, 12), "due")
    assert tl.tracking.timeline(app)["rounds"][0]["notes"] == "asked about the billing migration"


def test_user_reply_in_thread_completes_a_due_check_in(tl):
    first = invite(tl, day=5)
    feedback(tl, 9, "The team is still meeting candidates and we will be in touch.", reply_to=first)
    tl.sync(local(2026, 11, 9, 12))
    assert ("Larkspur Health", "check_in") in tl.kinds(local(2026, 11, 17), "due")
    tl.sent(
        local(2026, 11, 17, 9),
        "dana.whitfield@larkspurhealth.org",
        "Re: Staff Nurse",
        "Hi Dana, just checking in on the timeline. Still very interested!",
        reply_to=first,
    )
    tl.sync(local(2026, 11, 17, 10))
    assert ("Larkspur Health", "check_in") not in tl.kinds(local(2026, 11, 17, 12))


def test_history_records_each_change_with_its_reason(tl):
    first = invite(tl, day=5)
    feedback(tl, 9, "We will let you know our decision by Friday, November 13.", reply_to=first)
    tl.sync(local(2026, 11, 9, 12))
    [row] = tl.board(local(2026, 11, 9, 12))
    history = tl.tracking.timeline(row.application_pk)["history"]
    statuses = [h["to"] for h in history]
    assert statuses[:1] == ["applied"] or statuses[0] in ("scheduled", "applied")
    assert "awaiting_decision" in statuses
    assert all(h["reason"] for h in history)


def test_acknowledgment_opens_an_applied_application(tl):
    tl.mail(
        local(2026, 11, 2, 7),
        "Copperleaf Careers <careers@copperleaf.example>",
        "We received your application",
        "Hi Sam,\n\nThank you for applying for the Logistics Analyst position at "
        "Copperleaf. We have received your application and our team will review it.\n\n"
        "Copperleaf Talent Team",
    )
    tl.sync(local(2026, 11, 2, 8))
    rows = tl.board(local(2026, 11, 2, 8))
    assert [(r.status) for r in rows] == ["applied"]


def test_a_label_correction_changes_the_clocks(tl):
    first = invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    feedback(tl, 9, "We will let you know our decision by Friday, November 13.", reply_to=first)
    tl.sync(local(2026, 11, 9, 12))
    message = next(m for m in tl.store.recent_messages(10) if m.subject == "Staff Nurse - update")
    tl.store.set_label(message.id, "rejection", drop_text=False)
    [row] = tl.board(local(2026, 11, 9, 12))
    tl.tracking.recompute(row.application_pk)
    assert tl.status(local(2026, 11, 9, 12), "Larkspur Health") == "rejected"


def test_pending_mail_is_tracked_in_chunks(tl, monkeypatch):
    from interviewd import applications

    monkeypatch.setattr(applications, "TRACK_CHUNK", 2)
    invite(tl, day=5)
    for n in range(4):
        tl.mail(
            local(2026, 11, 3, 9 + n),
            "Career Weekly <news@careerweekly.example>",
            f"Issue {n}",
            "This week: interview tips.",
        )
    tl.sync(local(2026, 11, 3, 14))
    assert [(r.company, r.status) for r in tl.board(local(2026, 11, 3, 14))] == [
        ("Larkspur Health", "scheduled")
    ]
    assert all(m.tracked for m in tl.store.recent_messages(10))
    assert len(tl.store.recent_messages(10)) == 5


def test_recomputing_with_nothing_new_writes_nothing(tl):
    from sqlalchemy import event, select

    from interviewd.store.models import Application

    invite(tl, day=5)
    tl.sync(local(2026, 11, 2, 11))
    tl.clock.set(local(2026, 11, 2, 11, 1))
    writes: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(tl.store.engine, "before_cursor_execute", record)
    try:
        tl.tracking.recompute_all()
    finally:
        event.remove(tl.store.engine, "before_cursor_execute", record)
    assert [w for w in writes if not w.strip().upper().startswith(("BEGIN", "COMMIT"))] == []
    # ...and when time moves a follow-up, it is written.
    tl.clock.set(local(2026, 11, 6, 16))
    tl.tracking.recompute_all()
    with tl.store.session() as s:
        [app] = s.scalars(select(Application))
        assert app.status == "interviewed"


class _Unsure:
    """The shipped model, made unsure of everything: every message needs review."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model

    def classify_many(self, items):  # type: ignore[no-untyped-def]
        from interviewd.domain import Classification, MessageClass

        return [
            Classification(MessageClass.SCHEDULING, 0.3, {"scheduling": 0.3}, needs_review=True)
            for _ in self.model.classify_many(items)
        ]


def test_unsure_labels_open_nothing_but_an_acknowledgment_still_does(tmp_path, classifier):
    tl = Timeline(tmp_path, _Unsure(classifier))
    try:
        tl.mail(
            local(2026, 11, 2, 7),
            "Copperleaf Careers <careers@copperleaf.example>",
            "We received your application",
            "Hi Sam,\n\nThank you for applying for the Logistics Analyst position at "
            "Copperleaf. We have received your application and our team will review it.",
        )
        tl.mail(
            local(2026, 11, 2, 9),
            "Omar Haddad <omar@northwind-robotics.com>",
            "Quick question",
            "Hi Sam, are you free for a call on Thursday at 2pm ET?",
        )
        tl.sync(local(2026, 11, 2, 10))
        assert [r.company for r in tl.board(local(2026, 11, 2, 10))] == ["Copperleaf"]
        assert len(tl.store.review_queue()) == 2
    finally:
        tl.close()


def test_the_minute_tick_recomputes_only_what_time_has_changed(tl):
    invite(tl, day=5)  # a round on 5 November, 14:00-15:00
    tl.mail(
        local(2026, 11, 2, 9),
        "Omar Haddad <omar@northwind-robotics.com>",
        "Your application - Data Analyst",
        "Hi Sam, after careful consideration we have decided to move forward with other "
        "candidates for the Data Analyst role.",
    )
    tl.sync(local(2026, 11, 2, 11))
    assert tl.status(local(2026, 11, 2, 11), "Northwind Robotics") == "rejected"
    tl.clock.set(local(2026, 11, 3, 9))
    assert tl.tracking.recompute_due() == 0  # nothing happens before the round
    tl.clock.set(local(2026, 11, 5, 14, 30))
    assert tl.tracking.recompute_due() == 1  # the round started: Larkspur only
    tl.clock.set(local(2026, 11, 5, 15, 1))
    assert tl.tracking.recompute_due() == 1  # ...and ended
    with tl.store.session() as s:
        from sqlalchemy import select

        from interviewd.store.models import Application, Company

        rows = dict(
            s.execute(
                select(Company.name, Application.status).join(
                    Company, Company.id == Application.company_pk
                )
            ).all()
        )
    assert rows["Larkspur Health"] == "interviewed"
