"""Which application a message belongs to: pure rules over what the store knows.

In order (followup-rules.md, "Matching mail to applications"):

1. the thread: In-Reply-To / References naming a message already linked;
2. a known contact address;
3. the company's own domain (never a webmail domain, never an ATS relay's);
4. an ATS relay's display name ("Acme Robotics via Greenhouse"); a relay naming a
   company not known yet stops here (a new application); without a relay, the
   company named in the text;
5. the role named in the text (mail with no company domain of its own only).

Thread and contact are certain. When one company has several open
applications and only its domain or name matched, the most recently active
one is taken and the match is marked uncertain (listed in ``interviewd review``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "qq.com",
        "163.com",
    }
)

#: Domains of applicant-tracking and scheduling systems that send on a company's behalf.
ATS_DOMAINS = (
    "greenhouse.io",
    "greenhouse-mail.io",
    "lever.co",
    "hire.lever.co",
    "myworkday.com",
    "myworkdayjobs.com",
    "workday.com",
    "ashbyhq.com",
    "icims.com",
    "smartrecruiters.com",
    "smartrecruiters.email",
    "workablemail.com",
    "workable.com",
    "teamtailor.com",
    "teamtailor-mail.com",
    "bamboohr.com",
    "jobvite.com",
    "applytojob.com",
    "successfactors.com",
    "successfactors.eu",
    "taleo.net",
    "recruitee.com",
    "personio.de",
    "personio.com",
    "breezy.hr",
    "jazzhr.com",
    "hirebridge.com",
    "goodtime.io",
    "calendly.com",
    "hirevue.com",
    "codility.com",
    "hackerrank.com",
    "paradox.ai",
    "gem.com",
    "rippling.com",
)

VIA = re.compile(r"^\s*(?P<company>.+?)\s+(?:via|through|on behalf of|@)\s+.+$", re.IGNORECASE)
ATS_NAME_WORDS = re.compile(
    r"\b(careers?|recruiting|recruitment|talent( acquisition| team)?|hiring( team)?|"
    r"hr|human resources|jobs|people( team| ops)?|no-?reply|notifications?)\b",
    re.IGNORECASE,
)
ROLE_PATTERNS = (
    re.compile(
        r"\b(?:for|as)\s+(?:the|our|a|an)\s+(?P<role>[A-Z][\w/&+,.' -]{2,60}?)\s+"
        r"(?:role|position|opening|opportunity|job|vacancy|post)\b"
    ),
    re.compile(r"\bposition:\s*(?P<role>[^\n]{3,60})", re.IGNORECASE),
    re.compile(r"\brole:\s*(?P<role>[^\n]{3,60})", re.IGNORECASE),
    re.compile(
        r"\b(?:applying|applied|application|apply)\s+for\s+(?:the\s+|our\s+|an?\s+)?"
        r"(?P<role>[A-Z][\w/&+,.' -]{2,60}?)\s*(?:\(|\bat\b|\bwith\b|[.!\n]|$)"
    ),
)
#: Subjects that end in the role: "Application received: Data Engineer",
#: "Interview invitation - Data Engineer", "Offer - Backend Engineer, Platform at Acme".
SUBJECT_ROLE = re.compile(
    r"^(?:(?:re|fwd?|aw|tr)\s*:\s*)*(?:application received|application|interview invitation|"
    r"invitation to interview|interview(?: confirmation| request| schedule| details)?|"
    r"offer(?: letter)?|update on your application|"
    r"your application)\s*(?:[:\-–—]|for)\s*(?P<role>[^@\n]{3,60}?)(?:\s+(?:at|with)\s+.+)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    pk: int
    name: str
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplicationInfo:
    pk: int
    company: CompanyInfo
    role: str
    is_open: bool
    last_activity: datetime


@dataclass(frozen=True, slots=True)
class MessageInfo:
    message_pk: int
    from_email: str
    from_name: str
    counterpart_emails: tuple[str, ...]  # the employer side: sender, or recipients of your mail
    subject: str
    text: str
    thread_ids: tuple[str, ...]  # In-Reply-To and References
    from_user: bool


@dataclass(frozen=True, slots=True)
class Match:
    application_pk: int | None
    reason: str
    certain: bool
    #: When nothing matched: what a new application would be called.
    company_name: str = ""
    company_domain: str = ""
    role: str = ""
    #: Matched by In-Reply-To/References (the strongest evidence there is).
    by_thread: bool = False


@dataclass(slots=True)
class Known:
    """What the store knows, as matching needs it.

    ``applications`` only grows (an entry may be replaced by one with a new role, never a new
    company): the company indexes below are rebuilt whenever its length changes.
    """

    applications: list[ApplicationInfo] = field(default_factory=list)
    thread: dict[str, int] = field(default_factory=dict)  # Message-ID -> application pk
    contacts: dict[str, int] = field(default_factory=dict)  # address -> application pk
    _index: _CompanyIndex | None = field(default=None, repr=False, compare=False)

    def index(self) -> _CompanyIndex:
        if self._index is None or self._index.size != len(self.applications):
            self._index = _CompanyIndex(self.applications)
        return self._index


class _CompanyIndex:
    """Applications by registrable domain and by the first word of each company name, so
    that matching a message costs a few lookups, not a pass over every application."""

    def __init__(self, applications: Sequence[ApplicationInfo]) -> None:
        self.size = len(applications)
        self.by_domain: dict[str, list[int]] = {}
        self.by_first_word: dict[str, list[tuple[list[str], int]]] = {}
        for i, a in enumerate(applications):
            for root in dict.fromkeys(registrable(d) for d in a.company.domains):
                self.by_domain.setdefault(root, []).append(i)
            for name in _names(a.company):
                words = name.split(" ")
                self.by_first_word.setdefault(words[0], []).append((words, i))

    def named_in(self, haystack: str) -> list[int]:
        """Indexes of the applications whose company name (or alias) is in ``haystack``, a
        normalised text, as whole words; in application order."""
        words = haystack.split(" ")
        found: set[int] = set()
        for pos, word in enumerate(words):
            for name, i in self.by_first_word.get(word, ()):
                if i not in found and words[pos : pos + len(name)] == name:
                    found.add(i)
        return sorted(found)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def is_ats_domain(domain: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in ATS_DOMAINS)


@functools.lru_cache(maxsize=4096)
def company_domain(address: str) -> str:
    """The company a sender's domain names, or '' for webmail and ATS relays."""
    domain = domain_of(address)
    if not domain or domain in WEBMAIL_DOMAINS or is_ats_domain(domain):
        return ""
    return domain


@functools.lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """mail.acme.com -> acme.com (good enough for company matching; co.uk aware)."""
    parts = domain.split(".")
    if (
        len(parts) >= 3
        and parts[-2] in {"co", "com", "org", "ac", "gov", "net"}
        and len(parts[-1]) == 2
    ):
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def relay_company(from_name: str) -> str:
    """ "Acme Robotics via Greenhouse" -> "Acme Robotics"; "Acme Careers" -> "Acme"."""
    match = VIA.match(from_name or "")
    if match:
        return match.group("company").strip(" \"'")
    stripped = ATS_NAME_WORDS.sub("", from_name or "").strip(" -|,\"'")
    return stripped if stripped != (from_name or "").strip() else ""


@functools.lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """A company name or role for comparison (cached: the same few names come again and
    again); use ``_normalise_text`` for one-off text."""
    return _normalise_text(name)


def _normalise_text(name: str) -> str:
    name = re.sub(
        r"\b(inc|llc|ltd|limited|gmbh|corp|corporation|plc|co|company|group)\b\.?", "", name.lower()
    )
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


def role_in(subject: str, text: str) -> str:
    found = SUBJECT_ROLE.match(subject.strip())
    if found and found.group("role")[:1].isupper():
        return found.group("role").strip(" .,-")
    for source in (subject, text[:2000]):
        for pattern in ROLE_PATTERNS:
            found = pattern.search(source)
            if found:
                return found.group("role").strip(" .,-")
    return ""


CAPITALISED_RUN = re.compile(r"\b[A-Z][\w&'-]*(?:[ -]+(?:&[ ]+)?[A-Z][\w&'-]*){0,4}")


def company_name_in_text(domain: str, text: str) -> str:
    """The company as the mail spells it: "Larkspur Health" for larkspurhealth.org."""
    label = re.sub(r"[^a-z0-9]", "", registrable(domain).split(".")[0])
    if len(label) < 3:
        return ""
    for run in CAPITALISED_RUN.finditer(text):
        words = run.group(0).split()
        # Every sub-run, longest first, so "Thanks Larkspur Health" still finds the name.
        for size in range(len(words), 0, -1):
            for start in range(len(words) - size + 1):
                candidate = " ".join(words[start : start + size])
                if re.sub(r"[^a-z0-9]", "", candidate.lower()) == label:
                    return candidate
    return ""


def company_name_from_domain(domain: str) -> str:
    label = registrable(domain).split(".")[0]
    return " ".join(part.capitalize() for part in re.split(r"[-_]", label) if part)


def match_message(message: MessageInfo, known: Known) -> Match:
    # 1. the thread
    for ref in message.thread_ids:
        if ref in known.thread:
            return Match(known.thread[ref], "same thread", certain=True, by_thread=True)
    # 2. a known contact
    for address in message.counterpart_emails:
        if address in known.contacts:
            return Match(known.contacts[address], f"known contact {address}", certain=True)
    # 3. the company's domain
    for address in message.counterpart_emails:
        domain = company_domain(address)
        if not domain:
            continue
        root = registrable(domain)
        hits = [known.applications[i] for i in known.index().by_domain.get(root, ())]
        picked = _pick(hits, message, f"company domain {root}") if hits else None
        if picked:
            return picked
    # 4. an ATS relay's display name, or the company named in the text
    relay = "" if message.from_user else relay_company(message.from_name)
    wanted = normalise(relay) if relay else ""
    if wanted:
        hits = [a for a in known.applications if _names_match(wanted, a.company)]
        picked = _pick(hits, message, f"sent on behalf of {relay}") if hits else None
        if picked:
            return picked
    if not relay:
        picked = _by_text(message, known)
        if picked:
            return picked
    # (A relay that names a company not known yet is about that company: a new application.)
    # Nothing: what a new application would be.
    domain = next((company_domain(a) for a in message.counterpart_emails if company_domain(a)), "")
    name = relay or (
        company_name_in_text(domain, f"{message.subject}\n{message.from_name}\n{message.text}")
        or company_name_from_domain(domain)
        if domain
        else ""
    )
    return Match(
        None,
        "no match",
        certain=False,
        company_name=name,
        company_domain=registrable(domain) if domain else "",
        role=role_in(message.subject, message.text),
    )


def _by_text(message: MessageInfo, known: Known) -> Match | None:
    """Steps 4b and 5: the company named in the text, else the role (see match_message)."""
    haystack = _normalise_text(f"{message.subject} {message.text[:3000]}")
    named = [known.applications[i] for i in known.index().named_in(haystack)]
    picked = _pick(named, message, f"names {named[0].company.name}") if named else None
    if picked:
        return picked
    # 5. the role named in the text
    role = role_in(message.subject, message.text)
    sender_domain = next(
        (company_domain(a) for a in message.counterpart_emails if company_domain(a)), ""
    )
    # A role alone decides only for mail with no company domain of its own (ATS, webmail).
    if role and not sender_domain:
        hits = [a for a in known.applications if a.role and normalise(a.role) == normalise(role)]
        if len(hits) == 1:
            return Match(hits[0].pk, f"names the role {role}", certain=False)
    return None


def _names(company: CompanyInfo) -> list[str]:
    return [normalise(n) for n in (company.name, *company.aliases) if len(normalise(n)) >= 3]


def _names_match(wanted: str, company: CompanyInfo) -> bool:
    return wanted in _names(company)


def _pick(hits: Sequence[ApplicationInfo], message: MessageInfo, reason: str) -> Match | None:
    """One of the company's applications, or None when the mail names another role there."""
    role = normalise(role_in(message.subject, message.text))
    if role:
        hits = [a for a in hits if not a.role or normalise(a.role) == role]
        if not hits:
            return None  # the same company, a different job: a new application
    open_hits = [a for a in hits if a.is_open] or list(hits)
    if len(open_hits) == 1:
        return Match(open_hits[0].pk, reason, certain=True)
    if role:
        same_role = [a for a in open_hits if normalise(a.role) == role]
        if len(same_role) == 1:
            return Match(same_role[0].pk, f"{reason}, role {same_role[0].role}", certain=True)
    latest = max(open_hits, key=lambda a: a.last_activity)
    return Match(latest.pk, f"{reason} (several open applications: the latest)", certain=False)
