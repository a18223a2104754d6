"""Reconnect backoff: exponential, jittered, bounded."""

from __future__ import annotations

import random

from interviewd.daemon import Backoff


def test_backoff_grows_to_the_cap_and_resets():
    backoff = Backoff(1, 300, rng=random.Random(4))
    delays = [backoff.next_delay() for _ in range(20)]
    assert all(1 <= d <= 300 for d in delays)
    assert max(delays[:3]) <= 4
    assert max(delays[10:]) > 30  # it does grow
    backoff.reset()
    assert backoff.next_delay() == 1


def test_jitter_spreads_clients_apart():
    a = Backoff(1, 300, rng=random.Random(1))
    b = Backoff(1, 300, rng=random.Random(2))
    for _ in range(6):
        a.next_delay()
        b.next_delay()
    assert a.next_delay() != b.next_delay()
