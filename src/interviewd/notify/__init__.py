"""Alert delivery: one module per backend, each with the same two functions.

Like borgmatic's notification hooks, a backend is a module picked by the
channel's ``type`` key, and each one has::

    send(channel: ChannelConfig, alert: Alert, secret: Callable[[], str]) -> None
    check(channel: ChannelConfig, secret: Callable[[], str]) -> str

``secret`` is called only by a backend that needs it (the SMTP password, the
Apprise URL), so a desktop channel never touches the secret store. Every
failure is a :class:`NotifyError` whose message is one line for the user and
never carries the secret; ``retryable`` tells the scheduler whether trying
again later can help (network trouble) or the user must fix something first.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from ..config.schema import ChannelConfig
from ..domain import Alert
from ..drafts import one_line
from ..errors import InterviewdError


class NotifyError(InterviewdError):
    """A channel could not deliver an alert. ``str(exc)`` is one line, free of secrets."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(one_line(message))
        self.retryable = retryable


def sanitize_header(value: str) -> str:
    """``value`` fit for a header or a notification summary: one line.

    CR, LF and other control characters become a space and runs of spaces
    collapse, so a subject or a name taken from mail ("Hi\\r\\nBcc: x@y") can
    never add a header or a line of its own.
    """
    return one_line(value)


def first_paragraph(body: str) -> str:
    """The body's first paragraph: what is due and when, by the layout of ``render_alert``.

    Backends that must be brief (a desktop bubble, a push message) show this
    instead of the whole body.
    """
    return body.strip().split("\n\n", 1)[0].strip()


def alert_ref(alert: Alert) -> str:
    """The id the commands take, from a ``followup:<id>`` key; "" for other alerts."""
    prefix, _, ref = alert.key.partition(":")
    return one_line(ref) if prefix == "followup" else ""


def secret_name(channel: ChannelConfig) -> str:
    """The name of the channel's secret in the store (``alert-<name>`` by default)."""
    return channel.secret or f"alert-{channel.name}"


# The backends import the helpers above from here: they must exist first.
from . import desktop, email_smtp, push  # noqa: E402

BACKENDS: dict[str, ModuleType] = {"desktop": desktop, "email": email_smtp, "apprise": push}


def _backend(channel: ChannelConfig) -> ModuleType:
    try:
        return BACKENDS[channel.type]
    except KeyError:
        raise NotifyError(
            f"channel {channel.name!r}: unknown type {channel.type!r}; "
            f"one of {', '.join(BACKENDS)}",
            retryable=False,
        ) from None


def wants(channel: ChannelConfig, alert_kind: str) -> bool:
    """Whether ``channel`` takes alerts of ``alert_kind`` ("all" or listed in its kinds)."""
    return "all" in channel.kinds or alert_kind in channel.kinds


def send(channel: ChannelConfig, alert: Alert, secret: Callable[[], str]) -> None:
    """Deliver ``alert`` on ``channel``; raises NotifyError when it could not."""
    _backend(channel).send(channel, alert, secret)


def check(channel: ChannelConfig, secret: Callable[[], str]) -> str:
    """Check that ``channel`` can deliver, sending nothing where the backend allows it.

    Returns one line saying what was checked; raises NotifyError otherwise.
    """
    result: str = _backend(channel).check(channel, secret)
    return result


__all__ = [
    "BACKENDS",
    "NotifyError",
    "alert_ref",
    "check",
    "first_paragraph",
    "sanitize_header",
    "secret_name",
    "send",
    "wants",
]
