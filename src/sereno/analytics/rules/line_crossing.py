"""Line crossing with counts: people or vehicles crossing a line (a footbridge, a lane), counted by direction
for flow figures, and an alert when a direction sees more than it should in a minute (a crowd surge, a
wrong-way driver when the limit is 0)."""

from collections import deque
from typing import Literal

from pydantic import Field

from sereno.analytics.rules import RuleConfig, RuleHit
from sereno.analytics.scene import Point, Scene

NAME = "line-crossing"
# Looking along the line from its first point to its second, "forward" crosses it from your left to your right.
Direction = Literal["forward", "backward"]


class Config(RuleConfig):
    line: tuple[Point, Point] = Field(title="Line (two normalised points)")
    labels: list[str] = Field(default_factory=list, title="Objects that count", description="Empty: any object")
    alert_direction: Direction | None = Field(default=None, title="Direction watched for alerts")
    alert_over_per_minute: int | None = Field(
        default=None, ge=0, le=100_000, title="Crossings per minute above which to alert", description="0: any crossing"
    )


def _side(line: tuple[Point, Point], point: Point) -> float:
    (ax, ay), (bx, by) = line
    return (bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)


def _within_line(line: tuple[Point, Point], p: Point, q: Point) -> bool:
    """The move from p to q passes between the line's two ends (not beyond them)."""
    return _side((p, q), line[0]) * _side((p, q), line[1]) <= 0


class LineCrossing:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self.counts: dict[Direction, int] = {"forward": 0, "backward": 0}
        self._last: dict[int, Point] = {}
        self._recent: deque[int] = deque()  # times of crossings in the watched direction

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        hits = []
        seen = set()
        for track in scene.tracks:
            if self.config.labels and track.label not in self.config.labels:
                continue
            seen.add(track.id)
            now = track.box.foot
            side = _side(self.config.line, now)
            if side == 0:  # exactly on the line: decided by where it goes next
                continue
            before = self._last.get(track.id)
            self._last[track.id] = now
            if before is None or (_side(self.config.line, before) > 0) == (side > 0):
                continue
            if not _within_line(self.config.line, before, now):
                continue
            direction: Direction = "forward" if side > 0 else "backward"
            self.counts[direction] += 1
            if direction == self.config.alert_direction:
                self._recent.append(scene.captured_us)
        if len(self._last) > 500:  # forget tracks not in view, so a busy street does not grow this forever
            self._last = {tid: point for tid, point in self._last.items() if tid in seen}
        while self._recent and self._recent[0] < scene.captured_us - 60_000_000:
            self._recent.popleft()
        limit = self.config.alert_over_per_minute
        if limit is not None and len(self._recent) > limit:
            title = self.config.name or "Line crossing"
            hits.append(
                RuleHit(
                    NAME,
                    f"{title}: {len(self._recent)} crossing {self.config.alert_direction} in a minute",
                    self.config.severity,
                    f"{scene.camera_id}:{NAME}:{self.config.name}",
                    self.config.cooldown_s,
                    {"per_minute": len(self._recent), "counts": dict(self.counts)},
                )
            )
        return hits

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def create(config: Config) -> LineCrossing:
    return LineCrossing(config)
