"""Classification alone, in this process, on ~2 KB generated mail.

Three timings over the same messages (parsed beforehand, untimed):

* ``model_text`` alone: the text preparation (split off quoted history and signature,
  normalise, cap). This is the baseline the other two are compared with;
* the model on prepared text: ``TextClassifier.classify_texts`` over ready model texts;
* end to end: ``TextClassifier.classify_many`` over (subject, body) pairs, i.e. text
  preparation plus the model, as the daemon calls it.

Each is the best of ``repeats`` runs after one warm-up run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mailgen import make_message

SEED_OFFSET = 1_000_000  # other mail than the backfill's


def _best_rate(fn: Callable[[], object], count: int, repeats: int) -> float:
    fn()  # warm-up: first-call caches, allocator
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def bench_classification(count: int = 3000, repeats: int = 3) -> dict[str, Any]:
    from interviewd.parsing import parse_message
    from interviewd.textcat import TextClassifier, shipped_model_path
    from interviewd.textprep import model_text

    raws = [make_message(SEED_OFFSET + i) for i in range(count)]
    parsed = [parse_message(raw) for raw in raws]
    pairs = [(p.subject, p.text) for p in parsed]
    start = time.perf_counter()
    classifier = TextClassifier.load(shipped_model_path())
    load_seconds = time.perf_counter() - start
    texts = [model_text(subject, body) for subject, body in pairs]

    prep = _best_rate(lambda: [model_text(s, b) for s, b in pairs], count, repeats)
    model = _best_rate(lambda: classifier.classify_texts(texts), count, repeats)
    e2e = _best_rate(lambda: classifier.classify_many(pairs), count, repeats)
    labels: dict[str, int] = {}
    for result in classifier.classify_many(pairs):
        labels[result.label.value] = labels.get(result.label.value, 0) + 1
    return {
        "messages": count,
        "mean_message_bytes": round(sum(map(len, raws)) / count),
        "mean_body_chars": round(sum(len(b) for _, b in pairs) / count),
        "mean_model_text_chars": round(sum(map(len, texts)) / count),
        "baseline": "model_text alone (text preparation, no model)",
        "model_text_msgs_per_s": round(prep),
        "model_msgs_per_s": round(model),
        "end_to_end_msgs_per_s": round(e2e),
        "model_ratio_to_model_text": round(model / prep, 2),
        "end_to_end_ratio_to_model_text": round(e2e / prep, 2),
        "goal_msgs_per_s": 3000,
        "model_load_seconds": round(load_seconds, 3),
        "labels": dict(sorted(labels.items())),
    }
