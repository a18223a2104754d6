"""The daemon (`interviewd run`) as systemd would run it: start to READY, idle, detection latency.

READY=1 is read from a NOTIFY_SOCKET this benchmark binds itself; CPU and memory come from
/proc/<pid>; alerts go to an aiosmtpd server on loopback run by this benchmark.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from harness import (
    SMALL_USER,
    USER,
    Finished,
    bench_env,
    cpu_seconds,
    interviewd_cmd,
    median,
    memory_kib,
    mib,
    percentile,
    reap,
    timed_run,
    write_config,
)
from imapclient import IMAPClient

from servers import Dovecot, free_port

# -- the process ---------------------------------------------------------------------------


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's notify socket.

    Like systemd, it reads every datagram as it comes (a reader thread): the daemon sends
    WATCHDOG=1 after each catch-up, and a socket nobody reads fills up.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.lines: list[tuple[float, str]] = []  # (perf_counter() on arrival, line)
        self.arrived = threading.Condition()
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while not self.closed.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.perf_counter()
            with self.arrived:
                self.lines.extend((now, ln) for ln in data.decode(errors="replace").splitlines())
                self.arrived.notify_all()

    def wait_for(self, line: str, pid: int, timeout: float, after: int = 0) -> float | None:
        """perf_counter() when ``line`` arrived (looking from entry ``after`` on); None if the
        process ended or time ran out first."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for when, seen in self.lines[after:]:
                    if seen == line:
                        return when
                left = deadline - time.monotonic()
                if left <= 0 or _exited(pid):
                    return None
                self.arrived.wait(min(left, 0.05))

    def mark(self) -> int:
        with self.arrived:
            return len(self.lines)

    def close(self) -> None:
        self.closed.set()
        self.reader.join(2)
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _exited(pid: int) -> bool:
    """Whether ``pid`` has exited, without reaping it (reap() does that, for its rusage)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    started: float  # perf_counter() just before the spawn
    log: Path
    ready_seconds: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = 60) -> Finished:
        self.proc.send_signal(signal.SIGTERM)
        return reap(self.proc, self.started, timeout)


def start_daemon(config: Path, env: dict[str, str], notify: NotifySocket, log: Path) -> Daemon:
    env = dict(env, NOTIFY_SOCKET=str(notify.path))
    after = notify.mark()
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            interviewd_cmd(config, "run"), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    daemon = Daemon(proc, started, log)
    ready = notify.wait_for("READY=1", proc.pid, timeout=180, after=after)
    if ready is None:
        daemon.stop(10)
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"the daemon sent no READY=1; its log ends:\n{tail}")
    daemon.ready_seconds = ready - started
    return daemon


# -- start to READY --------------------------------------------------------------------------

LOAD_MODEL = (
    "from interviewd.textcat import TextClassifier, shipped_model_path; "
    "TextClassifier.load(shipped_model_path())"
)


def start_baselines(work: Path, runs: int = 5) -> dict[str, float]:
    """Median seconds of the process starts that READY can be compared with."""
    env = bench_env(work)
    commands = {
        "python_import_interviewd_s": [sys.executable, "-c", "import interviewd"],
        "interviewd_version_s": [sys.executable, "-m", "interviewd", "--version"],
        "python_load_model_s": [sys.executable, "-c", LOAD_MODEL],
    }
    found: dict[str, float] = {}
    for key, cmd in commands.items():
        times = []
        peak = 0
        for _ in range(runs):
            done, _out = timed_run(cmd, env, timeout=120)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed with {done.returncode}")
            times.append(done.seconds)
            peak = max(peak, done.peak_rss_kib)
        found[key] = round(median(times), 3)
    # Only this one: a child's ru_maxrss is never below its parent's high-water mark (see
    # worker.py), and run.py's ~35 MiB hides the smaller ones.
    found["python_load_model_peak_rss_mib"] = mib(peak)
    return found


def cold_starts(server: Dovecot, work: Path, runs: int = 3) -> tuple[list[float], float]:
    """Fresh database each time (migrations, a first catch-up of a small mailbox).

    Seconds to READY of each run, and the largest peak RSS of these small daemons (MiB).
    """
    env = bench_env(work)
    times = []
    peak = 0
    for i in range(runs):
        db = work / f"cold-{i}.db"
        config = write_config(work, server, user=SMALL_USER[0], db=db, name=f"cold-{i}.yaml")
        notify = NotifySocket(work / "notify-cold.sock")
        try:
            daemon = start_daemon(config, env, notify, work / f"daemon-cold-{i}.log")
            try:
                assert daemon.ready_seconds is not None
                times.append(daemon.ready_seconds)
                time.sleep(1)  # its first second of idling, as a small daemon's RSS
            finally:
                peak = max(peak, daemon.stop().peak_rss_kib)
        finally:
            notify.close()
    return times, mib(peak)


# -- alerts ----------------------------------------------------------------------------------

TOKEN = re.compile(r"\[lat-(\d{3})\]")


@dataclass
class AlertSink:
    """aiosmtpd handler: when each alert naming a ``[lat-NNN]`` token arrived."""

    arrived: dict[int, float] = field(default_factory=dict)
    others: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = " ".join(
            str(part.get_content())
            for part in message.walk()
            if part.get_content_maintype() == "text"
        )
        match = TOKEN.search(f"{message.get('Subject', '')} {text}")
        with self.lock:
            if match is None:
                self.others += 1  # a follow-up alert of the backfilled applications
            else:
                self.arrived.setdefault(int(match.group(1)), now)
        return "250 OK"


FIRST = ["Amber", "Birch", "Cedar", "Dune", "Ember", "Fjord", "Granite", "Heron", "Iris", "Juniper"]
SECOND = [
    "Robotics",
    "Optics",
    "Studios",
    "Systems",
    "Foods",
    "Labs",
    "Media",
    "Works",
    "Dynamics",
    "Materials",
]
ROLES = ["Backend Engineer", "Data Analyst", "Product Designer", "Site Reliability Engineer"]
OFFER = (
    "Hi Sam,\n\nI am delighted to let you know that we would like to extend you an offer for "
    "the {role} position at {company}. The formal offer letter with salary, start date and "
    "benefits is attached.\n\nPlease review it and let us know if you have any questions.\n\n"
    "Best regards,\n{name}\nHead of Talent, {company}\n"
)
REJECTION = (
    "Hi Sam,\n\nThank you for taking the time to interview with us for the {role} role. After "
    "careful consideration we have decided to move forward with other candidates whose "
    "experience more closely matches our needs.\n\nWe appreciate your interest in {company} and "
    "wish you the best in your search.\n\nBest regards,\n{name}\nHead of Talent, {company}\n"
)


def latency_message(i: int) -> tuple[bytes, str]:
    """An offer (even i) or a rejection (odd i) from a company of its own; (raw, message id)."""
    company = f"{FIRST[i % 10]} {SECOND[i // 10 % 10]}"
    domain = company.lower().replace(" ", "") + ".example"
    role = ROLES[i % len(ROLES)]
    name = f"Jordan {SECOND[i % 10]}son"
    kind = "Offer of employment" if i % 2 == 0 else "Your application"
    body = (OFFER if i % 2 == 0 else REJECTION).format(role=role, company=company, name=name)
    message_id = f"lat-{i:03d}-{os.getpid()}@{domain}"
    msg = EmailMessage()
    msg["From"] = f"{name} <talent@{domain}>"
    msg["To"] = "sam@example.net"
    msg["Subject"] = f"{kind}: {role} [lat-{i:03d}]"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(body)
    return msg.as_bytes(policy=email.policy.SMTP), message_id


# -- the run ---------------------------------------------------------------------------------


BUSY = 0.1  # CPU seconds in one wall-clock second that make it a busy one


def idle(daemon: Daemon, seconds: float) -> dict[str, Any]:
    """CPU seconds and memory of the daemon while nothing happens.

    Sampled every second, so a periodic burst (the alert scheduler's minutely tick, which
    recomputes every application) shows in ``busiest_second_cpu`` and ``busy_seconds``.
    """
    cpu_before = last = cpu_seconds(daemon.pid)
    start = time.monotonic()
    peak_rss = 0
    per_second: list[float] = []
    while (left := start + seconds - time.monotonic()) > 0:
        peak_rss = max(peak_rss, memory_kib(daemon.pid)["VmRSS"])
        time.sleep(min(1.0, left))
        now = cpu_seconds(daemon.pid)
        per_second.append(now - last)
        last = now
    cpu = cpu_seconds(daemon.pid) - cpu_before
    memory = memory_kib(daemon.pid)
    peak_rss = max(peak_rss, memory["VmRSS"])
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu, 3),
        "cpu_percent_of_one_core": round(100 * cpu / seconds, 2),
        "busiest_second_cpu": round(max(per_second, default=0.0), 2),
        "busy_seconds": sum(1 for c in per_second if c >= BUSY),
        "cpu_seconds_outside_busy_seconds": round(sum(c for c in per_second if c < BUSY), 3),
        "rss_mib": mib(memory["VmRSS"]),
        "peak_rss_during_idle_mib": mib(peak_rss),
        "peak_rss_since_start_mib": mib(memory["VmHWM"]),
        "goal_rss_mb": 200,
    }


class RawIdle(threading.Thread):
    """The baseline: a plain imapclient connection in IDLE on INBOX, noting each EXISTS.

    It shows how long the server itself takes to tell an IDLE client of a new message, which
    interviewd cannot go below.
    """

    def __init__(self, server: Dovecot) -> None:
        super().__init__(name="raw-idle", daemon=True)
        self.client = IMAPClient(server.host, port=server.port, ssl=False, timeout=30)
        self.client.login(*USER)
        self.exists = int(self.client.select_folder("INBOX", readonly=True)[b"EXISTS"])
        self.seen: dict[int, float] = {}  # message count -> time.time() of its EXISTS
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self) -> None:
        self.client.idle()
        while not self.halt.is_set():
            for response in self.client.idle_check(timeout=0.2):
                if isinstance(response, tuple) and response[1:2] == (b"EXISTS",):
                    with self.lock:
                        self.seen.setdefault(int(response[0]), time.time())
        self.client.idle_done()

    def when(self, count: int) -> float | None:
        with self.lock:
            return self.seen.get(count)

    def close(self) -> None:
        self.halt.set()
        self.join(5)
        with contextlib.suppress(Exception):
            self.client.logout()


def latency(
    server: Dovecot, db: Path, sink: AlertSink, count: int, timeout: float = 30
) -> dict[str, Any]:
    """APPEND one message at a time: when the raw IDLE client heard of it, when it was in
    interviewd's database, and when its alert reached the SMTP server."""
    rng = random.Random(8)
    raw_idle = RawIdle(server)
    raw_idle.start()
    time.sleep(0.5)  # let it enter IDLE
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=30)
    client.login(*USER)
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    given_up: int | None = None
    heard: list[float] = []
    stored: list[float] = []
    alerted: list[float] = []
    missed_store: list[int] = []
    missed_alert: list[int] = []
    try:
        for i in range(count):
            raw, message_id = latency_message(i)
            sent = time.time()
            client.append("INBOX", raw)
            stored_at = alert_at = heard_at = None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and (stored_at is None or alert_at is None):
                if heard_at is None:
                    heard_at = raw_idle.when(raw_idle.exists + i + 1)
                if (
                    stored_at is None
                    and reader.execute(
                        "SELECT 1 FROM messages WHERE message_id = ?", (message_id,)
                    ).fetchone()
                ):
                    stored_at = time.time()
                if alert_at is None:
                    with sink.lock:
                        alert_at = sink.arrived.get(i)
                time.sleep(0.005)
            heard_at = heard_at or raw_idle.when(raw_idle.exists + i + 1)
            if heard_at is not None:
                heard.append(heard_at - sent)
            if stored_at is None:
                missed_store.append(i)
            else:
                stored.append(stored_at - sent)
            if alert_at is None:
                missed_alert.append(i)
            else:
                alerted.append(alert_at - sent)
            if len(missed_store) >= 3 and missed_store[-3:] == list(range(i - 2, i + 1)):
                given_up = i + 1  # three in a row not even stored: the daemon is stuck
                break
            # A pause of its own length after each message, so arrivals do not fall into
            # step with the daemon's one-second timers.
            time.sleep(rng.uniform(0.1, 0.4))
    finally:
        reader.close()
        raw_idle.close()
        with contextlib.suppress(Exception):
            client.logout()
    return {
        "messages": count,
        "kinds": "offers and rejections alternately, each from a company of its own",
        "baseline": "a plain imapclient IDLE connection hearing EXISTS for the same APPEND",
        "raw_idle_p50_s": round(percentile(heard, 50), 3),
        "raw_idle_p95_s": round(percentile(heard, 95), 3),
        "raw_idle_heard": len(heard),
        "stored_ratio_to_raw_idle_p50": round(percentile(stored, 50) / percentile(heard, 50), 2),
        "stored_p50_s": round(percentile(stored, 50), 3),
        "stored_p95_s": round(percentile(stored, 95), 3),
        "stored_max_s": round(max(stored, default=float("nan")), 3),
        "alert_p50_s": round(percentile(alerted, 50), 3),
        "alert_p95_s": round(percentile(alerted, 95), 3),
        "alert_max_s": round(max(alerted, default=float("nan")), 3),
        "gave_up_after": given_up,
        "not_stored_within_s": {"timeout": timeout, "messages": missed_store},
        "no_alert_within_s": {"timeout": timeout, "messages": missed_alert},
        "poll_interval_s": 0.005,
        "goal_p50_s": 1.0,
    }


def bench_daemon(
    server: Dovecot,
    work: Path,
    db: Path,
    *,
    idle_seconds: float = 60,
    latency_messages: int = 100,
    warm_runs: int = 3,
    cold_runs: int = 3,
) -> dict[str, Any]:
    """Start-to-READY (cold and warm), then idle and latency on the last warm daemon.

    ``db`` is the backfill's database: the warm starts are restarts of a daemon that has
    10,000 messages behind it and nothing new to fetch.
    """
    baselines = start_baselines(work)
    cold, cold_rss = cold_starts(server, work, cold_runs)

    sink = AlertSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = bench_env(work)
    config = write_config(work, server, db=db, smtp_port=controller.port, name="daemon.yaml")
    notify = NotifySocket(work / "notify.sock")
    warm: list[float] = []
    result: dict[str, Any] = {}
    daemon: Daemon | None = None
    try:
        for i in range(warm_runs):
            daemon = start_daemon(config, env, notify, work / "daemon.log")
            assert daemon.ready_seconds is not None
            warm.append(daemon.ready_seconds)
            if i < warm_runs - 1:
                daemon.stop()
        assert daemon is not None
        # The last one stays up: mail arrives, then it idles. In that order the idle minute
        # is one of a daemon that has run for a while: every periodic job has started, so
        # a 60 s window holds one run's worth of each minutely job, wherever it starts.
        time.sleep(1)
        result["latency"] = latency(server, db, sink, latency_messages)
        settle = daemon.started + (daemon.ready_seconds or 0) + 62 - time.perf_counter()
        if settle > 0:  # a short latency run: let the first minutely run start before
            time.sleep(settle)
        result["idle"] = idle(daemon, idle_seconds)
        memory = memory_kib(daemon.pid)
        finished = daemon.stop()
        result["latency"]["peak_rss_since_start_mib"] = mib(memory["VmHWM"])
        result["latency"]["daemon_exit_code"] = finished.returncode
        result["latency"]["other_alerts_received"] = sink.others
    finally:
        if daemon is not None and daemon.proc.returncode is None:
            daemon.stop()
        notify.close()
        controller.stop()
    base = baselines["python_import_interviewd_s"]
    result["start_to_ready"] = {
        "warm_runs_s": [round(t, 3) for t in warm],
        "cold_runs_s": [round(t, 3) for t in cold],
        "warm_median_s": round(median(warm), 3),
        "cold_median_s": round(median(cold), 3),
        "cold_daemon_peak_rss_mib": cold_rss,
        "warm": "restart on the backfill's database: 10,000 messages stored, nothing new",
        "cold": "fresh database (migrations) and a first catch-up of a 20-message mailbox",
        **baselines,
        "warm_ratio_to_import": round(median(warm) / base, 1),
        "cold_ratio_to_import": round(median(cold) / base, 1),
    }
    return result
