"""Realistic synthetic mail for tests and benchmarks (deterministic for a given seed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

COMPANIES = [
    ("Northwind Analytics", "northwind-analytics.example"),
    ("Bluefin Health", "bluefinhealth.example"),
    ("Copperleaf Logistics", "copperleaf.example"),
    ("Quarry Lane Software", "quarrylane.example"),
    ("Harbor & Pine Legal", "harborpine.example"),
    ("Tallgrass Energy", "tallgrass-energy.example"),
]
FIRST = ["Dana", "Marcus", "Priya", "Owen", "Lucia", "Hiro", "Grace", "Tomas", "Amara", "Felix"]
LAST = ["Whitfield", "Okafor", "Lindqvist", "Baptiste", "Moreau", "Castillo", "Nakamura", "Reyes"]
ROLES = ["Data Analyst", "Staff Nurse", "Backend Engineer", "Paralegal", "Operations Manager"]
PARAGRAPHS = [
    "Thank you again for taking the time to speak with our team about the {role} role.",
    "We would love to set up a {minutes}-minute conversation with the hiring manager next week.",
    "Could you share a few windows that work for you between Tuesday and Thursday?",
    "The team enjoyed learning about your background and the projects you described.",
    "We are still finishing interviews and expect to make a decision by the end of next week.",
    "After careful consideration we have decided to move forward with other candidates.",
    "I'm delighted to let you know that we would like to extend you an offer.",
    "Please find the agenda for your onsite visit below, including the names of your panel.",
    "Our office is on the fourth floor; please check in with reception when you arrive.",
    "If you have any questions in the meantime, don't hesitate to reach out.",
]
SIGNATURE = "\n\nBest regards,\n{name}\nTalent Acquisition | {company}\n+1 555 01{n:02d}\n"
FOOTER = (
    "\n\nThis email and any attachments are confidential and intended solely for the "
    "addressee. If you received it in error, please delete it.\n"
)


def make_message(seed: int, *, user: str = "sam@example.net", size_hint: int = 2000) -> bytes:
    rng = random.Random(seed)
    company, domain = rng.choice(COMPANIES)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    role = rng.choice(ROLES)
    msg = EmailMessage()
    msg["From"] = f"{name} <{name.split()[0].lower()}@{domain}>"
    msg["To"] = user
    msg["Subject"] = rng.choice(
        [
            f"{role} - next steps",
            f"Re: {role} interview",
            f"Update on your application ({role})",
            f"{company}: {role}",
            "Quick question",
        ]
    )
    when = datetime(2026, 11, 20, 9, 0, tzinfo=UTC) - timedelta(minutes=seed * 7 % 90000)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<gen-{seed}@{domain}>"
    body: list[str] = ["Hi Sam,\n"]
    while sum(len(p) for p in body) < size_hint - 400:
        body.append(rng.choice(PARAGRAPHS).format(role=role, minutes=rng.choice([30, 45, 60])))
    text = "\n\n".join(body) + SIGNATURE.format(name=name, company=company, n=seed % 100) + FOOTER
    msg.set_content(text)
    return msg.as_bytes(policy=SMTP)


def simple_message(
    subject: str,
    body: str = "Hello.",
    *,
    msgid: str | None = None,
    sender: str = "Dana Whitfield <dana@larkspur.example>",
    to: str = "alice@example.net",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    if msgid:
        msg["Message-ID"] = f"<{msgid}>"
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)
