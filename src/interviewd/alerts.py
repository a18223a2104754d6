"""The alerts service: when a follow-up falls due, or an offer or rejection arrives, tell the user.

The follow-ups table is the source of truth. The daemon's APScheduler holds one
job per pending follow-up (stable id ``followup:<id>``, ``replace_existing``,
``coalesce`` and no misfire limit, so one that fell due while the daemon was
down fires once at start). Job callables are module-level and take only ids.

Every delivery is recorded per alert and channel *before* it is sent
(``sending``) and marked ``sent`` after: a crash in between leaves ``sending``,
which is never sent again (at most once: a repeated nudge is worse than a
missed one, and ``interviewd status`` shows it). A failed delivery goes back to
``pending`` with a backoff and is retried by its own job; other channels go on.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import notify
from .applications import TrackingService, local_zone
from .clock import Clock, SystemClock
from .config import AccountConfig, ChannelConfig, Config
from .domain import Alert, Draft
from .drafts import AlertContext, DraftContext, render_alert, render_draft
from .errors import SourceError, UsageError
from .notify import sanitize_header
from .secrets import SecretSpec, resolve
from .service import credential_for, imap_settings
from .sources.imap import ImapMailbox
from .store import Store
from .store.models import (
    Application,
    Contact,
    Delivery,
    FollowUpRow,
    InterviewRound,
    Message,
)
from .tracker.calendar import alert_time

log = logging.getLogger("interviewd.alerts")

NO_REPLY_WORDS = ("noreply", "no-reply", "donotreply", "do-not-reply", "notification")


def channel_secret(channel: ChannelConfig) -> Callable[[], str]:
    spec = SecretSpec(notify.secret_name(channel), channel.password_command)
    return lambda: resolve(spec)


#: The Drafts folder, recorded like a channel so a draft is appended once.
DRAFTS_CHANNEL = ChannelConfig(name="imap-drafts", type="email", kinds=("all",))


def draft_message(draft: Draft, account: AccountConfig, now: datetime) -> bytes:
    """The draft as an RFC 5322 message; every header value is one clean line."""
    msg = EmailMessage()
    sender = next(iter(account.user_addresses), "") or account.username
    if "@" in sender:
        msg["From"] = sanitize_header(sender)
    if draft.to:
        msg["To"] = ", ".join(
            formataddr((sanitize_header(a.name), sanitize_header(a.email))) for a in draft.to
        )
    msg["Subject"] = sanitize_header(draft.subject)
    msg["Date"] = format_datetime(now)
    if draft.in_reply_to:
        msg["In-Reply-To"] = f"<{sanitize_header(draft.in_reply_to).strip('<>')}>"
        refs = [sanitize_header(r).strip("<>") for r in (*draft.references, draft.in_reply_to)]
        msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(refs) if r)
    msg["X-Interviewd"] = "draft"
    msg.set_content(draft.body)
    return msg.as_bytes(policy=SMTP)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    channel: str
    ok: bool
    detail: str


class AlertService:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock | None = None,
        *,
        template_dir: Path | None = None,
        sender: Callable[[ChannelConfig, Alert, Callable[[], str]], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.tz = local_zone(config)
        self.template_dir = template_dir
        self.send = sender or notify.send
        self._lock = threading.Lock()
        self.tracking = TrackingService(config, store, self.clock)

    # -- what to say ------------------------------------------------------------

    def _local(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%A %d %B at %H:%M")

    def followup_alert(self, followup_id: int, at: datetime | None = None) -> Alert | None:
        """The alert for a follow-up that is still open (as of ``at``, default now), or None.

        With ``at``, the follow-up is derived afresh for that time (for previews and
        planning); without it, the stored row decides.
        """
        now = at or self.clock.now()
        with self.store.session() as s:
            row = s.get(FollowUpRow, followup_id)
            if row is None:
                return None
            app = s.get(Application, row.application_pk)
            if app is None:
                return None
            f: Any = row
            if at is not None:
                derived = self.tracking.derive_one(s, app, at)
                f = next((d for d in derived.followups if d.key == row.key), None)
                if f is None:
                    return None
            state = getattr(f.state, "value", f.state)
            if state not in ("pending", "snoozed"):
                return None
            kind = getattr(f.kind, "value", f.kind)
            context = self._draft_context(s, app, f.round_pk)
            draft = render_draft(kind, context, self.template_dir)
            title, body = render_alert(
                kind,
                AlertContext(
                    ref=str(row.id),
                    contact_name=context.contact_name,
                    company=app.company.name,
                    role=app.role,
                    reason=self._reason(s, kind, f.reason, f.round_pk, now),
                    due="now" if f.due <= now else self._local(f.due),
                    overdue_from=self._local(f.overdue) if f.overdue else "",
                    overdue=f.overdue is not None and f.overdue <= now,
                    draft=draft,
                ),
                self.template_dir,
            )
            return Alert(
                key=f"followup:{row.id}",
                kind=kind,
                title=title,
                body=body,
                urgent=False,
                draft=draft,
            )

    def digest_alert(self, at: datetime | None = None) -> Alert | None:
        """The morning digest: what is overdue, due today and coming this week; None if nothing."""
        at = at or self.clock.now()
        data = self.tracking.followups(at)
        local = at.astimezone(self.tz)
        end_of_day = local.replace(hour=23, minute=59, second=59)
        week = at + timedelta(days=7)
        today = [f for f in data["coming"] if datetime.fromisoformat(f["due"]) <= end_of_day]
        coming = [
            f for f in data["coming"] if end_of_day < datetime.fromisoformat(f["due"]) <= week
        ]
        sections = [
            ("Overdue", data["overdue"]),
            ("Due now", data["due"]),
            ("Due later today", today),
            ("Coming this week", coming),
        ]
        if not any(items for _title, items in sections):
            return None
        lines: list[str] = []
        for title, items in sections:
            if not items:
                continue
            lines.append(f"{title}:")
            for f in items:
                ref = f" (interviewd draft {f['id']})" if f["id"] else ""
                when = self._local(datetime.fromisoformat(f["due"]))
                kind = f["kind"].replace("_", " ")
                lines.append(f"  - {kind}, {f['company']}, due {when}{ref}")
            lines.append("")
        count = sum(len(items) for _t, items in sections)
        return Alert(
            key=f"digest:{local.date().isoformat()}",
            kind="digest",
            title=f"interviewd: {count} follow-up(s) overdue, due or coming this week",
            body="\n".join(lines).rstrip() + "\n",
        )

    def due_alerts(self, at: datetime | None = None) -> list[Alert]:
        """Every follow-up alert owed as of ``at``: what the daemon would send, sending nothing."""
        at = at or self.clock.now()
        data = self.tracking.followups(at)
        alerts = []
        for item in data["overdue"] + data["due"]:
            if item["id"] is not None:
                alert = self.followup_alert(item["id"], at)
                if alert is not None:
                    alerts.append(alert)
        return alerts

    def _when(self, when: datetime, now: datetime) -> str:
        """'today at 15:00', 'yesterday at 15:00', 'on Monday at 15:00', 'on 3 November'."""
        local, today = when.astimezone(self.tz), now.astimezone(self.tz).date()
        days = (today - local.date()).days
        clock = local.strftime("%H:%M")
        if days == 0:
            return f"today at {clock}"
        if days == 1:
            return f"yesterday at {clock}"
        if 1 < days < 7:
            return f"on {local:%A} at {clock}"
        return f"on {local.day} {local:%B} at {clock}"

    def _reason(self, s: Any, kind: str, reason: str, round_pk: int | None, now: datetime) -> str:
        """Why this is due, in the words of the alert's one line."""
        if kind == "thank_you" and round_pk:
            round_ = s.get(InterviewRound, round_pk)
            if round_ is not None:
                return f"your interview ended {self._when(round_.end, now)}"
        reason = re.sub(r"^check-in \d+: ", "", reason)
        return re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", self._iso_day, reason)

    @staticmethod
    def _iso_day(match: re.Match[str]) -> str:
        """2026-11-06 -> 'Friday 6 November', as a person writes a date."""
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return f"{day:%A} {day.day} {day:%B}"

    def draft_for(self, followup_id: int) -> Draft:
        """The draft of any follow-up, whatever its state (for 'interviewd draft')."""
        with self.store.session() as s:
            f = s.get(FollowUpRow, followup_id)
            if f is None:
                raise UsageError(
                    f"no follow-up {followup_id}; 'interviewd followups' lists their numbers"
                )
            app = s.get(Application, f.application_pk)
            assert app is not None
            return render_draft(f.kind, self._draft_context(s, app, f.round_pk), self.template_dir)

    def message_alert(self, message_pk: int) -> Alert | None:
        """Offers and rejections are told at once."""
        with self.store.session() as s:
            m = s.get(Message, message_pk)
            if m is None or m.label not in ("offer", "rejection") or m.from_user:
                return None
            app = s.get(Application, m.application_pk) if m.application_pk else None
            title, body = render_alert(
                m.label,
                AlertContext(
                    ref=str(app.id) if app else "",
                    contact_name=m.from_name,
                    company=app.company.name if app else (m.from_name or m.from_email),
                    role=app.role if app else "",
                    subject=m.subject,
                    excerpt=(m.new_text or "")[:400],
                ),
                self.template_dir,
            )
            return Alert(key=f"message:{m.id}", kind=m.label, title=title, body=body, urgent=True)

    def test_alert(self) -> Alert:
        title, body = render_alert("test", AlertContext(), self.template_dir)
        return Alert(
            key=f"test:{self.clock.now().isoformat()}", kind="test", title=title, body=body
        )

    def _draft_context(self, s: Any, app: Application, round_pk: int | None) -> DraftContext:
        contacts = list(s.scalars(select(Contact).where(Contact.application_pk == app.id)))
        human = [c for c in contacts if not any(w in c.email for w in NO_REPLY_WORDS)]
        contact = human[-1] if human else (contacts[-1] if contacts else None)
        round_ = s.get(InterviewRound, round_pk) if round_pk else None
        if round_ is None:
            round_ = s.scalar(
                select(InterviewRound)
                .where(
                    InterviewRound.application_pk == app.id, InterviewRound.cancelled_at.is_(None)
                )
                .order_by(InterviewRound.start.desc())
                .limit(1)
            )
        last = s.scalar(
            select(Message)
            .where(Message.application_pk == app.id, Message.from_user.is_(False))
            .order_by(Message.date.desc().nulls_last())
            .limit(1)
        )
        mine = s.scalar(
            select(Message).where(Message.from_user.is_(True), Message.from_name != "").limit(1)
        )
        return DraftContext(
            contact_name=contact.name if contact else "",
            contact_email=contact.email if contact else "",
            company=app.company.name,
            role=app.role,
            round_when=self._local(round_.start) if round_ else "",
            user_name=mine.from_name if mine else "",
            interviewers=tuple(
                c.name for c in contacts if round_ and c.name and c.email in round_.interviewers
            ),
            notes=round_.notes if round_ else "",
            thread_subject=last.subject if last else "",
            thread_message_id=last.message_id if last else "",
            thread_references=tuple(last.references or ()) if last else (),
        )

    # -- delivery ---------------------------------------------------------------

    def channels_for(self, alert: Alert) -> list[ChannelConfig]:
        return [c for c in self.config.alerts.channels if notify.wants(c, alert.kind)]

    def deliver(self, alert: Alert) -> list[DeliveryReport]:
        """Send on every channel that takes this kind, each at most once."""
        reports = []
        for channel in self.channels_for(alert):
            reports.append(self._deliver_one(alert, channel))
        if self.config.alerts.drafts == "imap" and alert.draft is not None:
            reports.append(self._deliver_one(alert, DRAFTS_CHANNEL, self._append_draft))
        return reports

    def _append_draft(self, _channel: ChannelConfig, alert: Alert, _secret: Any) -> None:
        """Put the draft in the account's Drafts folder, ready to open and send."""
        from .notify import NotifyError

        draft = alert.draft
        assert draft is not None
        account = next((a for a in self.config.accounts if a.type == "imap"), None)
        if account is None:
            raise NotifyError("no imap account to write the draft to", retryable=False)
        mailbox = ImapMailbox(imap_settings(account, self.config), credential_for(account))
        try:
            mailbox.connect()
            folder = mailbox.find_drafts_folder()
            if folder is None:
                raise NotifyError(
                    f"account {account.name}: no Drafts folder found (SPECIAL-USE \\Drafts)",
                    retryable=False,
                )
            mailbox.append_draft(folder, draft_message(draft, account, self.clock.now()))
        except SourceError as exc:
            raise NotifyError(f"drafts: {exc}", retryable=True) from None
        finally:
            mailbox.close()

    def _deliver_one(
        self,
        alert: Alert,
        channel: ChannelConfig,
        send: Callable[[ChannelConfig, Alert, Callable[[], str]], None] | None = None,
    ) -> DeliveryReport:
        now = self.clock.now()
        with self._lock, self.store.session() as s:
            row = s.scalar(
                select(Delivery).where(
                    Delivery.alert_key == alert.key, Delivery.channel == channel.name
                )
            )
            if row is None:
                row = Delivery(
                    alert_key=alert.key,
                    channel=channel.name,
                    kind=alert.kind,
                    state="pending",
                    attempts=0,
                    last_error="",
                    created_at=now,
                )
                s.add(row)
            if row.state != "pending":
                return DeliveryReport(channel.name, row.state == "sent", f"already {row.state}")
            if row.next_attempt_at and row.next_attempt_at > now:
                return DeliveryReport(channel.name, False, "waiting to retry")
            row.state = "sending"
            row.attempts += 1
            attempt = row.attempts
        try:
            (send or self.send)(channel, alert, channel_secret(channel))
        except Exception as exc:  # any backend failure: record, retry later, go on
            retryable = bool(getattr(exc, "retryable", True))
            detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            self._failed(alert.key, channel.name, detail, attempt, retryable)
            log.warning("alert %s on %s failed: %s", alert.key, channel.name, detail)
            return DeliveryReport(channel.name, False, detail)
        with self.store.session() as s:
            row = s.scalar(
                select(Delivery).where(
                    Delivery.alert_key == alert.key, Delivery.channel == channel.name
                )
            )
            assert row is not None
            row.state = "sent"
            row.sent_at = self.clock.now()
            row.last_error = ""
        log.info("alert %s sent on %s", alert.key, channel.name)
        return DeliveryReport(channel.name, True, "sent")

    def _failed(self, key: str, channel: str, detail: str, attempt: int, retryable: bool) -> None:
        cfg = self.config.alerts
        with self.store.session() as s:
            row = s.scalar(
                select(Delivery).where(Delivery.alert_key == key, Delivery.channel == channel)
            )
            assert row is not None
            row.last_error = detail[:2000]
            if retryable and attempt < cfg.max_attempts:
                delay = min(cfg.retry_max_seconds, cfg.retry_initial_seconds * 2 ** (attempt - 1))
                delay *= 0.8 + 0.4 * random.random()
                row.state = "pending"
                row.next_attempt_at = self.clock.now() + timedelta(seconds=delay)
            else:
                row.state = "failed"
                row.next_attempt_at = None

    def retry_due(self) -> int:
        """Retry every pending delivery whose wait is over."""
        now = self.clock.now()
        with self.store.session() as s:
            rows = list(
                s.scalars(
                    select(Delivery).where(
                        Delivery.state == "pending",
                        Delivery.next_attempt_at.is_not(None),
                        Delivery.next_attempt_at <= now,
                    )
                )
            )
            keys = [(r.alert_key, r.channel) for r in rows]
        for key, channel_name in keys:
            alert = self.alert_for_key(key)
            if alert is None:
                continue
            if channel_name == DRAFTS_CHANNEL.name and alert.draft is not None:
                self._deliver_one(alert, DRAFTS_CHANNEL, self._append_draft)
                continue
            channel = next((c for c in self.config.alerts.channels if c.name == channel_name), None)
            if channel is not None:
                self._deliver_one(alert, channel)
        return len(keys)

    def alert_for_key(self, key: str) -> Alert | None:
        kind, _, ident = key.partition(":")
        if kind == "followup" and ident.isdigit():
            return self.followup_alert(int(ident))
        if kind == "message" and ident.isdigit():
            return self.message_alert(int(ident))
        return None

    # -- what falls due -----------------------------------------------------------

    def pending_followup_jobs(self) -> list[tuple[int, datetime]]:
        """(follow-up id, when to alert) for every follow-up an alert is still owed for."""
        with self.store.session() as s:
            sent = set(s.scalars(select(Delivery.alert_key).where(Delivery.state != "pending")))
            rows = s.scalars(
                select(FollowUpRow).where(FollowUpRow.state.in_(["pending", "snoozed"]))
            )
            jobs = []
            for f in rows:
                if f.expires and f.expires <= self.clock.now():
                    continue
                if f"followup:{f.id}" in sent and not self._some_channel_owed(s, f.id):
                    continue
                jobs.append((f.id, f.alert_at or f.due))
            return jobs

    def _some_channel_owed(self, s: Any, followup_id: int) -> bool:
        done = set(
            s.scalars(
                select(Delivery.channel).where(
                    Delivery.alert_key == f"followup:{followup_id}", Delivery.state != "pending"
                )
            )
        )
        return any(c.name not in done for c in self.config.alerts.channels)

    def message_alert_time(self, message: Message) -> datetime:
        now = self.clock.now()
        if self.config.alerts.urgent_at_once:
            return now
        return alert_time(now, self.config.followups, self.tz)


# -- the scheduler ------------------------------------------------------------------

_service: AlertService | None = None
_tracking: TrackingService | None = None


def _require() -> AlertService:
    if _service is None:
        raise RuntimeError("alerts are not set up in this process")
    return _service


def fire_followup(followup_id: int) -> None:
    """Job: one follow-up fell due."""
    service = _require()
    if _tracking is not None:
        with service.store.session() as s:
            f = s.get(FollowUpRow, followup_id)
            app_pk = f.application_pk if f else None
        if app_pk is not None:
            _tracking.recompute(app_pk)  # a reply may have completed it meanwhile
    alert = service.followup_alert(followup_id)
    if alert is not None:
        service.deliver(alert)


def fire_message(message_pk: int) -> None:
    """Job: an offer or a rejection arrived."""
    service = _require()
    alert = service.message_alert(message_pk)
    if alert is not None:
        service.deliver(alert)


def fire_digest() -> None:
    """Job: the morning digest."""
    service = _require()
    alert = service.digest_alert()
    if alert is not None:
        service.deliver(alert)


def retry_deliveries() -> None:
    """Job: retry failed deliveries whose backoff is over."""
    _require().retry_due()


class AlertScheduler:
    """APScheduler 3 BackgroundScheduler holding one job per pending follow-up."""

    def __init__(self, service: AlertService, tracking: TrackingService) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        global _service, _tracking
        _service, _tracking = service, tracking
        self.service = service
        self.tracking = tracking
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )

    def start(self) -> None:
        self.scheduler.start()
        self.sync_jobs()
        self.scheduler.add_job(self.tick, "interval", seconds=60, id="tick", replace_existing=True)
        alerts = self.service.config.alerts
        if alerts.digest:
            hour, minute = (int(x) for x in alerts.digest_time.split(":"))
            self.scheduler.add_job(
                fire_digest,
                "cron",
                hour=hour,
                minute=minute,
                timezone=self.service.tz,
                id="digest",
                replace_existing=True,
            )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def tick(self) -> None:
        """Time passes: recompute the applications whose next change has come, then bring
        the jobs in line."""
        self.tracking.recompute_due()
        self.sync_jobs()

    def sync_jobs(self) -> None:
        wanted = {
            f"followup:{fid}": (fid, when) for fid, when in self.service.pending_followup_jobs()
        }
        for job in self.scheduler.get_jobs():
            if job.id.startswith("followup:") and job.id not in wanted:
                job.remove()
        now = self.service.clock.now()
        for job_id, (fid, when) in wanted.items():
            self.scheduler.add_job(
                fire_followup,
                "date",
                run_date=max(when, now),
                args=[fid],
                id=job_id,
                replace_existing=True,
            )
        self.scheduler.add_job(
            retry_deliveries,
            "interval",
            seconds=max(5, int(self.service.config.alerts.retry_initial_seconds / 2)),
            id="retries",
            replace_existing=True,
        )

    def new_messages(self, message_pks: list[int]) -> None:
        """Offers and rejections just tracked: alert at once (or after quiet hours)."""
        now = self.service.clock.now()
        for pk in message_pks:
            self.scheduler.add_job(
                fire_message,
                "date",
                run_date=now,
                args=[pk],
                id=f"message:{pk}",
                replace_existing=True,
            )
