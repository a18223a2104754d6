"""The tracking service: messages -> applications, rounds, statuses and follow-ups.

It wires the pure tracker (``tracker.matching``, ``tracker.extract``,
``tracker.rules``) to the store. Statuses and follow-ups are always derived
afresh from an application's facts (its messages, rounds, your sent mail and
your own actions), then saved, so a late message or a corrected label gives
the same answer as if things had happened in order.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from .clock import Clock, SystemClock
from .config import Config
from .domain import MessageClass
from .errors import UsageError
from .store import Store
from .store.models import (
    Application,
    Company,
    Contact,
    FollowUpRow,
    InterviewRound,
    Message,
    StatusChangeRow,
    UserActionRow,
)
from .tracker import extract
from .tracker.facts import (
    ApplicationFacts,
    Derived,
    EmployerMessage,
    FollowUp,
    FollowUpState,
    ManualStatus,
    Round,
    Status,
    UserAction,
    UserActionKind,
    UserMessage,
)
from .tracker.matching import (
    ApplicationInfo,
    CompanyInfo,
    Known,
    MessageInfo,
    company_domain,
    match_message,
    registrable,
    role_in,
)
from .tracker.rules import derive

log = logging.getLogger("interviewd.tracking")

JOB_LABELS = frozenset({"scheduling", "feedback", "rejection", "offer"})
NO_REPLY = re.compile(r"(no-?reply|do-?not-?reply|notifications?|mailer-daemon|bounce)", re.I)
#: Pending messages read at once by process_new_messages (bounds its memory on a big sync).
TRACK_CHUNK = 500

ACKNOWLEDGMENT = re.compile(
    r"\b(we(?:'ve| have)? received your application|thank(?:s| you) for (?:applying|your "
    r"application|your interest in)|application (?:received|submitted|confirmation))\b",
    re.IGNORECASE,
)


def local_zone(config: Config) -> zoneinfo.ZoneInfo:
    if config.timezone:
        return zoneinfo.ZoneInfo(config.timezone)
    try:
        key = "/".join(__import__("pathlib").Path("/etc/localtime").resolve().parts[-2:])
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return zoneinfo.ZoneInfo("UTC")


def user_addresses(config: Config) -> frozenset[str]:
    found: set[str] = set()
    for account in config.accounts:
        found.update(a.lower() for a in account.user_addresses)
        if "@" in account.username:
            found.add(account.username.lower())
    return frozenset(found)


#: Offers and rejections older than this (e.g. from the first backfill) raise no alert.
URGENT_WINDOW = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class TrackResult:
    processed: int
    urgent: list[int]  # offers and rejections that just arrived: alert at once
    touched: set[int]  # applications recomputed


@dataclass(frozen=True, slots=True)
class BoardRow:
    application_pk: int
    company: str
    role: str
    status: str
    round: dict[str, Any] | None
    last_contact: datetime | None
    next_followup: dict[str, Any] | None


class TrackingService:
    def __init__(self, config: Config, store: Store, clock: Clock | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.tz = local_zone(config)
        self.me = user_addresses(config)

    # -- from messages ------------------------------------------------------

    def process_new_messages(self) -> TrackResult:
        """Match every message not yet tracked, then recompute the applications touched."""
        touched: set[int] = set()
        urgent: list[int] = []
        recent = self.clock.now() - URGENT_WINDOW
        count = 0
        pending = (
            select(Message)
            .where(Message.tracked.is_(False), Message.status == "ok")
            .order_by(Message.date.asc().nulls_last(), Message.id.asc())
            .limit(TRACK_CHUNK)
        )
        with self.store.session() as s:
            # The session's identity map holds objects weakly: pinning the applications and
            # companies makes each message's get() a dictionary hit, not a query and a flush.
            s.info["pinned"] = [*s.scalars(select(Application)), *s.scalars(select(Company))]
            known = self._known(s)
            # In chunks, so a first sync of 100,000 messages never holds them all at once:
            # each query flushes the chunk before (now tracked), which then drops out of it.
            for message in _chunked(s, pending):
                app_pk = self._track(s, message, known)
                message.tracked = True
                self._apply_privacy(message)
                count += 1
                if app_pk is not None:
                    touched.add(app_pk)
                    when = message.date or message.stored_at
                    if (
                        message.label in ("offer", "rejection")
                        and not message.from_user
                        and (when >= recent)
                    ):
                        urgent.append(message.id)
        self.recompute_many(sorted(touched))
        return TrackResult(count, urgent, touched)

    def _apply_privacy(self, message: Message) -> None:
        """store.keep_text: mail that is none of interviewd's business keeps headers only.

        Text waiting for review (low confidence or an uncertain match) stays until reviewed.
        """
        keep = self.config.store.keep_text
        if keep == "all" or message.needs_review or message.match_uncertain:
            return
        unlinked_other = message.application_pk is None and (
            message.label == "other" or message.from_user
        )
        if keep == "none" or (keep == "job" and unlinked_other):
            message.text = message.new_text = message.quoted_text = message.signature = ""
            message.text_dropped = True

    def _known(self, s: Session) -> Known:
        known = Known()
        for app in s.scalars(select(Application)):
            known.applications.append(_app_info(app))
        rows = s.execute(
            select(Message.message_id, Message.application_pk).where(
                Message.application_pk.is_not(None), Message.message_id != ""
            )
        )
        known.thread = {mid: pk for mid, pk in rows}
        known.contacts = {
            email: pk for email, pk in s.execute(select(Contact.email, Contact.application_pk))
        }
        return known

    def _track(self, s: Session, message: Message, known: Known) -> int | None:
        label = message.label or ""
        employer_job = not message.from_user and label in JOB_LABELS
        # An acknowledgment is `other` mail by the model; one the model is unsure of is
        # known by its words too ("We received your application").
        acknowledgment = (
            not message.from_user
            and (label == "other" or message.needs_review)
            and bool(ACKNOWLEDGMENT.search(f"{message.subject}\n{message.new_text[:1500]}"))
        )
        if not (message.from_user or employer_job or acknowledgment or label == "other"):
            return None
        counterparts = (
            tuple(_emails(message.to_addrs + message.cc_addrs))
            if message.from_user
            else (message.from_email,)
        )
        counterparts = tuple(a for a in counterparts if a and a not in self.me)
        info = MessageInfo(
            message_pk=message.id,
            from_email=message.from_email,
            from_name=message.from_name,
            counterpart_emails=counterparts,
            subject=message.subject,
            text=message.new_text or message.text,
            thread_ids=tuple(r for r in (message.in_reply_to, *message.references) if r),
            from_user=message.from_user,
        )
        match = match_message(info, known)
        if (
            label == "other"
            and message.is_bulk
            and not (message.from_user or acknowledgment or match.by_thread)
        ):
            # A newsletter or notification from an employer's domain (or a relay) belongs to
            # no application unless it answers one of its threads.
            return None
        app_pk = match.application_pk
        if app_pk is None:
            # Only the employer's own job mail (or an acknowledgment) opens an application;
            # an unmatched newsletter or your own unmatched mail opens nothing, and neither
            # does a label the model is unsure of: it waits in review, and the user's label
            # tracks it again.
            if not (acknowledgment or (employer_job and not message.needs_review)):
                return None
            if not match.company_name:
                # Webmail with no company named anywhere: a friend's "are you free on
                # Saturday?" must not become an application named after them. Review lists it;
                # attaching it there (or `interview add`) tracks it.
                message.match_uncertain = True
                message.match_reason = "no company found in this mail"
                return None
            app_pk = self._open_application(s, message, match, known, acknowledgment)
            reason, uncertain = "opened a new application", False
        else:
            reason, uncertain = match.reason, not match.certain
            if label == "other" and not message.from_user and not match.certain:
                return None  # an uncertain guess about mail that moves nothing: leave it
        message.application_pk = app_pk
        message.match_reason = reason
        message.match_uncertain = uncertain
        if not message.from_user:
            self._learn_role(s, app_pk, info, known)
        if message.message_id:
            known.thread[message.message_id] = app_pk
        if not message.from_user:
            self._remember_contact(s, message, app_pk, known)
        if employer_job:
            self._read_message(s, message, app_pk)
        return app_pk

    def _open_application(
        self, s: Session, message: Message, match: Any, known: Known, acknowledgment: bool
    ) -> int:
        now = self.clock.now()
        name = match.company_name or message.from_name or message.from_email
        company = Company(
            name=name[:300],
            domains=[match.company_domain] if match.company_domain else [],
            aliases=[],
            created_at=now,
        )
        s.add(company)
        s.flush()
        created = message.date or message.stored_at
        app = Application(
            company_pk=company.id,
            role=match.role[:300],
            status=Status.APPLIED.value,
            source="acknowledgment" if acknowledgment else "message",
            created_at=min(created, now) if created else now,
            updated_at=now,
        )
        s.add(app)
        s.flush()
        s.refresh(app)
        s.info.setdefault("pinned", []).extend((company, app))
        known.applications.append(_app_info(app))
        log.info("new application: %s %s", company.name, app.role)
        return app.id

    @staticmethod
    def _learn_role(s: Session, app_pk: int, info: MessageInfo, known: Known) -> None:
        """An application opened without a role takes the first one its mail names."""
        index = next((i for i, a in enumerate(known.applications) if a.pk == app_pk), None)
        if index is not None and known.applications[index].role:
            return  # known already: no query (a get would flush the session every message)
        role = role_in(info.subject, info.text)[:300]
        if not role:
            return
        app = s.get(Application, app_pk)
        if app is not None and not app.role:
            app.role = role
            if index is not None:
                known.applications[index] = dataclasses.replace(
                    known.applications[index], role=role
                )

    def _remember_contact(self, s: Session, message: Message, app_pk: int, known: Known) -> None:
        email = message.from_email
        if not email or NO_REPLY.search(email.split("@")[0]) or email in known.contacts:
            return
        if company_domain(email) == "" and "@" in email and not message.from_name:
            return
        app = s.get(Application, app_pk)
        if app is None:
            return
        s.add(
            Contact(
                application_pk=app_pk,
                company_pk=app.company_pk,
                name=message.from_name[:300],
                email=email,
            )
        )
        known.contacts[email] = app_pk
        domain = company_domain(email)
        if domain and not app.company.domains:
            app.company.domains = [registrable(domain)]

    def _read_message(self, s: Session, message: Message, app_pk: int) -> None:
        """What a job message says: promises, advancing, and interview rounds."""
        when = message.date or message.stored_at
        text = message.new_text or message.text
        label = message.label
        if label in ("feedback", "scheduling"):
            message.promised = extract.promised_date(text, when, self.tz, self.config.followups)
        if label == "feedback":
            message.advancing = extract.is_advancing(text)
        if label != "scheduling":
            return
        duration = timedelta(minutes=self.config.followups.default_interview_minutes)
        rounds = _rounds_of(s, app_pk)
        events = message.calendar or []
        handled = False
        for event in events:
            start = _dt(event.get("start"))
            uid = event.get("uid") or ""
            method = (event.get("method") or "").upper()
            existing = next((r for r in rounds if uid and r.calendar_uid == uid), None)
            cancelled = method == "CANCEL" or (event.get("status") or "").upper() == "CANCELLED"
            if cancelled:
                if existing is not None and existing.cancelled_at is None:
                    existing.cancelled_at = when
                handled = True
                continue
            if start is None:
                continue
            end = _dt(event.get("end")) or start + duration
            handled = True
            if existing is not None:
                if int(event.get("sequence") or 0) >= existing.calendar_sequence:
                    existing.start, existing.end = start, end
                    existing.calendar_sequence = int(event.get("sequence") or 0)
                    existing.cancelled_at = None
                continue
            attendees = [
                a.get("email", "")
                for a in event.get("attendees") or []
                if a.get("email", "") not in self.me
            ]
            round_ = InterviewRound(
                application_pk=app_pk,
                start=start,
                end=end,
                kind=(event.get("summary") or "")[:100],
                interviewers=attendees,
                location=event.get("location") or "",
                calendar_uid=uid,
                calendar_sequence=int(event.get("sequence") or 0),
                scheduled_at=when,
                source_message_pk=message.id,
                notes="",
            )
            s.add(round_)
            rounds.append(round_)
        if handled:
            return
        upcoming = sorted(
            (r for r in rounds if r.cancelled_at is None and r.end > when), key=lambda r: r.start
        )
        if extract.mentions_cancellation(text):
            if upcoming:
                upcoming[0].cancelled_at = when
            return
        found = extract.interview_time(text, when, self.tz)
        if found is None:
            return
        start, end = found
        end = end or start + duration
        if upcoming and (extract.mentions_reschedule(text) or upcoming[0].start == start):
            upcoming[0].start, upcoming[0].end = start, end
            return
        round_ = InterviewRound(
            application_pk=app_pk,
            start=start,
            end=end,
            kind="",
            interviewers=[],
            location="",
            calendar_uid="",
            calendar_sequence=0,
            scheduled_at=when,
            source_message_pk=message.id,
            notes="",
        )
        s.add(round_)
        rounds.append(round_)

    # -- derivation ---------------------------------------------------------

    def facts(self, s: Session, app: Application) -> ApplicationFacts:
        messages = list(
            s.scalars(
                select(Message).where(Message.application_pk == app.id, Message.status == "ok")
            )
        )
        employer = tuple(
            EmployerMessage(
                message_pk=m.id,
                at=m.date or m.stored_at,
                label=MessageClass(m.label),
                promised=m.promised,
                advancing=m.advancing,
            )
            for m in messages
            if not m.from_user and m.label in JOB_LABELS
        )
        mine = tuple(UserMessage(m.id, m.date or m.stored_at) for m in messages if m.from_user)
        rounds = tuple(
            Round(r.id, r.start, r.end, r.scheduled_at, r.cancelled_at)
            for r in s.scalars(
                select(InterviewRound).where(InterviewRound.application_pk == app.id)
            )
        )
        actions: list[UserAction] = []
        manual: list[ManualStatus] = []
        for a in s.scalars(select(UserActionRow).where(UserActionRow.application_pk == app.id)):
            if a.kind == "status":
                manual.append(ManualStatus(Status(a.status), a.at, a.reason or "set by hand"))
            else:
                actions.append(UserAction(a.followup_key, UserActionKind(a.kind), a.at, a.until))
        return ApplicationFacts(
            created_at=app.created_at,
            employer_messages=employer,
            user_messages=mine,
            rounds=rounds,
            actions=tuple(actions),
            manual_statuses=tuple(manual),
        )

    def derive_one(self, s: Session, app: Application, at: datetime | None = None) -> Derived:
        return derive(self.facts(s, app), at or self.clock.now(), self.config.followups, self.tz)

    def recompute(self, app_pk: int) -> Derived | None:
        """Derive one application afresh and store what changed."""
        with self.store.session() as s:
            return self._recompute(s, app_pk, self.clock.now())

    def recompute_many(self, app_pks: Iterable[int]) -> None:
        """``recompute`` for many applications in one transaction."""
        now = self.clock.now()
        with self.store.session() as s:
            for app_pk in app_pks:
                self._recompute(s, app_pk, now)

    def _recompute(self, s: Session, app_pk: int, now: datetime) -> Derived | None:
        app = s.get(Application, app_pk)
        if app is None:
            return None
        derived = self.derive_one(s, app, now)
        # Written only where something changed: the minute tick recomputes every
        # application, and an unchanged one must cost reads only.
        changed = False
        if (app.status, app.last_contact_at) != (derived.status.value, derived.last_contact):
            app.status = derived.status.value
            app.last_contact_at = derived.last_contact
            changed = True
        if app.next_change_at != derived.next_change:
            app.next_change_at = derived.next_change  # not a change the user sees
        history = [
            (c.from_status.value if c.from_status else "", c.to_status.value, c.at, c.reason,
             c.message_pk)
            for c in derived.history
        ]  # fmt: skip
        stored = [
            (r.from_status, r.to_status, r.at, r.reason, r.message_pk)
            for r in s.scalars(
                select(StatusChangeRow)
                .where(StatusChangeRow.application_pk == app_pk)
                .order_by(StatusChangeRow.id)
            )
        ]
        if stored != history:
            s.execute(delete(StatusChangeRow).where(StatusChangeRow.application_pk == app_pk))
            s.add_all(
                StatusChangeRow(
                    application_pk=app_pk,
                    from_status=from_status,
                    to_status=to_status,
                    at=at,
                    reason=reason,
                    message_pk=message_pk,
                )
                for from_status, to_status, at, reason, message_pk in history
            )
            changed = True
        rows = {
            r.key: r
            for r in s.scalars(select(FollowUpRow).where(FollowUpRow.application_pk == app_pk))
        }
        for f in derived.followups:
            row = rows.pop(f.key, None)
            if row is None:
                row = FollowUpRow(application_pk=app_pk, key=f.key)
                s.add(row)
            changed |= _fill_followup(row, f, now)
        for stale in rows.values():
            s.delete(stale)
            changed = True
        if changed:
            app.updated_at = now
        return derived

    def recompute_all(self) -> None:
        with self.store.session() as s:
            pks = list(s.scalars(select(Application.id)))
        self.recompute_many(pks)

    def recompute_due(self) -> int:
        """Time passed: recompute the applications it may have changed (those whose
        ``next_change_at`` has come); every other one would come out the same. New facts
        recompute their application at once wherever they arrive, so nothing else is due.
        Returns how many were recomputed."""
        now = self.clock.now()
        with self.store.session() as s:
            pks = list(s.scalars(select(Application.id).where(Application.next_change_at <= now)))
        self.recompute_many(pks)
        return len(pks)

    # -- the user's own entries ----------------------------------------------

    def add_interview(
        self,
        company: str,
        role: str,
        at: datetime,
        duration: timedelta | None,
        with_: Iterable[str],
        notes: str,
    ) -> tuple[int, int]:
        now = self.clock.now()
        duration = duration or timedelta(minutes=self.config.followups.default_interview_minutes)
        people = [w.strip().lower() for w in with_ if w.strip()]
        with self.store.session() as s:
            wanted = company.strip().lower()
            found = next(
                (c for c in s.scalars(select(Company)) if c.name.strip().lower() == wanted), None
            )
            if found is None:
                domains = sorted(
                    {registrable(company_domain(p)) for p in people if company_domain(p)}
                )
                found = Company(name=company.strip(), domains=domains, aliases=[], created_at=now)
                s.add(found)
                s.flush()
            app = s.scalar(
                select(Application).where(
                    Application.company_pk == found.id,
                    or_(Application.role == role, Application.role == ""),
                    Application.status.not_in(["rejected", "withdrawn"]),
                )
            )
            if app is None:
                app = Application(
                    company_pk=found.id,
                    role=role,
                    status="applied",
                    source="manual",
                    created_at=now,
                    updated_at=now,
                )
                s.add(app)
                s.flush()
            elif not app.role:
                app.role = role
            for person in people:
                s.add(Contact(application_pk=app.id, company_pk=found.id, name="", email=person))
            round_ = InterviewRound(
                application_pk=app.id,
                start=at,
                end=at + duration,
                kind="",
                interviewers=people,
                location="",
                notes=notes,
                calendar_uid="",
                calendar_sequence=0,
                scheduled_at=min(now, at),
                source_message_pk=None,
            )
            s.add(round_)
            s.flush()
            app_pk, round_pk = app.id, round_.id
        self.recompute(app_pk)
        return app_pk, round_pk

    def set_status(self, app_pk: int, status: Status, reason: str = "set by hand") -> None:
        with self.store.session() as s:
            if s.get(Application, app_pk) is None:
                raise UsageError(f"no application {app_pk}; 'interviewd interviews' lists them")
            s.add(
                UserActionRow(
                    application_pk=app_pk,
                    kind="status",
                    status=status.value,
                    at=self.clock.now(),
                    reason=reason,
                )
            )
        self.recompute(app_pk)

    def followup_action(
        self, followup_id: int, kind: UserActionKind, until: datetime | None = None
    ) -> FollowUpRow:
        """done / snooze / dismiss, recorded as a fact of the application."""
        with self.store.session() as s:
            row = s.get(FollowUpRow, followup_id)
            if row is None:
                raise UsageError(
                    f"no follow-up {followup_id}; 'interviewd followups' lists their numbers"
                )
            s.add(
                UserActionRow(
                    application_pk=row.application_pk,
                    followup_key=row.key,
                    kind=kind.value,
                    at=self.clock.now(),
                    until=until,
                )
            )
            app_pk = row.application_pk
        self.recompute(app_pk)
        with self.store.session() as s:
            updated = s.get(FollowUpRow, followup_id)
            assert updated is not None
            return updated

    def relabel(self, message_ref: str, label: str) -> Message:
        """The user's label: applied at once, kept as a correction, the clocks recomputed.

        A message that moves into a job class is matched afresh (it may open or
        join an application); privacy: mail relabelled ``other`` loses its text
        under ``store.keep_text: job``.
        """
        from .domain import LABELS

        if label not in LABELS:
            raise UsageError(f"unknown label {label!r}; use one of {', '.join(LABELS)}")
        message = self.store.find_message(message_ref)
        if message is None:
            raise UsageError(
                f"no message {message_ref!r}; 'interviewd messages' lists their numbers"
            )
        keep = self.config.store.keep_text
        unlinked = message.application_pk is None
        drop = keep == "none" or (keep == "job" and label == "other" and unlinked)
        updated = self.store.set_label(message.id, label, drop_text=drop)
        previous = updated.application_pk
        if label in JOB_LABELS and previous is None:
            with self.store.session() as s:
                row = s.get(Message, updated.id)
                assert row is not None
                row.tracked = False
            self.process_new_messages()
        elif previous is not None:
            with self.store.session() as s:
                row = s.get(Message, updated.id)
                assert row is not None
                if label in ("feedback", "scheduling"):
                    when = row.date or row.stored_at
                    row.promised = extract.promised_date(
                        row.new_text or row.text, when, self.tz, self.config.followups
                    )
                    row.advancing = label == "feedback" and extract.is_advancing(
                        row.new_text or row.text
                    )
            self.recompute(previous)
        found = self.store.find_message(str(updated.id))
        assert found is not None
        return found

    def reattach(self, message_pk: int, app_pk: int) -> None:
        """Move a message to the application the user names; both are recomputed."""
        with self.store.session() as s:
            message = s.get(Message, message_pk)
            if message is None:
                raise UsageError(f"no message {message_pk}")
            if s.get(Application, app_pk) is None:
                raise UsageError(f"no application {app_pk}")
            previous = message.application_pk
            message.application_pk = app_pk
            message.match_reason = "attached by hand"
            message.match_uncertain = False
            message.tracked = True
        for touched in {previous, app_pk}:
            if touched is not None:
                self.recompute(touched)

    def note(self, app_pk: int, text: str) -> int:
        """The user's reflection, kept on the application's latest round."""
        with self.store.session() as s:
            if s.get(Application, app_pk) is None:
                raise UsageError(f"no application {app_pk}; 'interviewd interviews' lists them")
            latest = s.scalar(
                select(InterviewRound)
                .where(
                    InterviewRound.application_pk == app_pk, InterviewRound.cancelled_at.is_(None)
                )
                .order_by(InterviewRound.start.desc())
                .limit(1)
            )
            if latest is None:
                raise UsageError(
                    f"application {app_pk} has no interview round yet; "
                    "add one with 'interviewd interview add'"
                )
            latest.notes = f"{latest.notes}\n{text}".strip() if latest.notes else text
            return latest.id

    # -- views --------------------------------------------------------------

    def board(self, at: datetime | None = None) -> list[BoardRow]:
        at = at or self.clock.now()
        rows: list[BoardRow] = []
        with self.store.session() as s:
            for app in s.scalars(select(Application).order_by(Application.id)):
                derived = self.derive_one(s, app, at)
                rounds = [
                    r
                    for r in s.scalars(
                        select(InterviewRound).where(InterviewRound.application_pk == app.id)
                    )
                    if r.cancelled_at is None
                ]
                upcoming = sorted((r for r in rounds if r.end > at), key=lambda r: r.start)
                past = sorted((r for r in rounds if r.end <= at), key=lambda r: r.start)
                current = upcoming[0] if upcoming else (past[-1] if past else None)
                nxt = min(derived.open_followups, key=lambda f: f.due, default=None)
                rows.append(
                    BoardRow(
                        application_pk=app.id,
                        company=app.company.name,
                        role=app.role,
                        status=derived.status.value,
                        round=_round_json(current, len(past) + (1 if upcoming else 0))
                        if current
                        else None,
                        last_contact=derived.last_contact,
                        next_followup=_followup_json(nxt, at) if nxt else None,
                    )
                )
        return rows

    def followups(self, at: datetime | None = None) -> dict[str, Any]:
        at = at or self.clock.now()
        buckets: dict[str, list[dict[str, Any]]] = {"overdue": [], "due": [], "coming": []}
        with self.store.session() as s:
            ids = {(r.application_pk, r.key): r.id for r in s.scalars(select(FollowUpRow))}
            for app in s.scalars(select(Application).order_by(Application.id)):
                derived = self.derive_one(s, app, at)
                for f in derived.open_followups:
                    item = _followup_json(f, at) | {
                        "id": ids.get((app.id, f.key)),
                        "application_id": app.id,
                        "company": app.company.name,
                        "role": app.role,
                    }
                    buckets[item["when"]].append(item)
        for items in buckets.values():
            items.sort(key=lambda i: i["due"])
        return {"as_of": at.isoformat(), **buckets}

    def timeline(self, app_pk: int) -> dict[str, Any]:
        with self.store.session() as s:
            app = s.get(Application, app_pk)
            if app is None:
                raise UsageError(f"no application {app_pk}; 'interviewd interviews' lists them")
            derived = self.derive_one(s, app)
            messages = list(
                s.scalars(
                    select(Message)
                    .where(Message.application_pk == app_pk)
                    .order_by(Message.date.asc().nulls_last(), Message.id)
                )
            )
            rounds = list(
                s.scalars(
                    select(InterviewRound)
                    .where(InterviewRound.application_pk == app_pk)
                    .order_by(InterviewRound.start)
                )
            )
            return {
                "id": app.id,
                "company": app.company.name,
                "role": app.role,
                "status": derived.status.value,
                "last_contact": _iso(derived.last_contact),
                "rounds": [_round_json(r, i + 1) for i, r in enumerate(rounds)],
                "messages": [
                    {
                        "id": m.id,
                        "date": _iso(m.date),
                        "from": m.from_email,
                        "from_user": m.from_user,
                        "subject": m.subject,
                        "label": m.label,
                        "confidence": m.confidence,
                        "match": m.match_reason,
                        "uncertain": m.match_uncertain,
                        "excerpt": (m.new_text or "")[:160].replace("\n", " "),
                    }
                    for m in messages
                ],
                "history": [
                    {
                        "from": c.from_status.value if c.from_status else None,
                        "to": c.to_status.value,
                        "at": c.at.isoformat(),
                        "reason": c.reason,
                        "message_id": c.message_pk,
                    }
                    for c in derived.history
                ],
                "followups": [_followup_json(f, self.clock.now()) for f in derived.followups],
            }


def _app_info(app: Application) -> ApplicationInfo:
    company = app.company
    return ApplicationInfo(
        pk=app.id,
        company=CompanyInfo(
            company.id, company.name, tuple(company.domains or ()), tuple(company.aliases or ())
        ),
        role=app.role,
        is_open=app.status not in ("rejected", "withdrawn"),
        last_activity=app.last_contact_at or app.created_at,
    )


def _emails(addresses: Iterable[str]) -> list[str]:
    import email.utils

    return [a.lower() for _n, a in email.utils.getaddresses(list(addresses)) if a]


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _round_json(r: InterviewRound, number: int) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": number,
        "start": r.start.isoformat(),
        "end": r.end.isoformat(),
        "kind": r.kind,
        "interviewers": list(r.interviewers or []),
        "location": r.location,
        "notes": r.notes,
        "cancelled": r.cancelled_at is not None,
    }


def _followup_json(f: FollowUp, at: datetime) -> dict[str, Any]:
    if f.overdue is not None and f.overdue <= at:
        when = "overdue"
    elif f.due <= at:
        when = "due"
    else:
        when = "coming"
    return {
        "key": f.key,
        "kind": f.kind.value,
        "state": f.state.value,
        "due": f.due.isoformat(),
        "overdue_at": _iso(f.overdue),
        "alert_at": _iso(f.alert_at),
        "when": when,
        "reason": f.reason,
    }


_FOLLOWUP_FIELDS = (
    "kind", "round_pk", "due", "overdue", "expires", "alert_at", "state", "reason", "closed_at",
    "closed_by_message_pk",
)  # fmt: skip


def _fill_followup(row: FollowUpRow, f: FollowUp, now: datetime) -> bool:
    """Bring the row in line with ``f``; whether anything changed."""
    wanted = (
        f.kind.value,
        f.round_pk,
        f.due,
        f.overdue,
        f.expires,
        f.alert_at,
        f.state.value,
        f.reason,
        None if f.state is FollowUpState.PENDING else f.closed_at,
        f.closed_by_message_pk,
    )
    if tuple(getattr(row, name) for name in _FOLLOWUP_FIELDS) == wanted:
        return False
    for name, value in zip(_FOLLOWUP_FIELDS, wanted, strict=True):
        setattr(row, name, value)
    row.updated_at = now
    return True


def _rounds_of(s: Session, app_pk: int) -> list[InterviewRound]:
    """An application's rounds, read once per session and kept up to date by the caller (who
    appends the rounds it adds): one query per application, not one flush per message."""
    cache: dict[int, list[InterviewRound]] = s.info.setdefault("rounds", {})
    if app_pk not in cache:
        cache[app_pk] = list(
            s.scalars(select(InterviewRound).where(InterviewRound.application_pk == app_pk))
        )
    return cache[app_pk]


def _chunked(s: Session, query: Select[tuple[Message]]) -> Iterator[Message]:
    """The rows of ``query`` (which must leave out the rows already handled) chunk by chunk."""
    while True:
        chunk = list(s.scalars(query))
        if not chunk:
            return
        yield from chunk
        s.flush()
        if any(not m.tracked for m in chunk):  # the caller must mark each one it handled
            raise RuntimeError("a pending message was left untracked")
