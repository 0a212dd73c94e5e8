"""How the recorder cuts, keeps and protects video: a process setting, the same for every camera."""

from pydantic import Field

from sereno.config.base import StrictModel


class RecordingSettings(StrictModel):
    segment_seconds: float = Field(
        default=10.0, ge=1.0, le=60.0, title="Segment length (s)", description="Cut at the first keyframe after this"
    )
    reconnect_initial_s: float = Field(default=0.5, gt=0, le=10, title="First reconnect delay (s)")
    reconnect_max_s: float = Field(
        default=4.0,
        gt=0,
        le=60,
        title="Longest reconnect delay (s)",
        description="Caps the exponential backoff, so a camera that returns is recorded again within seconds",
    )
    stall_timeout_s: float = Field(
        default=5.0, gt=0, le=120, title="Stall timeout (s)", description="No video for this long: the camera is down"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, le=60, title="Connect timeout (s)")
    min_free_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        title="Free space to keep (bytes)",
        description="Below this the oldest video that no legal hold covers is evicted, and an alert raised",
    )
    sweep_interval_s: float = Field(default=300.0, gt=0, title="Retention sweep interval (s)")
