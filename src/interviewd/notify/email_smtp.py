"""Alerts by email: SMTP to the user's own address, TLS or STARTTLS, certificates verified.

Email is the channel that works on a headless server and keeps a record, so the
whole alert goes in: what is due and why, the commands, and the draft with its
own To/Subject lines. The message says it is machine-made (``Auto-Submitted``)
so that the user's own rules and vacation replies leave it alone.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..config.schema import ChannelConfig
from ..domain import Alert
from ..drafts import DRAFT_BEGIN, format_draft
from . import NotifyError, sanitize_header, secret_name

#: Seconds for connecting and for every SMTP command.
TIMEOUT = 30.0
DEFAULT_PORTS = {"tls": 465, "starttls": 587, "none": 25}
SUBJECT_PREFIX = "[interviewd] "


def _is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the only hosts allowed without TLS."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _where(channel: ChannelConfig) -> str:
    return f"email channel {channel.name!r}: {channel.smtp_host}:{_port(channel)}"


def _port(channel: ChannelConfig) -> int:
    return channel.smtp_port or DEFAULT_PORTS.get(channel.smtp_security, 587)


def _server_text(exc: smtplib.SMTPResponseException) -> str:
    """The server's reply, short: it names the problem and never holds our password."""
    raw = exc.smtp_error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{exc.smtp_code} {sanitize_header(text)[:160]}"


def _connect(channel: ChannelConfig, secret: Callable[[], str]) -> smtplib.SMTP:
    """An SMTP session, secured as configured and logged in when a username is set."""
    where = _where(channel)
    if not channel.smtp_host:
        raise NotifyError(f"{where}: smtp_host is not set", retryable=False)
    security = channel.smtp_security
    if security not in DEFAULT_PORTS:
        raise NotifyError(f"{where}: unknown smtp_security {security!r}", retryable=False)
    if security == "none" and not _is_loopback(channel.smtp_host):
        raise NotifyError(
            f"{where}: smtp_security 'none' is allowed only for a loopback host; "
            "use tls or starttls",
            retryable=False,
        )
    context = ssl.create_default_context()
    smtp: smtplib.SMTP | None = None
    try:
        if security == "tls":
            smtp = smtplib.SMTP_SSL(
                channel.smtp_host, _port(channel), timeout=TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(channel.smtp_host, _port(channel), timeout=TIMEOUT)
        smtp.ehlo()
        if security == "starttls":
            if not smtp.has_extn("starttls"):
                raise NotifyError(
                    f"{where}: the server does not offer STARTTLS; "
                    "use smtp_security tls (port 465) or another server",
                    retryable=False,
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if channel.smtp_username:
            _login(smtp, channel, secret)
        return smtp
    except NotifyError:
        _close(smtp)
        raise
    except ssl.SSLCertVerificationError as exc:
        _close(smtp)
        raise NotifyError(
            f"{where}: the server's certificate cannot be verified ({exc.verify_message})",
            retryable=False,
        ) from None
    except smtplib.SMTPResponseException as exc:
        _close(smtp)
        raise NotifyError(
            f"{where}: the server refused: {_server_text(exc)}", retryable=True
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(smtp)
        raise NotifyError(f"{where}: {_describe(exc)}", retryable=True) from None


def _login(smtp: smtplib.SMTP, channel: ChannelConfig, secret: Callable[[], str]) -> None:
    """Log in with the password from the secret store; a refusal says how to fix it."""
    where = _where(channel)
    name = secret_name(channel)
    try:
        password = secret()
    except NotifyError:
        raise
    except Exception as exc:  # SecretError's text names where it looked, never a value
        raise NotifyError(f"{where}: {exc}", retryable=False) from None
    try:
        smtp.login(channel.smtp_username, password)
    except smtplib.SMTPAuthenticationError as exc:
        # Only the code: a server's reply to AUTH may echo what was sent.
        raise NotifyError(
            f"{where}: the server refused the login for {channel.smtp_username!r} "
            f"(SMTP {exc.smtp_code}); check smtp_username and the password stored as "
            f"secret {name!r} ('interviewd secrets set {name}'); some providers want an "
            "app password",
            retryable=False,
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise NotifyError(
            f"{where}: the server offers no login (AUTH) on this connection; "
            "use smtp_security tls or starttls, or clear smtp_username",
            retryable=False,
        ) from None
    except smtplib.SMTPException as exc:
        if isinstance(exc, smtplib.SMTPResponseException):
            reason = f"SMTP {exc.smtp_code}"
        else:
            reason = type(exc).__name__
        raise NotifyError(f"{where}: login failed ({reason})", retryable=True) from None


def _describe(exc: BaseException) -> str:
    """A network error in words: what went wrong, not a traceback."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {TIMEOUT:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def build_message(channel: ChannelConfig, alert: Alert) -> EmailMessage:
    """The alert as an email: plain text, marked auto-generated, high priority when urgent."""
    sender = sanitize_header(channel.from_address or channel.to_address)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = sanitize_header(channel.to_address)
    message["Subject"] = SUBJECT_PREFIX + sanitize_header(alert.title)
    message["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2].strip("> ") or "interviewd.invalid"
    message["Message-ID"] = make_msgid("interviewd", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if alert.urgent:
        message["X-Priority"] = "1 (Highest)"
        message["Importance"] = "high"
    body = alert.body.rstrip("\n")
    if alert.draft is not None and DRAFT_BEGIN not in body:
        body = f"{body}\n\n{format_draft(alert.draft)}"
    message.set_content(body + "\n")
    return message


def send(channel: ChannelConfig, alert: Alert, secret: Callable[[], str]) -> None:
    """Mail ``alert`` to the channel's address; NotifyError says whether a retry can help."""
    where = _where(channel)
    if not channel.to_address:
        raise NotifyError(f"{where}: to_address is not set", retryable=False)
    message = build_message(channel, alert)
    smtp = _connect(channel, secret)
    try:
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        retryable = code < 500
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        raise NotifyError(
            f"{where}: the server refused the recipient {channel.to_address!r}: "
            f"{code} {sanitize_header(reply)[:160]}; check to_address",
            retryable=retryable,
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise NotifyError(
            f"{where}: the server refused the sender: {_server_text(exc)}; check from_address",
            retryable=exc.smtp_code < 500,
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise NotifyError(
            f"{where}: the server refused the message: {_server_text(exc)}", retryable=True
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"{where}: {_describe(exc)}", retryable=True) from None
    finally:
        _close(smtp)


def check(channel: ChannelConfig, secret: Callable[[], str]) -> str:
    """Connect, secure and log in as ``send`` would, then hang up without sending."""
    smtp = _connect(channel, secret)
    _close(smtp)
    login = f"logged in as {channel.smtp_username!r}" if channel.smtp_username else "no login"
    return (
        f"email channel {channel.name!r}: {channel.smtp_host}:{_port(channel)} "
        f"({channel.smtp_security}) answered, {login}; alerts go to {channel.to_address}"
    )
