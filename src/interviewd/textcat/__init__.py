"""The message classifier: a spaCy textcat pipeline trained from training/corpus.

``TextClassifier.load(path)`` opens a pipeline; ``shipped_model_path()`` is the one shipped
with interviewd. Training and evaluation live in :mod:`interviewd.textcat.train` (imported on
demand: it is only needed by ``interviewd model ...``). Importing this package does not import
spaCy; loading a model does.
"""

from __future__ import annotations

from .model import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_THRESHOLD,
    MODEL_NAME,
    TextClassifier,
    WordTokenizer,
    shipped_model_path,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_THRESHOLD",
    "MODEL_NAME",
    "TextClassifier",
    "WordTokenizer",
    "shipped_model_path",
]
