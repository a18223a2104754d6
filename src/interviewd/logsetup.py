"""Logging for a daemon that runs for months: standard output, journald-aware, secret-free.

Under systemd, standard output goes to the journal, which stamps each line itself and reads a
``<N>`` prefix as the syslog priority; so there lines carry that prefix and no timestamp. In
a terminal or a file they carry a timestamp instead. Every line passes a filter that replaces
any secret the process has resolved (see ``register_secret``) with ``***``, whatever logged it.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
import threading
from typing import IO, Any

REDACTED = "***"
#: Shorter values are not registered: redacting every "abc" would garble the logs while
#: hiding nothing a guesser could not find anyway.
MIN_SECRET_LENGTH = 4
NOISY_LIBRARIES = ("imapclient", "mailparser", "alembic", "spacy", "apscheduler")
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
# syslog priorities as journald reads them from a "<N>" prefix (sd-daemon(3)).
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a resolved secret so no log line ever shows it; call wherever one is read."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        _secrets.add(value)
        stripped = value.strip()
        if stripped != value and len(stripped) >= MIN_SECRET_LENGTH:
            _secrets.add(stripped)


def forget_secrets() -> None:
    """Empty the registry (tests; a process that reloads its config keeps the old ones)."""
    with _secrets_lock:
        _secrets.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    with _secrets_lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class SecretFilter(logging.Filter):
    """Redacts the message, its arguments and any traceback before a handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, still redacted
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JournalFormatter(logging.Formatter):
    """``<N>logger: message``, each line prefixed (journald stores each line as an entry)."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception when any)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (custom levels round down to the next known)."""
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


def under_journald(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (stdout) is the journal's: $JOURNAL_STREAM names its device:inode.

    Checking the inode, not just the variable, keeps a child whose output was redirected to a
    file or pipe from writing priority prefixes there.
    """
    value = os.environ.get("JOURNAL_STREAM", "")
    if not value:
        return False
    stream = stream or sys.stdout
    try:
        device, inode = (int(part) for part in value.split(":", 1))
        info = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (device, inode)


def setup_logging(level: str, fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Send all logging to ``stream`` (standard output) at ``level`` in ``fmt``.

    ``fmt`` is "text" or "json". The daemon logs to standard output (journald);
    commands whose standard output is data (``--json``) pass standard error.
    Replaces any handler set before (a config reload may change the level).
    """
    stream = stream or sys.stdout
    name = level.lower()
    if name not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}; use text or json")
    handler = logging.StreamHandler(stream)
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    elif under_journald(stream):
        formatter = JournalFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()  # a StreamHandler leaves its stream open
    root.addHandler(handler)
    root.setLevel(LEVELS[name])
    logging.captureWarnings(True)
    # Protocol lines and parse details: only when debugging (they may quote mail).
    quiet = logging.NOTSET if LEVELS[name] <= logging.DEBUG else logging.WARNING
    for library in NOISY_LIBRARIES:
        logging.getLogger(library).setLevel(quiet)
