"""Site section `[[analytics]]`: which cameras are analysed, with which detector and which rules.

One entry per camera. Rules are listed with their `kind` (a plugin in `analytics/rules/`) and that plugin's
own settings; they are checked against the plugin's model when the site file loads, so a typo in a zone is an
error at startup, not a silent rule that never fires.
"""

from typing import Any

from pydantic import Field, model_validator

from sereno.analytics.motion import MotionConfig
from sereno.analytics.tracking import TrackerConfig
from sereno.config.base import StrictModel


class DetectorChoice(StrictModel):
    name: str = Field(default="motion", title="Detector", description="A plugin in analytics/detectors/")
    settings: dict[str, Any] = Field(default_factory=dict, title="Detector settings")


class DetectorPoolConfig(StrictModel):
    """How a worker process shares its detectors between cameras (`analytics/pool.py`)."""

    window_ms: float = Field(
        default=4.0,
        ge=0,
        le=100,
        title="Batch window (ms)",
        description="How long a batching detector waits after a frame for other cameras' frames to join it",
    )
    max_batch: int = Field(default=8, ge=1, le=64, title="Most frames in one batch")
    timeout_s: float = Field(
        default=1.0,
        gt=0,
        le=30,
        title="Detection timeout (s)",
        description="A camera waits this long for its detections, then carries on without them",
    )
    max_waiting: int = Field(
        default=64, ge=1, le=10_000, title="Frames waiting per detector before more are turned away"
    )
    threads: int = Field(default=1, ge=1, le=16, title="Batches run at once per detector")


class AnalyticsSettings(StrictModel):
    """How an analytics worker process runs its cameras' analysis (process settings, not the site file: the
    same site runs on a laptop and on a rack of workers)."""

    gather_ms: float = Field(
        default=200.0,
        ge=0,
        le=1000,
        title="Longest wait for a round of frames (ms)",
        description="Frames are analysed a round at a time (one of each camera) for warm caches; a late or "
        "silent camera holds a round at most this long, which adds to the alert latency",
    )
    pool: DetectorPoolConfig = Field(default_factory=DetectorPoolConfig, title="Shared detectors")


class CameraAnalyticsConfig(StrictModel):
    camera: str = Field(title="Camera id")
    detector: DetectorChoice = Field(default_factory=DetectorChoice, title="Detector")
    rules: list[dict[str, Any]] = Field(default_factory=list, title="Rules", description="Each with a 'kind'")
    motion: MotionConfig = Field(default_factory=MotionConfig, title="Motion")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, title="Tracker")
    max_fps: float = Field(default=5.0, gt=0, le=30, title="Frames analysed per second at most")

    @model_validator(mode="after")
    def _plugins_exist(self) -> "CameraAnalyticsConfig":
        from sereno.analytics import detectors, rules

        known = detectors.registry()
        if self.detector.name not in known:
            raise ValueError(f"detector '{self.detector.name}' is unknown (known: {', '.join(sorted(known))})")
        known.get(self.detector.name).Config.model_validate(self.detector.settings)  # type: ignore[union-attr]
        plugins = rules.registry()
        for index, rule in enumerate(self.rules):
            kind = rule.get("kind")
            if kind not in plugins:
                raise ValueError(f"rules[{index}]: kind '{kind}' is unknown (known: {', '.join(sorted(plugins))})")
            plugins[kind].Config.model_validate({k: v for k, v in rule.items() if k != "kind"})
        return self
