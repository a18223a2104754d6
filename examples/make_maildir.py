#!/usr/bin/env python3
"""Build the demo Maildir in examples/maildir, deterministically.

    python examples/make_maildir.py [OUT_DIR]

The mailbox belongs to one invented job seeker, Sam Rivera <sam.rivera@example.net>, in
October-November 2026. Five applications are told as threads (acknowledgment, scheduling,
thank-you, feedback with a promised date, offer or rejection), with one calendar invitation,
mixed with everyday mail that is not about a job (alerts, newsletters, a receipt, a friend).
Sam's own messages are in the Maildir++ subfolder ``.Sent``. Everything (people, companies,
domains) is invented; every domain is under ``.example``.

Standard library only. Message-IDs, dates, MIME boundaries and file names are fixed, so running
it twice gives byte-identical files. Files it wrote before are replaced; nothing else is
touched.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
PT = ZoneInfo("America/Los_Angeles")

SAM = "Sam Rivera <sam.rivera@example.net>"
PRIYA = "Priya Nair <priya.nair@northwind-robotics.example>"
MARCUS = "Marcus Bell <marcus.bell@lumen-analytics.example>"
DANA = "Dana Okafor <dana.okafor@harborhealth.example>"
ALEX = "Alex Chen <alex.chen@example.org>"

DEFAULT_OUT = Path(__file__).resolve().parent / "maildir"


@dataclass
class Mail:
    key: str  # short name, also the Message-ID's local part
    when: datetime
    sender: str
    to: str
    subject: str
    body: str
    reply_to_key: str | None = None  # the message this one answers
    html: str | None = None
    ics: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seen: bool = True

    @property
    def sent_by_sam(self) -> bool:
        return self.sender == SAM

    @property
    def message_id(self) -> str:
        domain = self.sender.rpartition("@")[2].rstrip(">")
        return f"<{self.when:%Y%m%d%H%M}.{self.key}@{domain}>"


def d(month: int, day: int, hour: int, minute: int, tz: ZoneInfo = ET) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def quote_gmail(prev: Mail) -> str:
    """The quote Gmail puts under a reply."""
    when = prev.when.strftime("%a, %b %-d, %Y at %-I:%M %p")
    quoted = "\n".join(f"> {line}" if line else ">" for line in prev.body.rstrip().split("\n"))
    return f"\n\nOn {when} {prev.sender} wrote:\n{quoted}\n"


def quote_outlook(prev: Mail) -> str:
    """The header block Outlook puts above the previous message."""
    when = prev.when.strftime("%A, %B %-d, %Y %-I:%M %p")
    to = prev.to
    return (
        f"\n\n________________________________\nFrom: {prev.sender}\nSent: {when}\n"
        f"To: {to}\nSubject: {prev.subject}\n\n{prev.body.rstrip()}\n"
    )


def html_from_text(text: str) -> str:
    paragraphs = text.strip().split("\n\n")
    body = "".join("<p>" + p.replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)
    return f'<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'


# ---------------------------------------------------------------------------------------------
# The calendar invitation (Northwind Robotics phone screen)
# ---------------------------------------------------------------------------------------------

INVITE_ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "PRODID:-//Northwind Robotics//Interview Scheduler 2.3//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "TZNAME:EDT",
        "DTSTART:19700308T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:-0400",
        "TZOFFSETTO:-0500",
        "TZNAME:EST",
        "DTSTART:19701101T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:phone-screen-8812@northwind-robotics.example",
        "SEQUENCE:0",
        "STATUS:CONFIRMED",
        "DTSTAMP:20261006T190500Z",
        "DTSTART;TZID=America/New_York:20261009T140000",
        "DTEND;TZID=America/New_York:20261009T143000",
        "SUMMARY:Phone screen - Sam Rivera / Northwind Robotics",
        "DESCRIPTION:30-minute phone screen for Backend Engineer\\, Platform. Priya will call",
        " you at the number on your application.",
        "LOCATION:Phone call",
        "ORGANIZER;CN=Priya Nair:mailto:priya.nair@northwind-robotics.example",
        "ATTENDEE;CN=Sam Rivera;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:",
        " mailto:sam.rivera@example.net",
        "ATTENDEE;CN=Priya Nair;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:priya.nair@northwind-r",
        " obotics.example",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)

PRIYA_SIG = (
    "Best,\nPriya\n\nPriya Nair\nTechnical Recruiter | Northwind Robotics\n+1 617 555 0142\n"
    "https://northwind-robotics.example/careers\n"
)
MARCUS_SIG = (
    "Kind regards,\nMarcus Bell\nSenior Talent Partner, Lumen Analytics\nM: +1 415 555 0198\n\n"
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended "
    "solely for the use of the addressee. If you are not the intended recipient, please notify "
    "the sender and delete this message. Any unauthorized use or disclosure is prohibited.\n"
)
ALERT_FOOTER = (
    "You are receiving this email because you created a job alert on CareerPath.\n"
    "Unsubscribe: https://careerpath.example/alerts/unsubscribe?u=sr-5521\n"
    "Manage preferences: https://careerpath.example/settings/alerts\n"
    "CareerPath Inc., 200 Summer Street, Boston, MA 02210\n"
)
ALERT_HEADERS = {
    "List-Id": "CareerPath job alerts <alerts.careerpath.example>",
    "List-Unsubscribe": "<https://careerpath.example/alerts/unsubscribe?u=sr-5521>, "
    "<mailto:unsubscribe@careerpath.example?subject=sr-5521>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Precedence": "bulk",
}
NEWSLETTER_HEADERS = {
    "List-Id": "The Weekly Byte <weekly.weeklybyte.example>",
    "List-Unsubscribe": "<https://weeklybyte.example/unsubscribe/5c1e9a>",
    "Precedence": "list",
}
ATS_HEADERS = {"Auto-Submitted": "auto-generated"}


def job_alert(key: str, when: datetime, count: int, jobs: list[str], seen: bool = True) -> Mail:
    listing = "\n\n".join(jobs)
    return Mail(
        key,
        when,
        "CareerPath Alerts <alerts@careerpath.example>",
        SAM,
        f'{count} new jobs for "backend engineer" in Boston, MA',
        f'Hi Sam,\n\nHere are new jobs matching your alert "backend engineer" near Boston, MA.'
        f"\n\n{listing}\n\nSee all {count} jobs: https://careerpath.example/alerts/sr-5521\n\n"
        f"{ALERT_FOOTER}",
        headers=ALERT_HEADERS,
        seen=seen,
    )


def build_mails() -> list[Mail]:
    m: dict[str, Mail] = {}

    def add(mail: Mail) -> Mail:
        m[mail.key] = mail
        return mail

    # --- Thread A: Northwind Robotics, Backend Engineer (Platform) -> offer -------------------
    add(
        Mail(
            "nw-ack",
            d(10, 2, 9, 14),
            "Northwind Robotics Careers <no-reply@northwind-robotics.example>",
            SAM,
            "Thanks for applying to Backend Engineer, Platform",
            "Hi Sam,\n\nThank you for applying to the Backend Engineer, Platform role at Northwind "
            "Robotics. We have received your application and our recruiting team will review it "
            "carefully.\n\nIf your background is a match, a recruiter will contact you within two "
            "weeks to discuss next steps.\n\nThe Northwind Robotics Talent Team\n\n"
            "This is an automated message. Please do not reply to this email.\n",
            headers=ATS_HEADERS,
        )
    )
    add(
        Mail(
            "nw-screen",
            d(10, 6, 11, 2),
            PRIYA,
            SAM,
            "Northwind Robotics - phone screen for Backend Engineer",
            "Hi Sam,\n\nI'm the recruiter for the Backend Engineer, Platform role and I enjoyed "
            "reading your application, especially the work on the event pipeline at your current "
            "company.\n\nWould you be available for a 30-minute phone screen with me this week? "
            "I have openings on Thursday, October 8 or Friday, October 9, anywhere between 1 and "
            "5 pm ET.\n\n" + PRIYA_SIG,
        )
    )
    add(
        Mail(
            "sam-nw-screen",
            d(10, 6, 13, 40),
            SAM,
            PRIYA,
            "Re: Northwind Robotics - phone screen for Backend Engineer",
            "Hi Priya,\n\nThanks for reaching out! Friday, October 9 at 2 pm ET works well for me. "
            "The best number to reach me is +1 617 555 0177.\n\nBest,\nSam",
            reply_to_key="nw-screen",
        )
    )
    add(
        Mail(
            "nw-invite",
            d(10, 6, 15, 5),
            PRIYA,
            SAM,
            "Invitation: Phone screen - Sam Rivera / Northwind Robotics @ Fri Oct 9, 2026 "
            "2pm - 2:30pm (EDT)",
            "Hi Sam,\n\nGreat, you're confirmed for Friday, October 9 from 2:00 to 2:30 pm ET. "
            "I've attached a calendar invitation; I'll call you at +1 617 555 0177.\n\n"
            "Talk soon,\nPriya\n",
            reply_to_key="sam-nw-screen",
            ics=INVITE_ICS,
        )
    )
    add(
        Mail(
            "sam-nw-thanks",
            d(10, 9, 16, 12),
            SAM,
            PRIYA,
            "Thank you for the call today",
            "Hi Priya,\n\nThank you for taking the time to talk with me this afternoon. I really "
            "enjoyed hearing how the platform team is rebuilding the fleet telemetry service, and "
            "it made me even more excited about the role.\n\nPlease let me know if there is "
            "anything else I can send over.\n\nBest,\nSam",
            reply_to_key="nw-invite",
        )
    )
    add(
        Mail(
            "nw-feedback",
            d(10, 13, 10, 21),
            PRIYA,
            SAM,
            "Re: Thank you for the call today",
            "Hi Sam,\n\nThanks for the kind note, I enjoyed our conversation too. I shared my "
            "notes "
            "with the hiring manager, Tomás Reyes, and the feedback was very positive: he "
            "particularly liked how you talked about trade-offs in the pipeline redesign.\n\n"
            "The team is finishing first-round screens this week and will make decisions on the "
            "next stage together. I will get back to you with an update by Wednesday, October 21."
            "\n\n" + PRIYA_SIG,
            reply_to_key="sam-nw-thanks",
        )
    )
    offer_text = (
        "Hi Sam,\n\nI'm delighted to let you know that the team would like to offer you the "
        "Backend Engineer, Platform role at Northwind Robotics!\n\nThe offer includes a base "
        "salary of $148,000, equity, and a start date of Monday, November 30. Our People team "
        "will send the formal offer letter through DocuSign later today.\n\nWe'd love to hear "
        "your decision by Friday, October 30. I'm happy to set up a call with Tomás or anyone "
        "on the team if you have questions.\n\nCongratulations!\n\n" + PRIYA_SIG
    )
    add(
        Mail(
            "nw-offer",
            d(10, 21, 14, 48),
            PRIYA,
            SAM,
            "Offer - Backend Engineer, Platform at Northwind Robotics",
            offer_text,
            reply_to_key="nw-feedback",
            html=html_from_text(offer_text),
        )
    )
    add(
        Mail(
            "sam-nw-offer",
            d(10, 22, 8, 55),
            SAM,
            PRIYA,
            "Re: Offer - Backend Engineer, Platform at Northwind Robotics",
            "Hi Priya,\n\nThank you so much, this is wonderful news! I'll review the offer letter "
            "carefully and get back to you before October 30.\n\nBest,\nSam",
            reply_to_key="nw-offer",
        )
    )

    # --- Thread B: Lumen Analytics, Data Engineer -> rejection ------------------------------
    ack_html = (
        "<html><head><style>.btn{background:#0b5;color:#fff}</style></head><body>"
        '<div style="display:none">Your application has been received.</div>'
        '<table width="600"><tr><td><img src="https://lumen-analytics.example/logo.png" '
        'alt="Lumen Analytics"></td></tr><tr><td>'
        "<p>Hi Sam,</p><p>Thanks for applying to the <b>Data Engineer</b> position at Lumen "
        "Analytics. Your application is now with our recruiting team.</p>"
        "<p>What happens next:</p><ul><li>A recruiter reviews every application.</li>"
        "<li>If there is a match, we will reach out to schedule an interview.</li></ul>"
        "<p>Best wishes,<br>Lumen Analytics Recruiting</p></td></tr>"
        '<tr><td style="font-size:11px">You are receiving this email because you applied on '
        'lumen-analytics.example. <a href="https://lumen-analytics.example/privacy">Privacy'
        "</a></td></tr></table></body></html>\n"
    )
    add(
        Mail(
            "lu-ack",
            d(10, 5, 15, 30, PT),
            "Lumen Analytics Recruiting <no-reply@lumen-analytics.example>",
            SAM,
            "Application received: Data Engineer",
            "",
            html=ack_html,
            headers=ATS_HEADERS,
        )
    )
    add(
        Mail(
            "lu-invite",
            d(10, 14, 9, 47, PT),
            MARCUS,
            SAM,
            "Interview invitation - Data Engineer",
            "Hello Sam,\n\nThank you for your interest in the Data Engineer position. We would "
            "like "
            "to invite you to a 60-minute video interview with two engineers from our data "
            "platform "
            "team.\n\nCould you let me know which of these times works for you (Pacific time)?\n"
            "- Tuesday, October 20, 10:00 am\n- Tuesday, October 20, 3:00 pm\n"
            "- Wednesday, October 21, 11:00 am\n\n" + MARCUS_SIG,
        )
    )
    add(
        Mail(
            "sam-lu-invite",
            d(10, 14, 12, 3, PT),
            SAM,
            MARCUS,
            "Re: Interview invitation - Data Engineer",
            "Hi Marcus,\n\nThank you for the invitation! Tuesday, October 20 at 10:00 am PT works "
            "best for me.\n\nBest,\nSam",
            reply_to_key="lu-invite",
        )
    )
    add(
        Mail(
            "lu-confirm",
            d(10, 14, 14, 20, PT),
            MARCUS,
            SAM,
            "RE: Interview invitation - Data Engineer",
            "Hi Sam,\n\nYou're confirmed for Tuesday, October 20 at 10:00 am PT. You'll meet "
            "Wen Li "
            "and Ravi Shah from the data platform team; the video link will arrive in a separate "
            "email the day before.\n\n" + MARCUS_SIG,
            reply_to_key="sam-lu-invite",
        )
    )
    add(
        Mail(
            "sam-lu-thanks",
            d(10, 20, 14, 45, PT),
            SAM,
            MARCUS,
            "Thank you - Data Engineer interview",
            "Hi Marcus,\n\nI wanted to say thank you for organizing today's interview. I enjoyed "
            "the conversation with Wen and Ravi about the streaming ingestion work, and I'd be "
            "glad to share more about my experience with backfills if that's useful.\n\n"
            "Best regards,\nSam Rivera",
            reply_to_key="lu-confirm",
        )
    )
    add(
        Mail(
            "lu-reject",
            d(10, 28, 16, 5, PT),
            MARCUS,
            SAM,
            "Update on your application - Data Engineer",
            "Hi Sam,\n\nThank you for the time you spent with our team last week. After careful "
            "consideration, we have decided to move forward with other candidates whose experience "
            "more closely matches what the team needs right now.\n\nThis was not an easy decision, "
            "and Wen and Ravi both enjoyed meeting you. We'll keep your profile on file and may "
            "reach out about future openings.\n\n" + MARCUS_SIG,
            reply_to_key="sam-lu-thanks",
        )
    )

    # --- Thread E: Brightwater Labs, Site Reliability Engineer -> an interview, thank-you due -
    add(
        Mail(
            "bw-invite",
            d(11, 3, 11, 20),
            "Nadia Brooks <nadia.brooks@brightwaterlabs.example>",
            SAM,
            "Interview confirmation - Site Reliability Engineer",
            "Hi Sam,\n\nThanks for speaking with me last week. I'm happy to confirm your "
            "interview for the Site Reliability Engineer role at Brightwater Labs on Monday, "
            "November 9 at 9:00 AM ET. You'll meet Tom Reyes, our SRE lead, for an hour on "
            "Zoom; the link is below.\n\nhttps://brightwaterlabs.example/zoom/sre-loop\n\n"
            "Best,\nNadia\n\nNadia Brooks\nTalent Partner | Brightwater Labs\n",
        )
    )

    # --- Thread C: Harbor Health, Platform Engineer -> promised date, then silence -----------
    add(
        Mail(
            "hh-ack",
            d(10, 19, 8, 0),
            "Harbor Health Careers <careers@harborhealth.example>",
            SAM,
            "We received your application - Platform Engineer",
            "Dear Sam,\n\nThank you for your application for the Platform Engineer position "
            "(requisition HH-2291). As a next step, please complete the take-home exercise linked "
            "below within seven days:\n\nhttps://harborhealth.example/careers/exercise/HH-2291\n\n"
            "Sincerely,\nHarbor Health Talent Acquisition\n\n"
            "This message was sent to sam.rivera@example.net. Please do not reply to this "
            "message.\n",
            headers=ATS_HEADERS,
        )
    )
    add(
        Mail(
            "hh-feedback",
            d(10, 30, 13, 15),
            DANA,
            SAM,
            "Harbor Health - your take-home review",
            "Hi Sam,\n\nThanks for submitting the take-home exercise. The reviewers liked your "
            "approach to the retry logic and the clear README; one note was that the tests could "
            "cover the failure paths a bit more.\n\nOur hiring manager is travelling this week, so "
            "I'll be back in touch by Friday, November 6 with next steps.\n\nThanks,\nDana\n\n"
            "Dana Okafor\nRecruiting Coordinator | Harbor Health\n(857) 555-0134\n",
        )
    )
    add(
        Mail(
            "sam-hh-feedback",
            d(10, 30, 17, 2),
            SAM,
            DANA,
            "Re: Harbor Health - your take-home review",
            "Hi Dana,\n\nThank you for the feedback, that's really helpful. I look forward to "
            "hearing from you next week.\n\nBest,\nSam",
            reply_to_key="hh-feedback",
            seen=False,  # keeps .Sent/new/ non-empty: see write_maildir
        )
    )

    # --- Thread D: Quillstone, Site Reliability Engineer -> quick rejection ----------------
    add(
        Mail(
            "qs-ack",
            d(11, 2, 7, 30),
            "Quillstone Jobs <jobs@quillstone.example>",
            SAM,
            "Your application to Quillstone",
            "Hi Sam,\n\nThanks for applying for Site Reliability Engineer at Quillstone. We review "
            "applications on a rolling basis and will let you know about next steps.\n\n"
            "Quillstone Recruiting\n\nYou are receiving this email because you applied for a job "
            "at Quillstone.\n",
            headers=ATS_HEADERS,
            seen=False,
        )
    )
    add(
        Mail(
            "qs-reject",
            d(11, 5, 17, 40),
            "Quillstone Jobs <jobs@quillstone.example>",
            SAM,
            "Re: Your application to Quillstone",
            "Hi Sam,\n\nThank you again for your interest in the Site Reliability Engineer role. "
            "Unfortunately, we will not be moving forward with your application at this time.\n\n"
            "We wish you the best of luck in your search.\n\nQuillstone Recruiting\n\nYou are "
            "receiving this email because you applied for a job at Quillstone.\n",
            reply_to_key="qs-ack",
            headers=ATS_HEADERS,
            seen=False,
        )
    )

    # --- Everyday mail ---------------------------------------------------------------------
    add(
        job_alert(
            "alert-1",
            d(10, 8, 7, 0),
            12,
            [
                "Backend Engineer - Corvid Labs - Boston, MA (hybrid)\n$140k-$165k - posted 2 "
                "days ago",
                "Software Engineer II, Payments - Tallyho - Cambridge, MA\nposted 1 day ago",
                "Platform Engineer - Fernwood Bio - Remote (US)\nposted 3 days ago",
            ],
        )
    )
    add(
        job_alert(
            "alert-2",
            d(10, 22, 7, 0),
            9,
            [
                "Senior Backend Engineer - Maplewire - Boston, MA\nposted today",
                "API Engineer - Orchard Transit - Somerville, MA (hybrid)\nposted 2 days ago",
            ],
        )
    )
    add(
        job_alert(
            "alert-3",
            d(11, 5, 7, 0),
            15,
            [
                "Backend Engineer, Data - Pinecrest Energy - Boston, MA\nposted today",
                "Site Reliability Engineer - Quillstone - Remote (US)\nposted 4 days ago",
                "Distributed Systems Engineer - Lattice & Co - Cambridge, MA\nposted 1 day ago",
            ],
            seen=False,
        )
    )
    add(
        Mail(
            "byte-212",
            d(10, 10, 9, 0),
            "The Weekly Byte <hello@weeklybyte.example>",
            SAM,
            "Issue #212: Postgres 19 previews, tiny language models, the return of the monolith",
            "This week in The Weekly Byte:\n\n1. Postgres 19 previews: what the new async I/O "
            "means for your queries.\n2. Tiny language models on a laptop: a practical tour.\n"
            "3. Why three teams moved back to a monolith, and what they kept from microservices."
            "\n\nRead online: https://weeklybyte.example/issues/212\n\n-- \nThe Weekly Byte, "
            "written by humans every Saturday.\nUnsubscribe: https://weeklybyte.example/unsubscribe"
            "/5c1e9a\n",
            headers=NEWSLETTER_HEADERS,
        )
    )
    add(
        Mail(
            "byte-214",
            d(10, 24, 9, 0),
            "The Weekly Byte <hello@weeklybyte.example>",
            SAM,
            "Issue #214: interviewing in 2026, SQLite everywhere",
            "This week in The Weekly Byte:\n\n1. What engineering interviews look like in 2026: "
            "fewer puzzles, more pairing.\n2. SQLite everywhere: from phones to edge servers.\n"
            "3. A short history of the cron job.\n\nRead online: https://weeklybyte.example/issues/"
            "214\n\n-- \nThe Weekly Byte, written by humans every Saturday.\nUnsubscribe: "
            "https://weeklybyte.example/unsubscribe/5c1e9a\n",
            headers=NEWSLETTER_HEADERS,
        )
    )
    add(
        Mail(
            "receipt",
            d(10, 16, 19, 22),
            "Papercraft Supplies <orders@papercraft.example>",
            SAM,
            "Your order #PC-48213 has shipped",
            "Hi Sam,\n\nGood news: your order #PC-48213 is on its way.\n\n"
            "1 x Dot-grid notebook, A5            $14.00\n2 x Gel pen, 0.5 mm, black        $6.00\n"
            "Shipping                             $4.95\nTotal                               "
            "$24.95\n\nTracking number: 1Z 999 AA1 01 2345 6784\nEstimated delivery: "
            "Tuesday, October 20\n\nThanks for shopping with Papercraft!\n",
            headers={"Auto-Submitted": "auto-generated"},
        )
    )
    add(
        Mail(
            "alex-climb",
            d(10, 15, 20, 11),
            ALEX,
            SAM,
            "Climbing Saturday?",
            "Hey Sam,\n\nA few of us are going to the bouldering gym on Saturday around 10. "
            "Want to come? We can grab lunch after.\n\nAlex",
        )
    )
    add(
        Mail(
            "sam-alex-climb",
            d(10, 15, 21, 3),
            SAM,
            ALEX,
            "Re: Climbing Saturday?",
            "I'm in! See you at 10. I might be a bit sore, I haven't climbed since summer.\n\nSam",
            reply_to_key="alex-climb",
        )
    )
    add(
        Mail(
            "alex-howsitgoing",
            d(10, 26, 12, 30),
            ALEX,
            SAM,
            "Re: Climbing Saturday?",
            "That was fun, let's do it again soon. Also, how are the interviews going? You "
            "mentioned a phone screen with the robotics company. Fingers crossed!\n\nAlex",
            reply_to_key="sam-alex-climb",
        )
    )
    add(
        Mail(
            "talentbridge",
            d(10, 12, 10, 45),
            "Jordan Pike <jordan.pike@talentbridge.example>",
            SAM,
            "Senior Backend role at a Series B fintech",
            "Hi Sam,\n\nI came across your profile and thought you might be interested in a senior "
            "backend role I'm recruiting for at a Series B fintech in Boston (Go, Postgres, "
            "Kafka). "
            "The team is 25 engineers and growing.\n\nWould you be open to a quick chat sometime "
            "next week?\n\nCheers,\nJordan Pike\nTalentBridge Partners | Technology Recruiting\n"
            "+1 617 555 0160 | talentbridge.example\n",
        )
    )
    add(
        Mail(
            "bank",
            d(11, 1, 6, 0),
            "Brightline Bank <statements@brightline-bank.example>",
            SAM,
            "Your October statement is ready",
            "Hello Sam,\n\nYour October statement for the account ending in 4417 is ready to view "
            "in online banking.\n\nSign in: https://brightline-bank.example/login\n\nBrightline "
            "Bank will never ask for your password by email.\n",
            headers={"Auto-Submitted": "auto-generated"},
            seen=False,
        )
    )
    return sorted(m.values(), key=lambda mail: mail.when)


def to_message(mail: Mail, by_key: dict[str, Mail], index: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.when)
    msg["Message-ID"] = mail.message_id
    body = mail.body
    if mail.reply_to_key:
        parent = by_key[mail.reply_to_key]
        chain: list[str] = []
        node: Mail | None = parent
        while node is not None:
            chain.insert(0, node.message_id)
            node = by_key.get(node.reply_to_key) if node.reply_to_key else None
        msg["In-Reply-To"] = parent.message_id
        msg["References"] = " ".join(chain)
        if parent.sender != mail.sender:  # people quote the other side, not themselves
            body += quote_outlook(parent) if mail.sender == MARCUS else quote_gmail(parent)
    msg["MIME-Version"] = "1.0"
    for name, value in mail.headers.items():
        msg[name] = value
    if body:
        msg.set_content(body)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
    elif mail.html:
        msg.set_content(mail.html, subtype="html")
    if mail.ics:
        msg.add_alternative(mail.ics, subtype="calendar", params={"method": "REQUEST"})
        msg.add_attachment(
            mail.ics.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    for depth, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_demo_{index:02d}_{depth}_=")
    return msg


def file_name(mail: Mail, index: int) -> tuple[str, str]:
    """(subdirectory, file name): seen mail in cur/ with ":2,S", unseen mail in new/."""
    base = f"{int(mail.when.timestamp())}.M{index}P{1000 + index}.demo"
    return ("cur", f"{base}:2,S") if mail.seen else ("new", base)


def write_maildir(out: Path) -> list[Path]:
    mails = build_mails()
    by_key = {mail.key: mail for mail in mails}
    inbox, sent = out, out / ".Sent"
    for folder in (inbox, sent):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            for old in (folder / sub).glob("*.demo*"):
                old.unlink()
    # tmp/ is empty in git, so it holds a .gitkeep. new/ and cur/ must not: readers such as
    # Python's mailbox.Maildir take every file there for a message. Both new/ folders hold an
    # unseen message instead.
    for keep in (inbox / "tmp", sent / "tmp"):
        (keep / ".gitkeep").touch()
    for stale in (inbox / "new" / ".gitkeep", sent / "new" / ".gitkeep"):
        stale.unlink(missing_ok=True)
    (sent / "maildirfolder").touch()  # Maildir++: marks .Sent as a subfolder
    written = []
    for index, mail in enumerate(mails, start=1):
        sub, name = file_name(mail, index)
        folder = sent if mail.sent_by_sam else inbox
        path = folder / sub / name
        data = to_message(mail, by_key, index).as_bytes(policy=default_policy)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    written = write_maildir(out)
    print(f"wrote {len(written)} messages to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
