"""The spaCy classifier: the shipped pipeline, the classifier API, and the training library.

Every example here is written for this file (none comes from the shared dev set).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from interviewd.domain import LABELS, MessageClass
from interviewd.errors import ClassifierError, UsageError
from interviewd.textcat import TextClassifier, shipped_model_path
from interviewd.textcat.train import (
    CONFIG_PATH,
    DevSetLeak,
    Record,
    dedupe,
    dev_set_leaks,
    evaluate_model,
    format_report,
    near_duplicates,
    split_records,
    train_model,
)

# ---------------------------------------------------------------------------------------------
# The shipped pipeline
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> TextClassifier:
    return TextClassifier.load(shipped_model_path())


def test_shipped_model_is_in_the_repo_and_small() -> None:
    path = shipped_model_path()
    assert path == Path(__file__).resolve().parents[1] / "models" / "interviewd-textcat"
    assert (path / "meta.json").is_file() and (path / "config.cfg").is_file()
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    assert size < 20 * 1024 * 1024
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["test"]["macro_f1"] > 0.9


def test_shipped_model_loads_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the classifier tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    t = time.perf_counter()
    clf = TextClassifier.load(shipped_model_path())
    elapsed = time.perf_counter() - t
    assert clf.classify("Hello", "Any news?").label in set(MessageClass)
    assert elapsed < 5  # < 1 s measured; generous for a busy CI machine


CLEAR_EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "scheduling": [
        (
            "Interview for the Backend Engineer role",
            "Hi Sam,\n\nThanks for applying to Lumenfield. We'd like to invite you to a "
            "45-minute video interview with our engineering manager. Could you share a few "
            "times that work for you next Tuesday or Wednesday?\n\nBest,\nNora",
        ),
        (
            "Next step: onsite interview",
            "Hello Priya,\n\nGreat news, the team would like to move you to the onsite round. "
            "Please pick a slot for the four interviews on Thursday using this link: "
            "https://calendar.example.com/book/xyz\n\nThanks,\nRecruiting",
        ),
        (
            "Can we move our call?",
            "Hi Jon,\n\nSomething came up on my side. Could we reschedule our phone screen "
            "from 2pm tomorrow to Friday at 11am? Let me know if that time works for you.\n\n"
            "Cheers,\nMia",
        ),
    ],
    "feedback": [
        (
            "Update on your application",
            "Hi Lee,\n\nThank you for your patience. The panel is still meeting the last "
            "candidates this week, and we expect to make a decision by next Friday. I'll be in "
            "touch as soon as I hear more.\n\nBest,\nOmar",
        ),
        (
            "Quick update after your interview",
            "Hi Ana,\n\nI wanted to share some feedback from the hiring team: they really "
            "liked your system design answers and your questions about the roadmap. We are "
            "now checking references and will get back to you with next steps early next "
            "week.\n\nKind regards,\nJules",
        ),
    ],
    "rejection": [
        (
            "Your application to Brightmoor",
            "Dear Alex,\n\nThank you for your interest in the Data Analyst position. After "
            "careful consideration, we have decided not to move forward with your "
            "application. We wish you every success in your job search.\n\nSincerely,\n"
            "Brightmoor Talent Team",
        ),
        (
            "Product Designer role",
            "Hi Kim,\n\nThanks again for interviewing with us last week. Unfortunately we've "
            "decided to go with another candidate whose experience is a closer match. It was a "
            "tough call, and I hope our paths cross again.\n\nAll the best,\nRita",
        ),
    ],
    "offer": [
        (
            "Offer of employment - Operations Manager",
            "Dear Chris,\n\nI am delighted to offer you the position of Operations Manager at "
            "Harlow Foods, with a starting salary of $82,000 per year. Your offer letter is "
            "attached; please sign and return it by Friday.\n\nWelcome aboard!\nDana, HR",
        ),
        (
            "We'd love to have you join us",
            "Hi Taylor,\n\nThe whole team was impressed, and we're excited to extend you an "
            "offer to join as Senior Engineer. The package includes base salary, equity and "
            "benefits, all laid out in the offer letter. Let us know if you accept.\n\nBest,\n"
            "Morgan",
        ),
    ],
    "other": [
        (
            "Your job alert: 12 new Warehouse Supervisor jobs",
            "Hi Sam,\n\nHere are today's new jobs for your alert 'Warehouse Supervisor - "
            "Leeds':\n\n- Warehouse Supervisor, Dunmore Logistics, Leeds - £32,000 - Easy "
            "Apply\n- Shift Supervisor, Parcelway, Wakefield - posted 2 days ago\n\nSee all "
            "12 jobs: https://jobs.example.com/alerts/123\n\nYou are receiving this email "
            "because you created a job alert. Unsubscribe: https://jobs.example.com/unsub",
        ),
        (
            "We received your application",
            "Hi Robin,\n\nThank you for applying for the Marketing Coordinator role at "
            "Sunvale. We have received your application and our team will review it. If your "
            "experience matches our needs, we will contact you.\n\nSunvale Recruiting",
        ),
        (
            "Dinner on Saturday?",
            "Hey! Are you still up for dinner at Luca's on Saturday? Mum is coming too. I can "
            "book a table for 7pm, just tell me if that works.\n\nLove,\nEm",
        ),
    ],
}


@pytest.mark.parametrize(
    ("label", "subject", "body"),
    [(label, s, b) for label, items in CLEAR_EXAMPLES.items() for s, b in items],
)
def test_clear_examples_classify_right(
    shipped: TextClassifier, label: str, subject: str, body: str
) -> None:
    result = shipped.classify(subject, body)
    assert result.label == MessageClass(label), result.scores


def test_classify_many_matches_classify_and_keeps_order(shipped: TextClassifier) -> None:
    items = [item for items in CLEAR_EXAMPLES.values() for item in items]
    many = shipped.classify_many(items, batch_size=4)
    assert [c.label for c in many] == [shipped.classify(s, b).label for s, b in items]
    for c in many:
        assert set(c.scores) == set(LABELS)
        assert abs(sum(c.scores.values()) - 1.0) < 1e-3
        assert c.confidence == max(c.scores.values())
        assert c.scores[c.label.value] == c.confidence
    assert shipped.classify_many([]) == []


def test_empty_message_is_other_and_needs_review(shipped: TextClassifier) -> None:
    for c in (
        shipped.classify("", ""),
        shipped.classify("  ", "\n\n"),
        *shipped.classify_many([("", "")]),
    ):
        assert c.label is MessageClass.OTHER and c.needs_review


def test_needs_review_follows_the_threshold() -> None:
    subject, body = CLEAR_EXAMPLES["offer"][0]
    never = TextClassifier.load(shipped_model_path(), threshold=0.0)
    always = TextClassifier.load(shipped_model_path(), threshold=1.0)
    assert not never.classify(subject, body).needs_review
    assert always.classify(subject, body).needs_review
    default = TextClassifier.load(shipped_model_path())
    c = default.classify(subject, body)
    assert c.needs_review == (c.confidence < 0.6)


def test_load_missing_model_names_path_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError) as err:
        TextClassifier.load(tmp_path / "nope")
    msg = str(err.value)
    assert str(tmp_path / "nope") in msg and "interviewd model train" in msg
    assert "\n" not in msg


def test_load_broken_model(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text("{not json")
    (tmp_path / "config.cfg").write_text('[nlp]\nlang = "en"\n')
    with pytest.raises(ClassifierError) as err:
        TextClassifier.load(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# Corpus tooling
# ---------------------------------------------------------------------------------------------


def _r(body: str, label: str = "other", source: str = "p:1", subject: str = "Hi") -> Record:
    return Record(subject, body, label, source)


def test_dedupe_keeps_first_and_flags_label_conflicts() -> None:
    kept, dropped = dedupe(
        [
            _r("We would like to offer you the job.", "offer", "extra:0"),
            _r("We  would like to OFFER you the job.", "other", "p:1"),
            _r("Something else entirely.", "other", "p:2"),
        ]
    )
    assert [r.source for r in kept] == ["extra:0", "p:2"]
    assert dropped == [{"source": "p:1", "duplicate_of": "extra:0", "conflict": True}]


def test_near_duplicates() -> None:
    base = (
        "Thank you for taking the time to speak with our team about the analyst role last "
        "week. We enjoyed learning about your work on the pricing dashboards and the way you "
        "explained the trade-offs of your forecasting model to a non-technical audience."
    )
    close = base + " Best wishes, Jo."
    other = (
        "Your parcel is on its way and should arrive on Thursday between nine and noon. You "
        "can follow the driver on the map once the delivery window opens in the morning."
    )
    pairs = near_duplicates([_r(base), _r(other), _r(close)])
    assert [(i, j) for i, j, _ in pairs] == [(0, 2)]
    assert pairs[0][2] >= 0.8


def test_split_is_seeded_stratified_and_keeps_near_duplicates_together() -> None:
    records = []
    for label in LABELS:
        for i in range(20):
            body = f"{label} message number {i} " + " ".join(f"w{label}{i}x{k}" for k in range(12))
            records.append(_r(body, label, f"{label}:{i}"))
    twin = records[0].body + " extra"
    records.append(_r(twin, records[0].label, "twin:1"))
    a = split_records(records, seed=3)
    b = split_records(records, seed=3)
    assert a == b
    assert sum(len(v) for v in a.values()) == len(records)
    for label in LABELS:
        assert sum(r.label == label for r in a["test"]) == 2
        assert sum(r.label == label for r in a["dev"]) == 2
    where = {r.source: name for name, rs in a.items() for r in rs}
    assert where["twin:1"] == where[records[0].source]
    assert split_records(records, seed=4) != a


def _fake_dev_set(path: Path) -> Path:
    rows = [
        {
            "id": "x1",
            "label": "rejection",
            "subject": "About your candidacy",
            "body_text": "Hello, the committee reviewed every portfolio twice and sadly chose "
            "a different finalist for the studio lead opening this spring.",
            "body_html": "",
        },
        {
            "id": "x2",
            "label": "other",
            "subject": "Newsletter",
            "body_text": "",
            "body_html": "<p>Let me know if you have any questions about the garden.</p>",
        },
        {
            "id": "x3",
            "label": "other",
            "subject": "Club",
            "body_text": "Please let me know if you have any questions about the club.",
            "body_html": "",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_dev_set_leaks_flags_copied_sentences_not_stock_phrases(tmp_path: Path) -> None:
    dev = _fake_dev_set(tmp_path / "dev.jsonl")
    records = [
        _r(
            "We note the committee reviewed every portfolio twice and sadly chose someone.",
            "rejection",
            "c-part:4",
        ),
        _r("Thanks! Let me know if you have any questions about the offer.", "offer", "e:1"),
        _r("A wholly unrelated message about lunch plans on Friday.", "other", "g:2"),
    ]
    leaks = dev_set_leaks(records, dev)
    assert {(x["source"], x["dev_id"]) for x in leaks} == {("c-part:4", "x1")}
    strict = dev_set_leaks(records, dev, stock=False)
    assert {x["source"] for x in strict} == {"c-part:4", "e:1"}
    assert dev_set_leaks(records, tmp_path / "absent.jsonl") == []


# ---------------------------------------------------------------------------------------------
# Training and evaluation on a tiny corpus
# ---------------------------------------------------------------------------------------------

_TINY = {
    "scheduling": [
        "Could you join a video interview on {d} at {t}? Please confirm the time works.",
        "We would like to schedule your phone screen for {d}; pick a slot at {t} or later.",
    ],
    "feedback": [
        "The panel is still deciding; we expect an update by {d}. Thanks for your patience.",
        "Feedback from the team after {d}: strong answers, we will share next steps soon.",
    ],
    "rejection": [
        "Unfortunately we have decided not to move forward with your application ({d}).",
        "We chose another candidate for the role on {d}. We wish you luck in your search.",
    ],
    "offer": [
        "We are delighted to offer you the position, starting {d}; the offer letter is attached.",
        "Congratulations, here is your job offer with salary details; please sign by {d}.",
    ],
    "other": [
        "New jobs matching your alert this {d}: analyst, engineer and designer roles.",
        "Your order ships on {d} at {t}. Track the parcel from your account page.",
    ],
}
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday"]
_TIMES = ["9am", "2pm"]


def _tiny_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    lines = []
    for label, templates in _TINY.items():
        for k, tpl in enumerate(templates):
            for d in _DAYS:
                t = _TIMES[(k + len(d)) % 2]
                cats = {x: float(x == label) for x in LABELS}
                meta = {"subject": f"{label} {d}", "kind": "test", "part": "tiny"}
                lines.append(json.dumps({"text": tpl.format(d=d, t=t), "cats": cats, "meta": meta}))
    (folder / "tiny.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float, Path]:
    root = tmp_path_factory.mktemp("tiny")
    corpus = _tiny_corpus(root / "parts")
    dev = _fake_dev_set(root / "dev.jsonl")
    t = time.perf_counter()
    metrics = train_model(
        root / "model",
        corpus_dir=corpus,
        dev_set=dev,
        overrides={"training.max_epochs": 2, "training.eval_frequency": 10},
        speed_messages=200,
    )
    return root / "model", metrics, time.perf_counter() - t, dev


EVAL_KEYS = {
    "model",
    "labels",
    "test",
    "dev_set",
    "speed",
    "size_bytes",
    "size_mb",
    "load",
    "training",
}
BLOCK_KEYS = {"n", "accuracy", "macro_f1", "per_class", "confusion", "review_rate", "errors"}


def test_training_smoke(tiny_model: tuple[Path, dict, float, Path]) -> None:
    model, metrics, elapsed, _dev = tiny_model
    assert elapsed < 60
    assert (model / "meta.json").is_file() and (model / "metrics.json").is_file()
    assert (
        json.loads((model / "metrics.json").read_text())["training"]["split_sizes"]
        == (metrics["training"]["split_sizes"])
    )
    assert sum(metrics["training"]["split_sizes"].values()) == 40
    clf = TextClassifier.load(model)
    assert clf.nlp.get_pipe("textcat").labels == tuple(sorted(LABELS)) or set(
        clf.nlp.get_pipe("textcat").labels
    ) == set(LABELS)
    assert len(clf.classify_many([("a", "b"), ("c", "d")])) == 2
    assert not (model.parent / "model.new").exists()


def test_evaluate_model_returns_documented_keys(
    tiny_model: tuple[Path, dict, float, Path], tmp_path: Path
) -> None:
    model, _metrics, _elapsed, dev = tiny_model
    m = evaluate_model(model, test_split=None, dev_set=dev, speed_messages=100, write=False)
    assert set(m) >= EVAL_KEYS
    assert set(m["dev_set"]) >= BLOCK_KEYS
    assert m["dev_set"]["n"] == 3
    assert set(m["dev_set"]["per_class"]) == set(LABELS)
    for s in m["dev_set"]["per_class"].values():
        assert {"precision", "recall", "f1", "support"} <= set(s)
    matrix = m["dev_set"]["confusion"]["rows_gold_cols_predicted"]
    assert len(matrix) == 5 and sum(map(sum, matrix)) == 3
    assert "skipped" in m["test"]
    assert m["speed"]["end_to_end_msgs_per_s"] > 0 and m["size_bytes"] > 0
    assert "load_s" in m["load"], m["load"]
    absent = evaluate_model(
        model, test_split=None, dev_set=tmp_path / "x.jsonl", speed_messages=50, write=False
    )
    assert "skipped" in absent["dev_set"]
    report = format_report(m)
    assert "macro-F1" in report and "confusion" in report and "rejection" in report


def test_train_refuses_a_leaking_corpus(tmp_path: Path) -> None:
    corpus = _tiny_corpus(tmp_path / "parts")
    with (corpus / "tiny.jsonl").open("a") as fh:
        cats = {x: float(x == "rejection") for x in LABELS}
        body = "Sadly the committee reviewed every portfolio twice and sadly chose a different one."
        fh.write(json.dumps({"text": body, "cats": cats, "meta": {"subject": "x"}}) + "\n")
    with pytest.raises(DevSetLeak):
        train_model(
            tmp_path / "m",
            corpus_dir=corpus,
            dev_set=_fake_dev_set(tmp_path / "d"),
            on_leak="refuse",
        )
    assert not (tmp_path / "m").exists()


def test_personal_model_never_replaces_the_shipped_one() -> None:
    with pytest.raises(UsageError):
        train_model(shipped_model_path(), extra=[("s", "b", "offer")])


def test_shipped_config_is_the_one_used() -> None:
    text = CONFIG_PATH.read_text()
    assert "textcat" in text and "exclusive_classes = true" in text
