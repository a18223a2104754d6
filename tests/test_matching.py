"""Matching a message to its application: thread, contact, domain, ATS relay, role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interviewd.tracker.matching import (
    ApplicationInfo,
    CompanyInfo,
    Known,
    MessageInfo,
    company_domain,
    match_message,
    relay_company,
    role_in,
)

ACME = CompanyInfo(1, "Acme Robotics", ("acmerobotics.com",), ("Acme",))
LARK = CompanyInfo(2, "Larkspur Health", ("larkspurhealth.org",))


def app(pk: int, company: CompanyInfo, role: str, day: int, is_open: bool = True):
    return ApplicationInfo(pk, company, role, is_open, datetime(2026, 11, day, tzinfo=UTC))


def msg(
    frm: str = "x@example.org",
    name: str = "",
    subject: str = "",
    text: str = "",
    thread: tuple[str, ...] = (),
    from_user: bool = False,
    to: tuple[str, ...] = (),
):
    return MessageInfo(1, frm, name, to or (frm,), subject, text, thread, from_user)


KNOWN = Known(
    applications=[app(10, ACME, "Data Analyst", 1), app(20, LARK, "Staff Nurse", 2)],
    thread={"t1@acmerobotics.com": 10},
    contacts={"dana@larkspurhealth.org": 20},
)


def test_thread_wins_over_everything():
    m = match_message(msg("dana@larkspurhealth.org", thread=("t1@acmerobotics.com",)), KNOWN)
    assert (m.application_pk, m.certain, m.reason, m.by_thread) == (10, True, "same thread", True)
    assert not match_message(msg("dana@larkspurhealth.org"), KNOWN).by_thread


def test_known_contact():
    m = match_message(msg("dana@larkspurhealth.org"), KNOWN)
    assert (m.application_pk, m.certain) == (20, True)


def test_company_domain_including_subdomains():
    assert match_message(msg("talent@mail.acmerobotics.com"), KNOWN).application_pk == 10


def test_webmail_never_identifies_a_company():
    m = match_message(msg("someone@gmail.com"), KNOWN)
    assert m.application_pk is None and m.company_domain == ""


def test_ats_relay_display_name():
    m = match_message(msg("no-reply@greenhouse.io", "Acme Robotics via Greenhouse"), KNOWN)
    assert (m.application_pk, m.reason) == (10, "sent on behalf of Acme Robotics")


def test_a_relay_naming_an_unknown_company_is_a_new_application():
    # The role matches Acme's application, but the relay says whose mail this is.
    m = match_message(
        msg(
            "no-reply@greenhouse-mail.io",
            "Granite Labs Recruiting",
            subject="Thank you for applying to Granite Labs",
            text="Thank you for applying for the Data Analyst position at Granite Labs.",
        ),
        KNOWN,
    )
    assert (m.application_pk, m.company_name, m.role) == (None, "Granite Labs", "Data Analyst")


def test_company_named_in_the_text():
    m = match_message(
        msg(
            "noreply@hirebridge.com",
            "Notifications",
            text="Thanks for interviewing with Larkspur Health.",
        ),
        KNOWN,
    )
    assert m.application_pk == 20


def test_two_open_applications_at_one_company_are_kept_apart_by_role():
    known = Known(applications=[app(1, ACME, "Data Analyst", 1), app(2, ACME, "Data Engineer", 5)])
    m = match_message(
        msg("hr@acmerobotics.com", text="Thank you for applying for the Data Analyst role."), known
    )
    assert (m.application_pk, m.certain) == (1, True)
    vague = match_message(msg("hr@acmerobotics.com", text="Quick update from us."), known)
    assert (vague.application_pk, vague.certain) == (2, False)  # the latest, for review


def test_no_match_proposes_a_new_application():
    m = match_message(
        msg("jo@bluefin-health.com", subject="Interview for the Staff Nurse position"), KNOWN
    )
    assert m.application_pk is None
    assert (m.company_name, m.company_domain, m.role) == (
        "Bluefin Health",
        "bluefin-health.com",
        "Staff Nurse",
    )


def test_users_own_mail_is_matched_by_its_recipients():
    m = match_message(msg("me@gmail.com", to=("dana@larkspurhealth.org",), from_user=True), KNOWN)
    assert m.application_pk == 20


def test_helpers():
    assert company_domain("a@myworkdayjobs.com") == ""
    assert company_domain("a@Acme.co.uk") == "acme.co.uk"
    assert relay_company("Acme Robotics via Greenhouse") == "Acme Robotics"
    assert relay_company("Acme Robotics Careers") == "Acme Robotics"
    assert relay_company("Dana Whitfield") == ""
    assert role_in("Interview for the Senior Data Analyst role", "") == "Senior Data Analyst"


@pytest.mark.parametrize(
    ("subject", "text", "role"),
    [
        ("Application received: Data Engineer", "", "Data Engineer"),
        ("Interview invitation - Data Engineer", "", "Data Engineer"),
        (
            "Offer - Backend Engineer, Platform at Northwind Robotics",
            "",
            "Backend Engineer, Platform",
        ),
        ("Interview confirmation - Staff Nurse", "", "Staff Nurse"),
        (
            "Quick question",
            "Thank you for applying for the Data Analyst position at Acme.",
            "Data Analyst",
        ),
        ("Re: Your application to Quillstone", "Thanks for your application to Quillstone.", ""),
    ],
)
def test_role_named_in_subject_or_text(subject, text, role):
    assert role_in(subject, text) == role


def test_company_name_as_the_mail_spells_it():
    from interviewd.tracker.matching import company_name_in_text

    assert company_name_in_text("larkspurhealth.org", "Thanks from Larkspur Health.") == (
        "Larkspur Health"
    )
    assert company_name_in_text("acme.co.uk", "Nothing here") == ""
