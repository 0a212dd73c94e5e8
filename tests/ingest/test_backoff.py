"""Reconnect delays grow, are jittered within their step, are capped, and reset after success."""

import random

from sereno.ingest.backoff import Backoff


def test_delays_grow_jittered_and_capped() -> None:
    backoff = Backoff(initial_s=0.5, max_s=4.0, _rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jitter: not in lockstep
    backoff.reset()
    assert backoff.next_delay() <= 0.5
