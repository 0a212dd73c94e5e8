"""Crowd density as crush risk for a configured venue area: people whose feet are inside the area, divided by
its real ground size, against thresholds in persons per square metre.

Why those numbers. Fruin's pedestrian levels of service (1971) grade standing and queueing space by the area
each person has: below roughly 0.3 m² a person (more than about 3 to 4 per m²) bodies touch and moving through
the crowd stops; below roughly 0.2 m² (about 5 per m² and more) is the worst level, where contact is constant
and involuntary. G. Keith Still's work on crowd dynamics and crowd safety treats around 4 per m² as the point
where a moving crowd's flow begins to break down, and 5 to 6 per m² and above as the range where pressure is
transmitted through bodies, people lose control of their own movement and progressive collapse or crush
becomes possible. The defaults (warning 4, critical 6) sit on those commonly used levels; a venue's own safety
officer should set them for the venue's layout and event. Counting from a camera undercounts dense crowds
(people hide one another), so the figure errs low exactly when it matters: thresholds should not be raised
to "compensate" for false alarms without checking the count against the picture.

The density is the median over a short window, so one frame's glitch (a flicker of duplicate boxes) never
alerts; the window must be covered by frames before the rule judges at all. Counts only: nobody is
identified or followed (DESIGN.md).
"""

from collections import deque
from statistics import median
from typing import Literal

from pydantic import Field, model_validator

from sereno.analytics.rules import Region, RuleConfig, RuleHit, Severity, Zone
from sereno.analytics.scene import Point, Scene

NAME = "crowd-density"
Level = Literal["warning", "critical"]


class Config(RuleConfig):
    zone: Zone = Field(min_length=3, title="Venue area (normalised polygon)")
    area_m2: float = Field(gt=0, le=1_000_000, title="Real ground area of the venue area (m²)")
    labels: list[str] = Field(default_factory=lambda: ["person"], min_length=1, title="Objects that count as people")
    warning_per_m2: float = Field(default=4.0, gt=0, le=20, title="Warning density (persons/m²)")
    critical_per_m2: float = Field(default=6.0, gt=0, le=20, title="Critical density (persons/m²)")
    window_s: float = Field(default=10.0, gt=0, le=600, title="Seconds the density is smoothed over (median)")
    severity: Severity = Field(
        default="warning", title="Severity at the warning density", description="The critical density is critical"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Config":
        if self.critical_per_m2 <= self.warning_per_m2:
            raise ValueError("critical_per_m2 must be above warning_per_m2")
        return self


class CrowdDensity:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._zone = Region(config.zone)
        self._counts: deque[tuple[int, int]] = deque()  # (time, people in the area), the last window_s
        self._since_us: int | None = None  # start of the current unbroken run of frames

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        now, cfg = scene.captured_us, self.config
        window_us = int(cfg.window_s * 1e6)
        if self._counts and now - self._counts[-1][0] > window_us:
            self._counts.clear()  # a gap (camera down, schedule off): old counts say nothing about now
        if not self._counts:
            self._since_us = now
        count = sum(1 for t in scene.tracks if t.label in cfg.labels and self._zone.contains(t.box.foot))
        self._counts.append((now, count))
        while self._counts[0][0] < now - window_us:
            self._counts.popleft()
        if self._since_us is None or now - self._since_us < window_us:
            return []  # the window is not covered yet: a median of a few frames is not a smoothed figure
        smoothed = median(c for _, c in self._counts)
        density = smoothed / cfg.area_m2
        level: Level | None = (
            "critical" if density >= cfg.critical_per_m2 else "warning" if density >= cfg.warning_per_m2 else None
        )
        if level is None:
            return []
        return [
            RuleHit(
                NAME,
                f"{cfg.name or 'Crowd density'}: {density:.1f} persons/m² ({level})",
                "critical" if level == "critical" else cfg.severity,
                f"{scene.camera_id}:{NAME}:{cfg.name}:{level}",  # a new, more severe alert when it escalates
                cfg.cooldown_s,
                {
                    "count": smoothed,
                    "count_now": count,
                    "density_per_m2": round(density, 2),
                    "level": level,
                    "area_m2": cfg.area_m2,
                    "window_s": cfg.window_s,
                },
                _centroid(cfg.zone),
            )
        ]

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def _centroid(points: list[Point]) -> Point:
    return sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)


def create(config: Config) -> CrowdDensity:
    return CrowdDensity(config)
