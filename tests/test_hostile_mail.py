"""Hostile mail (issue 8): every message ends stored or quarantined, the daemon never stops,
memory stays bounded, and nothing from a message reaches an alert's or a draft's headers.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from conftest import ALICE
from faultkit import count, query, running_daemon, wait_for, write_config
from interviewd.config import parse_config_text
from interviewd.domain import MessageClass
from interviewd.errors import ParseError
from interviewd.parsing import parse_message
from mailgen import simple_message

#: Peak resident memory allowed to the daemon while it reads the hostile set (MB).
RSS_LIMIT_MB = 600
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: What a header value parsed from mail never holds: C0 and C1 controls (tab included) and DEL.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def corpus_dir() -> Path:
    """CPython's email test corpus: the running interpreter's ``test`` package, else Debian's.

    A pyenv or python.org build ships the ``test`` package; Debian's python3 has it only with
    the libpython3.X-testsuite package, under /usr/lib/python3.X/test.
    """
    try:
        import test.test_email

        data = Path(test.test_email.__file__).parent / "data"
    except ImportError:
        data = Path(f"/usr/lib/python3.{sys.version_info.minor}/test/test_email/data")
    assert data.is_dir(), (
        f"no email test corpus at {data}: the interpreter has no 'test' package; "
        f"apt-get install libpython3.{sys.version_info.minor}-testsuite"
    )
    return data


def deliver(dovecot, raws: list[bytes]) -> tuple[int, int]:
    """APPEND each message; one the server refuses is written into the Maildir instead.

    Returns (appended, written as files).
    """
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=60)
    client.login(*ALICE)
    refused: list[bytes] = []
    try:
        for raw in raws:
            try:
                client.append("INBOX", raw)
            except IMAPClientError:
                refused.append(raw)
    finally:
        client.logout()
    if refused:
        dovecot.deliver_files("alice", refused)
    return len(raws) - len(refused), len(refused)


def check_every_message_kept(db: Path, delivered: int) -> None:
    """Each delivered message has its place, each place its message, none stored twice."""
    assert count(db, "select count(*) from message_locations") == delivered
    assert count(db) == count(db, "select count(distinct identity) from messages")
    orphans = count(
        db,
        "select count(*) from message_locations l left join messages m on m.id = l.message_pk "
        "where m.id is null",
    )
    assert orphans == 0
    statuses = {s for (s,) in query(db, "select distinct status from messages")}
    assert statuses <= {"ok", "quarantined"}


def hostile_run(dovecot, env, tmp_path: Path, before: list[bytes], during: list[bytes]):
    """Sync ``before`` as a backfill and ``during`` as pushed mail; the daemon must survive.

    Returns (database, peak RSS in MB, daemon log).
    """
    config = write_config(tmp_path, dovecot.port, store={"keep_text": "all"})
    db = tmp_path / "interviewd.db"
    deliver(dovecot, before)
    with running_daemon(config, env, tmp_path / "daemon.log") as daemon:
        wait_for(
            lambda: count(db, "select count(*) from message_locations") == len(before),
            120,
            "the backfill of the hostile set",
        )
        daemon.wait_log(r"work: idle", 60)
        deliver(dovecot, during)
        total = len(before) + len(during)
        wait_for(
            lambda: count(db, "select count(*) from message_locations") == total,
            120,
            "the pushed part of the hostile set",
        )
        # The daemon never stops: a plain message after all that is still stored.
        deliver(dovecot, [simple_message("Still here?", msgid="after-hostile@example.net")])
        wait_for(
            lambda: (
                count(
                    db,
                    "select count(*) from messages where message_id = 'after-hostile@example.net'",
                )
                == 1
            ),
            60,
            "a plain message after the hostile set",
        )
        assert daemon.alive()
        peak = daemon.peak_rss_mb()
        assert daemon.stop() == 0
        log = daemon.log()
    assert "unexpected error" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    check_every_message_kept(db, total + 1)
    return db, peak, log


# -- CPython's email test corpus --------------------------------------------------------------


def test_cpython_email_corpus_is_stored_or_quarantined(dovecot, env, tmp_path):
    """Every file of test/test_email/data (the .txt messages and the images and sounds)."""
    files = sorted(p for p in corpus_dir().iterdir() if p.is_file())
    assert len(files) >= 60
    raws = [p.read_bytes() for p in files]
    rng = random.Random(2)
    rng.shuffle(raws)
    half = len(raws) // 2
    db, peak, _log = hostile_run(dovecot, env, tmp_path, raws[:half], raws[half:])
    # What the parser makes of each file as the server hands it out (CRLF line ends): mail
    # is stored, the rest (the images, the sounds, msg_19 with no header) quarantined, each
    # distinct message once.
    good, bad = set(), set()
    for raw in raws:
        served = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        try:
            good.add(parse_message(served).identity)
        except ParseError:
            bad.add(hashlib.sha256(served).hexdigest())
    assert len(good) >= 40 and len(bad) >= 17
    ok = count(db, "select count(*) from messages where status = 'ok'")
    quarantined = count(db, "select count(*) from messages where status = 'quarantined'")
    assert (ok, quarantined) == (len(good) + 1, len(bad))  # + the plain one at the end
    stored = {i for (i,) in query(db, "select identity from messages where status = 'ok'")}
    assert {i for i in good if i.startswith("mid:")} <= stored
    print(f"corpus: {len(raws)} files, daemon peak RSS {peak:.0f} MB")
    assert peak < RSS_LIMIT_MB, f"peak RSS {peak:.0f} MB"


# -- malformed mail written here --------------------------------------------------------------


def _headers(name: str, extra: str = "") -> str:
    return (
        f"From: Hostile Sender <{name}@hostile.example>\r\n"
        "To: alice@example.net\r\n"
        f"Subject: hostile {name}\r\n"
        f"Date: {format_datetime(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))}\r\n"
        f"Message-ID: <{name}@hostile.example>\r\n"
        "MIME-Version: 1.0\r\n" + extra
    )


def _nested(depth: int) -> bytes:
    head = _headers("nested-500", 'Content-Type: multipart/mixed; boundary="b0"\r\n') + "\r\n"
    opening = "".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
        for i in range(depth - 1)
    )
    leaf = f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n"
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + leaf + closing).encode()


def _big_attachment(megabytes: int) -> bytes:
    data = random.Random(25).randbytes(megabytes * 1024 * 1024)
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    head = _headers("attachment-25mb", 'Content-Type: multipart/mixed; boundary="att"\r\n')
    return (
        head.encode()
        + b"\r\n--att\r\nContent-Type: text/plain\r\n\r\nThe portfolio is attached.\r\n"
        + b"--att\r\nContent-Type: application/octet-stream\r\n"
        + b'Content-Disposition: attachment; filename="portfolio.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + b"--att--\r\n"
    )


def malformed_messages() -> dict[str, bytes]:
    """name -> raw message; every name but 'empty' is in the Message-ID."""
    m: dict[str, bytes] = {}

    def add(name: str, ctype: str, body: str | bytes, extra: str = "") -> None:
        head = _headers(name, f"Content-Type: {ctype}\r\n{extra}") + "\r\n"
        m[name] = head.encode() + (body if isinstance(body, bytes) else body.encode())

    add(
        "missing-boundary",
        'multipart/mixed; boundary="never-used"',
        "no boundary line anywhere\r\njust text\r\n",
    )
    add(
        "missing-close-boundary",
        'multipart/alternative; boundary="alt"',
        "--alt\r\nContent-Type: text/plain\r\n\r\nplain part\r\n--alt\r\n"
        "Content-Type: text/html\r\n\r\n<p>html part</p>\r\n",
    )
    add(
        "duplicated-boundaries",
        'multipart/mixed; boundary="dup"',
        "--dup\r\n--dup\r\nContent-Type: text/plain\r\n\r\none\r\n--dup\r\n--dup\r\n"
        "Content-Type: text/plain\r\n\r\ntwo\r\n--dup--\r\n--dup--\r\n--dup--\r\n",
    )
    add("no-boundary-parameter", "multipart/mixed", "--x\r\n\r\nbody\r\n--x--\r\n")
    m["nested-500"] = _nested(500)
    add("unknown-charset", "text/plain; charset=x-no-such-charset-42", "caf\xe9".encode("latin-1"))
    add("invalid-charset", 'text/plain; charset="utf 8;;\\"', "caf\u00e9".encode())
    add("escape-charset", "text/plain; charset=\x1b$B", b"\x1b$B\x24\x22\x1b(B")
    add("mislabelled-ascii", "text/plain; charset=us-ascii", "na\u00efve r\u00e9sum\u00e9".encode())
    add("utf-7", "text/plain; charset=utf-7", b"+AGEAYgBj- +ZeVnLIqe-")
    add(
        "broken-base64",
        "text/plain; charset=utf-8",
        "SGVsbG8gd29ybGQ!!!*&^%$#\r\nnot base64 at all ===\r\nSGVsbG8=extra\r\n",
        "Content-Transfer-Encoding: base64\r\n",
    )
    add(
        "truncated-base64",
        "text/plain; charset=utf-8",
        "SGVsbG8gd29ybG",
        "Content-Transfer-Encoding: base64\r\n",
    )
    add(
        "broken-quoted-printable",
        "text/plain; charset=utf-8",
        "bad escapes =ZZ =G1 =\r\n=\r\nsoft break at the end =",
        "Content-Transfer-Encoding: quoted-printable\r\n",
    )
    add("unknown-transfer-encoding", "text/plain", "x", "Content-Transfer-Encoding: x-rot13\r\n")
    m["8bit-headers"] = (
        b"From: J\xc3\xbcrgen M\xfcller <jurgen@hostile.example>\r\n"
        b"To: alice@example.net\r\n"
        b"Subject: Entretien pr\xe9vu \xe2\x80\x94 r\xc3\xa9ponse \xff\xfe\r\n"
        b"X-Raw: \x00\x01\x02\x1b[31m\r\n"
        b"Message-ID: <8bit-headers@hostile.example>\r\n"
        b"\r\nbody with 8-bit headers\r\n"
    )
    m["attachment-25mb"] = _big_attachment(25)
    m["empty"] = b""
    add(
        "html-only",
        "text/html; charset=utf-8",
        "<html><head><style>.x{color:red} STYLE-TEXT-MUST-GO</style>"
        "<script>var secret = 'SCRIPT-TEXT-MUST-GO';</script></head>"
        "<body><p>Can we meet on <b>Thursday</b> at 2pm?</p>"
        "<script>document.write('SCRIPT-TEXT-MUST-GO')</script>"
        "<noscript>x</noscript><div style='display:none'>hidden preheader</div></body></html>",
    )
    add(
        "ics-not-a-calendar",
        'multipart/mixed; boundary="cal"',
        "--cal\r\nContent-Type: text/plain\r\n\r\nInvite attached.\r\n"
        '--cal\r\nContent-Type: text/calendar; method=REQUEST; charset="utf-8"\r\n\r\n'
        "this is not a calendar at all\r\nBEGIN:VEVENT\r\nDTSTART:tomorrow\r\n"
        "--cal\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="invite.ics"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(bytes(range(256))).decode()
        + "\r\n--cal--\r\n",
    )
    add("headers-only", "text/plain", b"")
    m["no-colon-header"] = (
        b"This is not a header line\r\nFrom: x@hostile.example\r\n"
        b"Message-ID: <no-colon-header@hostile.example>\r\n\r\nbody\r\n"
    )
    m["binary-garbage"] = bytes(random.Random(7).randbytes(4096))
    add("long-header-line", "text/plain", "body", "X-Long: " + "a" * 200_000 + "\r\n")
    wide = "".join(f"--w\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(2000))
    add("wide-2000-parts", 'multipart/mixed; boundary="w"', wide + "--w--\r\n")
    return m


def test_malformed_mail_is_stored_or_quarantined_in_bounded_memory(dovecot, env, tmp_path):
    messages = malformed_messages()
    names = sorted(messages)
    before = [messages[n] for n in names[::2]]
    during = [messages[n] for n in names[1::2]]
    db, peak, _log = hostile_run(dovecot, env, tmp_path, before, during)
    rows = dict(query(db, "select message_id, status from messages"))
    headerless = ("empty", "binary-garbage", "no-colon-header")  # quarantined, no Message-ID
    expected_ids = {f"{n}@hostile.example" for n in names if n not in headerless}
    assert expected_ids <= set(rows), expected_ids - set(rows)
    # Mail that is merely odd is stored, not quarantined.
    for name in (
        "8bit-headers",
        "html-only",
        "ics-not-a-calendar",
        "broken-base64",
        "unknown-charset",
        "attachment-25mb",
        "missing-close-boundary",
    ):
        assert rows[f"{name}@hostile.example"] == "ok", name
    [(html_text,)] = query(
        db, "select text from messages where message_id = 'html-only@hostile.example'"
    )
    assert "Thursday" in html_text and "MUST-GO" not in html_text
    [(subject,)] = query(
        db, "select subject from messages where message_id = '8bit-headers@hostile.example'"
    )
    assert subject.startswith("Entretien prévu") and not _CONTROL.search(subject)
    assert count(db, "select count(*) from messages where size = 0") == 1  # the empty one
    assert count(db, "select count(*) from messages where message_id = ''") == len(headerless)
    assert count(db, "select count(*) from messages where status = 'quarantined'") == len(
        headerless
    )
    print(f"malformed: {len(messages)} messages, daemon peak RSS {peak:.0f} MB")
    assert peak < RSS_LIMIT_MB, f"peak RSS {peak:.0f} MB"


# -- hypothesis: MIME structures and headers --------------------------------------------------

_NAMES = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "List-Id",
    "Reply-To",
    "X-Weird",
    "MIME-Version",
]
_TRICKY = [
    b"=?utf-8?q?Hi=0D=0ABcc=3A_evil=40example=2Ecom?=",
    b"=?utf-8?b?SGk=?= =?bogus?b?!!!?= =?utf-8?q?=ZZ?=",
    b"=?utf-8*en?q?=C3=A9?=",
    b'"Dana \\"Q\\" Whitfield" <dana@larkspur.example>',
    b"<a@b> <c@d>, (comment) <e@f",
    b"undisclosed-recipients:;",
    b"Tue, 31 Feb 2026 25:61:61 +9999",
    b'text/plain; charset="\x00"',
    b"multipart/mixed; boundary=",
    b"text/calendar; method=REQUEST",
    b"attachment; filename*=utf-8''%E2%82%AC%ZZ.ics",
    b"\xff\xfe\xfd",
    b"\x1b[31m\x07\x08",
]
_CTYPES = [
    "text/plain",
    "text/html",
    "text/calendar",
    "application/ics",
    "application/octet-stream",
    "message/rfc822",
    "image/png",
    "text/x-unknown",
]
_CHARSETS = [
    "utf-8",
    "latin-1",
    "us-ascii",
    "x-unknown",
    "",
    "utf-7",
    "utf-16",
    "cp1252",
    "utf-8\x00",
    "iso-2022-jp",
    "\x1b",
]
_ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""]

header_values = st.one_of(
    st.sampled_from(_TRICKY),
    st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
headers = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(_NAMES), st.from_regex(rb"\A[!-9;-~]{1,12}\Z")), header_values
    ),
    max_size=8,
)
leaves = st.builds(
    lambda ctype, charset, cte, payload, hdrs: (
        b"Content-Type: "
        + ctype.encode()
        + (b"; charset=" + charset.encode() if charset else b"")
        + b"\r\n"
        + (b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n" if cte else b"")
        + b"".join(
            (n if isinstance(n, bytes) else n.encode()) + b": " + v + b"\r\n" for n, v in hdrs
        )
        + b"\r\n"
        + payload
    ),
    st.sampled_from(_CTYPES),
    st.sampled_from(_CHARSETS),
    st.sampled_from(_ENCODINGS),
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            [
                b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261105T190000Z\r\nEND:VEVENT\r\n",
                b"SGVsbG8=\r\n!!!\r\n",
                b"=E9=ZZ=\r\n",
                b"<script>x</script><p>hi</p>",
            ]
        ),
    ),
    headers,
)


def _multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    def build(subtype: str, boundary: str, parts: list[bytes], close: bool, junk: bytes) -> bytes:
        b = boundary.encode()
        body = junk + b"\r\n" + b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts)
        if close:
            body += b"--" + b + b"--\r\n" + junk
        return (
            b"Content-Type: multipart/"
            + subtype.encode()
            + b'; boundary="'
            + b
            + b'"\r\n\r\n'
            + body
        )

    return st.builds(
        build,
        st.sampled_from(["mixed", "alternative", "related", "signed", "report"]),
        st.sampled_from(["b1", "b2", "=_x", "", "b1--", "a" * 80]),
        st.lists(children, max_size=4),
        st.booleans(),
        st.binary(max_size=20),
    )


mime_trees = st.recursive(leaves, _multipart, max_leaves=12)
messages_strategy = st.builds(
    lambda hdrs, tree: (
        b"".join((n if isinstance(n, bytes) else n.encode()) + b": " + v + b"\r\n" for n, v in hdrs)
        + tree
    ),
    headers,
    mime_trees,
)


@pytest.fixture(scope="module")
def classifier():
    from interviewd.service import load_classifier

    return load_classifier(parse_config_text("accounts: []"))


def _check_parsed(raw: bytes, classifier) -> None:
    try:
        parsed = parse_message(raw)
    except ParseError:
        return
    for value in (
        parsed.subject,
        parsed.message_id,
        parsed.in_reply_to,
        *(a.name for a in (*parsed.to, *parsed.cc)),
        parsed.sender.name if parsed.sender else "",
    ):
        assert not _ANY_CONTROL.search(value), value
    for address in (*parsed.to, *parsed.cc, *((parsed.sender,) if parsed.sender else ())):
        assert not _ANY_CONTROL.search(address.email), address
    assert "\x00" not in parsed.text
    parsed.text.encode("utf-8")  # no lone surrogates: every sink takes it
    [result] = classifier.classify_many([(parsed.subject, parsed.text)])
    assert isinstance(result.label, MessageClass)
    assert 0.0 <= result.confidence <= 1.0


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=messages_strategy)
def test_hypothesis_mime_structures_raise_nothing_but_parse_error(raw, classifier):
    _check_parsed(raw, classifier)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(hdrs=headers, body=st.binary(max_size=200))
def test_hypothesis_headers_raise_nothing_but_parse_error(hdrs, body, classifier):
    raw = (
        b"".join((n if isinstance(n, bytes) else n.encode()) + b": " + v + b"\r\n" for n, v in hdrs)
        + b"\r\n"
        + body
    )
    _check_parsed(raw, classifier)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=st.lists(st.tuples(st.text(max_size=200), st.text(max_size=2000)), max_size=5))
def test_hypothesis_text_to_the_classifier_raises_nothing(items, classifier):
    results = classifier.classify_many(items)
    assert len(results) == len(items)
    assert all(isinstance(r.label, MessageClass) for r in results)


def test_a_batch_with_an_empty_text_is_classified(classifier):
    results = classifier.classify_many(
        [("", ""), ("Interview on Thursday", "Can we meet on Thursday at 2pm?")]
    )
    assert results[0].label is MessageClass.OTHER
    assert results[1].label is not MessageClass.OTHER


# -- CR/LF and control characters never reach an alert's or a draft's headers ----------------

INJECTED = "evil@example.com"
ALLOWED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "x-auto-response-suppress",
    "x-priority",
    "importance",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
    "in-reply-to",
    "references",
    "x-interviewd",
}


def _ics(start: datetime, end: datetime) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\nMETHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\nUID:crlf-round@larkspur.example\r\nSEQUENCE:0\r\n"
        f"DTSTAMP:{start.strftime(fmt)}\r\nDTSTART:{start.strftime(fmt)}\r\n"
        f"DTEND:{end.strftime(fmt)}\r\n"
        "SUMMARY:Interview\\nBcc: evil@example.com\\r\\nX-Evil: 1\r\n"
        "LOCATION:Room 4\\nBcc: evil@example.com\r\n"
        'ORGANIZER;CN="Dana\\nBcc: evil@example.com":mailto:dana@larkspur.example\r\n'
        "ATTENDEE:mailto:alice@example.net\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def crlf_invite() -> bytes:
    """An interview invite whose sender name and subject carry CR/LF and control characters."""
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    start = end - timedelta(hours=1)
    boundary = "crlf"
    return (
        "From: =?utf-8?q?Dana_Whitfield=0D=0ABcc=3A_evil=40example=2Ecom?= \x1b[31m\x07 "
        "<dana@larkspur.example>\r\n"
        "To: alice@example.net\r\n"
        "Subject: =?utf-8?q?Interview_Thursday=0D=0ABcc=3A_evil=40example=2Ecom=0D=0A?= "
        "=?utf-8?b?" + base64.b64encode(b"\r\nX-Evil: 1\x0b\x0c\x1b").decode() + "?= next\r\n"
        f"Date: {format_datetime(start - timedelta(days=3))}\r\n"
        "Message-ID: <crlf-invite@larkspur.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hi Alice, here is the invitation for your interview with our team.\r\n"
        f"--{boundary}\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        + _ics(start, end)
        + f"--{boundary}--\r\n"
    ).encode()


def _assert_clean_headers(
    raw: bytes, what: str, *, recipients: bool = True
) -> email.message.EmailMessage:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    names = [
        line.split(":", 1)[0].strip().lower()
        for line in head.split("\n")
        if line and not line[0].isspace()
    ]
    assert set(names) <= ALLOWED_HEADERS, (
        f"{what}: unexpected headers {set(names) - ALLOWED_HEADERS}"
    )
    assert all(line and (":" in line or line[0] in " \t") for line in head.split("\n")), head
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for name, value in message.items():
        assert not _CONTROL.search(str(value)), f"{what}: control character in {name}: {value!r}"
    for name in ("To", "Cc", "Bcc") if recipients else ("Cc", "Bcc"):
        assert INJECTED not in str(message.get(name, "")), f"{what}: {name} {message.get(name)!r}"
    assert message["Bcc"] is None and message["X-Evil"] is None
    return message


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[object, int]]:
    from test_notify_email import Inbox, start

    handler = Inbox()
    controller = start(handler)
    yield handler, controller.port
    controller.stop()


def test_crlf_in_name_and_subject_never_reaches_alert_or_draft_headers(
    dovecot, env, tmp_path, smtp_inbox
):
    """Sync, tracking, the email alert to aiosmtpd and the draft in Drafts, end to end."""
    inbox, smtp_port = smtp_inbox
    channel = (
        f"    - {{name: mail, type: email, smtp_host: 127.0.0.1, smtp_port: {smtp_port}, "
        "smtp_security: none, from_address: interviewd@example.net, "
        "to_address: alice@example.net}\n"
    )
    config = write_config(
        tmp_path,
        dovecot.port,
        extra="timezone: UTC\n"
        "followups: {quiet_hours_start: '00:00', quiet_hours_end: '00:00'}\n"
        f"alerts:\n  drafts: imap\n  channels:\n{channel}",
    )
    text = config.read_text().replace(
        "username: alice\n", "username: alice\n    user_addresses: [alice@example.net]\n"
    )
    config.write_text(text)
    deliver(dovecot, [crlf_invite()])
    db = tmp_path / "interviewd.db"
    with running_daemon(config, env, tmp_path / "daemon.log") as daemon:
        wait_for(lambda: count(db) == 1, 60, "the invite")
        wait_for(lambda: len(inbox.messages) >= 1, 60, "the thank-you alert")
        client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
        client.login(*ALICE)

        def drafts() -> list[int]:
            client.select_folder("Drafts", readonly=True)
            return client.search(["ALL"])

        wait_for(lambda: len(drafts()) >= 1, 30, "the draft in Drafts")
        time.sleep(1)
        uids = drafts()
        raw_drafts = [d[b"BODY[]"] for d in client.fetch(uids, ["BODY.PEEK[]"]).values()]
        client.logout()
        assert daemon.alive()
        assert daemon.stop() == 0
    [(subject, sender, status)] = query(db, "select subject, from_name, status from messages")
    assert status == "ok"
    # The text is kept, on one line, without its control characters.
    assert INJECTED in subject and INJECTED in sender
    assert not _CONTROL.search(subject + sender), (subject, sender)
    assert len(inbox.messages) == 1 and len(raw_drafts) == 1
    _mail_from, rcpt_tos, raw_alert = inbox.messages[0]
    assert rcpt_tos == ["alice@example.net"]
    alert = _assert_clean_headers(raw_alert, "alert")
    assert "Thank-you" in alert["Subject"]
    draft = _assert_clean_headers(raw_drafts[0], "draft", recipients=False)
    assert draft["Subject"].startswith("Re: Interview Thursday")
    # The draft's recipients are not checked here: today the name's "Bcc: evil@..." makes
    # its To a group of evil@example.com (test_a_colon_or_comma_in_a_name_adds_no_recipient).


@pytest.mark.parametrize("name", ["Dana Whitfield Bcc: evil@example.com", "Dana, evil@example.com"])
def test_a_colon_or_comma_in_a_name_adds_no_recipient(name):
    from interviewd.alerts import draft_message
    from interviewd.config import AccountConfig
    from interviewd.domain import Address, Draft

    draft = Draft(
        to=(Address(name, "dana@larkspur.example"),),
        subject="Re: Interview",
        body="Thank you.",
        in_reply_to="",
        references=(),
    )
    account = AccountConfig(name="work", username="alice@example.net")
    raw = draft_message(draft, account, datetime.now(UTC))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@larkspur.example"]
