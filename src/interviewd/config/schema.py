"""The configuration schema: typed config objects whose field descriptions are the docs.

One source of truth: each dataclass field carries its description and bounds in
``meta(...)``; the validator (``loader.py``), the commented sample config
(``interviewd config sample`` -> ``config/interviewd.example.yaml``) and the
README's configuration table are all made from these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECURITY_CHOICES = ("tls", "starttls", "none")
SOURCE_TYPES = ("imap", "maildir")
KEEP_TEXT_CHOICES = ("job", "all", "none")


def meta(
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    example: Any = None,
) -> dict[str, Any]:
    return {
        "description": description,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "example": example,
    }


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One mailbox to watch."""

    name: str = field(
        default="",
        metadata=meta(
            "A short name for this mailbox, unique among accounts; used in logs, "
            "in the database and as the default secret name.",
            example="personal",
        ),
    )
    type: str = field(
        default="imap",
        metadata=meta(
            "Where the mail comes from: an IMAP server, or a local Maildir "
            "(synced by mbsync or offlineimap).",
            choices=SOURCE_TYPES,
        ),
    )
    host: str = field(
        default="", metadata=meta("IMAP server host name.", example="imap.fastmail.com")
    )
    port: int = field(
        default=0,
        metadata=meta(
            "IMAP port; 0 picks 993 for tls and 143 for starttls or none.",
            minimum=0,
            maximum=65535,
        ),
    )
    security: str = field(
        default="tls",
        metadata=meta(
            "Connection security. Certificates are always verified. 'none' is "
            "allowed only for a loopback host (a local bridge or test server).",
            choices=SECURITY_CHOICES,
        ),
    )
    username: str = field(
        default="", metadata=meta("Login name, usually the mail address.", example="me@example.com")
    )
    secret: str = field(
        default="",
        metadata=meta(
            "Name of the password in the secret store: "
            "$CREDENTIALS_DIRECTORY/<secret>, then keyring service 'interviewd'. "
            "Empty means 'imap-<name>'. Never put the password itself here."
        ),
    )
    password_command: str = field(
        default="",
        metadata=meta(
            "A command whose standard output is the password, tried after the "
            "secret store (e.g. 'pass show mail/imap').",
        ),
    )
    oauth2_token_command: str = field(
        default="",
        metadata=meta(
            "A command that prints an OAuth2 access token; when set, login uses "
            "XOAUTH2 (Gmail, Outlook) instead of a password.",
        ),
    )
    folders: tuple[str, ...] = field(
        default=("INBOX",), metadata=meta("Folders to watch besides the Sent folder.")
    )
    sent_folder: str = field(
        default="auto",
        metadata=meta(
            "The folder of mail you send: 'auto' finds it by SPECIAL-USE \\Sent, "
            "then by the usual names; '' watches no Sent folder.",
        ),
    )
    path: str = field(
        default="",
        metadata=meta("For type maildir: the Maildir folder.", example="~/Mail/personal"),
    )
    user_addresses: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            "Addresses that are you, besides the username; mail from them counts "
            "as your own (sent) mail.",
        ),
    )


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """How mailboxes are read."""

    backfill_days: int = field(
        default=120,
        metadata=meta("On the first sync, read this many days of past mail.", minimum=0),
    )
    batch_size: int = field(
        default=100,
        metadata=meta("Messages fetched and stored per transaction.", minimum=1, maximum=5000),
    )
    idle_renew_minutes: float = field(
        default=10,
        metadata=meta(
            "Renew IMAP IDLE at least this often (servers drop it after 30 min).",
            minimum=0.05,
            maximum=28,
        ),
    )
    poll_interval_seconds: float = field(
        default=60,
        metadata=meta("Polling interval where the server has no IDLE.", minimum=1),
    )
    socket_timeout_seconds: float = field(
        default=60,
        metadata=meta(
            "Timeout of every network operation, so a dead connection is noticed "
            "rather than waited on.",
            minimum=1,
        ),
    )
    backoff_initial_seconds: float = field(
        default=1, metadata=meta("First reconnect delay after an error.", minimum=0.01)
    )
    backoff_max_seconds: float = field(
        default=300, metadata=meta("Longest reconnect delay.", minimum=0.01)
    )
    parse_in_parallel: bool = field(
        default=True,
        metadata=meta(
            "On a catch-up of 500 messages or more (a first backfill), parse mail in one "
            "worker process per CPU core while the daemon classifies and stores; the "
            "workers exit when it is done."
        ),
    )
    max_message_bytes: int = field(
        default=50_000_000,
        metadata=meta(
            "Messages larger than this are stored as headers-only quarantine "
            "entries instead of being parsed.",
            minimum=1000,
        ),
    )


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where and what interviewd keeps."""

    url: str = field(
        default="",
        metadata=meta(
            "SQLAlchemy database URL. Empty: an SQLite file interviewd.db in "
            "$STATE_DIRECTORY (systemd) or $XDG_DATA_HOME/interviewd/.",
            example="postgresql+psycopg://interviewd@localhost/interviewd",
        ),
    )
    keep_raw: bool = field(
        default=False,
        metadata=meta("Keep the raw bytes of every message. Quarantined messages are always kept."),
    )
    max_body_chars: int = field(
        default=200_000,
        metadata=meta("Longest message text kept and classified.", minimum=1000),
    )
    keep_text: str = field(
        default="job",
        metadata=meta(
            "Which message texts are kept after classification: 'job' (mail linked "
            "to an application or waiting for review), 'all', or 'none' (headers, "
            "class and confidence only).",
            choices=KEEP_TEXT_CHOICES,
        ),
    )


@dataclass(frozen=True, slots=True)
class ClassifierConfig:
    """The spaCy text classifier."""

    model: str = field(
        default="",
        metadata=meta(
            "Path of a spaCy pipeline. Empty: your personal model if you trained "
            "one with corrections, else the model shipped with interviewd."
        ),
    )
    review_threshold: float = field(
        default=0.6,
        metadata=meta(
            "Below this confidence a message is marked 'needs review'.",
            minimum=0,
            maximum=1,
        ),
    )


@dataclass(frozen=True, slots=True)
class FollowupConfig:
    """The follow-up clocks of the post-interview playbook; every number is here."""

    thank_you_due_hours: float = field(
        default=24,
        metadata=meta("A thank-you note is due this long after a round ends.", minimum=0),
    )
    thank_you_overdue_hours: float = field(
        default=48,
        metadata=meta("...and overdue this long after the round ends.", minimum=0),
    )
    thank_you_expires_days: float = field(
        default=7,
        metadata=meta("A thank-you not sent this many days after the round is dropped.", minimum=1),
    )
    check_in_days: int = field(
        default=7,
        metadata=meta(
            "Check in this many days after the last employer contact when no date was promised.",
            minimum=1,
        ),
    )
    second_check_in_days: int = field(
        default=14,
        metadata=meta("The second check-in, days after the last employer contact.", minimum=1),
    )
    second_check_in_after_promise_days: int = field(
        default=7,
        metadata=meta(
            "When the first check-in came from a promised date: days after it for the second.",
            minimum=1,
        ),
    )
    promise_grace_business_days: int = field(
        default=1,
        metadata=meta(
            "Check in this many business days after a date the employer promised.", minimum=0
        ),
    )
    max_check_ins: int = field(
        default=2,
        metadata=meta("At most this many check-ins between two employer messages.", minimum=0),
    )
    silent_after_days: int = field(
        default=21,
        metadata=meta(
            "With the check-ins spent and no employer message this many days after the last "
            "contact, the application becomes 'silent' (never 'rejected').",
            minimum=1,
        ),
    )
    workday_start: str = field(
        default="09:00",
        metadata=meta("Date-based clocks (promised dates) fall due at this local time (HH:MM)."),
    )
    quiet_hours_start: str = field(
        default="21:00",
        metadata=meta(
            "Alerts due in quiet hours wait until they end (HH:MM, local). "
            "Quiet hours never move a due time."
        ),
    )
    quiet_hours_end: str = field(
        default="08:00", metadata=meta("End of quiet hours (HH:MM, local).")
    )
    holidays: tuple[str, ...] = field(
        default=(),
        metadata=meta("Dates (YYYY-MM-DD) that are not business days, besides weekends."),
    )
    default_interview_minutes: int = field(
        default=60,
        metadata=meta("Length of an interview round when no end time is known.", minimum=5),
    )


CHANNEL_TYPES = ("desktop", "email", "apprise")
ALERT_KINDS = (
    "all",
    "thank_you",
    "check_in",
    "second_check_in",
    "offer",
    "rejection",
    "digest",
    "test",
)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One way to reach you: a desktop notification, an email, or a push service."""

    name: str = field(
        default="", metadata=meta("A short unique name, used in logs and status.", example="phone")
    )
    type: str = field(
        default="desktop",
        metadata=meta(
            "desktop: freedesktop notifications on your session bus (notify-send as "
            "fallback); email: SMTP to your own address; apprise: any Apprise URL "
            "(ntfy, Gotify, Matrix, Telegram, Pushover, Discord, ...).",
            choices=CHANNEL_TYPES,
        ),
    )
    kinds: tuple[str, ...] = field(
        default=("all",),
        metadata=meta(
            "Which alerts go here: all, or any of thank_you, check_in, second_check_in, "
            "offer, rejection, digest, test."
        ),
    )
    smtp_host: str = field(default="", metadata=meta("email: SMTP server host."))
    smtp_port: int = field(
        default=0,
        metadata=meta(
            "email: SMTP port; 0 picks 465 for tls and 587 for starttls.",
            minimum=0,
            maximum=65535,
        ),
    )
    smtp_security: str = field(
        default="starttls",
        metadata=meta(
            "email: connection security; 'none' only for a loopback host.",
            choices=("tls", "starttls", "none"),
        ),
    )
    smtp_username: str = field(default="", metadata=meta("email: SMTP login; empty for no login."))
    from_address: str = field(default="", metadata=meta("email: the From address."))
    to_address: str = field(default="", metadata=meta("email: where alerts go (your own address)."))
    secret: str = field(
        default="",
        metadata=meta(
            "Name of this channel's secret in the secret store: the SMTP password, or the "
            "Apprise URL (it carries tokens). Empty means 'alert-<name>'."
        ),
    )
    password_command: str = field(
        default="", metadata=meta("A command that prints the secret, tried after the store.")
    )


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """How and when you are told."""

    channels: tuple[ChannelConfig, ...] = field(
        default=(), metadata=meta("Where alerts go (any combination).")
    )
    urgent_at_once: bool = field(
        default=True,
        metadata=meta("Offers and rejections are told at once, even in quiet hours."),
    )
    digest: bool = field(
        default=False,
        metadata=meta("A morning digest: what is overdue, due today and coming this week."),
    )
    digest_time: str = field(default="08:30", metadata=meta("When the digest goes (HH:MM)."))
    drafts: str = field(
        default="none",
        metadata=meta(
            "'imap' also appends each draft to the account's Drafts folder: the only write "
            "interviewd ever makes to a mailbox, and only when asked.",
            choices=("none", "imap"),
        ),
    )
    retry_initial_seconds: float = field(
        default=60, metadata=meta("First retry of a failed delivery.", minimum=1)
    )
    retry_max_seconds: float = field(
        default=3600, metadata=meta("Longest wait between retries.", minimum=1)
    )
    max_attempts: int = field(
        default=12, metadata=meta("Give a delivery up after this many attempts.", minimum=1)
    )


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The board in the browser, served by the daemon or by 'interviewd web'."""

    listen: str = field(
        default="",
        metadata=meta(
            "host:port to serve the board on; empty: the daemon serves none. Any address "
            "but loopback needs a login token in the secret store.",
            example="127.0.0.1:8765",
        ),
    )
    token_secret: str = field(
        default="web-token",
        metadata=meta("Name of the login token in the secret store."),
    )
    tls_cert: str = field(
        default="", metadata=meta("PEM certificate to serve HTTPS directly (optional).")
    )
    tls_key: str = field(default="", metadata=meta("Its private key (set both or neither)."))


@dataclass(frozen=True, slots=True)
class Config:
    """The whole interviewd configuration."""

    timezone: str = field(
        default="",
        metadata=meta(
            "IANA time zone for business days, quiet hours and display; empty: the system's zone.",
            example="America/New_York",
        ),
    )
    log_level: str = field(
        default="info",
        metadata=meta("Logging detail.", choices=("debug", "info", "warning", "error")),
    )
    accounts: tuple[AccountConfig, ...] = field(
        default=(), metadata=meta("The mailboxes to watch (one or more).")
    )
    sync: SyncConfig = field(default_factory=SyncConfig, metadata=meta("Reading mail."))
    store: StoreConfig = field(default_factory=StoreConfig, metadata=meta("The database."))
    classifier: ClassifierConfig = field(
        default_factory=ClassifierConfig, metadata=meta("Classifying mail.")
    )
    followups: FollowupConfig = field(
        default_factory=FollowupConfig, metadata=meta("When to send thank-you notes and check-ins.")
    )
    alerts: AlertsConfig = field(default_factory=AlertsConfig, metadata=meta("Alerts."))
    web: WebConfig = field(default_factory=WebConfig, metadata=meta("The web board."))
