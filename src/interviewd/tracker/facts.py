"""What the tracker knows about one application, and what it derives from it.

The tracker's rules are a pure function ``derive(facts, now, rules) -> Derived``
(see ``rules.py``): no I/O, no clock of their own. The service gathers the facts
from the store (messages matched to the application, rounds, the user's sent
mail, the user's own actions), calls ``derive`` and stores the result. Because
everything is derived afresh from the facts, a late message, a corrected label
or a moved clock always gives the same answer as if things had happened in order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain import MessageClass


class Status(enum.StrEnum):
    """Where an application stands. See README "Statuses"."""

    APPLIED = "applied"  # created from an acknowledgment or by hand
    SCHEDULED = "scheduled"  # a round is booked and has not ended
    INTERVIEWED = "interviewed"  # the latest round has ended, no word since
    AWAITING_DECISION = "awaiting_decision"  # feedback came, no decision yet
    ADVANCING = "advancing"  # feedback says the candidate moves on
    OFFER = "offer"
    REJECTED = "rejected"
    SILENT = "silent"  # check-ins spent, no answer: never read as a rejection
    WITHDRAWN = "withdrawn"  # set only by the user


CLOSED_STATUSES = frozenset({Status.REJECTED, Status.WITHDRAWN})


class FollowUpKind(enum.StrEnum):
    THANK_YOU = "thank_you"
    CHECK_IN = "check_in"
    SECOND_CHECK_IN = "second_check_in"


class FollowUpState(enum.StrEnum):
    PENDING = "pending"  # not yet due, or due/overdue and not acted on
    DONE = "done"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    CANCELLED = "cancelled"  # by a rejection, an offer, a cancelled round, a new message
    EXPIRED = "expired"  # a thank-you nobody sent within its window


class UserActionKind(enum.StrEnum):
    DONE = "done"
    SNOOZE = "snooze"
    DISMISS = "dismiss"


@dataclass(frozen=True, slots=True)
class EmployerMessage:
    """A message from the employer matched to this application."""

    message_pk: int
    at: datetime
    label: MessageClass
    #: The employer's own date for a decision or next step, found in feedback or
    #: scheduling mail (never a deadline asked of the candidate).
    promised: date | None = None
    #: Feedback that says the candidate moves on to a next stage.
    advancing: bool = False


@dataclass(frozen=True, slots=True)
class UserMessage:
    """Mail the user sent to this employer (seen in the Sent folder)."""

    message_pk: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Round:
    """One interview round."""

    round_pk: int
    start: datetime
    end: datetime
    scheduled_at: datetime  # when the round became known (the message or the user's entry)
    cancelled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserAction:
    """done / snooze / dismiss on one follow-up, by its stable key."""

    followup_key: str
    kind: UserActionKind
    at: datetime
    until: datetime | None = None  # for snooze


@dataclass(frozen=True, slots=True)
class ManualStatus:
    status: Status
    at: datetime
    reason: str = "set by hand"


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    created_at: datetime
    employer_messages: tuple[EmployerMessage, ...] = ()
    user_messages: tuple[UserMessage, ...] = ()
    rounds: tuple[Round, ...] = ()
    actions: tuple[UserAction, ...] = ()
    manual_statuses: tuple[ManualStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusChange:
    from_status: Status | None
    to_status: Status
    at: datetime
    reason: str
    message_pk: int | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    #: Stable across recomputation: "thank_you:<round_pk>", "check_in:<epoch>:<n>"
    #: where <epoch> is the message_pk (or "r<round_pk>") of the contact that started the count.
    key: str
    kind: FollowUpKind
    due: datetime
    overdue: datetime | None
    state: FollowUpState
    reason: str  # one line for the user: why this is due
    round_pk: int | None = None
    expires: datetime | None = None
    #: When to tell the user: ``due`` moved out of quiet hours (or a snooze's end).
    alert_at: datetime | None = None
    #: When the state last changed (done/cancelled...), for the record.
    closed_at: datetime | None = None
    closed_by_message_pk: int | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    status: Status
    history: tuple[StatusChange, ...]
    followups: tuple[FollowUp, ...]
    last_contact: datetime | None
    extra: dict[str, str] = field(default_factory=dict)
    #: The first instant after ``now`` at which the same facts may derive differently (None:
    #: never); recomputing before then changes nothing.
    next_change: datetime | None = None

    @property
    def open_followups(self) -> tuple[FollowUp, ...]:
        return tuple(
            f for f in self.followups if f.state in (FollowUpState.PENDING, FollowUpState.SNOOZED)
        )
