"""Raw RFC 5322 bytes -> :class:`~interviewd.domain.ParsedMessage`.

mail-parser does the MIME work (structure, transfer encodings, charsets, address and date
recovery, defect collection). This module turns its result into interviewd's domain types and
adds what mail-parser does not do: header values decoded without losing the space around
RFC 2047 words, threading ids without brackets, calendar invitations read with ``icalendar``,
and the body split into new text, quoted history and signature.

The contract with callers: mail that is merely odd (bad charset, broken base64, missing or
garbled headers, a broken .ics) still yields a ``ParsedMessage``, with what went wrong noted in
``defects``; only input that is not an e-mail at all raises :class:`ParseError`, so the
caller can quarantine it. Nothing else escapes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.message
import email.utils
import hashlib
import logging
import quopri
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import mailparser
from mailparser.exceptions import MailParserRecursionError

from interviewd.domain import Address, BulkSignals, CalendarEvent, ParsedMessage
from interviewd.errors import ParseError
from interviewd.textprep import html_to_text, split_body

__all__ = ["parse_message"]

log = logging.getLogger(__name__)


class _DropUnhandledPartWarning(logging.Filter):
    """Drop mail-parser's "Email content 'calendar' not handled" warning.

    It fires for every calendar invitation, which this module does handle; left alone it would
    print once per invite during a backfill.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "not handled" not in str(record.msg)


# mail-parser logs every header and part at DEBUG and some recoverable oddities at ERROR; keep
# only warnings and worse, so a DEBUG root logger does not drown the daemon's own output.
logging.getLogger("mailparser").setLevel(logging.WARNING)
logging.getLogger("mailparser.core").addFilter(_DropUnhandledPartWarning())

#: An HTML body is cut to this many times ``max_body_chars`` before conversion: markup is
#: bulky, and converting 50 MB of HTML to keep 200 000 characters of text would be wasted work.
_HTML_INPUT_FACTOR = 5
_MAX_DEFECT_CHARS = 240
_MAX_DEFECTS = 50

_CALENDAR_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics"}
)
_CALENDAR_SUFFIXES = (".ics", ".ical", ".icalendar", ".vcs")

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
_SPACES = re.compile(r"\s+")
#: C0 and C1 control characters and DEL (whitespace ones are handled by _SPACES).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANGLE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+)\s*>")
_MAILTO = re.compile(r"^\s*mailto:", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Small, total helpers: each turns odd input into a value, never an exception.
# ---------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Text safe for every sink: no NUL (PostgreSQL rejects it), no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _unsurrogate(text)
    return text


def _unsurrogate(text: str) -> str:
    """Undo ``surrogateescape``: raw 8-bit header bytes are usually UTF-8, else Windows-1252."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _decode_word(charset: str, encoding: str, payload: str) -> str:
    charset = charset.split("*", 1)[0].lower()  # RFC 2231 language suffix: utf-8*en
    try:
        if encoding in "bB":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"))
    except (binascii.Error, ValueError):
        return payload
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _decode_header(value: object) -> str:
    """Unfold and decode a raw header value (RFC 2047 words, raw 8-bit bytes) to one line.

    The standard library's ``decode_header`` (and so mail-parser) drops the space between an
    encoded word and the plain word next to it ("=?utf-8?q?R=C3=A9union?= today" came out as
    "Réuniontoday"); here whitespace between two encoded words is dropped, as RFC 2047 says,
    and kept everywhere else.
    """
    if value is None:
        return ""
    text = _unsurrogate(value) if isinstance(value, str) else str(value)
    text = _FOLD.sub(" ", text)
    if "=?" in text:
        out: list[str] = []
        pos = 0
        last_was_word = False
        for m in _ENCODED_WORD.finditer(text):
            between = text[pos : m.start()]
            if not (last_was_word and not between.strip()):
                out.append(between)
            out.append(_decode_word(m.group(1), m.group(2), m.group(3)))
            pos = m.end()
            last_was_word = True
        out.append(text[pos:])
        text = "".join(out)
    # Control characters (ESC, BEL, ... raw or from an encoded word) became part of subjects
    # and names, and so of every terminal line that shows them (`interviewd messages`):
    # a subject could carry terminal escape sequences. A header value is one line of text.
    return _clean(_SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip())


def _first_id(value: str) -> str:
    """The first message id in a header value, without angle brackets."""
    m = _ANGLE_ID.search(value)
    if m:
        return m.group(1)
    token = value.strip().split()
    return token[0].strip("<>") if token else ""


def _all_ids(value: str) -> tuple[str, ...]:
    ids = _ANGLE_ID.findall(value)
    if not ids:
        ids = [t.strip("<>,") for t in value.split() if t.strip("<>,")]
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(i, None)
    return tuple(seen)


def _addresses(pairs: Iterable[Any]) -> tuple[Address, ...]:
    """mail-parser's (name, address) pairs -> unique, lower-cased domain addresses."""
    out: list[Address] = []
    seen: set[str] = set()
    for pair in pairs or ():
        try:
            name, addr = pair
        except (TypeError, ValueError):
            continue
        addr = _clean(str(addr or "")).strip().strip("<>").lower()
        if not addr or any(ch.isspace() for ch in addr) or addr in seen:
            continue
        seen.add(addr)
        name = _decode_header(str(name or "")).strip().strip('"').strip("'").strip()
        if name.lower() == addr:
            name = ""
        out.append(Address(name=name, email=addr))
    return tuple(out)


def _header_addresses(parsed: Any, raw: str | None) -> tuple[Address, ...]:
    """mail-parser's addresses of a header; when it found none, the header read again.

    mail-parser (through the standard library's strict address parser) gives up on a whole
    header for one raw control character in a display name, so the message lost its sender.
    The raw value (encoded words intact, so a decoded ':' or ',' cannot split it) is read
    again with the control characters blanked.
    """
    found = _addresses(parsed)
    if found or not raw:
        return found
    text = _FOLD.sub(" ", _CONTROLS.sub(" ", _unsurrogate(raw) if isinstance(raw, str) else raw))
    angled = list(_ANGLE_ADDRESS.finditer(text))
    if len(angled) == 1:  # "any name <addr>", as lenient mail programs read it
        return _addresses([(text[: angled[0].start()], angled[0].group(1))])
    try:
        return _addresses((n, a) for n, a in email.utils.getaddresses([text]) if "@" in a)
    except Exception:  # the standard library's parser can raise on odd input
        return ()


def _to_utc(value: datetime) -> datetime:
    """Aware datetimes converted to UTC; naive (floating) ones taken to be UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------


def _raw_headers(msg: email.message.Message) -> dict[str, str]:
    """First raw value of every header, by lower-cased name (repeats are ignored)."""
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        headers.setdefault(str(name).strip().lower(), value if isinstance(value, str) else "")
    return headers


def _parse_date(mail: Any, raw: str | None, defects: list[str]) -> datetime | None:
    """mail-parser's strict RFC 5322 reading first, then the standard library's lenient one."""
    if raw is None:
        defects.append("no Date header")
        return None
    value = mail.date
    if isinstance(value, datetime):
        return _to_utc(value)
    try:
        value = email.utils.parsedate_to_datetime(_decode_header(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        value = None
    if value is None:
        defects.append(f"unparseable Date header: {_decode_header(raw)[:80]!r}")
        return None
    if value.tzinfo is None:
        defects.append("Date header has no time zone: taken as UTC")
    return _to_utc(value)


# ---------------------------------------------------------------------------------------------
# Body
# ---------------------------------------------------------------------------------------------


def _body_text(mail: Any, max_body_chars: int, defects: list[str]) -> str:
    """The plain parts, or the HTML parts made readable when there is no plain text."""
    plain = [p for p in (mail.text_plain or []) if isinstance(p, str) and p.strip()]
    if plain:
        text = "\n\n".join(plain)
    else:
        html_parts = [p for p in (mail.text_html or []) if isinstance(p, str) and p.strip()]
        html = "\n".join(html_parts)
        limit = max_body_chars * _HTML_INPUT_FACTOR
        if len(html) > limit:
            html = html[:limit]
            defects.append(f"HTML body cut to {limit} characters before conversion")
        text = html_to_text(html)
    text = _clean(text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > max_body_chars:
        defects.append(f"body truncated from {len(text)} to {max_body_chars} characters")
        text = text[:max_body_chars]
    return text


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


def _calendar_parts(msg: email.message.Message) -> Iterator[tuple[int, email.message.Message]]:
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        try:
            filename = part.get_filename() or ""
        except Exception:  # a garbled RFC 2231 filename parameter
            filename = ""
        if ctype in _CALENDAR_TYPES or str(filename).lower().endswith(_CALENDAR_SUFFIXES):
            yield index, part


def _prop(component: Any, name: str) -> Any:
    """A property's first usable value (duplicated properties come back as a list)."""
    value = component.get(name)
    if isinstance(value, list):
        usable = [v for v in value if getattr(v, "dt", v) is not None]
        value = next((v for v in usable if type(v).__name__ != "vBroken"), None)
    if type(value).__name__ == "vBroken":
        return None
    return value


def _ical_text(component: Any, name: str) -> str:
    value = _prop(component, name)
    return _clean(str(value)).strip() if value is not None else ""


def _ical_datetime(component: Any, name: str) -> datetime | None:
    value = _prop(component, name)
    dt = getattr(value, "dt", None)
    if isinstance(dt, datetime):
        return _to_utc(dt)
    if isinstance(dt, date):  # all-day: midnight UTC
        return datetime(dt.year, dt.month, dt.day, tzinfo=UTC)
    return None


def _ical_address(value: Any) -> Address | None:
    if value is None:
        return None
    addr = _MAILTO.sub("", _clean(str(value))).strip().lower()
    params = getattr(value, "params", None) or {}
    name = _clean(str(params.get("CN", "") or "")).strip().strip('"').strip()
    if not addr and not name:
        return None
    return Address(name=name, email=addr)


def _event(vevent: Any, method: str) -> CalendarEvent:
    sequence_value = _prop(vevent, "SEQUENCE")
    try:
        sequence = int(sequence_value) if sequence_value is not None else 0
    except (TypeError, ValueError):
        sequence = 0
    start = _ical_datetime(vevent, "DTSTART")
    end = _ical_datetime(vevent, "DTEND")
    if end is None and start is not None:
        duration = getattr(_prop(vevent, "DURATION"), "dt", None)
        if isinstance(duration, timedelta):
            end = start + duration
    attendees_value = vevent.get("ATTENDEE")
    if attendees_value is None:
        attendees_value = []
    elif not isinstance(attendees_value, list):
        attendees_value = [attendees_value]
    attendees = tuple(a for a in map(_ical_address, attendees_value) if a is not None)
    return CalendarEvent(
        method=method,
        uid=_ical_text(vevent, "UID"),
        sequence=sequence,
        status=_ical_text(vevent, "STATUS").upper(),
        summary=_SPACES.sub(" ", _ical_text(vevent, "SUMMARY")),
        start=start,
        end=end,
        organizer=_ical_address(_prop(vevent, "ORGANIZER")),
        attendees=attendees,
        location=_SPACES.sub(" ", _ical_text(vevent, "LOCATION")),
    )


def _calendar_events(msg: email.message.Message, defects: list[str]) -> tuple[CalendarEvent, ...]:
    """Every VEVENT of every calendar part; a part that does not parse becomes a defect."""
    events: dict[CalendarEvent, None] = {}  # ordered and de-duplicated: Google and Outlook
    # send the same invitation both inline and as an .ics attachment
    for index, part in _calendar_parts(msg):
        label = f"calendar part {index} ({part.get_content_type()})"
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload.strip():
            defects.append(f"{label}: empty")
            continue
        try:
            calendars = icalendar.Calendar.from_ical(payload, multiple=True)
        except Exception as exc:  # icalendar raises ValueError, and worse on real garbage
            defects.append(f"{label}: not a valid iCalendar: {_one_line(exc)}")
            continue
        part_method = part.get_param("method")
        part_method = email.utils.collapse_rfc2231_value(part_method) if part_method else ""
        for cal in calendars:
            method = (_ical_text(cal, "METHOD") or str(part_method)).strip().upper()
            vevents = list(cal.walk("VEVENT"))
            if not vevents:
                defects.append(f"{label}: no VEVENT")
            for vevent in vevents:
                try:
                    events.setdefault(_event(vevent, method), None)
                except Exception as exc:
                    defects.append(f"{label}: unreadable VEVENT: {_one_line(exc)}")
    return tuple(events)


# ---------------------------------------------------------------------------------------------
# Defects
# ---------------------------------------------------------------------------------------------


def _one_line(value: object) -> str:
    text = _SPACES.sub(" ", _clean(str(value))).strip()
    return text if len(text) <= _MAX_DEFECT_CHARS else text[: _MAX_DEFECT_CHARS - 1] + "…"


def _mailparser_defects(mail: Any, msg: email.message.Message) -> list[str]:
    """mail-parser's defects, plus those the stdlib found while decoding payloads.

    mail-parser collects part defects before it decodes the payloads, so defects found while
    decoding (``InvalidBase64CharactersDefect`` and friends) are read off the parts again here.
    """
    found: list[str] = []
    for entry in mail.defects or []:
        if isinstance(entry, dict):
            for where, notes in entry.items():
                for note in notes if isinstance(notes, list) else [notes]:
                    found.append(_one_line(f"{where}: {note}"))
        else:
            found.append(_one_line(entry))
    for part in msg.walk():
        for defect in getattr(part, "defects", ()):
            note = _one_line(
                f"{part.get_content_type()}: {type(defect).__name__}: {defect.__doc__ or ''}"
            )
            found.append(note)
    return found


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    out = tuple(seen)
    if len(out) > _MAX_DEFECTS:
        out = (*out[: _MAX_DEFECTS - 1], f"... and {len(out) - _MAX_DEFECTS + 1} more defects")
    return out


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def parse_message(raw: bytes, *, max_body_chars: int = 200_000) -> ParsedMessage:
    """Parse one raw message (RFC 5322 bytes, as fetched from IMAP or read from a Maildir).

    Raises :class:`ParseError` only when the bytes are not an e-mail at all (empty, no header
    field, or a structure mail-parser cannot walk); every other oddity is noted in
    ``defects``. See the module docstring for what is filled and how.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_message needs bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise ParseError("empty message")
    repaired = ""
    try:
        mail = mailparser.parse_from_bytes(raw)
    except MailParserRecursionError as exc:
        raise ParseError("MIME structure nested too deeply to parse") from exc
    except Exception as first:
        # mail-parser 4.x trips over some broken MIME (see _repair). Give it the same stdlib
        # Message, repaired; only if that fails too is the message hopeless.
        mail = _parse_repaired(raw, first)
        repaired = f"mail-parser failed ({_one_line(first)}); parsed again after MIME repair"
    msg = mail.message
    if msg is None or not msg.keys():
        raise ParseError("not an e-mail: no header fields found")
    try:
        parsed = _build(raw, mail, msg, max_body_chars)
        if repaired:
            parsed.defects = _unique([repaired, *parsed.defects])
        return parsed
    except ParseError:
        raise
    except Exception as exc:  # a bug or an input nobody foresaw: quarantine, don't crash
        log.debug("unexpected failure building ParsedMessage", exc_info=True)
        raise ParseError(f"unexpected {type(exc).__name__}: {_one_line(exc)}") from exc


def _repair(message: email.message.Message) -> None:
    """Fix, in place, the MIME oddities known to crash mail-parser 4.x.

    * a multipart with no epilogue while a start boundary is missing: its epilogue recovery
      calls ``str.index`` on ``None``;
    * a charset parameter that is not even a codec name (a NUL byte in it): ``bytes.decode``
      raises ``ValueError`` where mail-parser only expects ``LookupError``. Such a charset is
      replaced by UTF-8, which mail-parser would have fallen back to anyway.
    """
    for part in message.walk():
        if part.epilogue is None:
            part.epilogue = ""
        try:
            charset = part.get_content_charset()
            if charset:
                codecs.lookup(charset)
        except LookupError:
            pass  # mail-parser handles unknown charsets itself, with a defect
        except Exception:
            part.set_param("charset", "utf-8")


def _parse_repaired(raw: bytes, first: Exception) -> Any:
    """Second attempt for :func:`parse_message`, on a stdlib Message repaired for mail-parser."""
    try:
        message = email.message_from_bytes(raw)
        _repair(message)
        return mailparser.MailParser(message)
    except RecursionError as exc:
        raise ParseError("MIME structure nested too deeply to parse") from exc
    except Exception as exc:
        raise ParseError(f"mail-parser could not read the message: {_one_line(first)}") from exc


def _build(raw: bytes, mail: Any, msg: email.message.Message, max_body_chars: int) -> ParsedMessage:
    defects: list[str] = []
    headers = _raw_headers(msg)

    if "from" not in headers:
        defects.append("no From header")
    if "message-id" not in headers:
        defects.append("no Message-ID header")
    senders = _header_addresses(mail.from_, headers.get("from"))
    date_value = _parse_date(mail, headers.get("date"), defects)

    text = _body_text(mail, max_body_chars, defects)
    new_text, quoted_text, signature = split_body(text)
    calendar = _calendar_events(msg, defects)

    return ParsedMessage(
        message_id=_first_id(_decode_header(headers.get("message-id", ""))),
        subject=_decode_header(headers.get("subject", "")),
        sender=senders[0] if senders else None,
        to=_header_addresses(mail.to, headers.get("to")),
        cc=_header_addresses(mail.cc, headers.get("cc")),
        reply_to=_header_addresses(mail.reply_to, headers.get("reply-to")),
        date=date_value,
        in_reply_to=_first_id(_decode_header(headers.get("in-reply-to", ""))),
        references=_all_ids(_decode_header(headers.get("references", ""))),
        bulk=BulkSignals(
            list_id=_decode_header(headers.get("list-id", "")),
            list_unsubscribe=_decode_header(headers.get("list-unsubscribe", "")),
            auto_submitted=_decode_header(headers.get("auto-submitted", "")),
            precedence=_decode_header(headers.get("precedence", "")),
        ),
        text=text,
        new_text=new_text,
        quoted_text=quoted_text,
        signature=signature,
        calendar=calendar,
        content_hash=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        defects=_unique([*_mailparser_defects(mail, msg), *defects]),
    )
