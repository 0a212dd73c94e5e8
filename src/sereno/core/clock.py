"""Time as a dependency, so lockouts, session expiry and retention can be tested without sleeping."""

import time
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int:
        """Microseconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


class ManualClock:
    """A clock that moves only when told: the tests' way to cross a lockout window in no time."""

    def __init__(self, start_us: int = 1_767_225_600_000_000) -> None:
        self._now = start_us

    def now_us(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1_000_000)

    def set(self, now_us: int) -> None:
        """Jump to a moment (simulations replaying events in time order); never backwards."""
        if now_us < self._now:
            raise ValueError("a manual clock does not go backwards")
        self._now = now_us
