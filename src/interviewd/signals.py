"""Evidence beside the text classifier, combined with its output in this one place.

The model reads the words. Some facts about a message are stronger than its
words, and are applied here, in this order:

1. **Interview invitations.** A calendar invite in the message
   (``METHOD:REQUEST``, or ``METHOD:CANCEL`` / ``STATUS:CANCELLED`` for a
   cancelled one) whose summary names an interview, or that comes with text the
   model already reads as job mail, makes the message ``scheduling`` — unless
   the model says ``rejection`` or ``offer``, which outrank scheduling
   (precedence rejection > offer > scheduling > feedback > other). A dentist's
   invite stays whatever the model says.
2. **Bulk mail.** A message with bulk headers (List-Id, List-Unsubscribe,
   Precedence: bulk, Auto-Submitted) that answers no known thread is less
   likely to be about the user's candidacy: the job classes' scores are halved
   (``BULK_FACTOR``) and the scores renormalised. A confident rejection from an
   ATS survives this; a lukewarm "scheduling" reading of a newsletter does not.
3. **Review.** Below the configured confidence threshold, the message is
   marked ``needs_review``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .domain import BulkSignals, CalendarEvent, Classification, MessageClass

BULK_FACTOR = 0.5
INVITE_CONFIDENCE = 0.9
JOB_CLASSES = frozenset(
    {MessageClass.SCHEDULING, MessageClass.FEEDBACK, MessageClass.REJECTION, MessageClass.OFFER}
)
INTERVIEW_WORDS = re.compile(
    r"\b(interview|screen(ing)?|on-?site|panel|hiring|recruit\w*|candidate|"
    r"technical|assessment|meet the team|final round|chat with|call with)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Decision:
    classification: Classification
    source: str  # "model" or "signal"
    reason: str = ""


def _normalise(scores: dict[str, float]) -> dict[str, float]:
    total = sum(scores.values()) or 1.0
    return {k: v / total for k, v in scores.items()}


def _top(scores: dict[str, float]) -> tuple[MessageClass, float]:
    label = max(scores, key=lambda k: scores[k])
    return MessageClass(label), scores[label]


def is_interview_invite(event: CalendarEvent, model_label: MessageClass) -> bool:
    if event.method not in ("REQUEST", "CANCEL", "PUBLISH", ""):
        return False
    return bool(INTERVIEW_WORDS.search(event.summary)) or model_label in JOB_CLASSES


def combine(
    model: Classification,
    *,
    calendar: Sequence[CalendarEvent] = (),
    bulk: BulkSignals | None = None,
    in_known_thread: bool = False,
    review_threshold: float = 0.6,
) -> Decision:
    scores = dict(model.scores)
    label, confidence = model.label, model.confidence
    source, reason = "model", ""

    invites = [e for e in calendar if is_interview_invite(e, label)]
    if invites and label not in (MessageClass.REJECTION, MessageClass.OFFER):
        cancelled = any(e.method == "CANCEL" or e.status == "CANCELLED" for e in invites)
        label = MessageClass.SCHEDULING
        confidence = max(confidence if model.label == label else 0.0, INVITE_CONFIDENCE)
        scores[label.value] = max(scores.get(label.value, 0.0), confidence)
        source = "signal"
        reason = "interview invite cancelled" if cancelled else "interview calendar invite"
    elif bulk is not None and bulk.is_bulk and not in_known_thread:
        damped = {
            k: v * (BULK_FACTOR if MessageClass(k) in JOB_CLASSES else 1.0)
            for k, v in scores.items()
        }
        scores = _normalise(damped)
        new_label, confidence = _top(scores)
        if new_label != label:
            source, reason = "signal", "bulk mail outside any known thread"
        label = new_label

    return Decision(
        Classification(
            label=label,
            confidence=confidence,
            scores=scores,
            needs_review=confidence < review_threshold,
        ),
        source,
        reason,
    )
