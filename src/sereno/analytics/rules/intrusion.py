"""Intrusion into a restricted zone (rail tracks, works, a closed yard): an object whose feet stay inside the
zone for a moment. The dwell keeps a shadow or a passing bird from becoming an alert."""

from pydantic import Field

from sereno.analytics.rules import Region, RuleConfig, RuleHit, Zone
from sereno.analytics.scene import Scene, Track

NAME = "intrusion"


class Config(RuleConfig):
    zone: Zone = Field(min_length=3, title="Zone (normalised polygon)")
    labels: list[str] = Field(default_factory=list, title="Objects that count", description="Empty: any object")
    dwell_s: float = Field(default=0.6, ge=0, le=600, title="Seconds inside before it counts")


class Intrusion:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._zone = Region(config.zone)
        self._entered: dict[int, int] = {}  # track id -> when its feet entered

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        """One hit a frame at most, for the object longest in the zone: every object in it would be the same
        alert (the dedup key is the zone's), and the hits of the others would only be built to be dropped."""
        zone, labels, now = self._zone, self.config.labels, scene.captured_us
        present = set()
        longest: tuple[int, Track] | None = None  # (since, track) of the object longest in the zone
        for track in scene.tracks:
            if labels and track.label not in labels:
                continue
            if not zone.contains(track.box.foot):
                self._entered.pop(track.id, None)
                continue
            present.add(track.id)
            since = self._entered.setdefault(track.id, now)
            if longest is None or since < longest[0]:
                longest = (since, track)
        for gone in set(self._entered) - present:
            del self._entered[gone]
        if longest is None or now - longest[0] < self.config.dwell_s * 1e6:
            return []
        since, track = longest
        return [
            RuleHit(
                NAME,
                f"{self.config.name or 'Intrusion'}: {track.label} in the zone",
                self.config.severity,
                f"{scene.camera_id}:{NAME}:{self.config.name}",
                self.config.cooldown_s,
                {"track": track.id, "label": track.label, "inside_s": round((now - since) / 1e6, 1)},
                track.box.foot,
            )
        ]

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def create(config: Config) -> Intrusion:
    return Intrusion(config)
