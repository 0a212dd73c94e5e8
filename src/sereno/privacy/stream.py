"""The privacy stream of one camera: sub stream -> anonymiser -> masks -> live JPEG ring + low-rate segments.

Every frame a person can see (live view, snapshot, ordinary playback) is produced here, after the anonymiser.
If the camera has no anonymiser, or the anonymiser fails, the frame is dropped: fail closed.
"""

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from sereno.cameras.service import CameraView, StreamCredentials
from sereno.core.clock import Clock
from sereno.ingest.backoff import Backoff
from sereno.ingest.health import HealthCounter, StreamState
from sereno.privacy.anonymiser import Anonymiser, AnonymiserUnavailable, Image, create
from sereno.privacy.masks import apply_masks
from sereno.privacy.ring import FrameRing
from sereno.recording.service import init_section_length

log = logging.getLogger(__name__)

MS = Fraction(1, 1000)
FAILURES_BEFORE_DARK = 3


@dataclass(frozen=True)
class PrivacySegment:
    camera_id: str
    start_us: int
    end_us: int
    frames: int
    data: bytes
    init_bytes: int


class PrivacySegmentWriter:
    """Anonymised frames -> H.264 fragmented MP4, one file per ~N seconds, each starting with a keyframe."""

    def __init__(self, camera_id: str, segment_seconds: float, crf: int = 30) -> None:
        self.camera_id = camera_id
        self.segment_us = int(segment_seconds * 1e6)
        self.crf = crf
        self._buffer: io.BytesIO | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._start_us = 0
        self._last_us = 0
        self._last_pts = 0
        self._frames = 0

    def add(self, image: Image, captured_us: int) -> PrivacySegment | None:
        finished = None
        if self._container is not None and (
            captured_us - self._start_us >= self.segment_us or self._size_changed(image)
        ):
            finished = self.flush()
        if self._container is None:
            self._open(image, captured_us)
        assert self._container is not None and self._stream is not None
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        pts = (captured_us - self._start_us) // 1000
        frame.pts = self._last_pts = pts if self._frames == 0 else max(pts, self._last_pts + 1)
        frame.time_base = MS
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_us, self._frames = captured_us, self._frames + 1
        return finished

    def flush(self) -> PrivacySegment | None:
        container, stream, buffer = self._container, self._stream, self._buffer
        self._container = self._stream = self._buffer = None
        if container is None or stream is None or buffer is None:
            return None
        for packet in stream.encode(None):
            container.mux(packet)
        container.close()
        data = buffer.getvalue()
        frame_us = (self._last_us - self._start_us) // max(1, self._frames - 1) if self._frames > 1 else 200_000
        return PrivacySegment(
            camera_id=self.camera_id,
            start_us=self._start_us,
            end_us=self._last_us + frame_us,
            frames=self._frames,
            data=data,
            init_bytes=init_section_length(data),
        )

    def _open(self, image: Image, captured_us: int) -> None:
        self._buffer = io.BytesIO()
        self._container = av.open(
            self._buffer, "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}
        )
        stream = self._container.add_stream("libx264", rate=5)
        stream.height, stream.width = image.shape[0] - image.shape[0] % 2, image.shape[1] - image.shape[1] % 2
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = MS
        stream.options = {"preset": "veryfast", "crf": str(self.crf), "g": "10", "threads": "1"}
        self._stream = stream
        self._start_us, self._last_us, self._frames = captured_us, captured_us, 0

    def _size_changed(self, image: Image) -> bool:
        assert self._stream is not None
        return (self._stream.height, self._stream.width) != (
            image.shape[0] - image.shape[0] % 2,
            image.shape[1] - image.shape[1] % 2,
        )


class JpegEncoder:
    def __init__(self) -> None:
        self._context: av.VideoCodecContext | None = None

    def encode(self, image: Image) -> bytes:
        h, w = image.shape[0] - image.shape[0] % 2, image.shape[1] - image.shape[1] % 2
        context = self._context
        if context is None or (context.height, context.width) != (h, w):
            context = av.CodecContext.create("mjpeg", "w")  # type: ignore[assignment]
            assert isinstance(context, av.VideoCodecContext)
            context.width, context.height, context.pix_fmt = w, h, "yuvj420p"
            context.time_base = Fraction(1, 5)
            context.options = {"qmin": "3", "qmax": "8"}
            self._context = context
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24").reformat(
            format="yuvj420p"
        )
        return b"".join(bytes(p) for p in context.encode(frame))


class PrivacyStream:
    """Runs in a thread of the privacy worker; `process` is the whole per-frame path, testable without RTSP."""

    def __init__(
        self,
        camera: CameraView,
        credentials: StreamCredentials,
        ring: FrameRing,
        clock: Clock,
        on_segment: Callable[[PrivacySegment], None],
        *,
        segment_seconds: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.camera = camera
        self._credentials = credentials
        self.ring = ring
        self._clock = clock
        self._on_segment = on_segment
        self.health = HealthCounter(camera.id, "privacy")
        self._backoff = backoff or Backoff()
        self._jpeg = JpegEncoder()
        self._writer = PrivacySegmentWriter(camera.id, segment_seconds)
        self._failures = 0
        self.anonymiser: Anonymiser | None
        try:
            self.anonymiser = create(camera.anonymiser)
        except AnonymiserUnavailable as exc:
            self.anonymiser = None
            self.health.error(str(exc))
            self.health.state = StreamState.STOPPED
            ring.clear(camera.id)

    def process(self, image: Image, captured_us: int) -> bool:
        """One decoded frame. Returns whether anything was published (False: fail closed)."""
        if self.anonymiser is None:
            return False
        try:
            visible = apply_masks(self.anonymiser.apply(image), self.camera.privacy_masks)
        except Exception as exc:  # a broken anonymiser hides the camera; it never lets a frame through
            self._failures += 1
            self.health.error(f"anonymiser failed: {exc}")
            if self._failures >= FAILURES_BEFORE_DARK:
                self.ring.clear(self.camera.id)
            return False
        self._failures = 0
        self.ring.publish(self.camera.id, self._jpeg.encode(visible), captured_us)
        finished = self._writer.add(visible, captured_us)
        if finished is not None:
            self._on_segment(finished)
        self.health.frames(1, 0, captured_us)
        return True

    def run(self, stop: threading.Event) -> None:
        if self.anonymiser is None:
            return
        while not stop.is_set():
            try:
                self._decode_until_stopped(stop)
                self._backoff.reset()
            except (av.error.FFmpegError, OSError) as exc:
                self.health.error(str(exc))
            self.health.state = StreamState.DOWN
            finished = self._writer.flush()
            if finished is not None:
                self._on_segment(finished)
            stop.wait(self._backoff.next_delay())
        finished = self._writer.flush()
        if finished is not None:
            self._on_segment(finished)
        self.health.state = StreamState.STOPPED

    def _decode_until_stopped(self, stop: threading.Event) -> None:
        with av.open(self._credentials.in_url(self.camera.sub_url), options=_OPTIONS, timeout=5.0) as src:
            stream = src.streams.video[0]
            stream.thread_type = "AUTO"
            self.health.state = StreamState.STREAMING
            for frame in src.decode(stream):
                if stop.is_set():
                    return
                image: Image = frame.to_ndarray(format="rgb24")  # type: ignore[assignment]
                self.process(image, self._clock.now_us())


# A second of probing, not FFmpeg's default five: at a sub stream's 5 fps the default opened each (re)connection
# after ~5.6 s, past the 5 s timeout for some inputs (see analytics/stream.py, which measured it).
_OPTIONS = {"rtsp_transport": "tcp", "fflags": "nobuffer", "analyzeduration": "1000000"}
