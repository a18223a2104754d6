"""The long-running daemon: one worker per account, IDLE or polling, reconnecting forever.

A network or protocol error never ends the daemon: the worker drops the
connection, waits with exponential backoff and jitter, reconnects and catches
up. Each change of a worker's state is logged once, not once per retry.
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from . import sdnotify
from .alerts import AlertScheduler, AlertService
from .applications import TrackingService
from .clock import Clock, SystemClock
from .config import AccountConfig, Config, parse_config_file
from .errors import ConfigError, InterviewdError, SourceError, StoreError
from .service import (
    ImapSync,
    Ingestor,
    MaildirSync,
    MessageClassifier,
    credential_for,
    imap_settings,
)
from .sources.imap import ImapMailbox
from .status import HEARTBEAT_SECONDS, write_heartbeat
from .store import Store

log = logging.getLogger("interviewd.daemon")


class Backoff:
    """Exponential backoff with full jitter between ``initial`` and ``maximum`` seconds."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()

    def reset(self) -> None:
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 32)
        # Never below the initial delay, so a flapping server is not hammered.
        return self.initial + self._rng.random() * max(0.0, ceiling - self.initial)


@dataclass
class WorkerStatus:
    account: str
    state: str = "starting"  # starting | idle | polling | syncing | error
    mode: str = ""  # idle | poll | maildir
    last_error: str = ""


class AccountWorker(threading.Thread):
    def __init__(
        self,
        account: AccountConfig,
        config: Config,
        store: Store,
        stop: threading.Event,
        *,
        clock: Clock,
        classifier: MessageClassifier | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(name=f"account-{account.name}", daemon=True)
        self.account = account
        self.config = config
        self.store = store
        self.stop = stop
        self.clock = clock
        self.status = WorkerStatus(account.name)
        self._logged_state, self._logged_error = self.status.state, ""
        self.caught_up = threading.Event()
        self.on_progress = on_progress
        self.classifier = classifier
        self.mailbox: ImapMailbox | None = None
        self.backoff = Backoff(config.sync.backoff_initial_seconds, config.sync.backoff_max_seconds)

    def _set_state(self, state: str, error: str = "") -> None:
        self.status.state = state
        self.status.last_error = error
        # Each retry went connecting -> error -> connecting, and both lines were logged
        # every time (two lines per retry for as long as a server was down), against the
        # promise to log each change of state once. Compare with what was last *logged*:
        # the same error again, or connecting and syncing again while it lasts, is not news;
        # catching up (idle, polling) ends it.
        if error:
            if error != self._logged_error:
                self._logged_error = error
                self._logged_state = state
                log.warning("%s: %s (retrying with backoff)", self.account.name, error)
            return
        if state in ("connecting", "syncing") and self._logged_error:
            return  # a retry
        self._logged_error = ""
        if state != self._logged_state:
            self._logged_state = state
            log.info("%s: %s", self.account.name, state)

    def _progress(self) -> None:
        if self.on_progress:
            self.on_progress(self.account.name)

    def run(self) -> None:
        ingestor = Ingestor(self.config, self.store, self.clock, self.classifier)
        while not self.stop.is_set():
            try:
                if self.account.type == "maildir":
                    self._run_maildir(ingestor)
                else:
                    self._run_imap(ingestor)
            except (SourceError, StoreError, InterviewdError) as exc:
                self._set_state("error", str(exc))
                self._drop()
                with contextlib.suppress(StoreError):
                    self.store.record_folder_error(self.account.name, "*", str(exc))
                self.stop.wait(self.backoff.next_delay())
            except Exception as exc:  # the worker must outlive any bug
                log.exception("%s: unexpected error", self.account.name)
                self._set_state("error", f"{exc.__class__.__name__}: {exc}")
                self._drop()
                self.stop.wait(self.backoff.next_delay())
        self._drop()

    def _drop(self) -> None:
        mailbox, self.mailbox = self.mailbox, None
        if mailbox is not None:
            mailbox.close()

    def _run_maildir(self, ingestor: Ingestor) -> None:
        sync = MaildirSync(self.account, self.config, self.store, ingestor, stop=self.stop)
        self.status.mode = "maildir"
        while not self.stop.is_set():
            sync.catch_up()
            self.backoff.reset()
            self.caught_up.set()
            self._set_state("polling")
            self._progress()
            self.stop.wait(self.config.sync.poll_interval_seconds)

    def _run_imap(self, ingestor: Ingestor) -> None:
        self._set_state("connecting")
        mailbox = ImapMailbox(
            imap_settings(self.account, self.config), credential_for(self.account)
        )
        mailbox.connect()
        self.mailbox = mailbox
        sync = ImapSync(
            self.account, self.config, self.store, ingestor, clock=self.clock, stop=self.stop
        )
        self._set_state("syncing")
        watched = self.account.folders[0]
        # UIDNEXT of the watched folder before each catch-up: mail that arrives after the
        # catch-up searched the folder but before IDLE starts is already counted in the
        # EXAMINE that precedes IDLE, so IDLE never reports it, and it waited for the next
        # renewal (10 minutes by default). A changed UIDNEXT means: catch up again first.
        seen = mailbox.examine(watched).uidnext
        sync.catch_up(mailbox)
        self.backoff.reset()
        self.caught_up.set()
        self._progress()
        renew = self.config.sync.idle_renew_minutes * 60
        while not self.stop.is_set():
            if mailbox.has_idle:
                self.status.mode = "idle"
                self._set_state("idle")
                if mailbox.examine(watched).uidnext == seen:
                    mailbox.idle_wait(renew, self.stop)
            else:
                self.status.mode = "poll"
                self._set_state("polling")
                if self.stop.wait(self.config.sync.poll_interval_seconds):
                    break
                mailbox.noop()
            if self.stop.is_set():
                break
            # A renewal or a poll that got an answer is real progress.
            seen = mailbox.examine(watched).uidnext
            sync.catch_up(mailbox)
            self._progress()


class Daemon:
    """Workers per account, the tracker, the alert scheduler, and the service protocol.

    systemd: READY=1 once every account has caught up once; WATCHDOG=1 after real
    progress (a catch-up after an IDLE renewal or a poll that got an answer);
    SIGHUP reloads the config (an invalid one is reported and the old one kept);
    SIGTERM finishes the message in hand and exits 0.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock | None = None,
        classifier: MessageClassifier | None = None,
        template_dir: Path | None = None,
        config_path: Path | None = None,
        on_reload: Callable[[Config], None] | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.on_reload = on_reload
        self.classifier = classifier
        self.store = store
        self.clock = clock or SystemClock()
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self._workers_stop = threading.Event()
        self.workers: list[AccountWorker] = []
        self.template_dir = template_dir
        self._tracking_lock = threading.Lock()
        self._build_services()
        self.started_at = self.clock.now()
        self.ready_sent = False

    def _build_services(self) -> None:
        self.tracking = TrackingService(self.config, self.store, self.clock)
        self.alerts = AlertScheduler(
            AlertService(self.config, self.store, self.clock, template_dir=self.template_dir),
            self.tracking,
        )

    def after_sync(self, account: str) -> None:
        """After a worker caught up: match new mail, update the clocks and the alert jobs."""
        sdnotify.watchdog()
        with self._tracking_lock:
            try:
                result = self.tracking.process_new_messages()
                self.alerts.sync_jobs()
                self.alerts.new_messages(result.urgent)
            except InterviewdError as exc:
                log.warning("tracking after %s: %s", account, exc)

    def install_signal_handlers(self) -> None:
        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "received %s: finishing the message in hand, then exiting",
                signal.Signals(signum).name,
            )
            self.stop.set()
            self._workers_stop.set()

        def _reload(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGHUP, _reload)

    def _start_workers(self) -> None:
        self._workers_stop = threading.Event()
        self.workers = []
        for account in self.config.accounts:
            worker = AccountWorker(
                account,
                self.config,
                self.store,
                self._workers_stop,
                clock=self.clock,
                classifier=self.classifier,
                on_progress=self.after_sync,
            )
            self.workers.append(worker)
            worker.start()

    def _stop_workers(self, timeout: float = 30) -> None:
        self._workers_stop.set()
        for worker in self.workers:
            worker.join(timeout)

    def start(self) -> None:
        self.tracking.recompute_all()
        self.alerts.start()
        self._start_workers()
        self._start_web()
        interval = sdnotify.watchdog_interval()
        renew = self.config.sync.idle_renew_minutes * 60
        if interval and renew + self.config.sync.socket_timeout_seconds >= interval:
            log.warning(
                "sync.idle_renew_minutes (%g) is too long for WatchdogSec (%gs): the service "
                "may be restarted while idle",
                self.config.sync.idle_renew_minutes,
                interval,
            )

    def _start_web(self) -> None:
        """The board, in a thread, when web.listen is set."""
        if not self.config.web.listen:
            return
        from .web.server import serve

        web = self.config.web
        self._web_stop = threading.Event()
        self._web_thread = threading.Thread(
            target=self._serve_web,
            args=(serve, web),
            name="web",
            daemon=True,
        )
        self._web_thread.start()

    def _serve_web(self, serve: Callable[..., None], web: Any) -> None:
        try:
            serve(
                self.config,
                self.store,
                web.listen,
                web.token_secret,
                self._web_stop,
                clock=self.clock,
                tls_cert=web.tls_cert,
                tls_key=web.tls_key,
                template_dir=self.template_dir,
            )
        except InterviewdError as exc:
            log.error("the web board cannot start: %s", exc)

    def _stop_web(self) -> None:
        thread = getattr(self, "_web_thread", None)
        if thread is not None:
            self._web_stop.set()
            thread.join(10)
            self._web_thread = None

    def wait_caught_up(self, timeout: float | None = None) -> bool:
        return all(w.caught_up.wait(timeout) for w in self.workers)

    def heartbeat_state(self) -> dict[str, Any]:
        return {
            "accounts": [
                {
                    "account": w.status.account,
                    "state": w.status.state,
                    "mode": w.status.mode,
                    "last_error": w.status.last_error or None,
                }
                for w in self.workers
            ],
            "stopped": self.stop.is_set(),
        }

    def _beat(self) -> None:
        try:
            write_heartbeat(self.store, self.started_at, self.heartbeat_state(), self.clock)
        except InterviewdError as exc:
            log.warning("cannot write the heartbeat: %s", exc)

    def run_forever(self) -> None:
        self.start()
        log.info("watching %d account(s)", len(self.workers))
        last_beat = 0.0
        while not self.stop.wait(0.2):  # short: READY goes out soon after the catch-up
            if not self.ready_sent and all(w.caught_up.is_set() for w in self.workers):
                sdnotify.ready(f"watching {len(self.workers)} account(s)")
                self.ready_sent = True
                log.info("caught up on every account")
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                self._beat()
                last_beat = time.monotonic()
        self.shutdown()

    def reload(self) -> bool:
        """SIGHUP: read the config again; keep the old one when the new one is invalid."""
        if self.config_path is None:
            log.warning("reload asked, but the config path is unknown; ignored")
            return False
        sdnotify.reloading()
        try:
            new = parse_config_file(self.config_path)
        except ConfigError as exc:
            problems = "; ".join(exc.problems)
            log.error("the new config is invalid, keeping the old one: %s", problems)
            sdnotify.ready("config reload failed; running on the old config")
            return False
        log.info("reloading the config from %s", self.config_path)
        self._stop_workers()
        self._stop_web()
        self.alerts.shutdown()
        self.config = new
        if self.on_reload:
            self.on_reload(new)
        self._build_services()
        self.tracking.recompute_all()  # the follow-up rules or the time zone may have changed
        self.alerts.start()
        self._start_workers()
        self._start_web()
        sdnotify.ready(f"watching {len(self.workers)} account(s)")
        return True

    def shutdown(self, timeout: float = 30) -> None:
        sdnotify.stopping()
        self.stop.set()
        self._stop_workers(timeout)
        self._stop_web()
        self.alerts.shutdown()
        self._beat()
        self.store.close()
        log.info("stopped")
