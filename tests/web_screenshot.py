"""A realistic job search for the web board's tests, and the README's screenshot of it.

The mail goes through the real pipeline (Maildir, parser, store, matching,
tracker rules) via ``timeline.Timeline``; only the classifier is a fixed table
keyed by subject, so the board looks the same whatever model is trained.

    .venv/bin/python tests/web_screenshot.py docs/board.png
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from socket import socket
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from interviewd.domain import LABELS, Classification, MessageClass
from interviewd.web.server import serve
from timeline import Timeline, ics, local

#: The hostile subject the browser test must see as text.
SCRIPT_SUBJECT = "<script>alert(1)</script>"
#: "Now" on the seeded board: Wednesday 11 November 2026, 10:00 in New York.
NOW = local(2026, 11, 11, 10)

#: subject -> (class, confidence): stands in for the model, so the data never drifts.
LABELLED: dict[str, tuple[str, float]] = {
    "Interview confirmation - Staff Nurse": ("scheduling", 0.95),
    "Interview invitation - Controls Engineer": ("scheduling", 0.93),
    "We received your application - Data Analyst": ("other", 0.91),
    "Interview - Product Manager": ("scheduling", 0.94),
    "Next steps - Product Manager": ("feedback", 0.82),
    "Your application - Backend Developer": ("rejection", 0.9),
    "Interview - Backend Developer": ("scheduling", 0.92),
    "Offer - UX Designer": ("offer", 0.97),
    "Interview - UX Designer": ("scheduling", 0.96),
    "Quick question about your availability": ("feedback", 0.41),
    SCRIPT_SUBJECT: ("scheduling", 0.45),
    f"Re: {SCRIPT_SUBJECT}": ("scheduling", 0.9),
}


INVITE_SUBJECTS = {
    "Staff Nurse": "Interview confirmation - Staff Nurse",
    "Controls Engineer": "Interview invitation - Controls Engineer",
}


class TableClassifier:
    """Classifies by subject from ``LABELLED``; anything else is 'other' at 0.9."""

    def classify_many(self, items: Iterable[tuple[str, str]]) -> list[Classification]:
        results = []
        for subject, _text in items:
            label, confidence = LABELLED.get(subject, ("other", 0.9))
            rest = (1 - confidence) / (len(LABELS) - 1)
            scores = {k: (confidence if k == label else rest) for k in LABELS}
            results.append(
                Classification(MessageClass(label), confidence, scores, confidence < 0.6)
            )
        return results


def _invite(tl: Timeline, sent: datetime, sender: str, role: str, start: datetime, uid: str) -> str:
    company = sender.split("<")[0].strip()
    body = (
        f"Hi Sam,\n\nThank you for applying for the {role} position. I'd like to confirm "
        f"your interview on {start:%A, %B} {start.day} at {start:%H:%M} Eastern. The calendar "
        f"invitation is attached.\n\nBest,\n{company}"
    )
    return tl.mail(
        sent,
        sender,
        INVITE_SUBJECTS.get(role, f"Interview - {role}"),
        body,
        calendar=ics(uid, start, start + timedelta(hours=1), summary=f"Interview: {role}"),
    )


def seed(tmp_path: Path, *, hostile: bool = True) -> Timeline:
    """Six applications in every stage, a review queue, and (optionally) a hostile subject."""
    tl = Timeline(tmp_path, TableClassifier(), extra_config="")
    larkspur = "Dana Whitfield <dana.whitfield@larkspur-health.org>"
    northwind = "Omar Haddad <omar@northwind-robotics.com>"
    acme = "Acme Analytics Careers <careers@acme-analytics.com>"
    birch = "Priya Natarajan <priya@birchwood-bank.com>"
    quillon = "Lena Hoffmann <lena@quillon-labs.io>"
    harbor = "Marcus Bell <marcus@harbor-finch.design>"

    tl.mail(
        local(2026, 10, 19, 9),
        acme,
        "We received your application - Data Analyst",
        "Thank you for applying for the Data Analyst position at Acme Analytics. We received your "
        "application and will review it shortly.",
    )
    _invite(
        tl, local(2026, 10, 20, 11), quillon, "Backend Developer", local(2026, 10, 23, 15), "q1"
    )
    _invite(tl, local(2026, 10, 22, 10), harbor, "UX Designer", local(2026, 10, 27, 11), "h1")
    _invite(tl, local(2026, 10, 23, 16), birch, "Product Manager", local(2026, 10, 28, 13), "b1")
    tl.sync(local(2026, 10, 23, 17))
    tl.sent(local(2026, 10, 23, 18), "lena@quillon-labs.io", "Thank you", "Thanks for today, Lena.")
    tl.sent(
        local(2026, 10, 27, 17), "marcus@harbor-finch.design", "Thank you", "Thank you, Marcus."
    )
    tl.sent(local(2026, 10, 29, 9), "priya@birchwood-bank.com", "Thank you", "Thank you, Priya.")
    tl.mail(
        local(2026, 11, 2, 9, 30),
        birch,
        "Next steps - Product Manager",
        "Hi Sam, thanks again for your time. The team is meeting this week and we will get back "
        "to you by Friday with next steps.\n\nPriya",
    )
    _invite(tl, local(2026, 11, 2, 10), larkspur, "Staff Nurse", local(2026, 11, 6, 14), "l1")
    tl.mail(
        local(2026, 11, 4, 14),
        quillon,
        "Your application - Backend Developer",
        "Hi Sam, thank you for interviewing with us. Unfortunately we have decided to move "
        "forward with other candidates for this role.\n\nLena",
    )
    tl.sync(local(2026, 11, 4, 15))
    _invite(
        tl, local(2026, 11, 9, 12), northwind, "Controls Engineer", local(2026, 11, 13, 10), "n1"
    )
    tl.mail(
        local(2026, 11, 10, 16),
        harbor,
        "Offer - UX Designer",
        "Hi Sam, we are delighted to offer you the UX Designer position at Harbor & Finch. "
        "The formal offer letter is attached.\n\nMarcus",
    )
    tl.mail(
        local(2026, 11, 10, 18),
        "Jordan Lee <jordan@larkspur-health.org>",
        "Quick question about your availability",
        "Hi Sam, would you have time for a short call with our nursing director next week?",
    )
    if hostile:
        # A confident one opens the application; the unsure one joins it and waits in review.
        tl.mail(
            local(2026, 11, 10, 19),
            "Mallory <mallory@example-recruiting.com>",
            f"Re: {SCRIPT_SUBJECT}",
            "Hello <b>Sam</b>, <script>alert(3)</script> can we schedule a call on Friday?",
        )
        tl.mail(
            local(2026, 11, 10, 20),
            "Mallory <mallory@example-recruiting.com>",
            SCRIPT_SUBJECT,
            "Hello <b>Sam</b>, <img src=x onerror=alert(2)> let's schedule a call on Friday.",
        )
    tl.sync(NOW)
    return tl


def free_port() -> int:
    with socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(tl: Timeline, listen: str | None = None) -> Iterator[str]:
    """The board served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    listen = listen or f"127.0.0.1:{free_port()}"
    stop, started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(tl.config, tl.store, listen, "web-token", stop, clock=tl.clock, started=started)
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=run, name="web-test", daemon=True)
    thread.start()
    if not started.wait(15) or errors:
        stop.set()
        raise RuntimeError(f"the web board did not start: {errors}")
    base = f"http://{listen}"
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        stop.set()
        thread.join(timeout=10)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_page(width: int = 1440, height: int = 900) -> Iterator[Any]:
    """A page in Debian's Chromium (never a downloaded build), with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "docs/board.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tl = seed(Path(tmp), hostile=False)
        try:
            with running(tl) as base, browser_page(1920, 760) as page:
                page.goto(base + "/")
                page.screenshot(path=str(out), full_page=True)
        finally:
            tl.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
