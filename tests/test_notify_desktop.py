"""The desktop channel on a real D-Bus session bus, with a real notification receiver.

A private dbus-daemon (Debian's ``dbus``) listens on a unix socket, which
jeepney uses, and on a loopback TCP port, which only libdbus speaks: with the
bus address set to the TCP one, jeepney cannot connect and the channel falls
back to the real ``notify-send`` (Debian's ``libnotify-bin``). The receiver owns
org.freedesktop.Notifications on that bus and records every call.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

from interviewd.config.schema import ChannelConfig
from interviewd.domain import Address, Alert, Draft
from interviewd.notify import NotifyError, check, send
from interviewd.notify.desktop import NO_BUS

BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={root}/bus</listen>
  <listen>tcp:host=127.0.0.1,bind=127.0.0.1,port=0</listen>
  <auth>EXTERNAL</auth>
  <auth>ANONYMOUS</auth>
  <allow_anonymous/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Receiver(threading.Thread):
    """A minimal notification server: Notify, GetCapabilities, GetServerInformation."""

    def __init__(self, address: str) -> None:
        super().__init__(daemon=True)
        self.address = address
        self.calls: list[tuple[Any, ...]] = []
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with open_dbus_connection(bus=self.address) as conn:
                owned = Proxy(message_bus, conn, timeout=5).RequestName(
                    "org.freedesktop.Notifications", 0
                )
                assert owned == (1,), owned
                self.ready.set()
                while not self.stopping.is_set():
                    try:
                        message = conn.receive(timeout=0.1)
                    except TimeoutError:
                        continue
                    if message.header.message_type == MessageType.method_call:
                        conn.send(self.answer(message))
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    def answer(self, message: Any) -> Any:
        member = message.header.fields.get(HeaderFields.member)
        if member == "Notify":
            self.calls.append(tuple(message.body))
            return new_method_return(message, "u", (len(self.calls),))
        if member == "GetCapabilities":
            return new_method_return(message, "as", (["body", "actions"],))
        if member == "GetServerInformation":
            return new_method_return(message, "ssss", ("test-receiver", "tests", "1.0", "1.2"))
        return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod")


@dataclass
class Bus:
    unix: str  # the address jeepney can use
    tcp: str  # the address only libdbus (notify-send) can use
    calls: list[tuple[Any, ...]]  # the Notify calls the receiver got


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[Bus]:
    """A private bus with a notification receiver on it."""
    (tmp_path / "bus.conf").write_text(BUS_CONFIG.format(root=tmp_path))
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={tmp_path / 'bus.conf'}", "--print-address", "--nofork"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        printed = daemon.stdout.readline().strip()
        addresses = {a.split(":", 1)[0]: a for a in printed.split(";") if a}
        assert set(addresses) == {"unix", "tcp"}, printed
        receiver = Receiver(addresses["unix"])
        receiver.start()
        assert receiver.ready.wait(10) and receiver.error is None, receiver.error
        yield Bus(addresses["unix"], addresses["tcp"], receiver.calls)
        receiver.stopping.set()
        receiver.join(5)
    finally:
        daemon.terminate()
        daemon.wait(10)


CHANNEL = ChannelConfig(name="laptop", type="desktop")
DRAFT = Draft(
    to=(Address("Dana Whitfield", "dana@larkspur.example"),),
    subject="Re: Interview on Thursday",
    body="Hi Dana,\n\nThank you for your time on Thursday.\n\nBest regards,\nSam\n",
)


def alert(urgent: bool = False) -> Alert:
    return Alert(
        key="followup:42",
        kind="thank_you",
        title="Thank-you note to Dana Whitfield, Larkspur Health: your interview ended "
        "yesterday at 15:00",
        body="Due now.\n\ninterviewd done 42\n",
        urgent=urgent,
        draft=DRAFT,
    )


def no_secret() -> str:
    raise AssertionError("a desktop channel needs no secret")


def test_notification_reaches_the_server(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.unix)
    send(CHANNEL, alert(), no_secret)
    send(CHANNEL, alert(urgent=True), no_secret)
    assert len(bus.calls) == 2
    app, replaces, _icon, summary, body, actions, hints, timeout = bus.calls[0]
    assert actions == []
    assert app == "interviewd"
    assert replaces == 0
    assert summary == "Thank-you note to Dana Whitfield, Larkspur Health"
    assert body.startswith("Your interview ended yesterday at 15:00\n")
    assert "Draft: Re: Interview on Thursday" in body
    assert "Hi Dana," in body and "Thank you for your time on Thursday." in body
    assert hints["urgency"] == ("y", 1)
    assert timeout > 0
    urgent_hints, urgent_timeout = bus.calls[1][6], bus.calls[1][7]
    assert urgent_hints["urgency"] == ("y", 2)
    assert urgent_timeout == 0
    assert "test-receiver" in check(CHANNEL, no_secret)
    assert len(bus.calls) == 2  # check shows nothing


def test_falls_back_to_notify_send(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    """jeepney speaks only unix: transports; on a tcp: address notify-send delivers."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.tcp)
    send(CHANNEL, alert(urgent=True), no_secret)
    assert len(bus.calls) == 1
    app, _replaces, _icon, summary, body, _actions, hints, _timeout = bus.calls[0]
    assert app == "interviewd"
    assert summary == "Thank-you note to Dana Whitfield, Larkspur Health"
    assert "Hi Dana," in body
    assert int(hints["urgency"][1]) == 2


def test_no_bus_and_no_notify_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no 'bus' socket here
    monkeypatch.setenv("PATH", str(tmp_path))  # no notify-send either
    with pytest.raises(NotifyError) as caught:
        send(CHANNEL, alert(), no_secret)
    assert caught.value.retryable is False
    assert NO_BUS in str(caught.value)
    with pytest.raises(NotifyError):
        check(CHANNEL, no_secret)


def test_dead_bus_and_no_notify_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/gone")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NotifyError) as caught:
        send(CHANNEL, alert(), no_secret)
    assert caught.value.retryable is True
    assert "unreachable" in str(caught.value) and "notify-send" in str(caught.value)
