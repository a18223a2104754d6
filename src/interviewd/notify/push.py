"""Alerts through Apprise: ntfy, Gotify, Matrix, Telegram, Pushover, Discord and the rest.

The Apprise URL is the channel's secret (it carries the service's token), so it
is read from the secret store at send time, never logged and never put in an
error: errors name the channel and the kind of service only. Apprise's own
logger is silenced while it works, because its messages can quote the URL.

Push services cap message length (Pushover at 1024 characters, ntfy and
Telegram near 4096), and a phone shows the first lines: the body is the
status line, the commands on one line, then the draft, cut to fit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import apprise

from ..config.schema import ChannelConfig
from ..domain import Alert
from . import NotifyError, alert_ref, first_paragraph, sanitize_header, secret_name

#: The longest body sent; what is longer is cut at a line with a note.
MAX_BODY = 3500
CUT_NOTE = "[...]"


@contextlib.contextmanager
def _quiet_apprise() -> Iterator[None]:
    """Silence Apprise's logger for the duration: its messages may contain the URL."""
    logger = logging.getLogger("apprise")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def _cut(text: str, limit: int, note: str = CUT_NOTE) -> str:
    """``text`` within ``limit`` characters, cut at a line (or word) end, ending in ``note``."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(note) - 1)
    head = text[:room]
    for sep in ("\n", " "):
        at = head.rfind(sep)
        if at > room // 2:
            head = head[:at]
            break
    return head.rstrip() + "\n" + note


def compose(alert: Alert, limit: int = MAX_BODY) -> str:
    """The push body: status, commands on one line, then the draft, within ``limit``."""
    if alert.draft is None:
        return _cut(alert.body.strip(), limit)
    parts = [first_paragraph(alert.body)]
    ref = alert_ref(alert)
    if ref:
        parts.append(
            f"interviewd done {ref} | snooze {ref} 2d | dismiss {ref} | draft {ref} (full text)"
        )
    draft = alert.draft
    to = ", ".join(sanitize_header(str(a)) for a in draft.to)
    head = f"Draft{' to ' + to if to else ''}\nSubject: {sanitize_header(draft.subject)}"
    parts.append(head)
    fixed = "\n\n".join(p for p in parts if p)
    note = f"[... full draft: interviewd draft {ref}]" if ref else CUT_NOTE
    room = limit - len(fixed) - 2
    if room < 200:  # a very long status: keep the draft, cut the status instead
        fixed = _cut(fixed, max(limit // 3, 200))
        room = limit - len(fixed) - 2
    return f"{fixed}\n\n{_cut(draft.body.strip(), room, note)}"


def _client(channel: ChannelConfig, secret: Callable[[], str]) -> tuple[apprise.Apprise, str]:
    """An Apprise instance holding the channel's URL, and the kind of service it names."""
    where = f"apprise channel {channel.name!r}"
    try:
        url = secret()
    except NotifyError:
        raise
    except Exception as exc:  # SecretError's text names where it looked, never a value
        raise NotifyError(f"{where}: {exc}", retryable=False) from None
    with _quiet_apprise():
        plugin = apprise.Apprise.instantiate(url.strip())
        client = apprise.Apprise()
        added = plugin is not None and client.add(plugin)
    if not added:
        raise NotifyError(
            f"{where}: the stored URL (secret {secret_name(channel)!r}) is not one Apprise "
            "understands; see https://github.com/caronc/apprise/wiki for the URL forms",
            retryable=False,
        )
    return client, str(getattr(plugin, "service_name", "") or "service")


def send(channel: ChannelConfig, alert: Alert, secret: Callable[[], str]) -> None:
    """Push ``alert``; any Apprise failure is retryable, and its text never holds the URL."""
    client, service = _client(channel, secret)
    notify_type = apprise.NotifyType.WARNING if alert.urgent else apprise.NotifyType.INFO
    try:
        with _quiet_apprise():
            ok = client.notify(
                body=compose(alert),
                title=sanitize_header(alert.title),
                notify_type=notify_type,
                body_format=apprise.NotifyFormat.TEXT,
            )
    except Exception as exc:  # a plugin bug must not leak the URL in a traceback
        raise NotifyError(
            f"apprise channel {channel.name!r}: the {service} notification failed "
            f"({type(exc).__name__})",
            retryable=True,
        ) from None
    if not ok:
        raise NotifyError(
            f"apprise channel {channel.name!r}: the {service} service did not accept the "
            "notification or could not be reached; will retry",
            retryable=True,
        )


def check(channel: ChannelConfig, secret: Callable[[], str]) -> str:
    """Check that the stored URL is one Apprise understands, sending nothing.

    Push services have no "are you there" call; ``interviewd alerts test``
    sends a real test alert for that.
    """
    _, service = _client(channel, secret)
    return f"apprise channel {channel.name!r}: a valid {service} URL (nothing sent)"
