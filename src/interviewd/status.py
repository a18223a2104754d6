"""What `interviewd status` reports, read from the database so it works from any process.

The daemon writes a heartbeat row every ``HEARTBEAT_SECONDS``; it counts as
running while that row is fresh.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from .clock import Clock, SystemClock
from .config import Config
from .store import Store
from .store.models import Delivery, FollowUpRow, Heartbeat

HEARTBEAT_SECONDS = 30


def write_heartbeat(
    store: Store, started_at: datetime, state: dict[str, Any], clock: Clock | None = None
) -> None:
    now = (clock or SystemClock()).now()
    with store.session() as s:
        row = s.get(Heartbeat, 1)
        if row is None:
            row = Heartbeat(
                id=1,
                pid=os.getpid(),
                host=socket.gethostname(),
                started_at=started_at,
                beat_at=now,
                state=state,
            )
            s.add(row)
        row.pid = os.getpid()
        row.host = socket.gethostname()
        row.started_at = started_at
        row.beat_at = now
        row.state = state


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def daemon_status(config: Config, store: Store, clock: Clock | None = None) -> dict[str, Any]:
    now = (clock or SystemClock()).now()
    with store.session() as s:
        beat = s.get(Heartbeat, 1)
        running = bool(
            beat
            and beat.beat_at >= now - timedelta(seconds=HEARTBEAT_SECONDS * 3)
            and beat.state.get("stopped") is not True
        )
        pending = s.scalar(
            select(func.count(FollowUpRow.id)).where(FollowUpRow.state.in_(["pending", "snoozed"]))
        )
        next_alert = s.scalar(
            select(func.min(FollowUpRow.alert_at)).where(
                FollowUpRow.state.in_(["pending", "snoozed"]), FollowUpRow.alert_at >= now
            )
        )
        failing = list(
            s.scalars(
                select(Delivery).where(
                    (Delivery.state == "failed")
                    | ((Delivery.state == "pending") & (Delivery.attempts > 0))
                    | (Delivery.state == "sending")
                )
            )
        )
        failed = [
            {
                "alert": d.alert_key,
                "channel": d.channel,
                "state": d.state,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "next_attempt_at": _iso(d.next_attempt_at),
            }
            for d in failing
        ]
    folders = [
        {
            "account": f.account,
            "folder": f.folder,
            "last_sync_at": _iso(f.last_sync_at),
            "last_error": f.last_error or None,
        }
        for f in store.folder_states()
    ]
    accounts = beat.state.get("accounts", []) if beat else []
    return {
        "daemon": {
            "running": running,
            "pid": beat.pid if beat else None,
            "host": beat.host if beat else None,
            "started_at": _iso(beat.started_at) if beat else None,
            "beat_at": _iso(beat.beat_at) if beat else None,
        },
        "accounts": accounts if running else [],
        "folders": folders,
        "pending_followups": pending or 0,
        "next_alert": _iso(next_alert),
        "failed_deliveries": failed,
        "configured_accounts": [a.name for a in config.accounts],
    }
