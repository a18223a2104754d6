"""Backfill: ``interviewd sync --once`` over a big folder against a raw imapclient fetch of it.

The headline figure is the real command in its own process, timed from spawn to exit (so it
includes Python's start, the imports and the model load, as a user's first sync does). The
stage breakdown is a second pass in this process on a fresh database, with timers around the
pipeline's stages, to show where that time goes.
"""

from __future__ import annotations

import cProfile
import functools
import io
import json
import os
import pstats
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import USER, Server, bench_env, interviewd_cmd, mib, timed_run, write_config
from imapclient import IMAPClient

from servers import Dovecot


def raw_fetch(server: Dovecot, batch: int = 100) -> tuple[float, int, int]:
    """Seconds, messages and bytes for a plain imapclient BODY.PEEK[] fetch of INBOX.

    Batches of 100, as interviewd's default ``sync.batch_size`` fetches them.
    """
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


def sync_once(server: Dovecot, work: Path, count: int) -> dict[str, Any]:
    """`interviewd sync --once` in its own process; leaves its database in ``work``."""
    config = write_config(work, server, db=work / "backfill.db", name="backfill.yaml")
    done, out = timed_run(interviewd_cmd(config, "-q", "sync", "--once", "--json"), bench_env(work))
    if done.returncode != 0:
        raise SystemExit(f"interviewd sync --once failed ({done.returncode}): {out[-2000:]}")
    report = json.loads(out)["bench"]
    handled = report["stored"] + report["quarantined"]
    if handled != count:
        raise SystemExit(f"interviewd sync --once handled {handled} of {count} messages")
    return {
        "seconds": round(done.seconds, 2),
        "msgs_per_s": round(count / done.seconds, 1),
        "peak_rss_mib": mib(done.peak_rss_kib),
        "cpu_seconds": round(done.cpu_seconds, 2),
        "stored": report["stored"],
        "quarantined": report["quarantined"],
    }


@contextmanager
def _timers(targets: list[tuple[Any, str, str]]) -> Iterator[dict[str, float]]:
    """Wrap ``owner.attr`` so that the seconds spent in it add up under ``label``."""
    spent: dict[str, float] = {label: 0.0 for _, _, label in targets}
    originals = []
    for owner, attr, label in targets:
        original = getattr(owner, attr)
        originals.append((owner, attr, original))

        def make(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
            @functools.wraps(fn)
            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent[key] += time.perf_counter() - start

            return timed

        setattr(owner, attr, make(original, label))
    try:
        yield spent
    finally:
        for owner, attr, original in originals:
            setattr(owner, attr, original)


PARSE = "parse (sha256; parse_message in the workers, waited for)"


def stages(server: Server, work: Path, count: int, profile: Path | None = None) -> dict[str, Any]:
    """The same backfill in this process, fresh database, with a timer on each stage.

    With ``profile``, it runs under cProfile (so every stage is slower) and the functions
    taking the most time are written to that file.
    """
    from interviewd import parsepool
    from interviewd.applications import TrackingService
    from interviewd.config import load_config
    from interviewd.service import Ingestor, load_classifier, open_store, sync_all_once
    from interviewd.store import Store

    config_path = write_config(work, server, db=work / "stages.db", name="stages.yaml")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(bench_env(work))  # the same secrets and data folders as the child had
    try:
        start = time.perf_counter()
        config, _ = load_config(str(config_path))
        classifier = load_classifier(config)
        store = open_store(config)
        loaded = time.perf_counter()
        targets = [
            (IMAPClient, "fetch", "fetch (IMAP FETCH BODY.PEEK[])"),
            # Parsing happens in worker processes on a backfill this big: what the daemon
            # spends on it is the sha256, handing the mail over and waiting for the results.
            (Ingestor, "unparsed", PARSE),
            (Ingestor, "parsed", PARSE),
            (parsepool.ParallelMailParser, "submit", PARSE),
            (parsepool.ParallelMailParser, "_result", PARSE),
            (parsepool, "parse_many", PARSE),  # inline only: the workers are other processes
            (Ingestor, "classify", "classify (model_text + model + signals)"),
            (Store, "save_batch", "store (save_batch)"),
        ]
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        with _timers(targets) as spent:
            sync_all_once(config, store, classifier=classifier)
        synced = time.perf_counter()
        TrackingService(config, store).process_new_messages()
        tracked = time.perf_counter()
        if profiler is not None and profile is not None:
            profiler.disable()
            _write_profile(profiler, profile)
        store.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    rows: dict[str, float] = {"start (config, model load, migrations; no imports)": loaded - start}
    rows.update(spent)
    rows["other (search, examine, progress, commits)"] = (synced - loaded) - sum(spent.values())
    rows["match (TrackingService.process_new_messages)"] = tracked - synced
    total = tracked - start
    return {
        "profiled": bool(profile),
        "messages": count,
        "total_seconds": round(total, 2),
        "msgs_per_s": round(count / total, 1),
        "msgs_per_s_without_match": round(count / (synced - start), 1),
        "stages": {
            name: {
                "seconds": round(seconds, 2),
                "ms_per_msg": round(seconds / count * 1000, 3),
                "share": round(seconds / total, 3),
            }
            for name, seconds in rows.items()
        },
    }


def _write_profile(profiler: cProfile.Profile, path: Path) -> None:
    out = io.StringIO()
    out.write("The in-process backfill under cProfile: the functions taking the most time.\n")
    stats = pstats.Stats(profiler, stream=out)
    for order, restriction in (("cumulative", "interviewd"), ("tottime", "")):
        out.write(f"\n== by {order}" + (f", {restriction} only" if restriction else "") + "\n")
        stats.sort_stats(order).print_stats(*(restriction,) if restriction else (), 30)
    path.write_text(out.getvalue())
