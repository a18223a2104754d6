"""The sd_notify protocol, by hand: one datagram per state change to ``$NOTIFY_SOCKET``.

Written here rather than taken from a library because it is a dozen lines and the daemon must
never fail because of it: every function is a no-op when the socket is unset (not under
systemd, or ``Type=simple``), and a send error is logged, never raised.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("interviewd.sdnotify")


def _address() -> str | bytes | None:
    """The socket address; a leading '@' names an abstract socket (a NUL byte on the wire)."""
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return None
    if path.startswith("@"):
        return b"\0" + path[1:].encode()
    if not path.startswith("/"):
        return None  # vsock: and other kinds are not used by systemd for services
    return path


def notify(state: str) -> bool:
    """Send ``state`` (newline-separated KEY=VALUE pairs); True when it was delivered."""
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            # Never block: a listener that stopped reading must not hang an account thread.
            sock.send(state.encode(), socket.MSG_DONTWAIT)
    except OSError as exc:
        log.debug("sd_notify %r failed: %s", state.split("\n", 1)[0], exc)
        return False
    return True


def _one_line(text: str) -> str:
    return " ".join(text.split())


def ready(status: str = "") -> bool:
    """READY=1: systemd starts counting the watchdog and lets dependent units start."""
    line = f"READY=1\nMAINPID={os.getpid()}"
    if status:
        line += f"\nSTATUS={_one_line(status)}"
    return notify(line)


def watchdog() -> bool:
    """WATCHDOG=1: proof of life; send only after real progress so a hang gets restarted."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """STATUS=: the one line 'systemctl status' shows."""
    return notify(f"STATUS={_one_line(text)}")


def stopping() -> bool:
    """STOPPING=1: shutdown has begun (the stop timeout now applies, not the watchdog)."""
    return notify("STOPPING=1")


def reloading() -> bool:
    """RELOADING=1: a config reload is in progress; follow it with ready()."""
    return notify("RELOADING=1")


def watchdog_interval() -> float | None:
    """Seconds between required pings, or None when no watchdog is set for this process.

    $WATCHDOG_PID, when set, must be ours: a child that inherited the environment must not
    think it owns the watchdog.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    try:
        value = int(usec)
    except ValueError:
        return None
    if value <= 0:
        return None
    return value / 1_000_000
