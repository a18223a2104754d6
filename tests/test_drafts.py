"""Drafts and alert texts from the shipped templates, user overrides, and header injection."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from interviewd.config.schema import ChannelConfig
from interviewd.domain import Alert
from interviewd.drafts import (
    DRAFT_BEGIN,
    DRAFT_KINDS,
    AlertContext,
    DraftContext,
    render_alert,
    render_draft,
)
from interviewd.errors import ConfigError
from interviewd.notify import sanitize_header, send

CONTEXT = DraftContext(
    contact_name="Dana Whitfield",
    contact_email="Dana@Larkspur.example",
    company="Larkspur Health",
    role="Senior Product Designer",
    round_when="Tuesday 4 November at 14:00",
    user_name="Sam Rivera",
    interviewers=("Dana Whitfield", "Priya Nair"),
    thread_subject="RE: Interview on Tuesday",
    thread_message_id="<abc@larkspur.example>",
    thread_references=("<root@larkspur.example>",),
)
NOTES = "I enjoyed hearing how your team is moving scheduling to FHIR APIs"
INJECTION = "Hi\r\nBcc: evil@example.com"


@pytest.mark.parametrize("kind", DRAFT_KINDS)
@pytest.mark.parametrize("notes", ["", NOTES])
def test_each_kind_renders(kind: str, notes: str) -> None:
    draft = render_draft(kind, dataclasses.replace(CONTEXT, notes=notes), None)
    assert draft.subject == "Re: Interview on Tuesday"
    assert [(a.name, a.email) for a in draft.to] == [("Dana Whitfield", "dana@larkspur.example")]
    assert draft.in_reply_to == "abc@larkspur.example"
    assert draft.references == ("root@larkspur.example", "abc@larkspur.example")
    body = draft.body
    assert body.startswith("Hi Dana,\n\n")
    assert body.rstrip().endswith("Sam Rivera")
    assert "Senior Product Designer" in body and "Larkspur Health" in body
    assert "Tuesday 4 November at 14:00" in body
    assert "\n\n\n" not in body
    assert len(body.split()) < 120
    if kind == "thank_you":
        assert "Thank you for taking the time" in body
        assert "Priya Nair" in body  # the other interviewer is thanked too
        if notes:
            assert NOTES + "." in body and "[placeholder" not in body
        else:
            assert "[placeholder:" in body
    else:
        assert "update on the timeline" in body
        assert "interested" in body
        assert "[placeholder" not in body and NOTES not in body


def test_subject_without_a_thread() -> None:
    context = dataclasses.replace(CONTEXT, thread_subject="", thread_message_id="")
    draft = render_draft("thank_you", context, None)
    assert draft.subject == "Thank you: Senior Product Designer interview"
    assert draft.in_reply_to == ""


def test_override_template_wins(tmp_path: Path) -> None:
    (tmp_path / "check_in.txt.j2").write_text(
        "Subject: Quick question about {{ role }}\n\nHello {{ first_name }}! -- {{ user_name }}\n"
    )
    draft = render_draft("check_in", CONTEXT, tmp_path)
    assert draft.subject == "Quick question about Senior Product Designer"
    assert draft.body == "Hello Dana! -- Sam Rivera\n"
    # the kinds without an override still come from the shipped templates
    assert "Thank you for taking the time" in render_draft("thank_you", CONTEXT, tmp_path).body


def test_broken_override_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt.j2").write_text("Subject: x\n\n{{ no_such_variable }}\n")
    with pytest.raises(ConfigError) as caught:
        render_draft("thank_you", CONTEXT, tmp_path)
    assert "no_such_variable" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_alert_title_and_body() -> None:
    draft = render_draft("thank_you", CONTEXT, None)
    title, body = render_alert(
        "thank_you",
        AlertContext(
            ref="42",
            contact_name="Dana Whitfield",
            company="Larkspur Health",
            role="Senior Product Designer",
            reason="your interview ended yesterday at 15:00",
            due="now",
            overdue_from="tomorrow at 15:00",
            draft=draft,
        ),
    )
    assert title == (
        "Thank-you note to Dana Whitfield, Larkspur Health: your interview ended yesterday at 15:00"
    )
    assert body.startswith("Due now; overdue from tomorrow at 15:00.\n")
    for command in ("done 42", "snooze 42 2d", "dismiss 42", "draft 42"):
        assert f"interviewd {command}\n" in body
    assert DRAFT_BEGIN in body and "Subject: Re: Interview on Tuesday" in body
    assert body.index("interviewd done 42") < body.index(DRAFT_BEGIN)


def test_overdue_check_in_alert() -> None:
    title, body = render_alert(
        "check_in",
        AlertContext(
            ref="7",
            contact_name="Dana Whitfield",
            company="Larkspur Health",
            reason="no news since your interview on 4 November",
            overdue_from="Friday 09:00",
            overdue=True,
        ),
    )
    assert title.startswith("Overdue: Check-in with Dana Whitfield, Larkspur Health: no news")
    assert body.startswith("Overdue since Friday 09:00.")


def test_rejection_alert_invites_reflection_not_a_follow_up() -> None:
    title, body = render_alert("rejection", AlertContext(company="Larkspur Health"))
    assert "Larkspur Health" in title
    assert "What went well?" in body
    assert "interviewd done" not in body and DRAFT_BEGIN not in body


def test_sanitize_header() -> None:
    assert sanitize_header(INJECTION) == "Hi Bcc: evil@example.com"
    assert sanitize_header(" a\tb\x00c\u2028d \n") == "a b c d"


def test_injected_name_and_subject_stay_out_of_the_draft_headers() -> None:
    context = dataclasses.replace(CONTEXT, contact_name=INJECTION, thread_subject=INJECTION)
    draft = render_draft("thank_you", context, None)
    assert "\r" not in draft.subject and "\n" not in draft.subject
    assert draft.subject == "Re: Hi Bcc: evil@example.com"
    assert "\n" not in draft.to[0].name and "\r" not in draft.to[0].name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_injection_never_reaches_the_email_headers(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    context = dataclasses.replace(CONTEXT, contact_name=INJECTION, thread_subject=INJECTION)
    draft = render_draft("thank_you", context, None)
    title, body = render_alert(
        "thank_you",
        AlertContext(ref="42", contact_name=INJECTION, company=INJECTION, reason=INJECTION),
    )
    channel = ChannelConfig(
        name="mail",
        type="email",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        from_address="interviewd@home.example",
        to_address="me@home.example",
    )
    # A raw title with CR/LF too: the notifier sanitizes whatever it is given.
    send(
        channel,
        Alert("followup:42", "thank_you", title + "\r\n" + INJECTION, body, draft=draft),
        lambda: "",
    )
    assert len(handler.received) == 1
    rcpt, raw = handler.received[0]
    assert rcpt == ["me@home.example"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None
    assert "evil@example.com" not in " ".join(message.get_all("To", []) + message.get_all("Cc", []))
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert not any(line.lower().startswith("bcc:") for line in header_block.splitlines())
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Subject"].startswith("[interviewd] Thank-you note to Hi Bcc: evil@example.com")
    text = message.get_content().replace("\r\n", "\n")
    assert "Subject: Re: Hi Bcc: evil@example.com\n" in text
