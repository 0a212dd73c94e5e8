"""Intrusion into a restricted zone (rail tracks, works, a closed yard): an object whose feet stay inside the
zone for a moment. The dwell keeps a shadow or a passing bird from becoming an alert."""

from pydantic import Field

from sereno.analytics.rules import RuleConfig, RuleHit, Zone, inside
from sereno.analytics.scene import Scene

NAME = "intrusion"


class Config(RuleConfig):
    zone: Zone = Field(min_length=3, title="Zone (normalised polygon)")
    labels: list[str] = Field(default_factory=list, title="Objects that count", description="Empty: any object")
    dwell_s: float = Field(default=0.6, ge=0, le=600, title="Seconds inside before it counts")


class Intrusion:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._entered: dict[int, int] = {}  # track id -> when its feet entered

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        hits = []
        present = set()
        for track in scene.tracks:
            if self.config.labels and track.label not in self.config.labels:
                continue
            if not inside(track.box.foot, self.config.zone):
                self._entered.pop(track.id, None)
                continue
            present.add(track.id)
            since = self._entered.setdefault(track.id, scene.captured_us)
            if scene.captured_us - since >= self.config.dwell_s * 1e6:
                hits.append(
                    RuleHit(
                        NAME,
                        f"{self.config.name or 'Intrusion'}: {track.label} in the zone",
                        self.config.severity,
                        f"{scene.camera_id}:{NAME}:{self.config.name}",
                        self.config.cooldown_s,
                        {
                            "track": track.id,
                            "label": track.label,
                            "inside_s": round((scene.captured_us - since) / 1e6, 1),
                        },
                        track.box.foot,
                    )
                )
        for gone in set(self._entered) - present:
            del self._entered[gone]
        return hits

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def create(config: Config) -> Intrusion:
    return Intrusion(config)
