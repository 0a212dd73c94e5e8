"""Login attempts per client, in a sliding window: slows guessing across many accounts from one place.

Per-account lockout (in the database) stops guessing one account from many places; the two together
cover both. The window lives in memory, per process: behind several API replicas each counts its own.
"""

import threading
from collections import deque

from sereno.core.clock import Clock


class LoginThrottle:
    def __init__(self, clock: Clock, per_minute: int) -> None:
        self._clock = clock
        self._limit = per_minute
        self._seen: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str) -> float | None:
        """Count one attempt; returns None when admitted, else seconds until the next one is."""
        now = self._clock.now_us()
        window_start = now - 60_000_000
        with self._lock:
            stamps = self._seen.setdefault(client, deque())
            while stamps and stamps[0] <= window_start:
                stamps.popleft()
            if len(stamps) >= self._limit:
                return (stamps[0] - window_start) / 1_000_000
            stamps.append(now)
            if len(self._seen) > 100_000:  # forget idle clients rather than grow without bound
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > window_start}
            return None
