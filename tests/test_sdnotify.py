"""sd_notify against a real datagram socket the test owns (path and abstract '@' forms)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewd import sdnotify


class Listener:
    """What systemd would hold: a bound AF_UNIX datagram socket."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name

    def receive(self) -> str:
        return self.sock.recv(4096).decode()

    def nothing_waiting(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.sock.setblocking(True)
        return False


@pytest.fixture(params=["path", "abstract"])
def listener(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Listener]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.settimeout(5)
    if request.param == "path":
        path = str(tmp_path / "notify")
        sock.bind(path)
        name = path
    else:
        abstract = f"interviewd-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + abstract.encode())
        name = "@" + abstract
    monkeypatch.setenv("NOTIFY_SOCKET", name)
    yield Listener(sock, name)
    sock.close()


def test_ready_carries_status_and_pid(listener: Listener) -> None:
    assert sdnotify.ready("caught up: 2 accounts")
    message = listener.receive().split("\n")
    assert "READY=1" in message
    assert f"MAINPID={os.getpid()}" in message
    assert "STATUS=caught up: 2 accounts" in message


def test_each_state(listener: Listener) -> None:
    assert sdnotify.watchdog()
    assert listener.receive() == "WATCHDOG=1"
    assert sdnotify.status("idle on INBOX\nsecond line")
    assert listener.receive() == "STATUS=idle on INBOX second line"
    assert sdnotify.reloading()
    assert listener.receive() == "RELOADING=1"
    assert sdnotify.stopping()
    assert listener.receive() == "STOPPING=1"
    assert listener.nothing_waiting()


def test_no_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready("x") is False
    assert sdnotify.watchdog() is False
    assert sdnotify.stopping() is False


def test_a_vanished_socket_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.watchdog() is False


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert sdnotify.watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.setenv("WATCHDOG_USEC", "0")
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "soon")
    assert sdnotify.watchdog_interval() is None
