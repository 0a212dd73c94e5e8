"""Per-stream health as people need it: is it up, how many frames and bits per second, when was the last
frame, what went wrong last. Counted by the recorder on its loop; reported every few seconds."""

from dataclasses import dataclass
from enum import StrEnum


class StreamState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    DOWN = "down"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StreamHealth:
    camera_id: str
    stream: str
    state: StreamState
    fps: float
    kbps: float
    last_frame_us: int | None
    errors: int
    last_error: str | None
    reconnects: int
    packets_lost: int


@dataclass
class HealthCounter:
    camera_id: str
    stream: str
    state: StreamState = StreamState.CONNECTING
    last_frame_us: int | None = None
    errors: int = 0
    last_error: str | None = None
    reconnects: int = 0
    packets_lost: int = 0
    _frames: int = 0
    _bytes: int = 0
    _window_start_us: int | None = None
    _fps: float = 0.0
    _kbps: float = 0.0

    def frames(self, count: int, size: int, now_us: int) -> None:
        self._frames += count
        self._bytes += size
        if count:
            self.last_frame_us = now_us

    def error(self, message: str) -> None:
        self.errors += 1
        self.last_error = message[:300]

    def snapshot(self, now_us: int) -> StreamHealth:
        """Rates over the time since the previous snapshot."""
        if self._window_start_us is not None and now_us > self._window_start_us:
            seconds = (now_us - self._window_start_us) / 1e6
            self._fps, self._kbps = self._frames / seconds, self._bytes * 8 / 1000 / seconds
        if self.state is not StreamState.STREAMING:
            self._fps = self._kbps = 0.0
        self._frames = self._bytes = 0
        self._window_start_us = now_us
        return StreamHealth(
            camera_id=self.camera_id,
            stream=self.stream,
            state=self.state,
            fps=round(self._fps, 2),
            kbps=round(self._kbps, 1),
            last_frame_us=self.last_frame_us,
            errors=self.errors,
            last_error=self.last_error,
            reconnects=self.reconnects,
            packets_lost=self.packets_lost,
        )
