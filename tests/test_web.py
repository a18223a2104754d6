"""The web board: fast page tests with Starlette's TestClient, then a real headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright (never a
downloaded build), against the board served by uvicorn on a free loopback port.
"""

from __future__ import annotations

import re
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from interviewd.errors import ConfigError
from interviewd.store.models import FollowUpRow, Message
from interviewd.web.app import create_app, feed_key
from interviewd.web.server import build_server, serve
from interviewd.web.settings import WebConfig, is_loopback, parse_listen, web_settings
from timeline import Timeline
from web_screenshot import NOW, SCRIPT_SUBJECT, browser_page, free_port, running, seed

COMPANIES = (
    "Acme Analytics",
    "Quillon Labs",
    "Harbor Finch",
    "Birchwood Bank",
    "Larkspur Health",
    "Northwind Robotics",
)
TOKEN = "correct horse battery staple"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    """A seeded database for the tests that only read."""
    tl = seed(tmp_path_factory.mktemp("web"))
    yield tl
    tl.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Timeline]:
    """A seeded database of the test's own, for the tests that write."""
    tl = seed(tmp_path)
    yield tl
    tl.close()


@pytest.fixture
def client(shared: Timeline) -> TestClient:
    return TestClient(create_app(shared.config, shared.store, shared.clock, token=None))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def followup_id(tl: Timeline, company: str, kind: str) -> int:
    data = tl.tracking.followups(NOW)
    [item] = [
        f
        for bucket in ("overdue", "due", "coming")
        for f in data[bucket]
        if f["company"] == company and f["kind"] == kind
    ]
    assert item["id"] is not None
    return int(item["id"])


def app_id(tl: Timeline, company: str) -> int:
    [row] = [r for r in tl.board(NOW) if r.company == company]
    return row.application_pk


# -- settings ------------------------------------------------------------------------


def test_listen_addresses_are_read_and_judged() -> None:
    assert parse_listen("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    for bad in ("8765", "localhost", "host:port", "127.0.0.1:70000", ""):
        with pytest.raises(ConfigError):
            parse_listen(bad)
    assert is_loopback("127.0.0.1") and is_loopback("127.8.9.10") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("myhost.lan") and not is_loopback("::")


def test_web_settings_default_to_off() -> None:
    assert web_settings(object()) == WebConfig(listen="", token_secret="web-token")


# -- pages (TestClient) ----------------------------------------------------------------


def test_board_has_a_column_per_status_and_a_card_per_application(
    client: TestClient, shared: Timeline
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    for status in ("applied", "scheduled", "awaiting decision", "offer", "rejected", "silent"):
        assert f'aria-label="{status}"' in html
    for company in COMPANIES:
        assert company in html
    assert html.count('class="card') == len(shared.board(NOW))
    # The overdue thank-you stands out on its card.
    larkspur = app_id(shared, "Larkspur Health")
    card = re.search(rf'<article class="card([^"]*)" data-application="{larkspur}"', html)
    assert card and "overdue" in card.group(1)
    assert "Content-Security-Policy".lower() in page.headers


def test_application_page_shows_the_timeline(client: TestClient, shared: Timeline) -> None:
    page = client.get(f"/applications/{app_id(shared, 'Birchwood Bank')}")
    assert page.status_code == 200
    html = page.text
    for text in (
        "Birchwood Bank",
        "Product Manager",
        "Next steps - Product Manager",
        "priya@birchwood-bank.com",
        "feedback 82%",
        "we will get back to you by Friday",
        "Status history",
        "awaiting decision",
        'name="text"',
    ):
        assert text in html, text
    assert client.get("/applications/9999").status_code == 404


def test_followups_page_has_buckets_drafts_and_actions(
    client: TestClient, shared: Timeline
) -> None:
    page = client.get("/followups")
    assert page.status_code == 200
    html = page.text
    overdue = followup_id(shared, "Larkspur Health", "thank_you")
    section = html.split('<section class="bucket overdue">')[1].split("</section>")[0]
    assert f'id="followup-{overdue}"' in section
    assert "Larkspur Health" in section and "Subject:" in section
    for action in ("done", "snooze", "dismiss"):
        assert f'action="/followups/{overdue}/{action}"' in html
    assert 'class="copy"' in html


def test_review_page_lists_uncertain_mail_with_its_forms(
    client: TestClient, shared: Timeline
) -> None:
    html = client.get("/review").text
    assert "Quick question about your availability" in html
    assert "low confidence" in html
    assert html.count('/label"') >= 2 and html.count('/attach"') >= 2


def test_stats_page_draws_svg_charts(client: TestClient) -> None:
    page = client.get("/stats")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 4
    assert "Time to first answer" in html and "Birchwood Bank" in html
    assert "<script" not in html.split("</head>")[1]


def test_calendar_feed_parses_with_icalendar(client: TestClient, shared: Timeline) -> None:
    page = client.get("/calendar.ics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(page.content).walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert any(s.startswith("Interview: Northwind Robotics") for s in summaries)
    assert any(s.startswith("Thank-you note: Larkspur Health") for s in summaries)
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_mail_content_is_escaped(client: TestClient, shared: Timeline) -> None:
    html = client.get(f"/applications/{app_id(shared, 'Example Recruiting')}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<script>alert" not in client.get("/review").text


def test_post_without_csrf_token_is_refused(fresh: Timeline) -> None:
    web = TestClient(create_app(fresh.config, fresh.store, fresh.clock, token=None))
    target = followup_id(fresh, "Larkspur Health", "thank_you")
    assert web.post(f"/followups/{target}/done", data={}).status_code == 403
    assert web.post(f"/followups/{target}/done", data={"csrf": "forged"}).status_code == 403
    token = csrf_of(web.get("/followups").text)
    done = web.post(f"/followups/{target}/done", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    with fresh.store.session() as s:
        row = s.get(FollowUpRow, target)
        assert row is not None and row.state == "done"


def test_relabel_and_reattach_from_the_review_page(fresh: Timeline) -> None:
    web = TestClient(create_app(fresh.config, fresh.store, fresh.clock, token=None))
    token = csrf_of(web.get("/review").text)
    with fresh.store.session() as s:
        pk = s.scalar(select(Message.id).where(Message.subject == SCRIPT_SUBJECT))
    larkspur = app_id(fresh, "Larkspur Health")
    web.post(f"/review/{pk}/label", data={"csrf": token, "label": "other"})
    web.post(f"/review/{pk}/attach", data={"csrf": token, "application": str(larkspur)})
    with fresh.store.session() as s:
        message = s.get(Message, pk)
        assert message is not None
        assert (message.label, message.label_source, message.needs_review) == (
            "other",
            "user",
            False,
        )
        assert message.application_pk == larkspur and not message.match_uncertain
    assert SCRIPT_SUBJECT not in [m.subject for m in fresh.store.review_queue()]


def test_note_is_kept_on_the_latest_round(fresh: Timeline) -> None:
    web = TestClient(create_app(fresh.config, fresh.store, fresh.clock, token=None))
    pk = app_id(fresh, "Larkspur Health")
    token = csrf_of(web.get(f"/applications/{pk}").text)
    web.post(f"/applications/{pk}/note", data={"csrf": token, "text": "Asked about <night> shifts"})
    html = web.get(f"/applications/{pk}").text
    assert "Asked about &lt;night&gt; shifts" in html


def test_login_is_required_with_a_token_and_the_token_never_shows(fresh: Timeline) -> None:
    app = create_app(fresh.config, fresh.store, fresh.clock, token=TOKEN, secure_cookies=True)
    web = TestClient(app, base_url="https://board.example")
    first = web.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/login")
    assert web.get("/calendar.ics").status_code == 403
    assert web.get("/healthz").status_code == 200
    login = web.get("/login")
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    csrf = csrf_of(login.text)
    wrong = web.post("/login", data={"csrf": csrf, "token": "guess", "next": "/"})
    assert wrong.status_code == 403 and "not the one" in wrong.text
    right = web.post("/login", data={"csrf": csrf, "token": TOKEN, "next": "/stats"})
    assert right.status_code == 200 and str(right.url).endswith("/stats")
    for path in (
        "/",
        "/followups",
        "/review",
        "/stats",
        f"/applications/{app_id(fresh, 'Quillon Labs')}",
    ):
        page = web.get(path)
        assert page.status_code == 200 and TOKEN not in page.text
    assert feed_key(TOKEN) in web.get("/").text  # the feed's own key, not the token
    outsider = TestClient(app, base_url="https://board.example")
    feed = outsider.get(f"/calendar.ics?key={feed_key(TOKEN)}")
    assert feed.status_code == 200 and TOKEN.encode() not in feed.content
    assert outsider.get("/calendar.ics?key=nope").status_code == 403


def test_login_redirect_never_leaves_the_site(fresh: Timeline) -> None:
    web = TestClient(create_app(fresh.config, fresh.store, fresh.clock, token=TOKEN))
    csrf = csrf_of(web.get("/login").text)
    done = web.post(
        "/login",
        data={"csrf": csrf, "token": TOKEN, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/"


# -- serving -----------------------------------------------------------------------------


@pytest.fixture
def no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty credentials folder and no keyring: the token can only come from the folder."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(folder))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return folder


def test_non_loopback_listen_without_a_token_refuses_to_start(
    fresh: Timeline, no_secrets: Path
) -> None:
    port = free_port()
    with pytest.raises(ConfigError, match="interviewd secrets set web-token"):
        serve(fresh.config, fresh.store, f"0.0.0.0:{port}", "web-token", None)
    with socket.socket() as probe:  # nothing was bound
        probe.bind(("0.0.0.0", port))


def test_non_loopback_listen_with_a_token_requires_login(fresh: Timeline, no_secrets: Path) -> None:
    (no_secrets / "web-token").write_text(TOKEN + "\n")
    server = build_server(fresh.config, fresh.store, "0.0.0.0:8765", "web-token")
    web = TestClient(server.config.app, base_url="https://board.example")
    assert web.get("/", follow_redirects=False).status_code == 303
    assert "secure" in web.get("/login").headers["set-cookie"].lower()


# -- in a real browser ---------------------------------------------------------------------


def test_browser_board_shows_the_seeded_applications(shared: Timeline) -> None:
    with running(shared) as base, browser_page() as page:
        page.goto(base + "/")
        assert page.locator("article.card").count() == len(shared.board(NOW))
        text = page.inner_text("main")
        for company in COMPANIES:
            assert company in text
        overdue = page.locator("article.card.overdue")
        assert overdue.count() == 1 and "Larkspur Health" in overdue.inner_text()


def test_browser_marking_a_followup_done_updates_database_and_board(fresh: Timeline) -> None:
    target = followup_id(fresh, "Larkspur Health", "thank_you")
    with running(fresh) as base, browser_page() as page:
        page.goto(base + "/followups")
        page.locator(f"#followup-{target} form[action$='/done'] button").click()
        page.wait_for_url(base + "/followups")
        assert page.locator(f"#followup-{target}").count() == 0
        with fresh.store.session() as s:
            row = s.get(FollowUpRow, target)
            assert row is not None and row.state == "done"
        page.goto(base + "/")
        card = page.locator(f"article.card[data-application='{app_id(fresh, 'Larkspur Health')}']")
        assert "Thank-you note" not in card.inner_text()
        assert page.locator("article.card.overdue").count() == 0


def test_browser_script_subject_renders_as_text(shared: Timeline) -> None:
    dialogs: list[str] = []
    with running(shared) as base, browser_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in (f"/applications/{app_id(shared, 'Example Recruiting')}", "/review"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert SCRIPT_SUBJECT in page.inner_text("main"), path
            assert page.locator("main script, main img").count() == 0
    assert dialogs == []


def test_browser_post_without_csrf_is_refused(fresh: Timeline) -> None:
    target = followup_id(fresh, "Larkspur Health", "thank_you")
    with running(fresh) as base, browser_page() as page:
        page.goto(base + "/followups")
        status = page.evaluate(
            """async (url) => (await fetch(url, {method: "POST",
                 headers: {"content-type": "application/x-www-form-urlencoded"},
                 body: "next=/followups", redirect: "manual"})).status""",
            f"{base}/followups/{target}/done",
        )
        assert status == 403
    with fresh.store.session() as s:
        row = s.get(FollowUpRow, target)
        assert row is not None and row.state == "pending"


def test_browser_calendar_feed_parses(shared: Timeline) -> None:
    with running(shared) as base, urllib.request.urlopen(base + "/calendar.ics", timeout=10) as r:
        body = r.read()
    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    rounds = [e for e in events if str(e["UID"]).startswith("round-")]
    assert len(rounds) == 5
    northwind = next(e for e in rounds if "Northwind" in str(e["SUMMARY"]))
    assert northwind.decoded("DTSTART").isoformat().startswith("2026-11-13T15:00")


def test_browser_board_fits_a_phone_screen(shared: Timeline) -> None:
    with running(shared) as base, browser_page(390, 844) as page:
        page.goto(base + "/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        assert page.locator("article.card").first.is_visible()
