"""What every benchmark shares: paths, configs, child processes and /proc readings.

Nothing here measures anything by itself; the modules beside it do.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # servers.py (Dovecot) and mailgen.py

from servers import Dovecot  # noqa: E402

USER = ("alice", "bench-pass")  # the big mailbox: backfill, daemon, latency
SMALL_USER = ("bob", "bench-pass-2")  # a small mailbox: cold start to READY
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


class Server(Protocol):
    """Where the test Dovecot listens: a ``servers.Dovecot``, or an Endpoint in a worker."""

    host: str
    port: int


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually measured."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def start_dovecot() -> Dovecot:
    server = Dovecot(users=[USER, SMALL_USER])
    server.start()
    return server


def write_config(
    work: Path,
    server: Server,
    *,
    user: str = USER[0],
    db: Path,
    smtp_port: int | None = None,
    name: str = "config.yaml",
) -> Path:
    """An interviewd config for one IMAP account on the test Dovecot (and an email channel)."""
    alerts = ""
    if smtp_port is not None:
        alerts = textwrap.dedent(
            f"""\
            alerts:
              channels:
                - name: mail
                  type: email
                  smtp_host: 127.0.0.1
                  smtp_port: {smtp_port}
                  smtp_security: none
                  from_address: interviewd@bench.example
                  to_address: sam@example.net
            """
        )
    path = work / name
    path.write_text(
        textwrap.dedent(
            f"""\
            accounts:
              - name: bench
                host: {server.host}
                port: {server.port}
                security: none
                username: {user}
                secret: imap-{user}
            store:
              url: sqlite:///{db}
            """
        )
        + alerts
    )
    return path


def bench_env(work: Path) -> dict[str, str]:
    """The environment of every interviewd child: secrets from a credentials folder, and no
    trace of the user's own config, data (a personal model would be picked up) or systemd."""
    creds = work / "credentials"
    creds.mkdir(exist_ok=True)
    for user, password in (USER, SMALL_USER):
        (creds / f"imap-{user}").write_text(password + "\n")
    env = dict(os.environ)
    for key in ("INTERVIEWD_CONFIG", "STATE_DIRECTORY", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        env.pop(key, None)
    env.update(
        CREDENTIALS_DIRECTORY=str(creds),
        XDG_DATA_HOME=str(work / "data"),
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        WATCHDOG_PID="",
    )
    return env


def interviewd_cmd(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "interviewd", "--config", str(config), *args]


@dataclass
class Finished:
    seconds: float  # from just before the spawn to the exit being reaped
    returncode: int
    peak_rss_kib: int  # ru_maxrss of this child alone (wait4)
    cpu_seconds: float  # user + system time of this child alone


def reap(proc: subprocess.Popen[Any], started: float, timeout: float) -> Finished:
    """Wait for ``proc`` with wait4(2), so its own peak RSS and CPU time are known.

    ``getrusage(RUSAGE_CHILDREN)`` would mix in every other child the benchmark ran (Dovecot,
    earlier runs); wait4 gives exactly this process's figures.
    """
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Finished(
        seconds=seconds,
        returncode=proc.returncode,
        peak_rss_kib=int(usage.ru_maxrss),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def timed_run(cmd: list[str], env: dict[str, str], timeout: float = 600) -> tuple[Finished, str]:
    """Run ``cmd`` to the end; its measurements and its standard output."""
    with open(os.devnull, "wb") as devnull:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=devnull)
        assert proc.stdout is not None
        out = proc.stdout.read()  # small: the JSON report at most
        done = reap(proc, started, timeout)
    return done, out.decode(errors="replace")


# -- /proc readings of a live process -------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of every thread of ``pid`` so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5) (utime, stime) are 12 and 13 after "pid (comm)".
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak over the process's life), in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def mib(kib: float) -> float:
    return round(kib / 1024, 1)
