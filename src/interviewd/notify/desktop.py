"""Alerts as desktop notifications: freedesktop Notifications on the user's session bus.

Spoken to with jeepney (pure Python, blocking, no GLib), which reaches the bus
by a ``unix:`` address. When jeepney cannot reach the bus (no address it
understands, a stale socket) ``notify-send`` is tried, since libdbus knows more
transports. A server without a session bus gets a clear error pointing to the
email and apprise channels instead.

A notification is a glance, not a document: the summary says what is due for
whom, the body the why and the first lines of the draft; the full draft stays
in ``interviewd draft ID`` and the email channel.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, DBusErrorResponse, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from ..config.schema import ChannelConfig
from ..domain import Alert
from . import NotifyError, sanitize_header

APP_NAME = "interviewd"
ICON = "appointment-soon"  # freedesktop icon naming spec
#: Seconds to connect to the bus and for each call; notify-send gets twice as long.
TIMEOUT = 5.0
#: How long a notification stays up, in ms; urgent ones stay until dismissed (0).
EXPIRE_MS = 30_000
URGENCY_NORMAL = 1
URGENCY_CRITICAL = 2
#: The body's size: lines of draft shown, and characters in all.
DRAFT_LINES = 4
BODY_CHARS = 400

NOTIFICATIONS = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
NO_BUS = (
    "no desktop session bus ($DBUS_SESSION_BUS_ADDRESS unset); "
    "use an email or apprise channel on a headless server"
)


class _BusUnreachable(Exception):
    """jeepney could not connect; the text says why (never a secret: there is none here)."""


def summary_and_body(alert: Alert) -> tuple[str, str]:
    """Split an alert for a notification bubble.

    The title "Thank-you note to Dana, Larkspur: your interview ended yesterday"
    gives the summary (before the colon) and the body's first line (after it);
    then come the first lines of the draft, or of the body when there is none.
    """
    title = sanitize_header(alert.title)
    summary, sep, detail = title.partition(": ")
    if not sep or not detail:
        summary, detail = title, ""
    lines: list[str] = []
    if detail:
        lines.append(detail[0].upper() + detail[1:])
    if alert.draft is not None:
        text = [ln.strip() for ln in alert.draft.body.splitlines() if ln.strip()]
        lines.append(f"Draft: {sanitize_header(alert.draft.subject)}")
        lines.extend(text[:DRAFT_LINES])
        if len(text) > DRAFT_LINES:
            lines.append("…")
    else:
        text = [ln.rstrip() for ln in alert.body.strip().splitlines() if ln.strip()]
        lines.extend(text[: DRAFT_LINES + 1])
    body = "\n".join(lines)
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1].rstrip() + "…"
    return summary, body


def bus_address() -> str | None:
    """The session bus address: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus.

    The second is where systemd user sessions put the bus, and what libdbus
    itself falls back to; a daemon started as a user service may lack the
    variable but still have the socket.
    """
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and (Path(runtime) / "bus").is_socket():
        return f"unix:path={Path(runtime) / 'bus'}"
    return None


def _connect(address: str) -> DBusConnection:
    try:
        return open_dbus_connection(bus=address, auth_timeout=TIMEOUT)
    except RuntimeError as exc:  # jeepney: "DBus transports (...) not supported"
        raise _BusUnreachable(f"jeepney cannot use the address: {exc}") from None
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _BusUnreachable(reason or type(exc).__name__) from None


def _call(conn: DBusConnection, method: str, signature: str | None = None, body: Any = ()) -> Any:
    """One method call on the notification server, its reply body or a NotifyError."""
    message = new_method_call(NOTIFICATIONS, method, signature, body)
    try:
        return unwrap_msg(conn.send_and_get_reply(message, timeout=TIMEOUT))
    except DBusErrorResponse as exc:
        if exc.name == "org.freedesktop.DBus.Error.ServiceUnknown":
            raise NotifyError(
                "desktop: no notification server on the session bus "
                "(is a desktop session running?)",
                retryable=True,
            ) from None
        raise NotifyError(f"desktop: {method} failed: {exc.name}", retryable=True) from None
    except TimeoutError:
        raise NotifyError(
            f"desktop: the notification server did not answer {method} in {TIMEOUT:g} s",
            retryable=True,
        ) from None
    except OSError as exc:
        raise NotifyError(
            f"desktop: the session bus connection failed ({exc.strerror or exc})", retryable=True
        ) from None


def _notify_dbus(address: str, summary: str, body: str, urgent: bool) -> int:
    """Show the notification through org.freedesktop.Notifications; its id."""
    conn = _connect(address)
    with conn:
        capabilities = _call(conn, "GetCapabilities")[0]
        if "body-markup" in capabilities:  # "<dana@x>" would vanish as a tag
            body = html.escape(body, quote=False)
        hints = {"urgency": ("y", URGENCY_CRITICAL if urgent else URGENCY_NORMAL)}
        reply = _call(
            conn,
            "Notify",
            "susssasa{sv}i",
            (APP_NAME, 0, ICON, summary, body, [], hints, 0 if urgent else EXPIRE_MS),
        )
        return int(reply[0])


def _notify_send(summary: str, body: str, urgent: bool) -> str | None:
    """Show it with notify-send; None when done, else why not."""
    exe = shutil.which("notify-send")
    if exe is None:
        return "notify-send is not installed (Debian: libnotify-bin)"
    command = [
        exe,
        f"--app-name={APP_NAME}",
        f"--urgency={'critical' if urgent else 'normal'}",
        f"--expire-time={0 if urgent else EXPIRE_MS}",
        f"--icon={ICON}",
        "--",
        summary,
        body,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=2 * TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return f"notify-send took longer than {2 * TIMEOUT:g} s"
    except OSError as exc:
        return f"notify-send could not run ({exc.strerror})"
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[0]
        return f"notify-send failed: {sanitize_header(first)[:200]}"
    return None


def send(channel: ChannelConfig, alert: Alert, secret: Callable[[], str]) -> None:
    """Show ``alert`` on the desktop; ``secret`` is not used (a desktop needs none)."""
    summary, body = summary_and_body(alert)
    address = bus_address()
    reason = "no bus address"
    if address is not None:
        try:
            _notify_dbus(address, summary, body, alert.urgent)
            return
        except _BusUnreachable as exc:
            reason = str(exc)
    failure = _notify_send(summary, body, alert.urgent)
    if failure is None:
        return
    if address is None:
        raise NotifyError(f"desktop channel {channel.name!r}: {NO_BUS}", retryable=False)
    raise NotifyError(
        f"desktop channel {channel.name!r}: the session bus is unreachable ({reason}), "
        f"and {failure}",
        retryable=True,
    )


def check(channel: ChannelConfig, secret: Callable[[], str]) -> str:
    """Ask the notification server who it is, showing nothing."""
    where = f"desktop channel {channel.name!r}"
    address = bus_address()
    if address is None:
        if shutil.which("notify-send"):
            return f"{where}: no session bus address; will try notify-send (not checked)"
        raise NotifyError(f"{where}: {NO_BUS}", retryable=False)
    try:
        conn = _connect(address)
    except _BusUnreachable as exc:
        exe = shutil.which("notify-send")
        if exe:
            return f"{where}: session bus unreachable by jeepney ({exc}); will use {exe}"
        raise NotifyError(
            f"{where}: the session bus is unreachable ({exc}) and notify-send is not installed",
            retryable=True,
        ) from None
    with conn:
        name, vendor, version, spec = _call(conn, "GetServerInformation")
    return (
        f"{where}: notification server {name} {version} ({vendor}, spec {spec}) "
        "on the session bus; nothing shown"
    )
