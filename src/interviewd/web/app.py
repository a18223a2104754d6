"""The web board as a Starlette app: server-rendered pages over the CLI's own service layer.

Security in one place: every POST carries a per-session CSRF token (the session
is a signed, HttpOnly, SameSite=Strict cookie); when a login token is set,
every page but ``/login`` and ``/healthz`` needs a logged-in session; Jinja2
autoescapes everything, and a strict Content-Security-Policy refuses inline
script, so mail content can only ever show as text.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..alerts import AlertService
from ..applications import TrackingService, local_zone
from ..clock import Clock, SystemClock
from ..config import Config
from ..domain import LABELS
from ..errors import InterviewdError, UsageError
from ..store import Store
from ..tracker.facts import Status, UserActionKind
from . import actions, data

HERE = Path(__file__).parent
SESSION_COOKIE = "interviewd_session"
#: Snooze choices offered on the follow-ups page.
SNOOZES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "1w": timedelta(weeks=1)}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Endpoint = Callable[[Request], Awaitable[Response]]


class SecurityHeaders:
    """Headers that make a browser refuse inline script, framing and MIME sniffing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


def feed_key(token: str) -> str:
    """The calendar feed's own key: derived from the token, so the token never shows."""
    return hmac.new(token.encode(), b"interviewd calendar feed", sha256).hexdigest()[:32]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every page shows mail content: never turn this off
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kind_name"] = data.kind_name
    env.filters["status_name"] = lambda s: str(s).replace("_", " ")
    return env


def _safe_next(value: str, default: str) -> str:
    """Only a local path: never let a form send the user to another site."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def create_app(
    config: Config,
    store: Store,
    clock: Clock | None = None,
    *,
    token: str | None,
    secure_cookies: bool = False,
    template_dir: Path | None = None,
    session_secret: str | None = None,
) -> Starlette:
    """The board. ``token`` set: a login is required (non-loopback); None: open (loopback)."""
    clock = clock or SystemClock()
    tz = local_zone(config)
    tracking = TrackingService(config, store, clock)
    alerts = AlertService(config, store, clock, template_dir=template_dir)
    env = _environment()
    env.filters["local"] = lambda v, year=False: data.local_text(v, tz, year)
    env.filters["ago"] = lambda v: data.relative_text(v, clock.now())
    calendar_key = feed_key(token) if token else ""

    def csrf_token(request: Request) -> str:
        value = request.session.get("csrf")
        if not isinstance(value, str) or not value:
            value = secrets.token_urlsafe(32)
            request.session["csrf"] = value
        return value

    def logged_in(request: Request) -> bool:
        return token is None or request.session.get("auth") is True

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("title", "interviewd")
        calendar_url = "/calendar.ics" + (f"?key={calendar_key}" if calendar_key else "")
        html = env.get_template(name).render(
            request_path=request.url.path,
            csrf=csrf_token(request),
            login_required=token is not None,
            logged_in=logged_in(request),
            calendar_url=calendar_url,
            now=clock.now(),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    async def checked_form(request: Request) -> dict[str, str]:
        """The posted form, after its CSRF token matched the session's (403 otherwise)."""
        form = await request.form()
        sent = form.get("csrf")
        expected = request.session.get("csrf")
        if (
            not isinstance(sent, str)
            or not isinstance(expected, str)
            or not expected
            or not hmac.compare_digest(sent.encode(), expected.encode())
        ):
            raise HTTPException(403, "the form's security token did not match; reload the page")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def page(handler: Endpoint) -> Endpoint:
        """Login first (when a token is set); for a POST, check the CSRF token first."""

        async def guarded(request: Request) -> Response:
            if not logged_in(request):
                if request.method == "GET":
                    target = quote(request.url.path, safe="/")
                    return RedirectResponse(f"/login?next={target}", status_code=303)
                raise HTTPException(403, "log in first")
            try:
                return await handler(request)
            except UsageError as exc:
                return render(request, "error.html", 404, message=str(exc))

        return guarded

    def back(form: dict[str, str], default: str) -> RedirectResponse:
        return RedirectResponse(_safe_next(form.get("next", ""), default), status_code=303)

    # -- pages ---------------------------------------------------------------------

    async def board(request: Request) -> Response:
        now = clock.now()
        columns = await run_in_threadpool(data.board_columns, tracking, now)
        return render(request, "board.html", columns=columns, title="Board")

    async def application(request: Request) -> Response:
        app_pk = int(request.path_params["id"])
        timeline = await run_in_threadpool(tracking.timeline, app_pk)
        return render(
            request,
            "application.html",
            app=timeline,
            statuses=[s.value for s in Status],
            title=f"{timeline['company']} {timeline['role']}".strip(),
        )

    async def add_note(request: Request) -> Response:
        form = await checked_form(request)
        app_pk = int(request.path_params["id"])
        text = form.get("text", "").strip()
        if text:
            await run_in_threadpool(tracking.note, app_pk, text[:4000])
        return back(form, f"/applications/{app_pk}")

    async def set_status(request: Request) -> Response:
        form = await checked_form(request)
        app_pk = int(request.path_params["id"])
        try:
            status = Status(form.get("status", ""))
        except ValueError:
            raise HTTPException(400, "unknown status") from None
        await run_in_threadpool(tracking.set_status, app_pk, status)
        return back(form, f"/applications/{app_pk}")

    def _followups_with_drafts() -> dict[str, Any]:
        result = tracking.followups(clock.now())
        for bucket in ("overdue", "due", "coming"):
            for item in result[bucket]:
                item["draft"], item["draft_error"] = None, ""
                if item["id"] is None:
                    continue
                try:
                    item["draft"] = alerts.draft_for(item["id"])
                except InterviewdError as exc:
                    item["draft_error"] = str(exc)
        return result

    async def followups(request: Request) -> Response:
        result = await run_in_threadpool(_followups_with_drafts)
        return render(
            request, "followups.html", followups=result, snoozes=SNOOZES, title="Follow-ups"
        )

    async def followup_action(request: Request) -> Response:
        form = await checked_form(request)
        followup_id = int(request.path_params["id"])
        action = request.path_params["action"]
        until = None
        if action == "done":
            kind = UserActionKind.DONE
        elif action == "dismiss":
            kind = UserActionKind.DISMISS
        elif action == "snooze":
            kind = UserActionKind.SNOOZE
            delta = SNOOZES.get(form.get("for", "1d"))
            if delta is None:
                raise HTTPException(400, "unknown snooze length")
            until = clock.now() + delta
        else:
            raise HTTPException(404, "no such action")
        await run_in_threadpool(tracking.followup_action, followup_id, kind, until)
        return back(form, "/followups")

    def _review_rows() -> tuple[list[Any], list[Any]]:
        messages = store.review_queue(200)
        return messages, tracking.board(clock.now())

    async def review(request: Request) -> Response:
        messages, applications = await run_in_threadpool(_review_rows)
        threshold = config.classifier.review_threshold
        return render(
            request,
            "review.html",
            messages=messages,
            applications=applications,
            labels=LABELS,
            threshold=threshold,
            title="Review",
        )

    async def review_label(request: Request) -> Response:
        form = await checked_form(request)
        pk = int(request.path_params["id"])
        await run_in_threadpool(actions.relabel, config, store, tracking, pk, form.get("label", ""))
        return back(form, "/review")

    async def review_attach(request: Request) -> Response:
        form = await checked_form(request)
        pk = int(request.path_params["id"])
        target = form.get("application", "")
        if not target.isdigit():
            raise HTTPException(400, "pick an application")
        await run_in_threadpool(actions.reattach, store, tracking, pk, int(target))
        return back(form, "/review")

    async def stats_page(request: Request) -> Response:
        result = await run_in_threadpool(data.stats, tracking, store, clock.now(), tz)
        return render(request, "stats.html", stats=result, title="Stats")

    async def calendar(request: Request) -> Response:
        key = request.query_params.get("key", "")
        allowed = logged_in(request) or (
            bool(calendar_key) and hmac.compare_digest(key.encode(), calendar_key.encode())
        )
        if not allowed:
            raise HTTPException(403, "log in first, or use the feed address shown on the board")
        body = await run_in_threadpool(data.calendar_feed, tracking, store, clock.now())
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"content-disposition": 'inline; filename="interviewd.ics"'},
        )

    async def healthz(_request: Request) -> Response:
        def probe() -> int:
            return store.count_messages()

        try:
            await run_in_threadpool(probe)
        except InterviewdError:
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    async def login(request: Request) -> Response:
        target = _safe_next(request.query_params.get("next", ""), "/")
        if token is None:
            return RedirectResponse(target, status_code=303)
        if request.method == "GET":
            return render(request, "login.html", next=target, failed=False, title="Log in")
        form = await checked_form(request)
        target = _safe_next(form.get("next", ""), "/")
        given = form.get("token", "")
        if hmac.compare_digest(sha256(given.encode()).digest(), sha256(token.encode()).digest()):
            request.session.clear()
            request.session["auth"] = True
            request.session["csrf"] = secrets.token_urlsafe(32)  # a fresh one after login
            return RedirectResponse(target, status_code=303)
        await asyncio.sleep(1.0)  # slows a guesser; the event loop serves others meanwhile
        return render(request, "login.html", 403, next=target, failed=True, title="Log in")

    async def logout(request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login" if token else "/", status_code=303)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path == "/calendar.ics" or request.url.path == "/healthz":
            return PlainTextResponse(exc.detail, status_code=exc.status_code)
        return render(request, "error.html", exc.status_code, message=exc.detail)

    routes = [
        Route("/", page(board)),
        Route("/applications/{id:int}", page(application)),
        Route("/applications/{id:int}/note", page(add_note), methods=["POST"]),
        Route("/applications/{id:int}/status", page(set_status), methods=["POST"]),
        Route("/followups", page(followups)),
        Route("/followups/{id:int}/{action:str}", page(followup_action), methods=["POST"]),
        Route("/review", page(review)),
        Route("/review/{id:int}/label", page(review_label), methods=["POST"]),
        Route("/review/{id:int}/attach", page(review_attach), methods=["POST"]),
        Route("/stats", page(stats_page)),
        Route("/calendar.ics", calendar),
        Route("/healthz", healthz),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret or secrets.token_urlsafe(32),
            session_cookie=SESSION_COOKIE,
            max_age=14 * 24 * 3600,
            same_site="strict",
            https_only=secure_cookies,
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error},
    )
