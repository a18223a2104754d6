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


# -- a realistic mailbox ---------------------------------------------------------------------
# A job seeker's inbox is mostly other mail: newsletters, job-board alerts, receipts, friends.
# inbox_message(i) is message i of such a mailbox (deterministic): 30% employer mail from 150
# companies, each going through applications, rounds, feedback and a decision in order, a
# third of it through an applicant tracking system; 70% everything else.

_PREFIX = [
    "Acme",
    "Birch",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Helix",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchard",
    "Pioneer",
    "Quill",
    "Redwood",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Zephyr",
    "Atlas",
]
_SUFFIX = [("Labs", "labs"), ("Health", "health"), ("Logistics", "logistics"),
           ("Software", "soft"), ("Analytics", "analytics"), ("Energy", "energy")]  # fmt: skip
INBOX_COMPANIES = [
    (f"{p} {s}", f"{p.lower()}{d}.example") for s, d in _SUFFIX for p in _PREFIX
]  # 150
_ATS = ["greenhouse-mail.io", "hire.lever.co", "myworkday.com"]  # relays interviewd knows
_STEPS = ["ack", "scheduling", "scheduling", "feedback", "scheduling", "feedback", "scheduling",
          "feedback", "decision", "after"]  # fmt: skip
_JOB_TEXT = {
    "ack": [
        "Thank you for applying for the {role} position at {company}. We have received your "
        "application and our recruiting team will review it carefully.",
        "If your background matches what we are looking for, someone from the team will "
        "contact you to discuss next steps.",
    ],
    "scheduling": [
        "I'd like to invite you to a {minutes}-minute interview for the {role} role.",
        "Would Tuesday at 2pm or Thursday at 10am Eastern work for you? The call will be on "
        "Zoom; the link follows once we confirm a time.",
        "You will meet {name2}, who leads the team, and one of the engineers.",
    ],
    "feedback": [
        "Thanks again for your time with the team this week. The feedback was very positive.",
        "We are finishing the remaining conversations and expect to have an update for you by "
        "the end of next week.",
    ],
    "rejection": [
        "Thank you for your interest in the {role} role and for the time you spent with us.",
        "After careful consideration, we have decided to move forward with other candidates "
        "whose experience more closely matches our current needs.",
        "We wish you every success in your search.",
    ],
    "offer": [
        "I'm delighted to let you know that we would like to offer you the {role} position.",
        "Your written offer, with salary, start date and benefits, is attached. Let us know if "
        "you have any questions; we hope to hear from you within a week.",
    ],
    "after": [
        "Thanks for letting us know. We will keep your details on file for future roles.",
        "Feel free to reach out any time.",
    ],
}
_OTHER = {
    "newsletter": (
        [
            "The Weekly Digest",
            "Product updates for November",
            "This week in data engineering",
            "Your November reading list",
            "5 ideas worth stealing this week",
        ],
        ["news@{d}", "digest@{d}"],
        [
            "Here are this week's most-read stories, hand-picked by our editors.",
            "A long read on how teams ship reliable software without slowing down.",
            "Tools we liked: a faster test runner, a better diff viewer, a tiny database.",
            "From the community: three readers share how they organise their week.",
            "Events near you: meetups, talks and workshops in the coming month.",
        ],
    ),
    "alert": (
        [
            "12 new jobs for 'data analyst'",
            "Jobs you may be interested in",
            "New roles at companies you follow",
            "Your job alert: backend engineer",
        ],
        ["jobalerts-noreply@{d}", "jobs-listings@{d}"],
        [
            "Senior Data Analyst - Remote - posted 2 days ago",
            "Backend Engineer (Python) - Berlin - Easy Apply",
            "Operations Manager - hybrid - 8 applicants",
            "Based on your profile and search history, we picked these roles for you.",
        ],
    ),
    "receipt": (
        [
            "Your order has shipped",
            "Receipt for your payment",
            "Your statement is ready",
            "Password changed",
            "Your subscription renews soon",
        ],
        ["no-reply@{d}", "orders@{d}", "billing@{d}"],
        [
            "Order #{n} has left our warehouse and should arrive in 2-3 business days.",
            "Total charged: $48.20 to the card ending in 4421.",
            "If you did not make this change, contact support right away.",
            "You can view the details in your account at any time.",
        ],
    ),
    "personal": (
        [
            "Dinner on Saturday?",
            "Photos from the trip",
            "Re: book club",
            "Quick favour",
            "Happy birthday!",
            "Re: moving boxes",
        ],
        ["{first}@{d}"],
        [
            "Are you free on Saturday evening? We were thinking of trying the new place on Elm.",
            "Finally uploaded the photos, the one from the ridge came out great.",
            "Could you bring the folding chairs if you still have them?",
            "Let me know what works, no rush at all.",
        ],
    ),
}
_OTHER_DOMAINS = {  # where each kind of other mail comes from
    "newsletter": [
        "news.techweekly.example",
        "mail.designdigest.example",
        "letters.citypaper.example",
    ],
    "alert": ["jobs.jobboard.example", "alerts.careerhub.example"],
    "receipt": ["mailer.shopmart.example", "bank-alerts.example", "billing.streamly.example"],
    "personal": ["gmail.com", "fastmail.com", "outlook.com"],
}
_OTHER_KINDS = ["newsletter"] * 30 + ["alert"] * 10 + ["receipt"] * 15 + ["personal"] * 15
INBOX_START = datetime(2026, 8, 20, 8, 0, tzinfo=UTC)


def inbox_message(i: int, *, user: str = "sam@example.net") -> bytes:
    """Message ``i`` of a realistic job seeker's mailbox (see above); about 2.6 KB on average."""
    rng = random.Random(i)
    when = INBOX_START + timedelta(minutes=13 * i)
    msg = EmailMessage()
    msg["To"] = user
    msg["Date"] = format_datetime(when)
    if i % 10 in (0, 3, 6):
        _employer_mail(msg, i, rng)
    else:
        _other_mail(msg, i, rng)
    return msg.as_bytes(policy=SMTP)


def _employer_mail(msg: EmailMessage, i: int, rng: random.Random) -> None:
    c = (i // 10) % len(INBOX_COMPANIES)
    company, domain = INBOX_COMPANIES[c]
    step = (i // (10 * len(INBOX_COMPANIES))) * 3 + (i % 10) // 3
    kind = _STEPS[step % len(_STEPS)]
    if kind == "decision":
        kind = "offer" if c % 7 == 0 else "rejection"
    role = ROLES[(c + step // len(_STEPS)) % len(ROLES)]
    name = f"{FIRST[(c + step) % len(FIRST)]} {LAST[c % len(LAST)]}"
    name2 = f"{FIRST[(c + 3) % len(FIRST)]} {LAST[(c + 1) % len(LAST)]}"
    if c % 3 == 0:  # through an applicant tracking system
        msg["From"] = f"{company} Recruiting <no-reply@{_ATS[c % len(_ATS)]}>"
        msg["Reply-To"] = f"{name} <{name.split()[0].lower()}@{domain}>"
    else:
        msg["From"] = f"{name} <{name.split()[0].lower()}@{domain}>"
    subjects = {
        "ack": f"Thank you for applying to {company}",
        "scheduling": f"Interview for {role} at {company}",
        "feedback": f"Re: {role} interview",
        "rejection": f"Your application for {role}",
        "offer": f"Offer: {role} at {company}",
        "after": f"Re: {role}",
    }
    msg["Subject"] = subjects[kind]
    msg["Message-ID"] = f"<job-{i}@{domain}>"
    if kind != "ack" and step % len(_STEPS):
        previous = i - 3 if i % 10 else i - 10 * len(INBOX_COMPANIES) + 6
        msg["In-Reply-To"] = f"<job-{previous}@{domain}>"
    paragraphs = [
        p.format(role=role, company=company, minutes=rng.choice([30, 45, 60]), name2=name2)
        for p in _JOB_TEXT[kind]
    ]
    body = "Hi Sam,\n\n" + "\n\n".join(paragraphs)
    body += SIGNATURE.format(name=name, company=company, n=c % 100)
    if rng.random() < 0.5:
        body += FOOTER
    if kind in ("feedback", "after") or rng.random() < 0.3:
        quoted = "\n".join(f"> {line}" for line in PARAGRAPHS[: rng.randint(2, 5)])
        body += f"\n\nOn {format_datetime(INBOX_START)}, Sam wrote:\n{quoted}\n"
    msg.set_content(body)


def _other_mail(msg: EmailMessage, i: int, rng: random.Random) -> None:
    kind = _OTHER_KINDS[rng.randrange(len(_OTHER_KINDS))]
    subjects, senders, lines = _OTHER[kind]
    domain = rng.choice(_OTHER_DOMAINS[kind])
    first = rng.choice(FIRST)
    sender = rng.choice(senders).format(d=domain, first=first.lower())
    display = first if kind == "personal" else domain.split(".")[-2].title()
    msg["From"] = f"{display} <{sender}>"
    msg["Subject"] = rng.choice(subjects)
    msg["Message-ID"] = f"<other-{i}@{domain}>"
    picked = rng.sample(lines, k=min(len(lines), rng.randint(2, 4)))
    text = "\n\n".join(line.format(n=100000 + i) for line in picked)
    if kind == "personal":
        msg.set_content(f"Hi Sam,\n\n{text}\n\n{first}\n")
        return
    msg["List-Unsubscribe"] = f"<https://{domain}/unsubscribe?u={i}>"
    if kind in ("newsletter", "alert"):
        msg["Precedence"] = "bulk"
    footer = (
        f"\n\nYou are receiving this because you signed up at {domain}.\nUnsubscribe: "
        f"https://{domain}/unsubscribe?u={i}\n"
    )
    msg.set_content(f"{text}\n\n{text}{footer}")
    if kind in ("newsletter", "alert"):
        cell = "padding:12px 24px;font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#333"
        items = "".join(
            f"<tr><td style='{cell}'><a href='https://{domain}/r/{i}/{k}' style='color:#0a58ca'>"
            f"{line}</a></td></tr>"
            for k, line in enumerate(picked * 6)
        )
        msg.add_alternative(
            f"<html><head><style>td{{color:#333}} a{{text-decoration:none}}</style></head>"
            f"<body><table width='600' cellpadding='0' cellspacing='0'>{items}</table>"
            f"<p><a href='https://{domain}/unsubscribe?u={i}'>Unsubscribe</a></p></body></html>",
            subtype="html",
        )
