"""The daemon as systemd runs it: READY, WATCHDOG, SIGTERM, SIGHUP, status, clean logs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import ALICE, imap_config, interviewd
from faultkit import wait_for
from mailgen import make_message
from test_imap_sync import count_messages


def notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    return sock


def read_notifications(sock: socket.socket, seconds: float) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
    return got


def start_daemon(config: Path, env: dict[str, str], log: Path, **extra: str):
    return subprocess.Popen(
        [sys.executable, "-m", "interviewd", "--config", str(config), "run"],
        env=env | extra,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )


def test_ready_after_the_first_catch_up_then_watchdog_pings(dovecot, imap, env, tmp_path):
    imap.append("INBOX", make_message(1))
    sock = notify_socket(tmp_path)
    config = imap_config(dovecot, tmp_path, idle_renew_minutes=0.05)  # renew every 3 s
    proc = start_daemon(
        config,
        env,
        tmp_path / "log.txt",
        NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
        WATCHDOG_USEC="60000000",
        WATCHDOG_PID="",
    )
    try:
        lines = read_notifications(sock, 12)
        assert "READY=1" in lines
        ready_at = lines.index("READY=1")
        assert count_messages(tmp_path) == 1  # READY came after the catch-up
        assert "WATCHDOG=1" in lines[ready_at:] or lines.count("WATCHDOG=1") >= 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert "STOPPING=1" in read_notifications(sock, 0.5)


def test_sigterm_mid_backfill_exits_0_and_loses_nothing(dovecot, env, tmp_path):
    total = 1500
    dovecot.deliver_files("alice", (make_message(i, size_hint=1200) for i in range(total)))
    config = imap_config(dovecot, tmp_path, batch_size=25)
    proc = start_daemon(config, env, tmp_path / "log.txt")
    wait_for(lambda: count_messages(tmp_path) >= 100, 120, "part of the backfill")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    stored = count_messages(tmp_path)
    assert stored < total
    result = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["work"]["stored"] == total - stored
    assert count_messages(tmp_path) == total


def test_sighup_with_a_broken_config_keeps_the_old_one(dovecot, imap, env, tmp_path):
    config = imap_config(dovecot, tmp_path)
    log = tmp_path / "log.txt"
    proc = start_daemon(config, env, log)
    try:
        imap.append("INBOX", make_message(1))
        wait_for(lambda: count_messages(tmp_path) == 1, 60, "the first catch-up")
        good = config.read_text()
        config.write_text(good + "sync: {batch_size: zero}\nbogus_key: 1\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the old one" in log.read_text(), 10, "the reload error")
        assert proc.poll() is None
        imap.append("INBOX", make_message(2))
        wait_for(lambda: count_messages(tmp_path) == 2, 10, "mail after the failed reload")
        config.write_text(good)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloading the config" in log.read_text(), 10, "the good reload")
        imap.append("INBOX", make_message(3))
        wait_for(lambda: count_messages(tmp_path) == 3, 15, "mail after the reload")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_status_from_another_process_and_logs_without_the_password(dovecot, imap, env, tmp_path):
    imap.append("INBOX", make_message(1))
    config = imap_config(dovecot, tmp_path)
    log = tmp_path / "log.txt"
    proc = start_daemon(config, env, log)
    try:
        wait_for(lambda: count_messages(tmp_path) == 1, 60, "the first catch-up")

        def running() -> bool:
            result = interviewd("--config", str(config), "status", "--json", env=env)
            return result.returncode == 0 and json.loads(result.stdout)["daemon"]["running"]

        wait_for(running, 45, "the heartbeat")
        status = json.loads(interviewd("--config", str(config), "status", "--json", env=env).stdout)
        assert status["daemon"]["pid"] == proc.pid
        assert [a["mode"] for a in status["accounts"]] == ["idle"]
        assert {f["folder"] for f in status["folders"]} >= {"INBOX", "Sent"}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    text = log.read_text()
    assert "watching 1 account" in text
    assert ALICE[1] not in text
    stopped = json.loads(interviewd("--config", str(config), "status", "--json", env=env).stdout)
    assert stopped["daemon"]["running"] is False


def test_verbose_logs_redact_the_password(dovecot, imap, env, tmp_path):
    imap.append("INBOX", make_message(1))
    config = imap_config(dovecot, tmp_path)
    result = interviewd("-vv", "--config", str(config), "sync", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "LOGIN" in result.stderr or "login" in result.stderr.lower()
    assert ALICE[1] not in result.stderr + result.stdout
