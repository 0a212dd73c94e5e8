"""Stopped vehicle on a carriageway: a breakdown in a tunnel or on a fast road is the start of a pile-up, so
a vehicle whose feet stay put inside the carriageway for longer than a minute deserves an operator's eyes.

"Stays put" means the track's foot point stays within a small radius of where it came to rest: detector
boxes jitter by a few pixels on a parked car, and a queue creeping forward leaves the radius again and again,
so slow traffic restarts the clock instead of piling up alerts. Each stop is raised once (its dedup key
names the track), because the onset is the news; the alert service folds a stop-start-stop of the same track
within the cooldown into that one alert. The rule knows vehicles only as tracks within this camera: it never
reads a plate and never follows a vehicle elsewhere (DESIGN.md).

The detector must report still vehicles for this to work. A motion-only detector keeps a stopped car only
until the background has learned it (at the default learning and frame rates, about two minutes for a car
that stands out from the road, under one for a dull one), so with it only a short `stopped_s` is reliable; an
object detector reports a parked car for as long as it stands there.
"""

from dataclasses import dataclass

from pydantic import Field

from sereno.analytics.rules import Region, RuleConfig, RuleHit, Zone
from sereno.analytics.scene import Point, Scene, Track

NAME = "stopped-vehicle"


class Config(RuleConfig):
    zone: Zone = Field(min_length=3, title="Carriageway (normalised polygon)")
    labels: list[str] = Field(
        default_factory=lambda: ["car", "bus", "truck", "vehicle", "moving"],
        min_length=1,
        title="Objects that count as vehicles",
    )
    stopped_s: float = Field(default=60.0, gt=0, le=3600, title="Seconds stopped before it counts")
    radius: float = Field(
        default=0.02, gt=0, le=0.5, title="Stopped radius (share of the picture)", description="Jitter allowed"
    )
    forget_s: float = Field(
        default=5.0, gt=0, le=600, title="Seconds unseen before a track is forgotten", description="Missed frames"
    )


@dataclass
class _Rest:
    """Where and since when one track has been at rest, and whether that stop was already raised."""

    anchor: Point
    since_us: int
    seen_us: int
    raised: bool = False


class StoppedVehicle:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._zone = Region(config.zone)
        self._rest: dict[int, _Rest] = {}  # track id -> its current stop (or its latest position while moving)

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        now, cfg = scene.captured_us, self.config
        # A track missing for a frame or two keeps its clock; one gone for longer (or stale state from before a
        # scheduled pause) is forgotten, so memory does not grow and a new stop starts from zero.
        forget = now - int(cfg.forget_s * 1e6)
        self._rest = {tid: rest for tid, rest in self._rest.items() if rest.seen_us >= forget}
        hits = []
        for track in scene.tracks:
            if track.label not in cfg.labels:
                continue
            foot = track.box.foot
            if not self._zone.contains(foot):
                self._rest.pop(track.id, None)  # on the hard shoulder or off the road: not this rule's business
                continue
            rest = self._rest.get(track.id)
            if rest is None or _distance(rest.anchor, foot) > cfg.radius:
                self._rest[track.id] = _Rest(foot, now, now)  # moved on (or new): the clock starts here
                continue
            rest.seen_us = now
            stopped_s = (now - rest.since_us) / 1e6
            if stopped_s > cfg.stopped_s and not rest.raised:
                rest.raised = True
                hits.append(self._hit(scene, track, stopped_s))
        return hits

    def _hit(self, scene: Scene, track: Track, stopped_s: float) -> RuleHit:
        return RuleHit(
            NAME,
            f"{self.config.name or 'Stopped vehicle'}: {track.label} stopped for {stopped_s:.0f} s",
            self.config.severity,
            f"{scene.camera_id}:{NAME}:{self.config.name}:{track.id}",
            self.config.cooldown_s,
            {"track": track.id, "label": track.label, "stopped_s": round(stopped_s, 1)},
            track.box.foot,
        )

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def _distance(a: Point, b: Point) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def create(config: Config) -> StoppedVehicle:
    return StoppedVehicle(config)
