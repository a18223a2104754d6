"""The email channel against a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from interviewd.config.schema import ChannelConfig
from interviewd.domain import Address, Alert, Draft
from interviewd.notify import NotifyError, check, send

# aiosmtpd warns about AUTH without TLS; the test server is on loopback on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "s3cret-smtp-pass"
WRONG = "wrong-pass-Zq9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what it receives; ``refuse`` answers DATA with it."""

    refuse: str = ""
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self) -> EmailMessage:
        assert len(self.messages) == 1, self.messages
        message = email.message_from_bytes(self.messages[0][2], policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    """Accept "me" with PASSWORD; anything else gets aiosmtpd's 535."""
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"me",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def start(handler: Inbox, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = start(handler)
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def auth_inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = start(
        handler,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # loopback test server without TLS
    )
    yield handler, controller.port
    controller.stop()


def channel(port: int, **kw: Any) -> ChannelConfig:
    values: dict[str, Any] = {
        "name": "mail",
        "type": "email",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "from_address": "interviewd@home.example",
        "to_address": "me@home.example",
    }
    values.update(kw)
    return ChannelConfig(**values)


DRAFT = Draft(
    to=(Address("Dana Whitfield", "dana@larkspur.example"),),
    subject="Re: Interview on Thursday",
    body="Hi Dana,\n\nThank you for your time on Thursday.\n\nBest regards,\nSam\n",
    in_reply_to="abc@larkspur.example",
    references=("abc@larkspur.example",),
)


def alert(**kw: Any) -> Alert:
    values: dict[str, Any] = {
        "key": "followup:42",
        "kind": "thank_you",
        "title": "Thank-you note to Dana Whitfield, Larkspur Health: your interview ended "
        "yesterday at 15:00",
        "body": "Due now; overdue from tomorrow at 15:00.\n\nWhen you have sent it:  "
        "interviewd done 42\n",
        "draft": DRAFT,
    }
    values.update(kw)
    return Alert(**values)


def no_secret() -> str:
    raise AssertionError("no login configured: the secret must not be asked for")


def test_alert_arrives_with_headers_body_and_draft(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    send(channel(port), alert(), no_secret)
    mail_from, rcpt, _ = handler.messages[0]
    assert mail_from == "interviewd@home.example"
    assert rcpt == ["me@home.example"]
    message = handler.parsed()
    assert message["From"] == "interviewd@home.example"
    assert message["To"] == "me@home.example"
    assert message["Subject"] == (
        "[interviewd] Thank-you note to Dana Whitfield, Larkspur Health: your interview "
        "ended yesterday at 15:00"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message["Date"]
    assert message["X-Priority"] is None and message["Importance"] is None
    body = message.get_content().replace("\r\n", "\n")
    assert "Due now; overdue from tomorrow at 15:00." in body
    assert "interviewd done 42" in body
    # The draft is set off, with its own To/Subject lines, after the commands.
    assert "To: Dana Whitfield <dana@larkspur.example>\nSubject: Re: Interview on Thursday" in body
    assert "Thank you for your time on Thursday." in body
    assert body.index("interviewd done 42") < body.index("Subject: Re: Interview on Thursday")


def test_urgent_alert_has_high_priority(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    send(channel(port), alert(kind="offer", urgent=True, draft=None), no_secret)
    message = handler.parsed()
    assert message["X-Priority"].startswith("1")
    assert message["Importance"] == "high"


def test_login_with_the_right_password(auth_inbox: tuple[Inbox, int]) -> None:
    handler, port = auth_inbox
    send(channel(port, smtp_username="me"), alert(), lambda: PASSWORD)
    assert handler.parsed()["To"] == "me@home.example"
    assert "logged in as 'me'" in check(channel(port, smtp_username="me"), lambda: PASSWORD)


def test_wrong_password_is_not_retryable_and_not_shown(auth_inbox: tuple[Inbox, int]) -> None:
    handler, port = auth_inbox
    with pytest.raises(NotifyError) as caught:
        send(channel(port, smtp_username="me", secret="smtp-home"), alert(), lambda: WRONG)
    assert caught.value.retryable is False
    text = str(caught.value)
    assert WRONG not in text and PASSWORD not in text
    assert "refused the login" in text and "smtp-home" in text
    assert "\n" not in text
    assert handler.messages == []


def test_refused_message_is_retryable(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.refuse = "554 5.7.1 Message rejected"
    with pytest.raises(NotifyError) as caught:
        send(channel(port), alert(), no_secret)
    assert caught.value.retryable is True
    assert "554" in str(caught.value)


def test_closed_port_is_retryable() -> None:
    with pytest.raises(NotifyError) as caught:
        send(channel(free_port()), alert(), no_secret)
    assert caught.value.retryable is True
    assert "connection refused" in str(caught.value)


def test_plain_smtp_only_to_loopback() -> None:
    with pytest.raises(NotifyError) as caught:
        send(channel(25, smtp_host="smtp.example.com"), alert(), no_secret)
    assert caught.value.retryable is False
    assert "loopback" in str(caught.value)


def test_starttls_required_when_configured(inbox: tuple[Inbox, int]) -> None:
    """A server without STARTTLS is never used in clear when starttls was asked for."""
    handler, port = inbox
    with pytest.raises(NotifyError) as caught:
        send(channel(port, smtp_security="starttls"), alert(), no_secret)
    assert caught.value.retryable is False
    assert "STARTTLS" in str(caught.value)
    assert handler.messages == []
