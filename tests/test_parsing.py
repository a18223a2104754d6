"""Tests for interviewd.parsing.parse_message. Messages are built with EmailMessage, no network."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interviewd.domain import Address, ParsedMessage
from interviewd.errors import ParseError
from interviewd.parsing import parse_message

SAM = "Sam Rivera <sam.rivera@example.net>"


def make(
    body: str = "Hi Sam,\n\nThanks for applying.\n",
    *,
    subject: str = "Your application",
    sender: str = "Jane Doe <Jane.Doe@Acme.example>",
    date: str | None = "Tue, 06 Oct 2026 10:00:00 +0200",
    message_id: str | None = "<app-1@acme.example>",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SAM
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    if message_id is not None:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def parse(msg: EmailMessage | bytes, **kwargs: int) -> ParsedMessage:
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return parse_message(raw, **kwargs)


ICS_REQUEST = """BEGIN:VCALENDAR
PRODID:-//Acme//Interviews//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:interview-42@acme.example
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Interview: Sam Rivera / Acme
DTSTART;TZID=Europe/Berlin:20261008T140000
DTEND;TZID=Europe/Berlin:20261008T150000
ORGANIZER;CN="Doe, Jane":mailto:Jane.Doe@Acme.example
ATTENDEE;CN=Sam Rivera;ROLE=REQ-PARTICIPANT:mailto:sam.rivera@example.net
ATTENDEE;CN=Lee Park:MAILTO:lee@acme.example
LOCATION:Video call
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")

ICS_CANCEL = """BEGIN:VCALENDAR
VERSION:2.0
METHOD:CANCEL
BEGIN:VEVENT
UID:interview-42@acme.example
SEQUENCE:2
STATUS:CANCELLED
SUMMARY:Interview: Sam Rivera / Acme
DTSTART:20261008T120000Z
DTEND:20261008T130000Z
ORGANIZER:mailto:jane.doe@acme.example
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


# ---------------------------------------------------------------------------------------------
# Basics
# ---------------------------------------------------------------------------------------------


def test_plain_message_fills_every_field() -> None:
    msg = make(
        "Hi Sam,\n\nThanks for applying to Acme. We will be in touch.\n",
        Cc="Lee Park <LEE@acme.example>",
        Reply_To="jobs@acme.example",
    )
    raw = msg.as_bytes()
    p = parse_message(raw)
    assert p.message_id == "app-1@acme.example"
    assert p.subject == "Your application"
    assert p.sender == Address("Jane Doe", "jane.doe@acme.example")
    assert p.to == (Address("Sam Rivera", "sam.rivera@example.net"),)
    assert p.cc == (Address("Lee Park", "lee@acme.example"),)
    assert p.reply_to == (Address("", "jobs@acme.example"),)
    assert p.date == datetime(2026, 10, 6, 8, 0, tzinfo=UTC)
    assert p.text == "Hi Sam,\n\nThanks for applying to Acme. We will be in touch.\n"
    assert p.new_text == p.text.strip()
    assert (p.quoted_text, p.signature, p.calendar) == ("", "", ())
    assert p.content_hash == hashlib.sha256(raw).hexdigest()
    assert p.size == len(raw)
    assert p.identity == "mid:app-1@acme.example"
    assert not p.bulk.is_bulk
    assert p.defects == ()


def test_html_only_message_is_made_readable() -> None:
    msg = make()
    msg.set_content(
        "<html><head><style>.x{color:red}</style><script>var a=1;</script></head>"
        "<body><p>Hi Sam,</p><p>We would like to <b>invite</b> you&nbsp;to interview.</p>"
        "<script>track()</script></body></html>",
        subtype="html",
    )
    p = parse(msg)
    assert p.text == "Hi Sam,\n\nWe would like to invite you to interview."
    assert "color" not in p.text and "track" not in p.text


def test_multipart_alternative_uses_plain_part() -> None:
    msg = make("Plain version of the invite.")
    msg.add_alternative("<p>HTML version of the invite.</p>", subtype="html")
    assert parse(msg).text.strip() == "Plain version of the invite."


def test_blank_plain_part_falls_back_to_html() -> None:
    msg = make(" \n")
    msg.add_alternative("<p>Only the HTML has words.</p>", subtype="html")
    assert parse(msg).text == "Only the HTML has words."


def test_rfc2047_display_names_and_subject() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Northwind.example>\r\n"
        b'To: "Rivera, Sam" <SAM.RIVERA@example.net>, =?iso-8859-1?q?Ren=E9?= <rene@x.example>\r\n'
        b"Subject: =?utf-8?q?Entretien_pr=C3=A9vu?= =?utf-8?q?_demain?= at 10\r\n"
        b"Date: Tue, 06 Oct 2026 10:00:00 +0000\r\n"
        b"Message-ID: <x@y>\r\n\r\nbody\r\n"
    )
    p = parse(raw)
    assert p.sender == Address("Jörg Müller", "joerg@northwind.example")
    assert p.to == (
        Address("Rivera, Sam", "sam.rivera@example.net"),
        Address("René", "rene@x.example"),
    )
    assert p.subject == "Entretien prévu demain at 10"


def test_raw_utf8_header_bytes_are_decoded() -> None:
    raw = "From: Zoë <zoe@x.example>\r\nSubject: Café réunion\r\n\r\nhi\r\n".encode()
    p = parse(raw)
    assert p.subject == "Café réunion"
    assert p.sender is not None and p.sender.email == "zoe@x.example"


def test_folded_subject_is_one_line() -> None:
    raw = b"From: a@b.example\r\nSubject: Interview\r\n  next week\r\n\r\nbody\r\n"
    assert parse(raw).subject == "Interview next week"


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def test_missing_date() -> None:
    p = parse(make(date=None))
    assert p.date is None
    assert "no Date header" in p.defects


def test_unparseable_date() -> None:
    p = parse(make(date="sometime next week"))
    assert p.date is None
    assert any("unparseable Date" in d for d in p.defects)


def test_date_without_zone_is_utc() -> None:
    # Raw bytes: EmailMessage would "fix" the header by appending -0000.
    p = parse(b"From: a@b.example\r\nDate: Tue, 06 Oct 2026 10:00:00\r\n\r\nbody\r\n")
    assert p.date == datetime(2026, 10, 6, 10, 0, tzinfo=UTC)
    assert any("no time zone" in d for d in p.defects)


def test_date_is_timezone_aware_utc() -> None:
    p = parse(make(date="Mon, 05 Oct 2026 17:30:00 -0700"))
    assert p.date == datetime(2026, 10, 6, 0, 30, tzinfo=UTC)
    assert p.date is not None and p.date.utcoffset() is not None


# ---------------------------------------------------------------------------------------------
# Threading and bulk signals
# ---------------------------------------------------------------------------------------------


def test_threading_headers() -> None:
    raw = (
        b"From: Jane <jane@acme.example>\r\nSubject: Re: Your application\r\n"
        b"Message-ID:   <reply-2@acme.example>  \r\n"
        b"In-Reply-To: <sent-1@example.net> (Sam's message)\r\n"
        b"References: <app-1@acme.example>\r\n <sent-1@example.net> <sent-1@example.net>\r\n"
        b"\r\nSee you then.\r\n"
    )
    p = parse(raw)
    assert p.message_id == "reply-2@acme.example"
    assert p.in_reply_to == "sent-1@example.net"
    assert p.references == ("app-1@acme.example", "sent-1@example.net")


def test_missing_message_id_uses_content_hash_identity() -> None:
    p = parse(make(message_id=None))
    assert p.message_id == ""
    assert p.identity == f"sha:{p.content_hash}"
    assert "no Message-ID header" in p.defects


def test_bulk_signals() -> None:
    p = parse(
        make(
            List_Id="Job Alerts <alerts.jobboard.example>",
            List_Unsubscribe="<https://jobboard.example/u/123>, <mailto:u@jobboard.example>",
            Auto_Submitted="auto-generated",
            Precedence="bulk",
        )
    )
    assert p.bulk.list_id == "Job Alerts <alerts.jobboard.example>"
    assert p.bulk.list_unsubscribe.startswith("<https://jobboard.example/u/123>")
    assert p.bulk.auto_submitted == "auto-generated"
    assert p.bulk.precedence == "bulk"
    assert p.bulk.is_bulk


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


def test_calendar_request_inline_and_attached_is_one_event() -> None:
    msg = make("Please find the invitation below.")
    msg.add_alternative(ICS_REQUEST, subtype="calendar", params={"method": "REQUEST"})
    msg.add_attachment(
        ICS_REQUEST.encode(), maintype="application", subtype="ics", filename="invite.ics"
    )
    p = parse(msg)
    assert len(p.calendar) == 1
    ev = p.calendar[0]
    assert ev.method == "REQUEST"
    assert ev.uid == "interview-42@acme.example"
    assert ev.sequence == 0
    assert ev.status == "CONFIRMED"
    assert ev.summary == "Interview: Sam Rivera / Acme"
    assert ev.start == datetime(2026, 10, 8, 12, 0, tzinfo=UTC)  # 14:00 Berlin (CEST)
    assert ev.end == datetime(2026, 10, 8, 13, 0, tzinfo=UTC)
    assert ev.organizer == Address("Doe, Jane", "jane.doe@acme.example")
    assert ev.attendees == (
        Address("Sam Rivera", "sam.rivera@example.net"),
        Address("Lee Park", "lee@acme.example"),
    )
    assert ev.location == "Video call"
    assert p.defects == ()


def test_calendar_cancel_with_sequence() -> None:
    msg = make("The interview is cancelled.")
    msg.add_attachment(
        ICS_CANCEL.encode(), maintype="text", subtype="calendar", filename="cancel.ics"
    )
    (ev,) = parse(msg).calendar
    assert (ev.method, ev.sequence, ev.status) == ("CANCEL", 2, "CANCELLED")
    assert ev.organizer == Address("", "jane.doe@acme.example")
    assert ev.attendees == ()


def test_calendar_method_from_part_parameter_floating_and_all_day() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        "DTSTART:20261012T093000\r\nDURATION:PT45M\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nSEQUENCE:x\r\nDTSTART;VALUE=DATE:20261013\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    msg = make("Two events.")
    msg.add_alternative(ics, subtype="calendar", params={"method": "publish"})
    first, second = parse(msg).calendar
    assert first.method == "PUBLISH"
    assert first.start == datetime(2026, 10, 12, 9, 30, tzinfo=UTC)
    assert first.end == datetime(2026, 10, 12, 10, 15, tzinfo=UTC)
    assert second.start == datetime(2026, 10, 13, tzinfo=UTC)
    assert (second.end, second.sequence, second.organizer) == (None, 0, None)


def test_ics_attachment_that_is_not_a_calendar_is_a_defect() -> None:
    msg = make("See attached.")
    msg.add_attachment(
        b"this is not a calendar",
        maintype="application",
        subtype="octet-stream",
        filename="invite.ics",
    )
    p = parse(msg)
    assert p.calendar == ()
    assert any("not a valid iCalendar" in d for d in p.defects)
    assert p.new_text == "See attached."


# ---------------------------------------------------------------------------------------------
# Damaged input
# ---------------------------------------------------------------------------------------------


def test_invalid_charset_is_a_defect_not_an_error() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-bogus\r\n\r\n"
        b"caf\xc3\xa9 tomorrow\r\n"
    )
    p = parse(raw)
    assert "café tomorrow" in p.text
    assert any("CharsetDecodeDefect" in d for d in p.defects)


def test_broken_base64_is_a_defect_not_an_error() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gV29ybGQ!!!*\r\n"
    )
    p = parse(raw)
    assert p.text.startswith("Hello World")
    assert any("Base64" in d for d in p.defects)


def test_missing_from_header() -> None:
    p = parse(b"Subject: orphan\r\n\r\nbody\r\n")
    assert p.sender is None
    assert "no From header" in p.defects


def test_nul_bytes_never_reach_the_text() -> None:
    p = parse(b"From: a@b.example\r\nSubject: a\x00b\r\n\r\nbo\x00dy\r\n")
    assert "\x00" not in p.text + p.subject


def test_missing_start_and_close_boundaries_do_not_crash() -> None:
    # mail-parser 4.8 itself raises AttributeError on this one; parse_message repairs it.
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\n"
        b'Content-Type: multipart/alternative; boundary="inner-declared"\r\n\r\n'
        b"--inner-actual\r\nContent-Type: text/plain\r\n\r\nhello\r\n--inner-actual--\r\n"
        b"--outer\r\nContent-Type: text/plain\r\n\r\nsecond part text\r\n"
    )
    p = parse(raw)
    assert p.text == "second part text"
    assert "parsed again after MIME repair" in p.defects[0]
    assert any("StartBoundaryNotFoundDefect" in d for d in p.defects)


def test_charset_that_is_not_a_codec_name_does_not_crash() -> None:
    # A NUL in the charset makes bytes.decode raise ValueError, which mail-parser lets through.
    raw = (
        b"From: a@b.example\r\nSubject: x\r\n"
        b'Content-Type: text/plain; charset=\x00"utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nhello there\r\n"
    )
    p = parse(raw)
    assert p.text.strip() == "hello there"
    assert "parsed again after MIME repair" in p.defects[0]


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"hello world, not a mail", b"\n\nbody"])
def test_not_an_email_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_message(raw)


def test_huge_body_is_capped() -> None:
    p = parse(make("word " * 50_000), max_body_chars=10_000)
    assert len(p.text) == 10_000
    assert any("truncated" in d for d in p.defects)


def test_huge_html_body_is_capped() -> None:
    msg = make()
    msg.set_content("<p>" + "word " * 100_000 + "</p>", subtype="html")
    p = parse(msg, max_body_chars=1_000)
    assert len(p.text) == 1_000


# ---------------------------------------------------------------------------------------------
# Body splitting through the parser
# ---------------------------------------------------------------------------------------------


def test_gmail_reply_is_split() -> None:
    body = (
        "Hi Sam,\n\nThursday at 2pm is confirmed.\n\nBest,\nJane Doe\nRecruiter | Acme\n"
        "+1 555 010 2233\n\n"
        "On Mon, Oct 5, 2026 at 9:00 AM Sam Rivera <sam.rivera@example.net> wrote:\n"
        "> Hi Jane,\n> Does Thursday work?\n"
    )
    p = parse(make(body))
    assert p.new_text == "Hi Sam,\n\nThursday at 2pm is confirmed.\n\nBest,\nJane Doe"
    assert p.quoted_text.startswith("On Mon, Oct 5, 2026")
    assert p.signature == "Recruiter | Acme\n+1 555 010 2233"


def test_outlook_reply_with_legal_footer_is_split() -> None:
    body = (
        "Dear Sam,\n\nWe are pleased to offer you the position.\n\nKind regards,\nAna Silva\n\n"
        "CONFIDENTIALITY NOTICE: This e-mail is intended only for the named recipient. If you "
        "received it in error, notify the sender and delete it.\n\n"
        "-----Original Message-----\nFrom: Sam Rivera\nSent: Friday\nTo: Ana\nSubject: Hi\n\nold"
    )
    p = parse(make(body))
    assert p.new_text == (
        "Dear Sam,\n\nWe are pleased to offer you the position.\n\nKind regards,\nAna Silva"
    )
    assert p.signature.startswith("CONFIDENTIALITY NOTICE")
    assert p.quoted_text.startswith("-----Original Message-----")


# ---------------------------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------------------------


@given(st.binary(max_size=2_000))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise_anything_but_parse_error(raw: bytes) -> None:
    try:
        p = parse_message(raw)
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(p, ParsedMessage)
    assert p.size == len(raw)


_header_value = st.binary(max_size=200).filter(lambda b: b"\n" not in b and b"\r" not in b)
_header_name = st.sampled_from(
    [
        b"From",
        b"To",
        b"Cc",
        b"Reply-To",
        b"Date",
        b"Subject",
        b"Message-ID",
        b"In-Reply-To",
        b"References",
        b"List-Id",
        b"Precedence",
        b"Auto-Submitted",
        b"Content-Type",
        b"Content-Transfer-Encoding",
        b"Content-Disposition",
        b"MIME-Version",
    ]
)
_body = st.binary(max_size=500)


@given(st.lists(st.tuples(_header_name, _header_value), min_size=1, max_size=12), _body)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_header_values_never_raise(
    headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    raw = b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body
    try:
        p = parse_message(raw)
    except ParseError:
        return
    assert p.date is None or p.date.tzinfo is not None
    for addr in (p.sender, *p.to, *p.cc, *p.reply_to):
        assert addr is None or addr.email == addr.email.lower()
    for text in (p.subject, p.text, p.message_id, *p.defects):
        text.encode("utf-8")  # no lone surrogates
        assert "\x00" not in text


@given(
    st.text(max_size=300),
    st.sampled_from(["text/calendar", "application/ics"]),
)
@settings(max_examples=150, deadline=None)
def test_arbitrary_calendar_payload_never_raises(ics: str, ctype: str) -> None:
    maintype, subtype = ctype.split("/")
    msg = make("invite")
    msg.add_attachment(
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + ics + "\r\nEND:VEVENT\r\nEND:VCALENDAR").encode(
            "utf-8", "surrogatepass"
        ),
        maintype=maintype,
        subtype=subtype,
        filename="x.ics",
    )
    p = parse(msg)
    for ev in p.calendar:
        assert ev.start is None or ev.start.tzinfo is not None
