"""The signals beside the model: invites, bulk mail, review threshold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interviewd.domain import BulkSignals, CalendarEvent, Classification, MessageClass
from interviewd.signals import combine


def model(label: str, confidence: float) -> Classification:
    rest = (1 - confidence) / 4
    scores = {c.value: rest for c in MessageClass}
    scores[label] = confidence
    return Classification(MessageClass(label), confidence, scores)


def invite(summary: str, method: str = "REQUEST", status: str = "CONFIRMED") -> CalendarEvent:
    return CalendarEvent(
        method=method,
        uid="u1",
        sequence=0,
        status=status,
        summary=summary,
        start=datetime(2026, 11, 5, 15, tzinfo=UTC),
        end=None,
        organizer=None,
    )


def test_interview_invite_makes_scheduling():
    d = combine(model("feedback", 0.55), calendar=[invite("Interview: Data Analyst")])
    assert d.classification.label is MessageClass.SCHEDULING
    assert d.classification.confidence >= 0.9
    assert d.source == "signal" and not d.classification.needs_review


def test_cancelled_interview_is_scheduling_with_reason():
    d = combine(model("other", 0.7), calendar=[invite("Phone screen", method="CANCEL")])
    assert d.classification.label is MessageClass.SCHEDULING
    assert d.reason == "interview invite cancelled"


@pytest.mark.parametrize("label", ["rejection", "offer"])
def test_rejection_and_offer_outrank_an_invite(label):
    d = combine(model(label, 0.8), calendar=[invite("Interview debrief")])
    assert d.classification.label.value == label
    assert d.source == "model"


def test_a_dentist_invite_is_not_an_interview():
    d = combine(model("other", 0.9), calendar=[invite("Dental cleaning")])
    assert d.classification.label is MessageClass.OTHER


def test_bulk_mail_outside_a_thread_loses_a_lukewarm_job_reading():
    bulk = BulkSignals(list_unsubscribe="<mailto:u@x>")
    scores = {"scheduling": 0.5, "feedback": 0.05, "rejection": 0.03, "offer": 0.02, "other": 0.4}
    lukewarm = Classification(MessageClass.SCHEDULING, 0.5, scores)
    d = combine(lukewarm, bulk=bulk)
    assert d.classification.label is MessageClass.OTHER
    assert d.reason == "bulk mail outside any known thread"
    assert abs(sum(d.classification.scores.values()) - 1) < 1e-9
    # The same message in a known thread keeps the model's reading.
    assert combine(lukewarm, bulk=bulk, in_known_thread=True).classification.label.value == (
        "scheduling"
    )


def test_bulk_mail_keeps_a_confident_rejection():
    d = combine(model("rejection", 0.95), bulk=BulkSignals(list_id="<jobs.example>"))
    assert d.classification.label is MessageClass.REJECTION


def test_low_confidence_needs_review():
    assert combine(model("feedback", 0.45), review_threshold=0.6).classification.needs_review
    assert not combine(model("feedback", 0.75), review_threshold=0.6).classification.needs_review
