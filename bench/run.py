"""Benchmarks for `make bench`: figures as ratios against a baseline measured in the same run.

Backfill: 10,000 realistic messages in a real Dovecot; interviewd's whole
pipeline (fetch, parse, store) against a raw imapclient ``BODY.PEEK[]`` fetch of
the same folder. Results go to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from imapclient import IMAPClient  # noqa: E402

from mailgen import make_message  # noqa: E402
from servers import Dovecot  # noqa: E402

USER = ("alice", "bench-pass")


def raw_fetch(server: Dovecot, batch: int = 100) -> tuple[float, int, int]:
    """Seconds, messages and bytes for a plain imapclient BODY.PEEK[] fetch of INBOX."""
    start = time.perf_counter()
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=60)
    client.login(*USER)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    size = 0
    for i in range(0, len(uids), batch):
        for data in client.fetch(uids[i : i + batch], ["BODY.PEEK[]"]).values():
            size += len(data[b"BODY[]"])
    client.logout()
    return time.perf_counter() - start, len(uids), size


def interviewd_backfill(server: Dovecot, work: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `interviewd sync --once` over the same folder."""
    creds = work / "creds"
    creds.mkdir()
    (creds / "imap-bench").write_text(USER[1])
    config = work / "config.yaml"
    config.write_text(
        f"accounts:\n  - name: bench\n    host: {server.host}\n    port: {server.port}\n"
        f"    security: none\n    username: {USER[0]}\n    sent_folder: ''\n"
        f"store:\n  url: sqlite:///{work}/bench.db\n"
    )
    env = dict(
        os.environ,
        CREDENTIALS_DIRECTORY=str(creds),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "interviewd",
            "-q",
            "--config",
            str(config),
            "sync",
            "--once",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"interviewd sync failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)["bench"]
    if report["stored"] + report["quarantined"] == 0:
        raise SystemExit("interviewd stored nothing")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before)


def bench_backfill(count: int) -> dict[str, Any]:
    server = Dovecot(users=[USER])
    server.start()
    try:
        server.deliver_files(USER[0], (make_message(i) for i in range(count)))
        raw_fetch(server)  # warm Dovecot's index and the page cache for both runs alike
        raw_seconds, fetched, size = raw_fetch(server)
        with tempfile.TemporaryDirectory() as work:
            seconds, rss_kib = interviewd_backfill(server, Path(work))
    finally:
        server.cleanup()
    raw_rate = fetched / raw_seconds
    rate = count / seconds
    return {
        "messages": count,
        "mean_message_bytes": round(size / max(fetched, 1)),
        "raw_fetch_msgs_per_s": round(raw_rate, 1),
        "interviewd_msgs_per_s": round(rate, 1),
        "ratio_to_raw_fetch": round(rate / raw_rate, 3),
        "goal_ratio": 0.2,
        "peak_rss_mib": round(rss_kib / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    results: dict[str, Any] = {"backfill": bench_backfill(args.messages)}
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    b = results["backfill"]
    print(f"{'benchmark':<28}{'figure':>14}{'baseline':>14}{'ratio':>10}{'goal':>8}")
    print(
        f"{'backfill (msgs/s)':<28}{b['interviewd_msgs_per_s']:>14}"
        f"{b['raw_fetch_msgs_per_s']:>14}{b['ratio_to_raw_fetch']:>10}{'>=0.2':>8}"
    )
    print(f"{'backfill peak RSS (MiB)':<28}{b['peak_rss_mib']:>14}")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
