"""The benchmarks that run inside one Python process, each in a fresh process of its own.

run.py starts ``python bench/worker.py KIND JSON-ARGUMENTS``; the result is printed as JSON.

Why apart: run.py measures other processes' peak RSS with wait4(2), and on Linux a child's
``ru_maxrss`` starts from its parent's high-water mark (exec keeps the larger of the two). A
run.py that had loaded spaCy itself would report at least its own ~250 MiB for every child.
A fresh process per benchmark also gives each the same clean start.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Endpoint


def run(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    if kind == "classification":
        from classification import bench_classification

        return bench_classification(args["messages"], args["repeats"])
    if kind == "stages":
        from backfill import stages

        profile = Path(args["profile"]) if args.get("profile") else None
        server = Endpoint(args["host"], args["port"])
        return stages(server, Path(args["work"]), args["messages"], profile)
    raise SystemExit(f"unknown benchmark {kind!r}")


if __name__ == "__main__":
    json.dump(run(sys.argv[1], json.loads(sys.argv[2])), sys.stdout)
