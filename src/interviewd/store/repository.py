"""The store's operations, in the words of the rest of interviewd.

The one promise that matters most lives in ``save_batch``: messages are stored
in the same transaction that advances their folder's high-water mark, so a
crash at any moment loses nothing and repeats nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..clock import Clock, SystemClock
from ..domain import CalendarEvent, Classification, ParsedMessage
from ..errors import StoreError
from .db import create_db_engine, migrate, redact_url
from .models import LabelCorrection, Message, MessageLocation, SyncState

log = logging.getLogger("interviewd.store")

#: A batch that has waited this long for the database is reported while the wait goes on.
SLOW_WRITE_SECONDS = 2.0


@dataclass(slots=True)
class IncomingMessage:
    """A message read from a source, parsed or not, with where it was found."""

    identity: str
    account: str
    folder: str
    key: str  # unique within the folder: "UIDVALIDITY/UID" or a Maildir key
    uidvalidity: int = 0
    uid: int = 0
    parsed: ParsedMessage | None = None
    error: str = ""  # set when the message is quarantined
    raw: bytes | None = None  # kept when configured, and always for quarantined mail
    from_user: bool = False
    gm_msgid: int | None = None
    content_hash: str = ""
    size: int = 0
    #: For quarantined mail: what could be read of the header (subject, from, message_id).
    header_summary: dict[str, str] = dataclasses.field(default_factory=dict)
    classification: Classification | None = None
    label_source: str = ""  # model | signal
    drop_text: bool = False  # privacy: keep headers, class and confidence only


@dataclass(frozen=True, slots=True)
class FolderState:
    account: str
    folder: str
    uidvalidity: int
    highest_uid: int
    last_sync_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class SaveResult:
    stored: int  # new messages
    located: int  # known messages found in one more place
    quarantined: int


def _event_to_json(event: CalendarEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    for key in ("start", "end"):
        value = data[key]
        data[key] = value.isoformat() if value else None
    return data


class Store:
    def __init__(self, url: str, clock: Clock | None = None, *, migrate_schema: bool = True):
        self.url = url
        self.clock = clock or SystemClock()
        self.engine: Engine = create_db_engine(url)
        if migrate_schema:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                session.rollback()
                raise StoreError(
                    f"database {redact_url(self.url)}: {str(exc.orig).splitlines()[0]}"
                ) from exc
            except BaseException:
                session.rollback()
                raise

    # -- sync state ------------------------------------------------------

    def folder_state(self, account: str, folder: str) -> FolderState | None:
        with self.session() as s:
            row = s.scalar(
                select(SyncState).where(SyncState.account == account, SyncState.folder == folder)
            )
            return _state(row) if row else None

    def folder_states(self) -> list[FolderState]:
        with self.session() as s:
            rows = s.scalars(select(SyncState).order_by(SyncState.account, SyncState.folder))
            return [_state(r) for r in rows]

    def reset_folder(self, account: str, folder: str, uidvalidity: int) -> None:
        """Start a folder afresh under a new UIDVALIDITY (its messages stay stored)."""
        with self.session() as s:
            row = self._state_row(s, account, folder)
            row.uidvalidity = uidvalidity
            row.highest_uid = 0

    def record_folder_error(self, account: str, folder: str, error: str) -> None:
        with self.session() as s:
            self._state_row(s, account, folder).last_error = error[:2000]

    def mark_synced(self, account: str, folder: str) -> None:
        with self.session() as s:
            row = self._state_row(s, account, folder)
            row.last_sync_at = self.clock.now()
            row.last_error = ""

    @staticmethod
    def _state_row(s: Session, account: str, folder: str) -> SyncState:
        row = s.scalar(
            select(SyncState).where(SyncState.account == account, SyncState.folder == folder)
        )
        if row is None:
            row = SyncState(
                account=account, folder=folder, uidvalidity=0, highest_uid=0, last_error=""
            )
            s.add(row)
        return row

    # -- messages --------------------------------------------------------

    def known_identities(self, identities: Iterable[str]) -> set[str]:
        wanted = list(set(identities))
        found: set[str] = set()
        with self.session() as s:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found.update(s.scalars(select(Message.identity).where(Message.identity.in_(chunk))))
        return found

    def known_message_ids(self, message_ids: Iterable[str]) -> set[str]:
        """Which of these Message-IDs are stored (to tell replies in a known thread)."""
        wanted = [m for m in set(message_ids) if m]
        found: set[str] = set()
        with self.session() as s:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found.update(
                    s.scalars(select(Message.message_id).where(Message.message_id.in_(chunk)))
                )
        return found

    def known_keys(self, account: str, folder: str) -> set[str]:
        with self.session() as s:
            return set(
                s.scalars(
                    select(MessageLocation.key).where(
                        MessageLocation.account == account, MessageLocation.folder == folder
                    )
                )
            )

    def save_batch(
        self,
        items: Sequence[IncomingMessage],
        *,
        account: str,
        folder: str,
        uidvalidity: int = 0,
        highest_uid: int | None = None,
    ) -> SaveResult:
        """Store a batch and advance the folder's high-water mark, in one transaction."""
        stored = located = quarantined = 0
        now = self.clock.now()
        with self._reported_if_slow(len(items)), self.session() as s:
            identities = {item.identity for item in items}
            existing: dict[str, int] = {}
            for i in range(0, len(identities), 500):
                chunk = list(identities)[i : i + 500]
                rows = s.execute(
                    select(Message.identity, Message.id).where(Message.identity.in_(chunk))
                )
                existing.update({identity: pk for identity, pk in rows})
            keys = {item.key for item in items}
            known_keys = set(
                s.scalars(
                    select(MessageLocation.key).where(
                        MessageLocation.account == account,
                        MessageLocation.folder == folder,
                        MessageLocation.key.in_(keys),
                    )
                )
            )
            new_rows: list[dict[str, Any]] = []
            locations: list[tuple[str, dict[str, Any]]] = []  # (identity, row)
            fresh: set[str] = set()
            for item in items:
                if item.key in known_keys:
                    continue
                known_keys.add(item.key)
                location = {
                    "account": item.account,
                    "folder": item.folder,
                    "key": item.key,
                    "uidvalidity": item.uidvalidity,
                    "uid": item.uid,
                }
                locations.append((item.identity, location))
                if item.identity in existing or item.identity in fresh:
                    located += 1
                    continue
                fresh.add(item.identity)
                new_rows.append(_message_values(item, now))
                if item.error:
                    quarantined += 1
                else:
                    stored += 1
            # Core bulk inserts: several times faster than the ORM unit of work.
            if new_rows:
                returned = s.execute(
                    insert(Message).returning(Message.id, Message.identity), new_rows
                )
                existing.update({identity: pk for pk, identity in returned})
            if locations:
                s.execute(
                    insert(MessageLocation),
                    [dict(row, message_pk=existing[identity]) for identity, row in locations],
                )
            if highest_uid is not None:
                state = self._state_row(s, account, folder)
                state.uidvalidity = uidvalidity
                state.highest_uid = max(state.highest_uid, highest_uid)
        return SaveResult(stored=stored, located=located, quarantined=quarantined)

    @contextmanager
    def _reported_if_slow(self, count: int) -> Iterator[None]:
        """Say so when a write waits on the database (another process's lock, a slow disk).

        SQLite waits up to its busy timeout (30 s) for a lock, silently: mail seemed not to
        arrive and nothing said why. The wait goes on; the log now tells what holds it up.
        """
        timer = threading.Timer(
            SLOW_WRITE_SECONDS,
            log.warning,
            args=(
                "database %s: storing %d message(s) has waited %g s: the database is busy or "
                "locked by another process; still waiting",
                redact_url(self.url),
                count,
                SLOW_WRITE_SECONDS,
            ),
        )
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def count_messages(self, status: str | None = None) -> int:
        with self.session() as s:
            query = select(func.count(Message.id))
            if status:
                query = query.where(Message.status == status)
            return s.scalar(query) or 0

    def review_queue(self, limit: int = 100) -> list[Message]:
        with self.session() as s:
            query = (
                select(Message)
                .where(or_(Message.needs_review.is_(True), Message.match_uncertain.is_(True)))
                .order_by(Message.date.desc().nulls_last(), Message.id.desc())
                .limit(limit)
            )
            return list(s.scalars(query))

    def find_message(self, ref: str) -> Message | None:
        """By the number `interviewd messages` shows, or by Message-ID."""
        with self.session() as s:
            if ref.isdigit():
                return s.get(Message, int(ref))
            mid = ref.strip().strip("<>")
            return s.scalar(select(Message).where(Message.message_id == mid).limit(1))

    def set_label(self, pk: int, label: str, *, drop_text: bool) -> Message:
        """The user's label: applied at once, kept as a correction for retraining."""
        with self.session() as s:
            message = s.get(Message, pk)
            if message is None:
                raise StoreError(f"no message {pk}")
            s.add(
                LabelCorrection(
                    message_pk=pk,
                    subject=message.subject,
                    body=message.text,
                    previous_label=message.label or "",
                    label=label,
                    created_at=self.clock.now(),
                )
            )
            message.label = label
            message.label_source = "user"
            message.confidence = 1.0
            message.needs_review = False
            if drop_text:
                message.text = message.new_text = message.quoted_text = message.signature = ""
                message.text_dropped = True
            return message

    def corrections(self) -> list[tuple[str, str, str]]:
        """(subject, body, label) of every correction, the latest per message winning."""
        with self.session() as s:
            rows = s.scalars(select(LabelCorrection).order_by(LabelCorrection.id))
            latest: dict[object, tuple[str, str, str]] = {}
            for row in rows:
                key = row.message_pk if row.message_pk is not None else ("orphan", row.id)
                latest[key] = (row.subject, row.body, row.label)
            return list(latest.values())

    def recent_messages(self, limit: int = 20) -> list[Message]:
        with self.session() as s:
            query = (
                select(Message)
                .order_by(Message.date.desc().nulls_last(), Message.id.desc())
                .limit(limit)
            )
            return list(s.scalars(query))


def _state(row: SyncState) -> FolderState:
    return FolderState(
        account=row.account,
        folder=row.folder,
        uidvalidity=row.uidvalidity,
        highest_uid=row.highest_uid,
        last_sync_at=row.last_sync_at,
        last_error=row.last_error,
    )


def _message_values(item: IncomingMessage, now: datetime) -> dict[str, Any]:
    p = item.parsed
    row: dict[str, Any] = {
        "identity": item.identity,
        "account": item.account,
        "folder": item.folder,
        "from_user": item.from_user,
        "gm_msgid": item.gm_msgid,
        "status": "quarantined" if item.error else "ok",
        "error": item.error,
        "raw": item.raw,
        "stored_at": now,
        "content_hash": item.content_hash,
        "size": item.size,
        "message_id": "",
        "subject": "",
        "from_name": "",
        "from_email": "",
        "to_addrs": [],
        "cc_addrs": [],
        "date": None,
        "in_reply_to": "",
        "references": [],
        "bulk": {},
        "is_bulk": False,
        "text": "",
        "new_text": "",
        "quoted_text": "",
        "signature": "",
        "calendar": [],
        "defects": [],
        "label": None,
        "confidence": None,
        "scores": {},
        "needs_review": False,
        "label_source": "",
        "text_dropped": False,
    }
    if p is None:
        summary = item.header_summary
        row["message_id"] = summary.get("message_id", "")[:998]
        row["subject"] = summary.get("subject", "")
        row["from_name"] = summary.get("from_name", "")
        row["from_email"] = summary.get("from_email", "")[:320]
        return row
    row.update(
        message_id=p.message_id[:998],
        content_hash=p.content_hash or item.content_hash,
        size=p.size or item.size,
        subject=p.subject,
        from_name=p.sender.name if p.sender else "",
        from_email=p.sender.email[:320] if p.sender else "",
        to_addrs=[str(a) for a in p.to],
        cc_addrs=[str(a) for a in p.cc],
        date=p.date,
        in_reply_to=p.in_reply_to[:998],
        references=list(p.references),
        bulk=dataclasses.asdict(p.bulk),
        is_bulk=p.bulk.is_bulk,
        text=p.text,
        new_text=p.new_text,
        quoted_text=p.quoted_text,
        signature=p.signature,
        calendar=[_event_to_json(e) for e in p.calendar],
        defects=list(p.defects),
    )
    c = item.classification
    if c is not None:
        row.update(
            label=c.label.value,
            confidence=round(c.confidence, 4),
            scores={k: round(v, 4) for k, v in c.scores.items()},
            needs_review=c.needs_review,
            label_source=item.label_source or "model",
        )
    if item.drop_text:
        row.update(text="", new_text="", quoted_text="", signature="", text_dropped=True)
    return row
