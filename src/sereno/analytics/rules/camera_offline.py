"""Camera offline: no picture for longer than a grace period. A camera that is down is blind exactly where
someone decided watching mattered, so it is an alert, not only a red badge on the wall."""

from pydantic import Field

from sereno.analytics.rules import RuleConfig, RuleHit, Severity
from sereno.analytics.scene import Scene

NAME = "camera-offline"


class Config(RuleConfig):
    severity: Severity = Field(default="warning", title="Severity")
    after_s: float = Field(default=30.0, ge=1, le=86_400, title="Seconds without a picture")
    cooldown_s: float = Field(default=3600.0, ge=0, le=86_400, title="Cooldown (s)")


class CameraOffline:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        return []

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        if last_frame_us is None:
            return []  # never seen yet: starting up, not offline
        silent_s = (now_us - last_frame_us) / 1e6
        if silent_s < self.config.after_s:
            return []
        return [
            RuleHit(
                NAME,
                f"{self.config.name or 'Camera offline'}: no picture for {silent_s:.0f} s",
                self.config.severity,
                f"{camera_id}:{NAME}",
                self.config.cooldown_s,
                {"silent_s": round(silent_s, 1), "last_frame_us": last_frame_us},
            )
        ]


def create(config: Config) -> CameraOffline:
    return CameraOffline(config)
