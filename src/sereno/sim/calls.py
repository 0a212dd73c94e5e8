"""Simulated emergency calls: a Poisson stream whose rate follows the day, a realistic mix of incident types,
repeat calls about the same event, and misuse (about half of all calls at ECU-911).

Deterministic for a seed, so a simulated day is reproducible in tests and benchmarks.
"""

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Literal

from sereno.config.site import SiteConfig

# Relative call rate by local hour: quiet before dawn, peaks in the evening.
HOURLY_SHAPE = (
    0.45, 0.35, 0.30, 0.28, 0.30, 0.40, 0.60, 0.80, 0.95, 1.00, 1.00, 1.05,
    1.10, 1.05, 1.00, 1.00, 1.05, 1.15, 1.25, 1.30, 1.25, 1.10, 0.90, 0.65,
)  # fmt: skip
TYPE_WEIGHTS = {
    "medical-emergency": 0.35,
    "traffic-collision": 0.2,
    "robbery": 0.15,
    "noise-complaint": 0.15,
    "flooding": 0.08,
    "structure-fire": 0.07,
}
MISUSE_KINDS = (("silent", 0.45), ("prank", 0.2), ("wrong-number", 0.15), ("information-only", 0.12), ("insult", 0.08))
HOUR_US = 3_600_000_000
REPEAT_WINDOW_US = 15 * 60_000_000  # a repeat call is about an incident reported in the last 15 minutes


@dataclass(frozen=True)
class SimCall:
    at_us: int
    kind: Literal["incident", "duplicate", "misuse"]
    lat: float
    lon: float
    type_code: str | None = None
    misuse_kind: str | None = None
    duplicate_of: int | None = None  # index of the earlier call it repeats
    ringing_s: float = 5.0


class CallGenerator:
    def __init__(
        self,
        site: SiteConfig,
        *,
        calls_per_day: float = 2000.0,
        misuse_share: float = 0.48,
        duplicate_share: float = 0.1,
        seed: int = 1,
    ) -> None:
        self.site = site
        self.calls_per_day = calls_per_day
        self.misuse_share = misuse_share
        self.duplicate_share = duplicate_share
        self.rng = random.Random(seed)
        codes = [t.code for t in site.dispatch.incident_types]
        if not codes:
            raise ValueError("the site has no incident types to simulate")
        self.types = codes
        self.type_weights = [TYPE_WEIGHTS.get(code, 0.05) for code in codes]
        self.areas = [c for c in site.centres if c.jurisdiction is not None]
        if not self.areas:
            raise ValueError("the site has no jurisdictions to place calls in")

    def rate_per_us(self, at_us: int) -> float:
        hour = (at_us // HOUR_US) % 24
        mean_shape = sum(HOURLY_SHAPE) / 24
        return self.calls_per_day * HOURLY_SHAPE[hour] / mean_shape / 24 / HOUR_US

    def calls(self, start_us: int, hours: float) -> list[SimCall]:
        """A non-homogeneous Poisson process by thinning against the day's peak rate."""
        end_us = start_us + int(hours * HOUR_US)
        peak = self.calls_per_day * max(HOURLY_SHAPE) / (sum(HOURLY_SHAPE) / 24) / 24 / HOUR_US
        out: list[SimCall] = []
        recent: deque[int] = deque()  # indexes of incident calls in the last REPEAT_WINDOW_US, oldest first
        at = float(start_us)
        while True:
            at += self.rng.expovariate(peak)
            if at >= end_us:
                return out
            if self.rng.random() <= self.rate_per_us(int(at)) / peak:
                while recent and int(at) - out[recent[0]].at_us >= REPEAT_WINDOW_US:
                    recent.popleft()
                call = self._call(int(at), out, recent)
                if call.kind == "incident":
                    recent.append(len(out))
                out.append(call)

    def _call(self, at_us: int, earlier: list[SimCall], recent: deque[int]) -> SimCall:
        """`recent` is kept by the caller so that a busy hour (thousands of calls) stays linear, not quadratic."""
        ringing = round(min(60.0, self.rng.lognormvariate(math.log(6), 0.6)), 1)
        roll = self.rng.random()
        if roll < self.misuse_share:
            lat, lon = self._place()
            kind = self.rng.choices([k for k, _ in MISUSE_KINDS], [w for _, w in MISUSE_KINDS])[0]
            return SimCall(at_us, "misuse", lat, lon, misuse_kind=kind, ringing_s=ringing)
        if recent and roll < self.misuse_share + self.duplicate_share:
            index = self.rng.choice(recent)
            first = earlier[index]
            lat, lon = first.lat + self.rng.uniform(-0.0008, 0.0008), first.lon + self.rng.uniform(-0.0008, 0.0008)
            return SimCall(at_us, "duplicate", lat, lon, first.type_code, duplicate_of=index, ringing_s=ringing)
        lat, lon = self._place()
        code = self.rng.choices(self.types, self.type_weights)[0]
        return SimCall(at_us, "incident", lat, lon, code, ringing_s=ringing)

    def _place(self) -> tuple[float, float]:
        """A uniform point inside a random jurisdiction (rejection sampling in its bounding box)."""
        centre = self.rng.choice(self.areas)
        assert centre.jurisdiction is not None
        lons = [p[0] for p in centre.jurisdiction.ring]
        lats = [p[1] for p in centre.jurisdiction.ring]
        for _ in range(1000):
            lat, lon = self.rng.uniform(min(lats), max(lats)), self.rng.uniform(min(lons), max(lons))
            if centre.jurisdiction.contains(lat, lon):
                return lat, lon
        return centre.position.lat, centre.position.lon
