"""Alerts end to end: real SMTP and HTTP receivers, real Dovecot for drafts, real scheduler."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from imapclient import IMAPClient

from conftest import ALICE
from interviewd.alerts import AlertScheduler, AlertService
from interviewd.applications import TrackingService
from interviewd.clock import SystemClock
from interviewd.config import parse_config_text
from interviewd.store import Store
from interviewd.store.models import Delivery
from test_notify_email import Inbox, free_port, start

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class JsonReceiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_receiver() -> Iterator[tuple[list[dict[str, Any]], int]]:
    JsonReceiver.received = []
    server = HTTPServer(("127.0.0.1", 0), JsonReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield JsonReceiver.received, server.server_address[1]
    server.shutdown()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = start(handler)
    yield handler, controller.port
    controller.stop()


def make_config(tmp_path: Path, channels: str, extra: str = "") -> Any:
    return parse_config_text(
        "timezone: America/New_York\n"
        "followups: {quiet_hours_start: '00:00', quiet_hours_end: '00:00'}\n"
        f"store: {{url: 'sqlite:///{tmp_path}/a.db'}}\n"
        "accounts: [{name: me, type: maildir, path: /nonexistent, "
        "user_addresses: [sam@example.net]}]\n"
        f"alerts:\n  retry_initial_seconds: 1\n  channels:\n{channels}" + extra
    )


def email_channel(port: int, name: str = "mail") -> str:
    return (
        f"    - {{name: {name}, type: email, smtp_host: 127.0.0.1, smtp_port: {port}, "
        "smtp_security: none, from_address: interviewd@example.net, "
        "to_address: sam@example.net}\n"
    )


def apprise_channel(name: str = "push") -> str:
    return f"    - {{name: {name}, type: apprise}}\n"


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "creds"
    folder.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(folder))
    return folder


def due_thank_you(tracking: TrackingService, seconds_from_now: float, company: str = "Larkspur"):
    """An interview whose thank-you falls due in ``seconds_from_now``."""
    now = SystemClock().now()
    start_at = now - timedelta(hours=25) + timedelta(seconds=seconds_from_now)
    app, _round = tracking.add_interview(
        company,
        "Staff Nurse",
        start_at,
        timedelta(hours=1),
        ["dana@larkspur.example"],
        "the new triage workflow",
    )
    followups = tracking.followups(now + timedelta(seconds=seconds_from_now + 1))
    [item] = [
        f
        for f in followups["due"] + followups["coming"]
        if f["kind"] == "thank_you" and f["application_id"] == app
    ]
    return app, item["id"]


def test_a_due_thank_you_reaches_the_email_channel_once(tmp_path, smtp):
    inbox, port = smtp
    config = make_config(tmp_path, email_channel(port))
    store = Store(config.store.url)
    tracking = TrackingService(config, store)
    _app, fid = due_thank_you(tracking, -60)
    service = AlertService(config, store)
    alert = service.followup_alert(fid)
    assert alert is not None
    service.deliver(alert)
    service.deliver(alert)  # a retry, a restart: never twice
    message = inbox.parsed()
    assert "Thank-you note" in message["Subject"]
    body = message.get_content()
    assert "the new triage workflow" in body
    assert f"interviewd done {fid}" in body
    store.close()


def test_twenty_restarts_around_the_due_time_give_one_alert_per_channel(
    tmp_path, smtp, http_receiver, credentials
):
    inbox, smtp_port = smtp
    received, http_port = http_receiver
    (credentials / "alert-push").write_text(f"json://127.0.0.1:{http_port}/alerts")
    config = make_config(tmp_path, email_channel(smtp_port) + apprise_channel())
    store = Store(config.store.url)
    _app, _fid = due_thank_you(TrackingService(config, store), 3)
    store.close()
    deadline = time.monotonic() + 8
    restarts = 0
    while restarts < 20 or time.monotonic() < deadline:
        store = Store(config.store.url)
        tracking = TrackingService(config, store)
        scheduler = AlertScheduler(AlertService(config, store), tracking)
        scheduler.start()
        time.sleep(0.25)
        scheduler.shutdown()
        store.close()
        restarts += 1
    assert restarts >= 20
    assert len(inbox.messages) == 1
    assert len([r for r in received if "Thank-you" in r.get("title", "")]) == 1


def test_a_failing_channel_is_retried_and_does_not_block_the_others(
    tmp_path, http_receiver, credentials
):
    received, http_port = http_receiver
    (credentials / "alert-push").write_text(f"json://127.0.0.1:{http_port}/alerts")
    dead_port = free_port()
    config = make_config(tmp_path, email_channel(dead_port) + apprise_channel())
    store = Store(config.store.url)
    tracking = TrackingService(config, store)
    _app, fid = due_thank_you(tracking, -60)
    service = AlertService(config, store)
    alert = service.followup_alert(fid)
    assert alert is not None
    reports = {r.channel: r for r in service.deliver(alert)}
    assert reports["push"].ok and not reports["mail"].ok
    assert len(received) == 1
    with store.session() as s:
        row = s.query(Delivery).filter_by(channel="mail").one()
        assert (row.state, row.attempts) == ("pending", 1)
        row.next_attempt_at = SystemClock().now() - timedelta(seconds=1)
    handler = Inbox()
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=dead_port)
    controller.start()
    try:
        assert service.retry_due() == 1
        assert len(handler.messages) == 1
        assert len(received) == 1  # the push channel was not sent again
    finally:
        controller.stop()
    with store.session() as s:
        assert s.query(Delivery).filter_by(channel="mail").one().state == "sent"
    store.close()


def test_draft_is_appended_to_the_drafts_folder_with_the_right_headers(
    tmp_path, dovecot, credentials
):
    (credentials / "imap-work").write_text(ALICE[1])
    config = parse_config_text(
        "timezone: UTC\n"
        f"store: {{url: 'sqlite:///{tmp_path}/d.db'}}\n"
        f"accounts: [{{name: work, host: 127.0.0.1, port: {dovecot.port}, security: none, "
        "username: alice, user_addresses: [alice@example.net]}]\n"
        "alerts: {drafts: imap}\n"
    )
    store = Store(config.store.url)
    tracking = TrackingService(config, store)
    _app, fid = due_thank_you(tracking, -60, company="Acme\r\nBcc: evil@example.com")
    service = AlertService(config, store)
    alert = service.followup_alert(fid)
    assert alert is not None and alert.draft is not None
    service.deliver(alert)
    service.deliver(alert)
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
    client.login(*ALICE)
    client.select_folder("Drafts", readonly=True)
    uids = client.search(["ALL"])
    assert len(uids) == 1
    data = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])[uids[0]]
    assert b"\\Draft" in data[b"FLAGS"]
    draft = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
    assert draft["To"] == "dana@larkspur.example"
    assert draft["From"] == "alice@example.net"
    assert draft["Bcc"] is None
    assert "\n" not in draft["Subject"]
    assert "Thank" in draft["Subject"] or "thank" in draft.get_content().lower()
    client.logout()
    store.close()


def test_morning_digest_lists_what_is_due_and_goes_out_once(tmp_path, smtp):
    inbox, port = smtp
    config = make_config(tmp_path, email_channel(port), "  digest: true\n")
    store = Store(config.store.url)
    tracking = TrackingService(config, store)
    due_thank_you(tracking, -60)
    due_thank_you(tracking, 3 * 3600, company="Copperleaf")
    service = AlertService(config, store)
    alert = service.digest_alert()
    assert alert is not None and alert.kind == "digest"
    assert "Due now:" in alert.body and "Larkspur" in alert.body
    assert "Copperleaf" in alert.body
    service.deliver(alert)
    service.deliver(service.digest_alert())
    assert len(inbox.messages) == 1
    store.close()


def test_no_digest_when_nothing_is_due(tmp_path):
    config = make_config(tmp_path, apprise_channel())
    store = Store(config.store.url)
    assert AlertService(config, store).digest_alert() is None
    store.close()
