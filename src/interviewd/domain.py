"""Domain types shared by every layer.

This module is the bottom of the dependency graph: it imports nothing from
interviewd, and every adapter (IMAP, parsing, classifier, store, scheduler,
notifiers) speaks in these types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formataddr


class MessageClass(enum.StrEnum):
    """What an employer message is about. Exclusive; see ``PRECEDENCE``."""

    SCHEDULING = "scheduling"
    FEEDBACK = "feedback"
    REJECTION = "rejection"
    OFFER = "offer"
    OTHER = "other"


#: When several classes apply, the first one in this tuple wins.
PRECEDENCE: tuple[MessageClass, ...] = (
    MessageClass.REJECTION,
    MessageClass.OFFER,
    MessageClass.SCHEDULING,
    MessageClass.FEEDBACK,
    MessageClass.OTHER,
)

LABELS: tuple[str, ...] = tuple(c.value for c in MessageClass)


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    email: str  # lower-cased

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def __str__(self) -> str:
        # Quoted as RFC 5322 wants: a name with "," or ":" must not read as more recipients.
        return formataddr((" ".join(self.name.split()), self.email)) if self.name else self.email


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One VEVENT from a text/calendar part or an .ics attachment."""

    method: str  # REQUEST, CANCEL, PUBLISH, REPLY... ("" when absent)
    uid: str
    sequence: int
    status: str  # CONFIRMED, CANCELLED, TENTATIVE ("" when absent)
    summary: str
    start: datetime | None  # timezone-aware
    end: datetime | None
    organizer: Address | None
    attendees: tuple[Address, ...] = ()
    location: str = ""


@dataclass(frozen=True, slots=True)
class BulkSignals:
    list_id: str = ""
    list_unsubscribe: str = ""
    auto_submitted: str = ""
    precedence: str = ""

    @property
    def is_bulk(self) -> bool:
        return bool(
            self.list_id
            or self.list_unsubscribe
            or self.precedence.lower() in {"bulk", "list", "junk"}
            or (self.auto_submitted and self.auto_submitted.lower() != "no")
        )


@dataclass(slots=True)
class ParsedMessage:
    """Everything interviewd keeps from one raw message."""

    message_id: str  # without angle brackets; "" when the message has none
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None  # timezone-aware (UTC when the header had no zone)
    in_reply_to: str  # without angle brackets
    references: tuple[str, ...]
    bulk: BulkSignals
    text: str  # the whole plain text (HTML made readable when there is no plain part)
    new_text: str  # the text the sender wrote now
    quoted_text: str  # quoted history, split off
    signature: str  # signature / legal footer / unsubscribe block, split off
    calendar: tuple[CalendarEvent, ...] = ()
    content_hash: str = ""  # sha256 of the raw bytes
    size: int = 0  # bytes of the raw message
    defects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def identity(self) -> str:
        """A stable key for recognising the same message again."""
        return f"mid:{self.message_id}" if self.message_id else f"sha:{self.content_hash}"


@dataclass(frozen=True, slots=True)
class Classification:
    label: MessageClass
    confidence: float
    scores: dict[str, float]
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class Draft:
    """A message ready for the user to send as is or edit."""

    to: tuple[Address, ...]
    subject: str
    body: str
    in_reply_to: str = ""  # Message-ID without angle brackets
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell the user, on every channel that takes its kind."""

    key: str  # stable: "followup:<id>", "message:<id>", "digest:<date>", "test:<time>"
    kind: str  # thank_you | check_in | second_check_in | offer | rejection | digest | test
    title: str  # one line: what is due and why
    body: str  # details, the draft, the commands to act on it
    urgent: bool = False  # offers and rejections: at once, high priority
    draft: Draft | None = None
