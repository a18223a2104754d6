"""IMAP ingestion against a real Dovecot: exactly once, read-only, push and recovery."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from conftest import ALICE, imap_config, interviewd
from faultkit import wait_for
from mailgen import make_message, simple_message


def db_rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "interviewd.db", timeout=30) as conn:
        return conn.execute(sql).fetchall()


def count_messages(tmp_path: Path) -> int:
    try:
        return int(db_rows(tmp_path, "select count(*) from messages")[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def flags_of(client: IMAPClient, folder: str) -> dict[int, set[bytes]]:
    client.select_folder(folder, readonly=True)
    return {
        uid: set(data[b"FLAGS"]) - {b"\\Recent"}
        for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()
    }


@pytest.fixture
def daemon(env: dict[str, str]) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(config: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "interviewd", "--config", str(config), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(config.parent / f"daemon-{len(procs)}.log", "w"),  # noqa: SIM115
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_backfill_stores_every_message_once(dovecot, imap, env, tmp_path):
    for i in range(25):
        imap.append("INBOX", make_message(i))
    imap.append(
        "Sent", simple_message("Thank you!", msgid="sent-1@example.net", sender="alice@example.net")
    )
    config = imap_config(dovecot, tmp_path)

    first = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)["work"]
    assert report["stored"] == 26
    assert set(report["folders"]) == {"INBOX", "Sent"}

    again = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert json.loads(again.stdout)["work"]["stored"] == 0
    assert count_messages(tmp_path) == 26
    assert db_rows(tmp_path, "select count(distinct message_id) from messages")[0][0] == 26
    sent = db_rows(
        tmp_path, "select from_user, folder from messages where message_id='sent-1@example.net'"
    )
    assert sent == [(1, "Sent")]


def test_sync_never_changes_a_flag(dovecot, imap, env, tmp_path):
    flag_sets = [(), (b"\\Seen",), (b"\\Flagged",), (b"\\Seen", b"\\Answered"), (b"$Label1",)]
    for i in range(15):
        imap.append("INBOX", make_message(100 + i), flags=flag_sets[i % len(flag_sets)])
    before = flags_of(imap, "INBOX")
    imap.unselect_folder()

    result = interviewd("--config", str(imap_config(dovecot, tmp_path)), "sync", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert count_messages(tmp_path) == 15
    assert flags_of(imap, "INBOX") == before
    unseen = [uid for uid, flags in before.items() if b"\\Seen" not in flags]
    assert unseen, "the test needs unseen mail to prove nothing marks it read"


def test_idle_push_stores_new_mail_within_two_seconds(dovecot, imap, daemon, tmp_path):
    imap.append("INBOX", make_message(1))
    daemon(imap_config(dovecot, tmp_path))
    wait_for(lambda: count_messages(tmp_path) == 1, 30, "the first catch-up")
    time.sleep(0.5)  # let the worker enter IDLE

    imap.append("INBOX", simple_message("Interview on Thursday?", msgid="push-1@example.net"))
    took = wait_for(lambda: count_messages(tmp_path) == 2, 2.0, "the pushed message")
    assert took < 2.0


def test_reconnects_and_catches_up_after_server_restart(dovecot, imap, daemon, tmp_path):
    imap.append("INBOX", make_message(1))
    daemon(imap_config(dovecot, tmp_path, backoff_initial_seconds=0.2, backoff_max_seconds=1))
    wait_for(lambda: count_messages(tmp_path) == 1, 30, "the first catch-up")

    dovecot.stop()
    time.sleep(2)
    dovecot.start()
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    client.login(*ALICE)
    client.append("INBOX", simple_message("After the restart", msgid="after-restart@example.net"))
    client.logout()
    wait_for(lambda: count_messages(tmp_path) == 2, 20, "catch-up after reconnect")


def test_uidvalidity_change_adds_no_duplicates(dovecot, imap, env, tmp_path):
    imap.create_folder("Jobs")
    raws = [make_message(200 + i) for i in range(12)]
    raws.append(b"From: nobody@example.net\r\nSubject: no message id\r\n\r\nplain body\r\n")
    for raw in raws:
        imap.append("Jobs", raw)
    config = imap_config(dovecot, tmp_path)
    text = config.read_text().replace(
        "username: alice", "username: alice\n    folders: [INBOX, Jobs]"
    )
    config.write_text(text)
    assert interviewd("--config", str(config), "sync", "--once", env=env).returncode == 0
    old_validity = db_rows(tmp_path, "select uidvalidity from sync_state where folder='Jobs'")[0][0]

    imap.delete_folder("Jobs")
    imap.create_folder("Jobs")
    for raw in raws:
        imap.append("Jobs", raw)
    imap.append("Jobs", make_message(999))
    result = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["work"]["stored"] == 1
    assert count_messages(tmp_path) == 14
    new_validity = db_rows(tmp_path, "select uidvalidity from sync_state where folder='Jobs'")[0][0]
    assert new_validity != old_validity
    located = db_rows(
        tmp_path, f"select count(*) from message_locations where uidvalidity={new_validity}"
    )
    assert located[0][0] == 14


def test_kill_9_during_backfill_then_restart_stores_each_message_once(dovecot, daemon, tmp_path):
    total = 5000
    dovecot.deliver_files("alice", (make_message(i, size_hint=1500) for i in range(total)))
    config = imap_config(dovecot, tmp_path, batch_size=50)

    proc = daemon(config)
    wait_for(lambda: count_messages(tmp_path) >= 300, 120, "part of the backfill")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = count_messages(tmp_path)
    assert 0 < partial < total

    daemon(config)
    wait_for(lambda: count_messages(tmp_path) == total, 300, "the rest of the backfill")
    time.sleep(1)
    assert count_messages(tmp_path) == total
    assert db_rows(tmp_path, "select count(distinct message_id) from messages")[0][0] == total
    assert db_rows(tmp_path, "select count(*) from message_locations")[0][0] == total


def test_malformed_and_oversized_mail_is_quarantined_and_the_next_one_stored(
    dovecot, imap, env, tmp_path
):
    imap.append("INBOX", make_message(1))
    imap.append("INBOX", b"\x00\x01\x02 not a mail at all \xff\xfe\r\n\r\n\x00")
    big = simple_message("Huge attachment", "x" * 5000, msgid="huge@example.net")
    imap.append("INBOX", big)
    imap.append("INBOX", simple_message("Still stored", msgid="after-bad@example.net"))
    config = imap_config(dovecot, tmp_path, max_message_bytes=4000)
    result = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert count_messages(tmp_path) == 4
    rows = dict(db_rows(tmp_path, "select message_id, status from messages"))
    assert rows["after-bad@example.net"] == "ok"
    assert rows["huge@example.net"] == "quarantined"
    errors = db_rows(tmp_path, "select error from messages where status='quarantined'")
    assert any("max_message_bytes" in e[0] for e in errors)

    listed = interviewd("--config", str(config), "messages", "--json", env=env)
    statuses = {m["status"] for m in json.loads(listed.stdout)}
    assert "quarantined" in statuses


def test_wrong_password_is_one_clear_line_without_the_secret(dovecot, env, tmp_path, credentials):
    (credentials / "imap-work").write_text("not-the-password-4711\n")
    result = interviewd("--config", str(imap_config(dovecot, tmp_path)), "sync", "--once", env=env)
    assert result.returncode == 1
    assert "login refused" in result.stderr
    assert "not-the-password-4711" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_sigterm_exits_cleanly(dovecot, imap, daemon, tmp_path):
    imap.append("INBOX", make_message(1))
    proc = daemon(imap_config(dovecot, tmp_path))
    wait_for(lambda: count_messages(tmp_path) == 1, 30, "the first catch-up")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert not os.path.exists(f"/proc/{proc.pid}/status") or proc.returncode == 0
