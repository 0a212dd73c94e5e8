"""What the recording capability tells the rest of the system."""

from sereno.core.messages import Message


class SegmentWritten(Message):
    name = "recording.segment_written"
    camera_id: str
    stream: str
    segment_id: str
    start_us: int
    end_us: int
    size_bytes: int


class GapRecorded(Message):
    name = "recording.gap_recorded"
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    reason: str


class RetentionSwept(Message):
    name = "recording.retention_swept"
    deleted_segments: int
    deleted_bytes: int
    kept_by_hold: int


class DiskPressureEviction(Message):
    """An alert: the store ran short of space and video was deleted before its retention ended."""

    name = "recording.disk_pressure_eviction"
    deleted_segments: int
    deleted_bytes: int
    free_bytes: int
    min_free_bytes: int
    oldest_remaining_us: int | None
    held_bytes_untouched: int
