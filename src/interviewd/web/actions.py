"""The review queue's two corrections: relabel a message, or attach it to another application.

Both go through the store and the tracking service; the applications touched
are recomputed at once so the board never shows a stale status. Both rules live
in the tracking service; these are the web's names for them.
"""

from __future__ import annotations

from ..applications import TrackingService
from ..config import Config
from ..store import Store


def relabel(config: Config, store: Store, tracking: TrackingService, pk: int, label: str) -> None:
    """The user's label, kept as a correction; its application is recomputed."""
    del config, store
    tracking.relabel(str(pk), label)


def reattach(store: Store, tracking: TrackingService, pk: int, app_pk: int) -> None:
    """Move a message to the application the user names; both applications are recomputed."""
    del store
    tracking.reattach(pk, app_pk)
