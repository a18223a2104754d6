"""Benchmarks for `make bench`: each figure against a baseline measured in the same run.

1. Backfill: 10,000 messages of a job seeker's mailbox (tests/mailgen.py inbox_message: 30%
   employer mail from 150 companies, 70% newsletters, alerts, receipts and friends; `--mail
   job` for the tracker's worst case) in a real Dovecot; `interviewd sync --once` (fetch,
   parse, classify, match, store) against a raw imapclient ``BODY.PEEK[]`` fetch of the same
   folder, its peak RSS, and a per-stage breakdown of the same work.
2. Classification alone on ~2 KB mail: the model on prepared text and end to end, against the
   text preparation (``model_text``) alone.
3. Detection latency with IDLE: APPEND by another connection -> stored, and -> offer or
   rejection alert received by an SMTP server on loopback; p50 and p95 over 100 messages.
4. The idle daemon over 60 s (after the latency run, on the backfilled database): CPU seconds
   and RSS.
5. Start to READY=1 on a NOTIFY_SOCKET the benchmark owns, against plain process starts.

Results go to bench/results.json; the summary table is printed and written to
bench/results.md, in the shape the README keeps between its bench-table markers. The parts:
harness.py (shared), backfill.py, classification.py, daemon_bench.py; worker.py runs the
in-process ones in a fresh process each. `--profile FILE` adds a cProfile of the backfill.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backfill import raw_fetch, sync_once
from daemon_bench import bench_daemon
from harness import ROOT, SMALL_USER, USER, start_dovecot

from mailgen import inbox_message, make_message

GOAL_BACKFILL_RATIO = 0.15
GOAL_STAGE_RATIO = 0.2  # issue 2's goal for the pipeline stage
GOAL_CLASSIFY = 3000
GOAL_P50 = 1.0
GOAL_RSS_BYTES = 200e6  # "under 200 MB"


LOAD: list[dict[str, Any]] = []  # the machine's load average as each part began


def log(text: str) -> None:
    LOAD.append({"part": text, "loadavg_1min": os.getloadavg()[0]})
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def in_worker(kind: str, **args: Any) -> dict[str, Any]:
    """Run one in-process benchmark in a fresh process (bench/worker.py says why)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("worker.py")), kind, json.dumps(args)],
        stdout=subprocess.PIPE,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def bench_backfill(
    server: Any, work: Path, count: int, with_stages: bool, profile: Path | None
) -> dict[str, Any]:
    log(f"raw fetch of {count:,} messages (one warm-up, best of two)")
    raw_fetch(server)  # warm Dovecot's index and the page cache for every run alike
    runs = [raw_fetch(server) for _ in range(2)]
    raw_seconds, fetched, size = min(runs)
    if fetched != count:
        raise SystemExit(f"the raw fetch saw {fetched} messages, not {count}")
    log("interviewd sync --once")
    sync = sync_once(server, work, count)
    raw_rate = fetched / raw_seconds
    result: dict[str, Any] = {
        "messages": count,
        "mean_message_bytes": round(size / fetched),
        "raw_fetch_msgs_per_s": round(raw_rate, 1),
        "raw_fetch_seconds": round(raw_seconds, 3),
        "interviewd_msgs_per_s": sync["msgs_per_s"],
        "interviewd_seconds": sync["seconds"],
        "ratio_to_raw_fetch": round(sync["msgs_per_s"] / raw_rate, 4),
        "goal_ratio": GOAL_BACKFILL_RATIO,
        "stage_goal_ratio": GOAL_STAGE_RATIO,
        "peak_rss_mib": sync["peak_rss_mib"],
        "cpu_seconds": sync["cpu_seconds"],
        "stored": sync["stored"],
        "quarantined": sync["quarantined"],
    }
    if with_stages:
        log("the same backfill in-process, timed per stage")
        result["stages"] = in_worker(
            "stages",
            host=server.host,
            port=server.port,
            work=str(work),
            messages=count,
            profile=str(profile.resolve()) if profile else None,
        )
    return result


# -- the table -----------------------------------------------------------------------------


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str, str]] = []
    b = results.get("backfill")
    if b:
        rows.append(
            (
                f"Backfill of {_n(b['messages'])} messages, whole pipeline "
                "(`interviewd sync --once`: fetch, parse, classify, match, store)",
                f"{_n(b['interviewd_msgs_per_s'])} msgs/s",
                f"raw imapclient `BODY.PEEK[]` fetch: {_n(b['raw_fetch_msgs_per_s'])} msgs/s",
                f"{b['ratio_to_raw_fetch']:.3f}",
                f">= {GOAL_BACKFILL_RATIO}",
                _met(b["ratio_to_raw_fetch"] >= GOAL_BACKFILL_RATIO),
            )
        )
        if "stages" in b:
            s = b["stages"]
            ratio = s["msgs_per_s_without_match"] / b["raw_fetch_msgs_per_s"]
            rows.append(
                (
                    "Backfill without matching (same work in-process, tracking left out)",
                    f"{_n(s['msgs_per_s_without_match'])} msgs/s",
                    "raw fetch, as above",
                    f"{ratio:.3f}",
                    f">= {GOAL_STAGE_RATIO} (issue 2)",
                    _met(ratio >= GOAL_STAGE_RATIO),
                )
            )
        rows.append(("Backfill peak RSS", f"{_n(b['peak_rss_mib'])} MiB", "", "", "", ""))
        # The ceiling this machine puts on the backfill: its CPU time spread over every core.
        cores = results["meta"]["cpus"] or 1
        per_message = b["cpu_seconds"] / b["messages"]
        ceiling = cores / per_message
        rows.append(
            (
                "Backfill CPU time, every process (parser workers included)",
                f"{b['cpu_seconds']:.1f} s ({per_message * 1000:.2f} ms per message)",
                f"{cores} cores fully used would give at most {_n(ceiling)} msgs/s",
                f"{ceiling / b['raw_fetch_msgs_per_s']:.3f} (at most)",
                "",
                "",
            )
        )
    c = results.get("classification")
    if c:
        base = f"`model_text` alone: {_n(c['model_text_msgs_per_s'])} msgs/s"
        rows.append(
            (
                f"Classification, model on prepared text (~{_n(c['mean_message_bytes'])} B mail)",
                f"{_n(c['model_msgs_per_s'])} msgs/s",
                base,
                f"{c['model_ratio_to_model_text']:.2f}",
                f">= {_n(GOAL_CLASSIFY)} msgs/s",
                _met(c["model_msgs_per_s"] >= GOAL_CLASSIFY),
            )
        )
        rows.append(
            (
                "Classification end to end (`model_text` + model)",
                f"{_n(c['end_to_end_msgs_per_s'])} msgs/s",
                base,
                f"{c['end_to_end_ratio_to_model_text']:.2f}",
                f">= {_n(GOAL_CLASSIFY)} msgs/s",
                _met(c["end_to_end_msgs_per_s"] >= GOAL_CLASSIFY),
            )
        )
    d = results.get("daemon")
    if d:
        lat = d["latency"]
        missed = len(lat["not_stored_within_s"]["messages"])
        no_alert = len(lat["no_alert_within_s"]["messages"])
        raw_idle = (
            f"plain imapclient IDLE hears EXISTS: {lat['raw_idle_p50_s']:.3f} / "
            f"{lat['raw_idle_p95_s']:.3f} s"
        )
        late = f", {missed} not stored within {lat['not_stored_within_s']['timeout']:g} s"
        rows.append(
            (
                f"Detection with IDLE, APPEND -> stored, p50 / p95 ({lat['messages']} messages"
                + (late if missed else "")
                + ")",
                f"{lat['stored_p50_s']:.3f} / {lat['stored_p95_s']:.3f} s",
                raw_idle,
                f"{lat['stored_ratio_to_raw_idle_p50']:.2f} (p50)",
                f"p50 < {GOAL_P50:g} s",
                _met(lat["stored_p50_s"] < GOAL_P50 and not missed),
            )
        )
        rows.append(
            (
                "Detection with IDLE, APPEND -> offer/rejection alert at the SMTP server, "
                "p50 / p95" + (f" ({no_alert} without an alert)" if no_alert else ""),
                f"{lat['alert_p50_s']:.3f} / {lat['alert_p95_s']:.3f} s",
                "as above",
                f"{lat['alert_p50_s'] / lat['raw_idle_p50_s']:.2f} (p50)",
                f"p50 < {GOAL_P50:g} s",
                _met(lat["alert_p50_s"] < GOAL_P50 and not no_alert),
            )
        )
        idle = d["idle"]
        rows.append(
            (
                f"Idle daemon over {idle['seconds']:g} s (after the latency run): CPU time",
                f"{idle['cpu_seconds']:.2f} s ({idle['cpu_percent_of_one_core']:.2f} % of a core;"
                f" {idle['busy_seconds']} busy seconds, "
                f"{idle['cpu_seconds_outside_busy_seconds']:.2f} s outside them)",
                "",
                "",
                "",
                "",
            )
        )
        peak_bytes = idle["peak_rss_since_start_mib"] * 1024 * 1024
        rows.append(
            (
                "Idle daemon: RSS during idle / peak since start",
                f"{_n(idle['peak_rss_during_idle_mib'])} / "
                f"{_n(idle['peak_rss_since_start_mib'])} MiB",
                "",
                "",
                "< 200 MB (190.7 MiB)",
                _met(peak_bytes < GOAL_RSS_BYTES),
            )
        )
        r = d["start_to_ready"]
        base = f'`python -c "import interviewd"`: {r["python_import_interviewd_s"]:.3f} s'
        rows.append(
            (
                "Start to READY=1, restart (10,000 messages stored, nothing new)",
                f"{r['warm_median_s']:.2f} s",
                base,
                f"{r['warm_ratio_to_import']:g}x",
                "",
                "",
            )
        )
        rows.append(
            (
                "Start to READY=1, first start (fresh database, 20-message mailbox)",
                f"{r['cold_median_s']:.2f} s",
                base,
                f"{r['cold_ratio_to_import']:g}x",
                "",
                "",
            )
        )
        rows.append(
            (
                "Start, for comparison: `interviewd --version` / load the model in a new process",
                f"{r['interviewd_version_s']:.2f} / {r['python_load_model_s']:.2f} s",
                "",
                "",
                "",
                "",
            )
        )
        rows.append(
            (
                "Peak RSS, for comparison: daemon on the 20-message mailbox / "
                "a process that only loads the model",
                f"{_n(r['cold_daemon_peak_rss_mib'])} / "
                f"{_n(r['python_load_model_peak_rss_mib'])} MiB",
                "",
                "",
                "",
                "",
            )
        )
    header = ("benchmark", "figure", "baseline (same run)", "ratio", "goal", "met")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if b and "stages" in b:
        s = b["stages"]
        lines += [
            "",
            f"Where the backfill's time goes ({_n(s['messages'])} messages, in-process, "
            f"{_n(s['msgs_per_s'])} msgs/s in all"
            + (", under cProfile" if s.get("profiled") else "")
            + "):",
            "",
            "| stage | ms per message | share |",
            "|---|---|---|",
        ]
        for name, stage in s["stages"].items():
            lines.append(f"| {name} | {stage['ms_per_msg']:.3f} | {stage['share']:.0%} |")
    meta = results["meta"]
    lines += [
        "",
        f"Measured {meta['date']} on {meta['cpus']} cores, Python {meta['python']}; "
        "medians and percentiles as described in bench/run.py; raw figures in "
        "bench/results.json.",
    ]
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000, help="backfill size")
    parser.add_argument("--latency-messages", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--classify-messages", type=int, default=3000)
    parser.add_argument(
        "--mail",
        choices=("inbox", "job"),
        default="inbox",
        help="inbox: a job seeker's mailbox, 30%% employer mail from 150 companies (default); "
        "job: every message employer mail of 6 companies (the tracker's worst case)",
    )
    parser.add_argument("--no-stages", action="store_true", help="skip the stage breakdown")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run the stage breakdown under cProfile and write its top functions to FILE",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench", help="folder for results.json/.md"
    )
    args = parser.parse_args()

    started = time.monotonic()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "messages": args.messages,
            "mail": args.mail,
        }
    }
    log(f"classification of {args.classify_messages:,} messages")
    results["classification"] = in_worker(
        "classification", messages=args.classify_messages, repeats=5
    )

    server = start_dovecot()
    try:
        with tempfile.TemporaryDirectory(prefix="interviewd-bench-") as tmp:
            work = Path(tmp)
            log(f"delivering {args.messages:,} generated messages to Dovecot")
            generate = inbox_message if args.mail == "inbox" else make_message
            server.deliver_files(USER[0], (generate(i) for i in range(args.messages)))
            server.deliver_files(SMALL_USER[0], (generate(i) for i in range(20)))
            results["backfill"] = bench_backfill(
                server, work, args.messages, not args.no_stages, args.profile
            )
            log("daemon: start to READY, idle, detection latency")
            results["daemon"] = bench_daemon(
                server,
                work,
                work / "backfill.db",
                idle_seconds=args.idle_seconds,
                latency_messages=args.latency_messages,
            )
    finally:
        server.cleanup()
    results["meta"]["bench_seconds"] = round(time.monotonic() - started, 1)
    results["meta"]["load"] = LOAD

    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = table(results)
    (args.output / "results.md").write_text(markdown)
    print(markdown)
    log(f"done in {results['meta']['bench_seconds']:.0f} s; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
