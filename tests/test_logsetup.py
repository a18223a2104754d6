"""Logging: journald prefixes vs timestamps, JSON lines, secrets redacted, libraries quiet.

Each case runs in a child process whose standard output is a real file, so the journald
check (device:inode of stdout against $JOURNAL_STREAM) is exercised as systemd would.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interviewd import logsetup

SCRIPT = textwrap.dedent(
    """\
    import logging, sys
    from interviewd.logsetup import register_secret, setup_logging
    setup_logging(sys.argv[1], sys.argv[2])
    register_secret("hunter2-imap-pass")
    log = logging.getLogger("interviewd.test")
    log.debug("debug line")
    log.info("login as alice with %s", "hunter2-imap-pass")
    log.warning("warning line")
    log.error("error line")
    try:
        raise RuntimeError("server said hunter2-imap-pass is wrong")
    except RuntimeError:
        log.exception("it failed")
    logging.getLogger("imapclient.imaplib").info("> b'A001 LOGIN alice hunter2-imap-pass'")
    logging.getLogger("spacy").warning("a library warning")
    """
)


def run(tmp_path: Path, level: str, fmt: str, *, journal: str | None = None) -> str:
    """Run SCRIPT with stdout in a file; ``journal``: "match", "other" or None."""
    out = tmp_path / f"out-{level}-{fmt}-{journal}.log"
    out.touch()
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    if journal == "match":
        info = out.stat()
        env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
    elif journal == "other":
        info = tmp_path.stat()
        env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
    with out.open("w") as fh:
        subprocess.run(
            [sys.executable, "-c", SCRIPT, level, fmt],
            stdout=fh,
            stderr=subprocess.PIPE,
            env=env,
            check=True,
            timeout=60,
        )
    return out.read_text()


def test_under_journald_priority_prefixes_and_no_timestamps(tmp_path: Path) -> None:
    text = run(tmp_path, "debug", "text", journal="match")
    lines = text.splitlines()
    assert "<7>interviewd.test: debug line" in lines
    assert "<6>interviewd.test: login as alice with ***" in lines
    assert "<4>interviewd.test: warning line" in lines
    assert "<3>interviewd.test: error line" in lines
    # Every line of a traceback carries the prefix, or journald files it as info.
    assert all(re.match(r"<[0-7]>", line) for line in lines), lines
    assert any(line.startswith("<3>RuntimeError: server said ***") for line in lines)
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)


def test_in_a_terminal_or_file_timestamps_and_no_prefixes(tmp_path: Path) -> None:
    # JOURNAL_STREAM inherited but stdout is not the journal: no prefixes.
    text = run(tmp_path, "info", "text", journal="other")
    first = text.splitlines()[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO interviewd.test: ", first), first
    assert "<6>" not in text
    assert "debug line" not in text


def test_json_lines(tmp_path: Path) -> None:
    text = run(tmp_path, "info", "json")
    records = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["level"] == "info"
    assert records[0]["logger"] == "interviewd.test"
    assert records[0]["message"] == "login as alice with ***"
    failed = next(r for r in records if r["message"] == "it failed")
    assert "RuntimeError: server said ***" in failed["exception"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_anywhere_at_any_level(tmp_path: Path, fmt: str) -> None:
    text = run(tmp_path, "debug", fmt, journal="match" if fmt == "text" else None)
    assert "hunter2-imap-pass" not in text
    assert "***" in text


def test_noisy_libraries_quiet_unless_debugging(tmp_path: Path) -> None:
    info = run(tmp_path, "info", "text")
    assert "LOGIN" not in info  # imapclient at INFO is below its WARNING threshold
    assert "a library warning" in info
    debug = run(tmp_path, "debug", "text")
    assert "A001 LOGIN alice ***" in debug


def test_redact_longest_first_and_short_values_ignored() -> None:
    logsetup.forget_secrets()
    try:
        logsetup.register_secret("abc")  # too short to redact sensibly
        logsetup.register_secret("token-1234")
        logsetup.register_secret("token-1234-extended")
        assert logsetup.redact("a abc token-1234-extended token-1234") == "a abc *** ***"
    finally:
        logsetup.forget_secrets()


def test_unknown_level_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log level"):
        logsetup.setup_logging("loud")
    with pytest.raises(ValueError, match="log format"):
        logsetup.setup_logging("info", "xml")


def test_priority_mapping() -> None:
    assert logsetup.priority(logging.ERROR) == 3
    assert logsetup.priority(logging.WARNING) == 4
    assert logsetup.priority(logging.INFO) == 6
    assert logsetup.priority(logging.DEBUG) == 7
    assert logsetup.priority(25) == 6
