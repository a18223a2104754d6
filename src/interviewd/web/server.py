"""Serving the board with uvicorn, in-process: from a daemon thread or as ``interviewd web``.

Loopback needs no login (only this machine can connect). Any other address
needs the token from the secret store, refuses to start without one, and
marks the session cookie ``Secure``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import uvicorn

from ..clock import Clock
from ..config import Config
from ..errors import ConfigError, SecretError
from ..secrets import SecretSpec, resolve
from ..store import Store
from .app import create_app
from .settings import DEFAULT_LISTEN, is_loopback, parse_listen, web_settings

log = logging.getLogger("interviewd.web")


def login_token(host: str, listen: str, token_secret: str) -> str | None:
    """None on loopback; elsewhere the token, or a ConfigError with the one-line fix."""
    if is_loopback(host):
        return None
    try:
        return resolve(SecretSpec(token_secret))
    except SecretError:
        raise ConfigError(
            f"web.listen {listen!r} is reachable from other machines, so it needs a login "
            f"token: store one with 'interviewd secrets set {token_secret}' "
            "(or listen on 127.0.0.1)"
        ) from None


def build_server(
    config: Config,
    store: Store,
    listen: str,
    token_secret: str,
    *,
    clock: Clock | None = None,
    tls_cert: str = "",
    tls_key: str = "",
    template_dir: Path | None = None,
) -> uvicorn.Server:
    """A configured, not yet started uvicorn server; raises ConfigError before binding anything."""
    host, port = parse_listen(listen)
    token = login_token(host, listen, token_secret)
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("web: set both tls_cert and tls_key, or neither")
    app = create_app(
        config,
        store,
        clock,
        token=token,
        secure_cookies=token is not None,
        template_dir=template_dir,
    )
    settings = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # interviewd's own logging setup stays in charge
        access_log=False,  # URLs can carry the calendar feed key
        lifespan="off",
        server_header=False,
        ssl_certfile=tls_cert or None,
        ssl_keyfile=tls_key or None,
    )
    return uvicorn.Server(settings)


def serve(
    config: Config,
    store: Store,
    listen: str,
    token_secret: str,
    stop: threading.Event | None = None,
    *,
    clock: Clock | None = None,
    tls_cert: str = "",
    tls_key: str = "",
    template_dir: Path | None = None,
    started: threading.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or, in the main thread, SIGINT/SIGTERM); blocks.

    ``started`` is set once the socket is listening, so a caller can wait for it.
    """
    server = build_server(
        config,
        store,
        listen,
        token_secret,
        clock=clock,
        tls_cert=tls_cert,
        tls_key=tls_key,
        template_dir=template_dir,
    )
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if started is not None and server.started:
                started.set()
            if stop is not None and stop.wait(0.1):
                server.should_exit = True
                return
            if stop is None:
                finished.wait(0.1)

    watcher = threading.Thread(target=watch, name="web-stop", daemon=True)
    watcher.start()
    log.info("web board on %s://%s", "https" if tls_cert else "http", listen)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind; never end the daemon with it
        pass
    finally:
        finished.set()
        watcher.join(timeout=2)
    if not server.started:
        raise ConfigError(f"web.listen {listen!r}: could not listen there (in use?)")


def cmd_web(config: Config, listen: str | None, template_dir: Path | None = None) -> int:
    """``interviewd web [--listen HOST:PORT]``: the board alone, in the foreground."""
    from ..service import open_store

    settings = web_settings(config)
    address = listen or settings.listen or DEFAULT_LISTEN
    store = open_store(config)
    try:
        serve(
            config,
            store,
            address,
            settings.token_secret,
            None,
            tls_cert=settings.tls_cert,
            tls_key=settings.tls_key,
            template_dir=template_dir,
        )
    finally:
        store.close()
    return 0
