"""The spaCy text classifier behind ``interviewd classify`` and the daemon.

The pipeline is a blank English one trained from our own corpus (no pretrained vectors, nothing
downloaded at run time). Training and inference both feed it :func:`interviewd.textprep.model_text`
and nothing else.

The pipeline's tokenizer is :class:`WordTokenizer` (registered as ``interviewd.WordTokenizer.v1``)
rather than spaCy's rule-based one: a bag-of-words classifier only needs words and punctuation,
and spaCy's tokenizer alone is slower than the 3,000 messages/s we want on 2 KB mail. It
lower-cases, so "Offer" and "offer" are one feature. Importing this module registers it, which
is why :meth:`TextClassifier.load` is the way to open the shipped pipeline.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..domain import LABELS, PRECEDENCE, Classification, MessageClass
from ..errors import ClassifierError
from ..textprep import model_text

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_THRESHOLD",
    "MODEL_NAME",
    "TextClassifier",
    "WordTokenizer",
    "shipped_model_path",
]

#: Folder name of the shipped pipeline under ``models/``.
MODEL_NAME = "interviewd-textcat"
#: Below this top score a classification is flagged ``needs_review``.
DEFAULT_THRESHOLD = 0.6
#: nlp.pipe batch size; measured on 2 KB mail (see training/README.md).
DEFAULT_BATCH_SIZE = 256

_REPO_MODELS = Path(__file__).resolve().parents[3] / "models"


def shipped_model_path() -> Path:
    """The pipeline shipped with interviewd.

    In a source checkout or editable install that is ``models/interviewd-textcat`` at the repo
    root (found relative to this file: ``src/interviewd/../../models``); for a regular install
    it is ``<sys.prefix>/share/interviewd/models/interviewd-textcat``.
    """
    repo = _REPO_MODELS / MODEL_NAME
    if repo.is_dir():
        return repo
    installed = Path(sys.prefix) / "share" / "interviewd" / "models" / MODEL_NAME
    if installed.is_dir():
        return installed
    # Neither exists: name the one that belongs to this kind of install in the error.
    return repo if (_REPO_MODELS.parent / "pyproject.toml").is_file() else installed


# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+|[^\w\s]")


class WordTokenizer:
    """Words (``\\w+``) and single punctuation characters; optionally lower-cased.

    Whitespace is not kept (every token is followed by one space), which a classifier does not
    need. Saved with the pipeline as its settings only.
    """

    def __init__(self, vocab: Any, lowercase: bool = True) -> None:
        self.vocab = vocab
        self.lowercase = lowercase

    def __call__(self, text: str) -> Any:
        from spacy.tokens import Doc

        if self.lowercase:
            text = text.lower()
        words = _WORD.findall(text)
        return Doc(self.vocab, words=words, spaces=[True] * len(words))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterable[Any]:
        for text in texts:
            yield self(text)

    # Serialisation: only the settings; the vocab is saved by the pipeline.
    def to_bytes(self, **kwargs: Any) -> bytes:
        return json.dumps({"lowercase": self.lowercase}).encode()

    def from_bytes(self, data: bytes, **kwargs: Any) -> WordTokenizer:
        self.lowercase = bool(json.loads(data or b"{}").get("lowercase", True))
        return self

    def to_disk(self, path: str | Path, **kwargs: Any) -> None:
        Path(path).write_bytes(self.to_bytes())

    def from_disk(self, path: str | Path, **kwargs: Any) -> WordTokenizer:
        p = Path(path)
        if p.is_file():
            self.from_bytes(p.read_bytes())
        return self


def _register() -> None:
    from spacy.util import registry

    if "interviewd.WordTokenizer.v1" in registry.tokenizers:
        return

    @registry.tokenizers("interviewd.WordTokenizer.v1")
    def create_word_tokenizer(lowercase: bool = True) -> Any:
        def make(nlp: Any) -> WordTokenizer:
            return WordTokenizer(nlp.vocab, lowercase=lowercase)

        return make


# ---------------------------------------------------------------------------------------------
# Classifier
# ---------------------------------------------------------------------------------------------


class TextClassifier:
    """A trained textcat pipeline; thread-compatible for reading (one caller at a time)."""

    def __init__(self, nlp: Any, *, threshold: float = DEFAULT_THRESHOLD, path: Path | None = None):
        if "textcat" not in nlp.pipe_names:
            raise ClassifierError(f"{path or 'pipeline'}: has no 'textcat' component")
        labels = set(nlp.get_pipe("textcat").labels)
        if labels != set(LABELS):
            raise ClassifierError(
                f"{path or 'pipeline'}: labels {sorted(labels)} are not {sorted(LABELS)}; "
                "retrain it with 'interviewd model train'"
            )
        if not 0.0 <= threshold <= 1.0:
            raise ClassifierError(f"review threshold {threshold} is not between 0 and 1")
        self.nlp = nlp
        self.threshold = float(threshold)
        self.path = path

    @classmethod
    def load(cls, path: Path | str, *, threshold: float = DEFAULT_THRESHOLD) -> TextClassifier:
        """Open a pipeline folder (``model-best`` contents); ClassifierError if missing/broken."""
        path = Path(path).expanduser()
        fix = "run 'interviewd model train' (or 'make model') to build it"
        if not (path / "meta.json").is_file() or not (path / "config.cfg").is_file():
            raise ClassifierError(f"no classifier model at {path}: {fix}")
        try:
            import spacy

            _register()
            nlp = spacy.load(path)
        except Exception as exc:  # spaCy raises many kinds; all mean the same to the user
            msg = " ".join(str(exc).split())[:200]
            raise ClassifierError(f"classifier model at {path} is broken ({msg}): {fix}") from exc
        return cls(nlp, threshold=threshold, path=path)

    # -- classification -----------------------------------------------------------------------
    def _result(self, cats: dict[str, float]) -> Classification:
        scores = {label: float(cats.get(label, 0.0)) for label in LABELS}
        if not any(scores.values()):
            # An empty text (no subject, no new text) gets no scores at all: nothing to go on,
            # and certainly no reason to close an application.
            return Classification(MessageClass.OTHER, 0.0, scores, needs_review=True)
        # A tie (never seen in practice) goes to the class that wins by PRECEDENCE: max()
        # keeps the first maximum it meets.
        best = max(PRECEDENCE, key=lambda c: scores[c.value])
        confidence = scores[best.value]
        return Classification(
            label=MessageClass(best),
            confidence=confidence,
            scores=scores,
            needs_review=confidence < self.threshold,
        )

    def classify(self, subject: str, body: str) -> Classification:
        """Classify one message (``body`` is the whole plain-text body)."""
        return self.classify_texts([model_text(subject, body)])[0]

    def classify_many(
        self, items: Iterable[tuple[str, str]], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[Classification]:
        """Classify (subject, body) pairs in batches, in order."""
        return self.classify_texts(
            [model_text(subject, body) for subject, body in items], batch_size
        )

    def classify_texts(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[Classification]:
        """Classify texts that already went through :func:`model_text`.

        A text with no words is answered without the model: batched with others, a doc
        with no tokens makes thinc's bag-of-words layer fail the whole batch.
        """
        texts = list(texts)
        results: list[Classification | None] = [None] * len(texts)
        wordy = [i for i, text in enumerate(texts) if _WORD.search(text)]
        docs = self.nlp.pipe((texts[i] for i in wordy), batch_size=batch_size)
        for i, doc in zip(wordy, docs, strict=True):
            results[i] = self._result(doc.cats)
        empty = self._result({})
        return [r if r is not None else empty for r in results]
