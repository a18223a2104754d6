"""End-to-end timelines: .eml files delivered to a Maildir, a movable clock, the whole pipeline.

Each step writes real messages (parsed by mail-parser, classified by the shipped
model, stored in SQLite, matched and tracked), then asks what the user would
see at a given time.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from interviewd.applications import TrackingService
from interviewd.clock import FrozenClock
from interviewd.config import parse_config_text
from interviewd.service import Ingestor, MaildirSync
from interviewd.store import Store

ME = "sam.rivera@example.net"
TZ = ZoneInfo("America/New_York")


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def ics(
    uid: str,
    start: datetime,
    end: datetime,
    *,
    summary: str = "Interview",
    method: str = "REQUEST",
    sequence: int = 0,
    organizer: str = "",
) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"METHOD:{method}\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{sequence}\r\n"
        f"DTSTAMP:{start.astimezone(ZoneInfo('UTC')).strftime(fmt)}\r\n"
        f"DTSTART:{start.astimezone(ZoneInfo('UTC')).strftime(fmt)}\r\n"
        f"DTEND:{end.astimezone(ZoneInfo('UTC')).strftime(fmt)}\r\n"
        f"SUMMARY:{summary}\r\nSTATUS:{status}\r\n"
        + (f"ORGANIZER:mailto:{organizer}\r\n" if organizer else "")
        + f"ATTENDEE:mailto:{ME}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


class Timeline:
    def __init__(self, tmp_path: Path, classifier: Any, extra_config: str = "") -> None:
        self.root = tmp_path / "mail"
        for folder in (self.root, self.root / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
        (self.root / ".Sent" / "maildirfolder").write_text("")
        self.config = parse_config_text(
            "timezone: America/New_York\n"
            f"accounts: [{{name: me, type: maildir, path: '{self.root}', "
            f"user_addresses: ['{ME}']}}]\n"
            f"store: {{url: 'sqlite:///{tmp_path}/t.db'}}\n" + extra_config
        )
        self.clock = FrozenClock(local(2026, 11, 2, 8))
        self.store = Store(f"sqlite:///{tmp_path}/t.db", clock=self.clock)
        self.tracking = TrackingService(self.config, self.store, self.clock)
        self.ingestor = Ingestor(self.config, self.store, self.clock, classifier)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.store.close()

    def mail(
        self,
        at: datetime,
        sender: str,
        subject: str,
        body: str,
        *,
        to: str = ME,
        reply_to: str = "",
        calendar: str = "",
        sent: bool = False,
        headers: dict[str, str] | None = None,
    ) -> str:
        n = next(self._ids)
        msgid = f"m{n}@timeline.test"
        msg = EmailMessage()
        msg["From"] = ME if sent else sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(at)
        msg["Message-ID"] = f"<{msgid}>"
        if reply_to:
            msg["In-Reply-To"] = f"<{reply_to}>"
            msg["References"] = f"<{reply_to}>"
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(body)
        if calendar:
            msg.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
        folder = self.root / ".Sent" if sent else self.root
        (folder / "cur" / f"{n:06d}.timeline:2,S").write_bytes(msg.as_bytes(policy=SMTP))
        return msgid

    def sent(self, at: datetime, to: str, subject: str, body: str, reply_to: str = "") -> str:
        return self.mail(at, ME, subject, body, to=to, reply_to=reply_to, sent=True)

    def sync(self, at: datetime) -> None:
        self.clock.set(at)
        account = self.config.accounts[0]
        MaildirSync(account, self.config, self.store, self.ingestor).catch_up()
        self.tracking.process_new_messages()

    def board(self, at: datetime) -> list[Any]:
        return self.tracking.board(at)

    def open_followups(self, at: datetime) -> list[dict[str, Any]]:
        data = self.tracking.followups(at)
        return data["overdue"] + data["due"] + data["coming"]

    def kinds(self, at: datetime, when: str | None = None) -> list[tuple[str, str]]:
        """(company, kind) of the follow-ups open at ``at`` (optionally only overdue/due/coming)."""
        data = self.tracking.followups(at)
        buckets = [when] if when else ["overdue", "due", "coming"]
        return sorted((f["company"], f["kind"]) for b in buckets for f in data[b])

    def status(self, at: datetime, company: str) -> str:
        rows = [r for r in self.board(at) if r.company == company]
        assert len(rows) == 1, [(r.company, r.role) for r in self.board(at)]
        return rows[0].status

    def labels(self) -> dict[str, str | None]:
        return {m.subject: m.label for m in self.store.recent_messages(500)}

    def step(self, delta: timedelta) -> datetime:
        self.clock.advance(delta)
        return self.clock.now()
