"""Parsing in worker processes gives what parsing inline gives, and survives a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from interviewd.parsepool import (
    PARALLEL_MIN_MESSAGES,
    MailParser,
    ParallelMailParser,
    parse_many,
    parser_for,
)
from mailgen import inbox_message

BROKEN = [
    b"",  # empty: ParseError
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi",
    b"\xff\xfe\x00garbage\r\n\r\n\x00\x01",
]


def corpus() -> list[bytes]:
    mail = [inbox_message(i) for i in range(40)]
    return mail[:10] + BROKEN + mail[10:]


def test_workers_give_the_inline_outcomes_in_order():
    raws = corpus()
    with ParallelMailParser(200_000, workers=2) as parser:
        outcomes = parser.submit(raws)()
        again = parser.submit(raws[:1])()  # a batch of one is parsed inline
    assert outcomes == parse_many(raws, 200_000)
    assert [o.parsed is None for o in outcomes].count(True) >= 1
    assert again == parse_many(raws[:1], 200_000)


def test_a_dead_worker_falls_back_to_inline_parsing():
    raws = corpus()
    parser = ParallelMailParser(200_000, workers=2)
    try:
        assert parser.submit(raws)() == parse_many(raws, 200_000)  # the workers are up
        pool = parser._pool
        assert pool is not None
        for pid in list(pool._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        assert parser.submit(raws)() == parse_many(raws, 200_000)
        assert parser.submit(raws)() == parse_many(raws, 200_000)  # and inline from then on
        assert parser._pool is None
    finally:
        parser.close()


def test_only_big_catch_ups_use_workers():
    small = parser_for(PARALLEL_MIN_MESSAGES - 1, 1000)
    assert type(small) is MailParser
    big = parser_for(PARALLEL_MIN_MESSAGES, 1000)
    try:
        assert isinstance(big, ParallelMailParser) == (len(os.sched_getaffinity(0)) > 1)
    finally:
        big.close()
    assert type(parser_for(10**6, 1000, parallel=False)) is MailParser


def test_workers_exit_when_the_daemon_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        "import time\n"
        "from interviewd.parsepool import ParallelMailParser\n"
        "if __name__ == '__main__':  # the workers import this module too\n"
        "    parser = ParallelMailParser(1000, workers=2)\n"
        "    parser.submit([b'Subject: a\\r\\n\\r\\nx', b'Subject: b\\r\\n\\r\\ny'])()\n"
        "    print(' '.join(str(p) for p in parser._pool._processes), flush=True)\n"
        "    time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_script_without_a_main_guard_is_not_run_again_by_the_workers(tmp_path):
    marker = tmp_path / "runs"
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from interviewd.parsepool import ParallelMailParser\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "parser = ParallelMailParser(1000, workers=2)\n"
        "outcomes = parser.submit([b'Subject: a\\r\\n\\r\\nx', b'Subject: b\\r\\n\\r\\ny'])()\n"
        "assert parser._pool is not None, 'the pool broke'\n"
        "parser.close()\n"
        "print(sorted(o.parsed.subject for o in outcomes))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a', 'b']"
    assert marker.read_text() == "run\n"  # once, in the parent only


def test_a_big_maildir_catch_up_parses_in_workers(tmp_path, monkeypatch):
    from interviewd import parsepool
    from interviewd.config import parse_config_text
    from interviewd.service import open_store, sync_all_once

    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    count = PARALLEL_MIN_MESSAGES + 37
    for i in range(count):
        (root / "cur" / f"{i:05d}.test:2,S").write_bytes(inbox_message(i))
    (root / "cur" / "broken.test:2,S").write_bytes(b"")  # quarantined, not lost
    config = parse_config_text(
        f"accounts: [{{name: me, type: maildir, path: '{root}', sent_folder: ''}}]\n"
        f"store: {{url: 'sqlite:///{tmp_path}/t.db'}}\n"
    )
    batches: list[int] = []
    submit = parsepool.ParallelMailParser.submit

    def counted(self, raws):  # type: ignore[no-untyped-def]
        batches.append(len(raws))
        return submit(self, raws)

    monkeypatch.setattr(parsepool.ParallelMailParser, "submit", counted)
    store = open_store(config)
    try:
        [report] = sync_all_once(config, store).values()
        assert not isinstance(report, str)
        assert (report.stored, report.quarantined) == (count, 1)
        assert sum(batches) == count + 1  # every message went through the workers
        assert len({m.identity for m in store.recent_messages(count + 1)}) == count + 1
    finally:
        store.close()


def test_outcomes_that_cannot_come_back_are_parsed_here():
    from concurrent.futures import Future

    raws = corpus()[:5]
    failed: Future[list] = Future()
    failed.set_exception(TypeError("cannot pickle 'weird_tz' object"))
    parser = ParallelMailParser(200_000, workers=2)
    try:
        assert parser._result(failed, raws) == parse_many(raws, 200_000)
        assert parser._pool is not None  # the workers are fine: they stay in use
    finally:
        parser.close()
