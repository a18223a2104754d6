"""The apprise channel against a real HTTP receiver: Apprise's json:// to a loopback server."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from interviewd.config.schema import ChannelConfig
from interviewd.domain import Address, Alert, Draft
from interviewd.notify import NotifyError, check, send
from interviewd.notify.push import MAX_BODY, compose

TOKEN = "tok-9f8e7d6c5b4a"


class Receiver(ThreadingHTTPServer):
    """Keeps every (path, JSON payload) posted to it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[str, dict[str, Any]]] = []


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CHANNEL = ChannelConfig(name="phone", type="apprise", secret="alert-phone")

DRAFT = Draft(
    to=(Address("Dana Whitfield", "dana@larkspur.example"),),
    subject="Re: Interview on Thursday",
    body="Hi Dana,\n\nThank you for your time on Thursday.\n\nBest regards,\nSam\n",
)

ALERT = Alert(
    key="followup:42",
    kind="thank_you",
    title="Thank-you note to Dana Whitfield, Larkspur Health: your interview ended yesterday",
    body="Due now; overdue from tomorrow at 15:00.\nWhy: Your interview ended yesterday.\n\n"
    "When you have sent it:  interviewd done 42\n",
    draft=DRAFT,
)


def test_alert_reaches_the_json_endpoint(receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.server_port}/hook/{TOKEN}"
    send(CHANNEL, ALERT, lambda: url)
    assert len(receiver.received) == 1
    path, payload = receiver.received[0]
    assert path == f"/hook/{TOKEN}"
    assert payload["title"] == ALERT.title
    body = payload["message"]
    assert body.startswith("Due now; overdue from tomorrow at 15:00.")
    assert "interviewd done 42" in body
    assert "Subject: Re: Interview on Thursday" in body
    assert "Thank you for your time on Thursday." in body
    assert payload["type"] == "info"


def test_urgent_alert_is_a_warning(receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.server_port}/hook"
    send(CHANNEL, Alert("message:7", "offer", "Offer from Larkspur", "Read it.", True), lambda: url)
    assert receiver.received[0][1]["type"] == "warning"


def test_endpoint_down_is_retryable_and_hides_the_url(caplog: pytest.LogCaptureFixture) -> None:
    url = f"json://127.0.0.1:{free_port()}/hook/{TOKEN}"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as caught:
        send(CHANNEL, ALERT, lambda: url)
    assert caught.value.retryable is True
    text = str(caught.value)
    assert "'phone'" in text
    assert TOKEN not in text and "127.0.0.1" not in text
    assert TOKEN not in caplog.text


def test_a_url_apprise_does_not_know_is_not_retryable() -> None:
    with pytest.raises(NotifyError) as caught:
        send(CHANNEL, ALERT, lambda: f"nosuchservice://{TOKEN}")
    assert caught.value.retryable is False
    assert TOKEN not in str(caught.value)
    assert "alert-phone" in str(caught.value)


def test_check_sends_nothing(receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.server_port}/hook/{TOKEN}"
    result = check(CHANNEL, lambda: url)
    assert "JSON" in result and TOKEN not in result
    assert receiver.received == []


def test_long_draft_is_cut_but_kept() -> None:
    long = Draft(to=DRAFT.to, subject="Re: x", body="Hi Dana,\n\n" + "word " * 2000)
    body = compose(Alert(ALERT.key, ALERT.kind, ALERT.title, ALERT.body, draft=long))
    assert len(body) <= MAX_BODY
    assert body.startswith("Due now")
    assert "Hi Dana," in body
    assert body.endswith("[... full draft: interviewd draft 42]")
