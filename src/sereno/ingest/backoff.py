"""Reconnect delays: exponential with full jitter, so a thousand cameras behind one dead switch do not
hammer it in lockstep when it returns, capped so that a camera that comes back is recorded within seconds."""

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float = 0.5
    max_s: float = 4.0
    factor: float = 2.0
    attempts: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.initial_s * self.factor**self.attempts)
        self.attempts += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempts = 0
