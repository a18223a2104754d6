"""The one module that wires the adapters together: sources -> parser -> store.

Adapters (sources, parsing, store, ...) never import each other; this module
and the daemon/CLI above it are the only places that know them all.
"""

from __future__ import annotations

import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from .clock import Clock, SystemClock
from .config import AccountConfig, Config
from .domain import Classification
from .errors import SourceUnavailable
from .parsepool import MailParser, ParseOutcome, parser_for
from .secrets import SecretSpec, resolve, run_secret_command
from .signals import combine
from .sources.imap import FetchedMessage, ImapMailbox, ImapSettings
from .sources.maildir import MaildirMailbox
from .store import IncomingMessage, Store, database_url, default_database_path
from .textprep import model_text_of_new_text

log = logging.getLogger("interviewd.sync")

#: (account, folder, done, total) after each stored batch.
ProgressCallback = Callable[[str, str, int, int], None]


@dataclass(slots=True)
class SyncReport:
    stored: int = 0
    located: int = 0
    quarantined: int = 0
    folders: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        self.stored += other.stored
        self.located += other.located
        self.quarantined += other.quarantined
        self.folders.extend(other.folders)


def open_store(config: Config, clock: Clock | None = None) -> Store:
    return Store(database_url(config.store.url), clock=clock)


def secret_name(account: AccountConfig) -> str:
    return account.secret or f"imap-{account.name}"


def credential_for(account: AccountConfig) -> Callable[[], str]:
    """A callable that resolves the password or token only when a login needs it."""
    if account.oauth2_token_command:
        command = account.oauth2_token_command
        return lambda: run_secret_command(command, f"account {account.name!r}: oauth2 token")
    spec = SecretSpec(secret_name(account), account.password_command)
    return lambda: resolve(spec)


def imap_settings(account: AccountConfig, config: Config) -> ImapSettings:
    return ImapSettings(
        host=account.host,
        port=account.port,
        security=account.security,
        username=account.username,
        timeout=config.sync.socket_timeout_seconds,
        use_oauth2=bool(account.oauth2_token_command),
    )


def user_addresses(account: AccountConfig) -> frozenset[str]:
    found = {a.lower() for a in account.user_addresses}
    if "@" in account.username:
        found.add(account.username.lower())
    return frozenset(found)


class MessageClassifier(Protocol):
    """(subject, body) pairs in, one Classification each out, in order.

    A classifier that also has ``classify_texts(texts)``, taking text already prepared by
    :func:`interviewd.textprep.model_text` (as TextClassifier does), is given that instead.
    """

    def classify_many(self, items: Iterable[tuple[str, str]]) -> list[Classification]: ...


def personal_model_path() -> Path:
    """Where 'interviewd model train --with-corrections' puts the user's own model."""
    return default_database_path().parent / "model"


def resolve_model_path(config: Config) -> Path:
    """The configured model, else the personal one when trained, else the shipped one."""
    from .textcat import shipped_model_path

    if config.classifier.model:
        return Path(config.classifier.model).expanduser()
    personal = personal_model_path()
    if (personal / "meta.json").is_file():
        return personal
    return shipped_model_path()


def load_classifier(config: Config) -> MessageClassifier:
    from .textcat import TextClassifier

    return TextClassifier.load(
        resolve_model_path(config), threshold=config.classifier.review_threshold
    )


class Ingestor:
    """Turns raw messages into stored ones; a bad message is quarantined, never fatal."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock | None = None,
        classifier: MessageClassifier | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.classifier = classifier

    def classify(self, items: Sequence[IncomingMessage]) -> None:
        """Label the parsed mail of others in one model call, then apply the signals."""
        if self.classifier is None:
            return
        todo = [i for i in items if i.parsed is not None and not i.from_user]
        if not todo:
            return
        try:
            prepared = getattr(self.classifier, "classify_texts", None)
            if prepared is not None:
                # Speed: classify_many would split each body into new text, quotes and
                # signature again (model_text), which parse_message already did; the model
                # text built from ParsedMessage.new_text is the same string.
                results = prepared(
                    [
                        model_text_of_new_text(i.parsed.subject, i.parsed.new_text)
                        for i in todo
                        if i.parsed is not None
                    ]
                )
            else:
                results = self.classifier.classify_many(
                    (i.parsed.subject, i.parsed.text) for i in todo if i.parsed is not None
                )
        except Exception:  # a model failure must not lose mail: store it unclassified
            log.exception("the classifier failed on a batch; storing it unclassified")
            return
        thread_ids = {
            ref for i in todo if i.parsed for ref in (i.parsed.in_reply_to, *i.parsed.references)
        }
        known = self.store.known_message_ids(thread_ids)
        for item, result in zip(todo, results, strict=True):
            parsed = item.parsed
            assert parsed is not None
            in_thread = any(r in known for r in (parsed.in_reply_to, *parsed.references) if r)
            decision = combine(
                result,
                calendar=parsed.calendar,
                bulk=parsed.bulk,
                in_known_thread=in_thread,
                review_threshold=self.config.classifier.review_threshold,
            )
            item.classification = decision.classification
            item.label_source = decision.source
            # Privacy (store.keep_text) is applied after tracking, which still reads the text.

    def incoming_many(
        self,
        account: AccountConfig,
        folder: str,
        messages: Sequence[tuple[str, bytes, int, int, int | None]],
        parser: MailParser,
        *,
        is_sent_folder: bool,
    ) -> Callable[[], list[IncomingMessage]]:
        """Raw messages, as (key, raw, uidvalidity, uid, gm_msgid) tuples, made ready for
        ``classify`` and the store: parsed by ``parser`` (perhaps in other processes) from
        now on; the returned function waits for the parsing and returns them in order."""
        items = [
            self.unparsed(account, folder, key, raw, uidvalidity=v, uid=u, gm_msgid=g)
            for key, raw, v, u, g in messages
        ]
        todo = [i for i, item in enumerate(items) if not item.error]
        raws = [messages[i][1] for i in todo]
        results = parser.submit(raws)

        def finish() -> list[IncomingMessage]:
            for i, raw, outcome in zip(todo, raws, results(), strict=True):
                items[i] = self.parsed(
                    items[i], account, raw, outcome, is_sent_folder=is_sent_folder
                )
            return items

        return finish

    def unparsed(
        self,
        account: AccountConfig,
        folder: str,
        key: str,
        raw: bytes,
        *,
        uidvalidity: int = 0,
        uid: int = 0,
        gm_msgid: int | None = None,
    ) -> IncomingMessage:
        """The message before parsing; quarantined already when it is too big to parse."""
        digest = hashlib.sha256(raw).hexdigest()
        item = IncomingMessage(
            identity=f"sha:{digest}",
            account=account.name,
            folder=folder,
            key=key,
            uidvalidity=uidvalidity,
            uid=uid,
            gm_msgid=gm_msgid,
            content_hash=digest,
            size=len(raw),
        )
        if len(raw) > self.config.sync.max_message_bytes:
            item.error = (
                f"message of {len(raw):,} bytes is larger than sync.max_message_bytes "
                f"({self.config.sync.max_message_bytes:,}); not parsed"
            )
            _quarantine_headers(item, raw)
        return item

    def parsed(
        self,
        item: IncomingMessage,
        account: AccountConfig,
        raw: bytes,
        outcome: ParseOutcome,
        *,
        is_sent_folder: bool,
    ) -> IncomingMessage:
        """The message with what parsing gave: parsed, or quarantined with the error."""
        if outcome.parsed is None:
            item.error = outcome.error
            item.raw = raw
            _quarantine_headers(item, raw)
            if outcome.crashed:
                log.debug("parser failed on %s/%s %s: %s", account.name, item.folder, item.key,
                          outcome.error)  # fmt: skip
            return item
        parsed = outcome.parsed
        item.parsed = parsed
        item.identity = parsed.identity
        if self.config.store.keep_raw:
            item.raw = raw
        sender = parsed.sender.email if parsed.sender else ""
        item.from_user = is_sent_folder or sender in user_addresses(account)
        return item

    def parser_for(self, messages: int) -> MailParser:
        """Worker processes for a big catch-up (see parsepool), else inline parsing."""
        return parser_for(
            messages, self.config.store.max_body_chars, self.config.sync.parse_in_parallel
        )


def _header_fields(raw: bytes) -> dict[str, str]:
    """Message-ID, Subject and From read leniently from the header block alone."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        name, address = email.utils.parseaddr(str(headers.get("From", "")))
        return {
            "message_id": str(headers.get("Message-ID", "")).strip().strip("<>").strip(),
            "subject": str(
                email.header.make_header(
                    email.header.decode_header(str(headers.get("Subject", "")))
                )
            ),
            "from_name": name,
            "from_email": address.lower(),
        }
    except Exception:  # whatever the header holds, quarantine goes on
        return {}


def _identity_from_headers(raw: bytes) -> str:
    mid = _header_fields(raw).get("message_id", "")
    return f"mid:{mid}" if mid else ""


def _quarantine_headers(item: IncomingMessage, raw: bytes) -> None:
    item.header_summary = _header_fields(raw)
    if mid := item.header_summary.get("message_id"):
        item.identity = f"mid:{mid}"


def message_id_identity(header: bytes) -> str:
    """Identity from a ``Message-ID:`` header line, as ParsedMessage.identity would give."""
    return _identity_from_headers(header + b"\r\n\r\n")


class ImapSync:
    """Catch-up passes over one IMAP account's folders."""

    def __init__(
        self,
        account: AccountConfig,
        config: Config,
        store: Store,
        ingestor: Ingestor,
        *,
        clock: Clock | None = None,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.account = account
        self.config = config
        self.store = store
        self.ingestor = ingestor
        self.clock = clock or SystemClock()
        self.progress = progress
        self.stop = stop or threading.Event()
        self.sent_folder: str | None = None

    def folders(self, mailbox: ImapMailbox) -> list[tuple[str, bool]]:
        """(folder, is_sent) pairs to watch, the Sent folder found once per connection."""
        wanted = [(f, False) for f in self.account.folders]
        sent = self.account.sent_folder
        if sent == "auto":
            sent = mailbox.find_sent_folder() or ""
        self.sent_folder = sent or None
        if sent and sent not in self.account.folders:
            wanted.append((sent, True))
        return wanted

    def catch_up(self, mailbox: ImapMailbox) -> SyncReport:
        report = SyncReport()
        for folder, is_sent in self.folders(mailbox):
            if self.stop.is_set():
                break
            report.add(self.catch_up_folder(mailbox, folder, is_sent=is_sent))
        return report

    def catch_up_folder(self, mailbox: ImapMailbox, folder: str, *, is_sent: bool) -> SyncReport:
        account = self.account.name
        info = mailbox.examine(folder)
        state = self.store.folder_state(account, folder)
        report = SyncReport(folders=[folder])
        if state is not None and state.uidvalidity and state.uidvalidity != info.uidvalidity:
            log.warning(
                "%s/%s: UIDVALIDITY changed (%d -> %d); rescanning the folder",
                account,
                folder,
                state.uidvalidity,
                info.uidvalidity,
            )
            self.store.reset_folder(account, folder, info.uidvalidity)
            state = self.store.folder_state(account, folder)
            uids = mailbox.all_uids()
            report.add(self._rescan(mailbox, folder, info.uidvalidity, uids, is_sent))
        elif state is None or not state.uidvalidity:
            since = (self.clock.now() - timedelta(days=self.config.sync.backfill_days)).date()
            uids = mailbox.uids_since(since) if self.config.sync.backfill_days else []
            if not uids:
                # Nothing to backfill: start from the current end of the folder.
                self.store.save_batch(
                    [],
                    account=account,
                    folder=folder,
                    uidvalidity=info.uidvalidity,
                    highest_uid=max(info.uidnext - 1, 0),
                )
            report.add(self._fetch_and_store(mailbox, folder, info.uidvalidity, uids, is_sent))
        else:
            uids = mailbox.uids_above(state.highest_uid)
            report.add(self._fetch_and_store(mailbox, folder, info.uidvalidity, uids, is_sent))
        if not self.stop.is_set():
            self.store.mark_synced(account, folder)
        return report

    def _rescan(
        self, mailbox: ImapMailbox, folder: str, uidvalidity: int, uids: list[int], is_sent: bool
    ) -> SyncReport:
        """After a UIDVALIDITY change: recognise known mail by Message-ID, fetch only the rest."""
        report = SyncReport()
        batch = self.config.sync.batch_size * 5
        for start in range(0, len(uids), batch):
            if self.stop.is_set():
                break
            chunk = uids[start : start + batch]
            headers = mailbox.fetch_header_ids(chunk)
            ids = {uid: message_id_identity(h[0]) for uid, h in headers.items()}
            known = self.store.known_identities(i for i in ids.values() if i)
            located = [
                self.ingestor_location(folder, uidvalidity, uid, ids[uid], headers[uid][1])
                for uid in chunk
                if ids.get(uid) in known
            ]
            unknown = [uid for uid in chunk if uid in headers and ids.get(uid) not in known]
            # Known ones are recorded with their new location; the high-water mark
            # advances only past the unknown ones once they are stored too.
            if located:
                result = self.store.save_batch(
                    located, account=self.account.name, folder=folder, uidvalidity=uidvalidity
                )
                report.located += result.located
            report.add(self._fetch_and_store(mailbox, folder, uidvalidity, unknown, is_sent))
            if chunk and not self.stop.is_set():
                self.store.save_batch(
                    [],
                    account=self.account.name,
                    folder=folder,
                    uidvalidity=uidvalidity,
                    highest_uid=chunk[-1],
                )
        return report

    def ingestor_location(
        self, folder: str, uidvalidity: int, uid: int, identity: str, gm_msgid: int | None
    ) -> IncomingMessage:
        return IncomingMessage(
            identity=identity,
            account=self.account.name,
            folder=folder,
            key=f"{uidvalidity}/{uid}",
            uidvalidity=uidvalidity,
            uid=uid,
            gm_msgid=gm_msgid,
        )

    def _fetch_and_store(
        self, mailbox: ImapMailbox, folder: str, uidvalidity: int, uids: list[int], is_sent: bool
    ) -> SyncReport:
        """Fetch, parse, classify and store ``uids`` batch by batch, each batch with its
        high-water mark. While one batch is classified and stored, the next is fetched and
        (on a big catch-up) parsed by worker processes."""
        report = SyncReport()
        total = len(uids)
        size = self.config.sync.batch_size
        done = 0
        pending: _Batch | None = None

        def store(batch: _Batch) -> None:
            nonlocal done
            items = batch.items()
            self.ingestor.classify(items)
            result = self.store.save_batch(
                items,
                account=self.account.name,
                folder=folder,
                uidvalidity=uidvalidity,
                highest_uid=batch.last_uid,
            )
            report.stored += result.stored
            report.located += result.located
            report.quarantined += result.quarantined
            done += batch.size
            if self.progress:
                self.progress(self.account.name, folder, min(done, total), total)

        with self.ingestor.parser_for(total) as parser:
            try:
                for start in range(0, total, size):
                    if self.stop.is_set():
                        break
                    chunk = uids[start : start + size]
                    fetched: list[FetchedMessage] = []
                    for message in mailbox.fetch(chunk):
                        fetched.append(message)
                        if self.stop.is_set():
                            break  # finish the message in hand, store what we have
                    # Expunged UIDs in the chunk are passed too, unless we stopped short.
                    last_uid = fetched[-1].uid if self.stop.is_set() and fetched else chunk[-1]
                    if self.stop.is_set() and not fetched:
                        break
                    items = self.ingestor.incoming_many(
                        self.account,
                        folder,
                        [
                            (f"{uidvalidity}/{m.uid}", m.raw, uidvalidity, m.uid, m.gm_msgid)
                            for m in fetched
                        ],
                        parser,
                        is_sent_folder=is_sent,
                    )
                    batch = _Batch(items, last_uid, len(chunk))
                    if pending is not None:
                        # (Should storing fail, ``batch`` is dropped: its UIDs come again.)
                        ready, pending = pending, None
                        store(ready)
                    pending = batch
                if pending is not None:
                    ready, pending = pending, None
                    store(ready)
            except Exception:
                # A fetch failed: the batch fetched before it is good, store it, then report.
                if pending is not None:
                    store(pending)
                raise
        return report


@dataclass(slots=True)
class _Batch:
    """A fetched batch on its way to the store."""

    items: Callable[[], list[IncomingMessage]]  # waits for its parsing
    last_uid: int
    size: int  # UIDs it covers


class MaildirSync:
    """Catch-up passes over a local Maildir: every key not yet stored is read."""

    def __init__(
        self,
        account: AccountConfig,
        config: Config,
        store: Store,
        ingestor: Ingestor,
        *,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.account = account
        self.config = config
        self.store = store
        self.ingestor = ingestor
        self.progress = progress
        self.stop = stop or threading.Event()
        self.mailbox = MaildirMailbox(account.path)

    def catch_up(self) -> SyncReport:
        report = SyncReport()
        sent = self.account.sent_folder
        if sent == "auto":
            sent = self.mailbox.find_sent_folder() or ""
        folders = [(f, False) for f in self.account.folders]
        if sent and sent not in self.account.folders:
            folders.append((sent, True))
        for folder, is_sent in folders:
            if self.stop.is_set():
                break
            report.add(self._folder(folder, is_sent))
        return report

    def _folder(self, folder: str, is_sent: bool) -> SyncReport:
        report = SyncReport(folders=[folder])
        known = self.store.known_keys(self.account.name, folder)
        keys = [k for k in self.mailbox.keys(folder) if k not in known]
        size = self.config.sync.batch_size
        with self.ingestor.parser_for(len(keys)) as parser:
            for start in range(0, len(keys), size):
                if self.stop.is_set():
                    break
                found = [
                    (key, raw, 0, 0, None)
                    for key in keys[start : start + size]
                    if (raw := self.mailbox.read(folder, key)) is not None
                ]
                items = self.ingestor.incoming_many(
                    self.account, folder, found, parser, is_sent_folder=is_sent
                )()
                self.ingestor.classify(items)
                result = self.store.save_batch(items, account=self.account.name, folder=folder)
                report.stored += result.stored
                report.located += result.located
                report.quarantined += result.quarantined
                if self.progress:
                    done = min(start + size, len(keys))
                    self.progress(self.account.name, folder, done, len(keys))
        self.store.mark_synced(self.account.name, folder)
        return report


def sync_account_once(
    account: AccountConfig,
    config: Config,
    store: Store,
    *,
    clock: Clock | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    classifier: MessageClassifier | None = None,
) -> SyncReport:
    """One catch-up pass over one account; network errors propagate as SourceError."""
    ingestor = Ingestor(config, store, clock, classifier)
    if account.type == "maildir":
        return MaildirSync(
            account, config, store, ingestor, progress=progress, stop=stop
        ).catch_up()
    mailbox = ImapMailbox(imap_settings(account, config), credential_for(account))
    mailbox.connect()
    try:
        return ImapSync(
            account, config, store, ingestor, clock=clock, progress=progress, stop=stop
        ).catch_up(mailbox)
    finally:
        mailbox.close()


def sync_all_once(
    config: Config,
    store: Store,
    *,
    accounts: Iterable[AccountConfig] | None = None,
    clock: Clock | None = None,
    progress: ProgressCallback | None = None,
    classifier: MessageClassifier | None = None,
) -> dict[str, SyncReport | str]:
    """Each account's report, or its one-line error; one failing account stops no other."""
    results: dict[str, SyncReport | str] = {}
    for account in accounts if accounts is not None else config.accounts:
        try:
            results[account.name] = sync_account_once(
                account, config, store, clock=clock, progress=progress, classifier=classifier
            )
        except SourceUnavailable as exc:
            store.record_folder_error(account.name, "*", str(exc))
            results[account.name] = str(exc)
    return results
