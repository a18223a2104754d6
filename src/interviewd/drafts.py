"""Drafts of thank-you notes and check-ins, and the text of alerts, from Jinja2 templates.

The wording is the product's advice made concrete, so it lives in plain-text
templates the user can read and override rather than in code: the shipped ones
are in ``config/templates/``, and a file of the same name in the user's folder
(``~/.config/interviewd/templates/``) wins. A template's first line is a header
(``Subject:`` for a draft, ``Title:`` for an alert); the rest is the body.

Everything here is plain text (no autoescape). Values that end up on one line
(names, subjects, titles) go through :func:`one_line` before and after
rendering, so a CR or LF in a name or a thread subject can never start a new
header line, here or in the email that carries the alert.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .domain import Address, Draft
from .errors import ConfigError

#: The draft kinds, each with a template ``<kind>.txt.j2``.
DRAFT_KINDS = ("thank_you", "check_in", "second_check_in")

#: Alert kinds rendered by :func:`render_alert`, and their templates.
ALERT_TEMPLATES: dict[str, str] = {
    "thank_you": "alert_followup.txt.j2",
    "check_in": "alert_followup.txt.j2",
    "second_check_in": "alert_followup.txt.j2",
    "offer": "alert_offer.txt.j2",
    "rejection": "alert_rejection.txt.j2",
    "test": "alert_test.txt.j2",
}

#: The lines that fence a draft inside an alert body; the notifiers look for the
#: first one to know whether a body already carries its draft.
DRAFT_BEGIN = "===== Draft: edit it, then send it from your own mailbox ====="
DRAFT_END = "===== End of draft ====="

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:\s*", re.IGNORECASE)


def one_line(value: str) -> str:
    """``value`` with CR, LF and every other control character made a space, runs collapsed.

    Used for whatever becomes a header or a title: a line break there would let
    a crafted name or subject ("Hi\\r\\nBcc: evil@example.com") add a header.
    """
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def shipped_templates() -> Path:
    """The folder of the templates shipped with interviewd.

    A source checkout or editable install has ``config/templates`` at the top
    of the tree; an installed package has it under ``<prefix>/share/interviewd``.
    """
    candidates = (
        Path(__file__).resolve().parents[2] / "config" / "templates",
        Path(sys.prefix) / "share" / "interviewd" / "templates",
    )
    for candidate in candidates:
        if (candidate / "thank_you.txt.j2").is_file():
            return candidate
    raise ConfigError(
        "the shipped draft templates are missing (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall interviewd"
    )


@dataclass(frozen=True, slots=True)
class DraftContext:
    """What a draft is written from; every time is already a local, human string."""

    contact_name: str  # who the draft goes to, e.g. the recruiter or the interviewer
    contact_email: str
    company: str
    role: str
    round_when: str  # the interview round, local: "Tuesday 4 November at 14:00"
    user_name: str  # the signature
    interviewers: tuple[str, ...] = ()
    notes: str = ""  # the user's own notes: the one specific thing to mention, as written
    open_answer: str = ""  # a better answer to a question left open, when the user has one
    thread_subject: str = ""  # the employer thread the draft replies to
    thread_message_id: str = ""  # its Message-ID, for In-Reply-To (with or without <>)
    thread_references: tuple[str, ...] = ()  # its References, kept in the reply's


@dataclass(frozen=True, slots=True)
class AlertContext:
    """What an alert says; every time is already a local, human string.

    ``ref`` is the id the commands take (``interviewd done REF``); empty for an
    alert with nothing to act on.
    """

    ref: str = ""
    contact_name: str = ""
    company: str = ""
    role: str = ""
    reason: str = ""  # why, e.g. "your interview ended yesterday at 15:00"
    due: str = ""  # e.g. "now" or "since today 15:00"
    overdue_from: str = ""  # when it becomes (or became) overdue; "" when it never does
    overdue: bool = False
    draft: Draft | None = None
    subject: str = ""  # offer, rejection: the employer message's subject
    excerpt: str = ""  # offer, rejection: a few lines of it


def _first_name(name: str) -> str:
    """The given name for a greeting: "Dana" from "Dana Whitfield", "" from ""."""
    words = one_line(name).replace(",", " ").split()
    return words[0] if words else ""


def _names(names: Any) -> str:
    """ "A", "A and B", "A, B and C": names joined as a sentence would."""
    items = [one_line(str(n)) for n in names if one_line(str(n))]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    """``text`` as a sentence: capitalised, ending in punctuation, trimmed."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)]\"'" else text + "."


def _reply_subject(subject: str) -> str:
    """ "Re: <subject>", once, so the draft threads with the employer's message."""
    subject = one_line(subject)
    while _REPLY_PREFIX.match(subject):
        subject = _REPLY_PREFIX.sub("", subject, count=1)
    return f"Re: {subject}"


@lru_cache(maxsize=8)
def _environment(override_dir: Path | None) -> jinja2.Environment:
    """One Jinja2 environment per template folder; the user's folder is searched first."""
    search = [str(override_dir)] if override_dir is not None else []
    search.append(str(shipped_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=False,  # plain text; header fields are made one line separately
        undefined=jinja2.StrictUndefined,  # a typo in a user template is an error, not a blank
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        first_name=_first_name,
        names=_names,
        sentence=_sentence,
        reply_subject=_reply_subject,
        one_line=one_line,
    )
    return env


def _render(name: str, variables: dict[str, Any], override_dir: Path | None) -> str:
    """Render one template; a broken (user) template is a ConfigError naming file and line."""
    env = _environment(override_dir)
    try:
        template = env.get_template(name)
        return template.render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {name!r} not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"line {exc.lineno}: {exc.message}", path=exc.filename) from None
    except jinja2.UndefinedError as exc:
        where = _template_path(env, name)
        known = ", ".join(sorted(variables))
        raise ConfigError(f"{exc.message} (known variables: {known})", path=where) from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"cannot render: {exc}", path=_template_path(env, name)) from None


def _template_path(env: jinja2.Environment, name: str) -> str | None:
    try:
        return env.get_template(name).filename
    except jinja2.TemplateError:
        return None


def _split_header(text: str, header: str, name: str) -> tuple[str, str]:
    """Split a rendered template into its one-line header value and its body."""
    first, _, rest = text.lstrip("\n").partition("\n")
    prefix = f"{header}:"
    if not first.startswith(prefix):
        raise ConfigError(f"template {name!r}: the first line must be '{prefix} ...'")
    body = rest.lstrip("\n").rstrip() + "\n"
    body = re.sub(r"\n{3,}", "\n\n", body)  # empty optional paragraphs leave no gaps
    return one_line(first[len(prefix) :]), body


def _bare_id(message_id: str) -> str:
    return one_line(message_id).strip("<>").strip()


def render_draft(kind: str, context: DraftContext, override_dir: Path | None = None) -> Draft:
    """The draft of ``kind`` (thank_you, check_in, second_check_in) for ``context``.

    ``override_dir`` is the user's template folder; a ``<kind>.txt.j2`` there
    replaces the shipped one. The draft replies to the employer's thread when
    its Message-ID is known, so it lands in the same conversation.
    """
    if kind not in DRAFT_KINDS:
        raise ValueError(f"unknown draft kind {kind!r}; one of {', '.join(DRAFT_KINDS)}")
    contact = one_line(context.contact_name)
    interviewers = tuple(one_line(n) for n in context.interviewers if one_line(n))
    others = tuple(n for n in interviewers if n.casefold() != contact.casefold())
    variables: dict[str, Any] = {
        "kind": kind,
        "contact_name": contact,
        "first_name": _first_name(contact),
        "contact_email": one_line(context.contact_email),
        "company": one_line(context.company),
        "role": one_line(context.role),
        "round_when": one_line(context.round_when),
        "user_name": one_line(context.user_name),
        "interviewers": interviewers,
        "other_interviewers": others,
        "notes": context.notes.strip(),
        "open_answer": context.open_answer.strip(),
        "thread_subject": one_line(context.thread_subject),
        "thread_message_id": _bare_id(context.thread_message_id),
    }
    name = f"{kind}.txt.j2"
    subject, body = _split_header(_render(name, variables, override_dir), "Subject", name)
    email = one_line(context.contact_email).lower()
    parent = _bare_id(context.thread_message_id)
    references = [r for r in (_bare_id(x) for x in context.thread_references) if r]
    if parent and parent not in references:
        references.append(parent)
    return Draft(
        to=(Address(contact, email),) if email else (),
        subject=subject,
        body=body,
        in_reply_to=parent,
        references=tuple(references),
    )


def format_draft(draft: Draft) -> str:
    """A draft set off in an alert: fenced, with its own To/Subject lines, then its text."""
    lines = [DRAFT_BEGIN]
    if draft.to:
        lines.append("To: " + ", ".join(one_line(str(a)) for a in draft.to))
    lines.append(f"Subject: {one_line(draft.subject)}")
    if draft.in_reply_to:
        lines.append(f"In-Reply-To: <{_bare_id(draft.in_reply_to)}>")
    lines.append("")
    lines.append(draft.body.rstrip("\n"))
    lines.append(DRAFT_END)
    return "\n".join(lines)


def render_alert(
    alert_kind: str, context: AlertContext, override_dir: Path | None = None
) -> tuple[str, str]:
    """The (title, body) of an alert of ``alert_kind`` for ``context``.

    The title is one line saying what is due and why; the body's first
    paragraph says when it is (or becomes) overdue, then come the commands to
    act on it and the draft. Push and desktop notifiers show that first
    paragraph when they must be brief, so templates should keep that order.
    """
    try:
        name = ALERT_TEMPLATES[alert_kind]
    except KeyError:
        raise ValueError(
            f"no alert template for kind {alert_kind!r}; one of {', '.join(ALERT_TEMPLATES)}"
        ) from None
    contact = one_line(context.contact_name)
    company = one_line(context.company)
    who = ", ".join(x for x in (contact, company) if x) or "the employer"
    variables: dict[str, Any] = {
        "kind": alert_kind,
        "ref": one_line(context.ref),
        "contact_name": contact,
        "company": company,
        "role": one_line(context.role),
        "who": who,
        "reason": one_line(context.reason),
        "due": one_line(context.due),
        "overdue_from": one_line(context.overdue_from),
        "overdue": context.overdue,
        "subject": one_line(context.subject),
        "excerpt": context.excerpt.strip(),
        "draft_block": format_draft(context.draft) if context.draft else "",
    }
    return _split_header(_render(name, variables, override_dir), "Title", name)
