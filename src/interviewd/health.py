"""``interviewd doctor``: every check a months-long run depends on, one line and one fix each.

The checks are the ones a user otherwise discovers one restart at a time: a secret that is
not where the service looks, a password that changed, a folder that was renamed, a database
left behind by an older version, a model that does not load.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import AccountConfig, Config

#: Doctor's own network timeout: a check should answer in seconds, not the daemon's minute.
DOCTOR_TIMEOUT = 10.0
MIGRATE_FIX = "run 'interviewd sync --once' or any command: migrations apply at start"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: ``fix`` says what to do when ``ok`` is false (or a hint when it is true)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The one line doctor prints."""
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark} {self.name}: {self.detail}"
        if self.fix and not self.ok:
            text += f" -> fix: {self.fix}"
        return text


def format_results(results: list[CheckResult]) -> str:
    return "\n".join(r.line() for r in results)


def run_doctor(
    config: Config,
    *,
    send_test: bool = False,
    channel_checks: Callable[[Config], list[CheckResult]] | None = None,
    timeout: float = DOCTOR_TIMEOUT,
) -> list[CheckResult]:
    """Run every check; the caller has loaded (so validated) ``config``.

    ``channel_checks`` is the notifier backends' own check; the caller binds ``send_test``
    into it (e.g. with functools.partial), since only it knows how to send a test alert.
    """
    from .secretstore import check_secrets

    results = [
        CheckResult(
            "config",
            True,
            f"valid: {len(config.accounts)} account(s), "
            f"{len(config.alerts.channels)} alert channel(s)",
        )
    ]
    results.extend(check_secrets(config))
    for index, account in enumerate(config.accounts):
        if account.type == "maildir":
            results.extend(check_maildir_account(account, index))
        else:
            results.extend(check_imap_account(account, index, config, timeout))
    results.append(check_database(config))
    results.append(check_classifier(config))
    if channel_checks is not None:
        results.extend(channel_checks(config))
    else:
        for channel in config.alerts.channels:
            note = "a test alert is sent by the notifier check" if send_test else "configured"
            results.append(CheckResult(f"channel {channel.name}", True, f"{channel.type}: {note}"))
    return results


def check_imap_account(
    account: AccountConfig, index: int, config: Config, timeout: float = DOCTOR_TIMEOUT
) -> list[CheckResult]:
    """Login, each configured folder, the Sent folder, IDLE."""
    from .errors import AuthenticationFailed, SecretError, SourceError
    from .service import credential_for, imap_settings, secret_name
    from .sources.imap import ImapMailbox

    where = f"accounts[{index}]"
    name = f"account {account.name}"
    settings = imap_settings(account, config)
    settings = dataclasses.replace(
        settings, timeout=min(timeout, config.sync.socket_timeout_seconds)
    )
    port = settings.port or (993 if settings.security == "tls" else 143)
    mailbox = ImapMailbox(settings, credential_for(account))
    try:
        mailbox.connect()
    except AuthenticationFailed as exc:
        fix = (
            "fix oauth2_token_command (the token is refused or expired)"
            if account.oauth2_token_command
            else f"store the right password with 'interviewd secrets set {secret_name(account)}'"
            f" (or correct {where}.username: {account.username!r})"
        )
        return [CheckResult(f"{name} login", False, str(exc), fix)]
    except SecretError as exc:
        return [
            CheckResult(
                f"{name} login",
                False,
                f"no secret to log in with: {exc}",
                f"run 'interviewd secrets set {secret_name(account)}'",
            )
        ]
    except SourceError as exc:
        return [
            CheckResult(
                f"{name} login",
                False,
                f"cannot reach {settings.host}:{port} ({settings.security}): {exc}",
                f"check {where}.host, {where}.port and {where}.security against your provider's "
                "IMAP settings, and that this machine can reach the server",
            )
        ]
    results = [
        CheckResult(
            f"{name} login", True, f"logged in to {settings.host}:{port} as {account.username}"
        )
    ]
    try:
        folders = [folder for _flags, folder in mailbox.list_folders()]
        by_lower = {f.lower(): f for f in folders}
        for folder in account.folders:
            exists = folder in folders or (folder.upper() == "INBOX" and "inbox" in by_lower)
            if exists:
                results.append(CheckResult(f"{name} folder {folder}", True, "exists"))
                continue
            close = by_lower.get(folder.lower())
            hint = f" (did you mean {close!r}?)" if close else ""
            results.append(
                CheckResult(
                    f"{name} folder {folder}",
                    False,
                    f"no folder {folder!r} on the server{hint}; it has: "
                    + ", ".join(sorted(folders)[:30]),
                    f"correct {where}.folders to one of the folders listed",
                )
            )
        results.append(_sent_result(account, name, where, folders, mailbox.find_sent_folder()))
        if mailbox.has_idle:
            results.append(CheckResult(f"{name} IDLE", True, "supported: new mail is pushed"))
        else:
            results.append(
                CheckResult(
                    f"{name} IDLE",
                    True,
                    f"not supported: polling every {config.sync.poll_interval_seconds:g} s",
                )
            )
    except SourceError as exc:
        results.append(
            CheckResult(
                f"{name} folders",
                False,
                f"listing folders failed: {exc}",
                "retry; if it persists the server is misbehaving: check its status page",
            )
        )
    finally:
        mailbox.close()
    return results


def _sent_result(
    account: AccountConfig, name: str, where: str, folders: list[str], found: str | None
) -> CheckResult:
    label = f"{name} Sent folder"
    if account.sent_folder == "":
        return CheckResult(label, True, "not watched (sent_folder is empty)")
    if account.sent_folder != "auto":
        if account.sent_folder in folders:
            return CheckResult(label, True, f"{account.sent_folder!r} exists")
        return CheckResult(
            label,
            False,
            f"no folder {account.sent_folder!r} on the server",
            f"set {where}.sent_folder to 'auto' or to one of: {', '.join(sorted(folders)[:30])}",
        )
    if found:
        return CheckResult(label, True, f"found {found!r}")
    return CheckResult(
        label,
        True,
        "not found: your own replies are seen only when they are in the watched folders",
        f"set {where}.sent_folder to the folder your mail program saves sent mail in",
    )


def check_maildir_account(account: AccountConfig, index: int) -> list[CheckResult]:
    from .errors import SourceError
    from .sources.maildir import MaildirMailbox

    where = f"accounts[{index}]"
    name = f"account {account.name}"
    mailbox = MaildirMailbox(account.path)
    try:
        mailbox.open()
        folders = mailbox.folders()
    except SourceError as exc:
        return [
            CheckResult(
                f"{name} maildir",
                False,
                str(exc),
                f"point {where}.path at the Maildir your sync tool (mbsync, offlineimap) fills",
            )
        ]
    results = [CheckResult(f"{name} maildir", True, f"{mailbox.path} is a Maildir")]
    for folder in account.folders:
        if folder in folders:
            results.append(CheckResult(f"{name} folder {folder}", True, "exists"))
        else:
            results.append(
                CheckResult(
                    f"{name} folder {folder}",
                    False,
                    f"no folder {folder!r}; it has: {', '.join(folders[:30])}",
                    f"correct {where}.folders",
                )
            )
    return results


def check_database(config: Config) -> CheckResult:
    """Reachable and at the newest migration; a SQLite file not made yet is fine."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from .errors import StoreError
    from .store import database_url
    from .store.db import create_db_engine, current_revision, head_revision, redact_url

    url = database_url(config.store.url)
    shown = redact_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.exists():
            parent = next((p for p in (path.parent, *path.parents) if p.exists()), Path("/"))
            if os.access(parent, os.W_OK | os.X_OK):
                return CheckResult(
                    "database", True, f"{path} not created yet; made at the first start"
                )
            return CheckResult(
                "database",
                False,
                f"cannot create {path}: {parent} is not writable",
                "set store.url to a writable place, or run as the user that owns it",
            )
    try:
        engine = create_db_engine(url)
    except StoreError as exc:
        return CheckResult("database", False, str(exc), "correct store.url")
    try:
        current = current_revision(engine)
        head = head_revision()
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
        return CheckResult(
            "database",
            False,
            f"cannot use {shown}: {reason}",
            "check store.url, that the database server runs and that this user may log in",
        )
    finally:
        engine.dispose()
    if current != head:
        return CheckResult(
            "database",
            False,
            f"{shown} is at migration {current or 'none'}, the newest is {head}",
            MIGRATE_FIX,
        )
    return CheckResult("database", True, f"{shown} reachable, migrations current ({head})")


def check_classifier(config: Config) -> CheckResult:
    from .errors import ClassifierError
    from .service import load_classifier, resolve_model_path

    try:
        load_classifier(config)
    except ClassifierError as exc:
        return CheckResult(
            "classifier",
            False,
            str(exc),
            "set classifier.model to a trained pipeline, or run 'interviewd model train'",
        )
    return CheckResult("classifier", True, f"loaded {resolve_model_path(config)}")
