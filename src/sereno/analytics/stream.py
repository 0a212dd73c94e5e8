"""One camera's sub stream into its analysis: decode with PyAV, take the Y plane as it is, hand it on.

The Y plane of a YUV 4:2:0 frame is the luma picture already: it is all motion and the detectors here need,
and it is handed on as a read-only view of the decoded frame (minus the line padding), without a colour
conversion or even a copy. A stream that fails is retried with backoff; while it is down the pipeline's
silence rules (camera offline) speak.

Each stream is decoded on its own thread with no decoder threads (`open_sub_stream`, which the analytics
benchmark uses too, so that its decode-only baseline decodes exactly like this): a worker's parallelism comes
from its many cameras, and frame threads would hold each frame back by a frame per thread (at 5 fps, 200 ms
each). With low_delay FFmpeg does not use frame threads, but the automatic thread pool it kept cost a quarter
more CPU per frame (8 sub streams over RTSP on 2 cores: 1.16 ms a frame against 0.90 with one thread).

The decoding thread does as little per frame as it can: count it, stamp it, hand the frame itself to the
runner. Everything else, the Y plane view included, is done on the runner's lane. Right after a decode the
CPU's caches hold the decoder's data, and every other code path runs cold there. Taking the Y plane as a numpy
view is a handful of small steps, and they cost ~100 us a frame on the decoding thread (this project's 2-vCPU
machines, 8 cameras). On the lane, among the other cameras' frames, they cost a few.
"""

import functools
import logging
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import av
import numpy as np

from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.rules import RuleHit
from sereno.analytics.runner import AnalysisRunner, Job
from sereno.analytics.scene import Luma, Scene
from sereno.cameras.service import CameraView, StreamCredentials
from sereno.core.clock import Clock
from sereno.ingest.backoff import Backoff
from sereno.ingest.health import HealthCounter, StreamState

log = logging.getLogger(__name__)

OnHits = Callable[[CameraView, Scene | None, list[RuleHit]], None]
# FFmpeg probes a new input for 5 s of stream by default: at a sub stream's 5 fps that is 25 frames, so every
# (re)connection opened after ~5.6 s, right at the 5 s timeout (a replayed clip missed it). The SDP and the
# first keyframe say all the decoder needs; a second of probing opens in 1-1.6 s, first frame at ~2.5 s.
_OPTIONS = {"rtsp_transport": "tcp", "fflags": "nobuffer", "flags": "low_delay", "analyzeduration": "1000000"}
_LUMA_FIRST = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"})
SILENCE_CHECK_S = 1.0


@contextmanager
def open_sub_stream(url: str) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """The input and its video stream, set up for decoding the way the worker does (see the docstring)."""
    with av.open(url, options=_OPTIONS, timeout=5.0) as src:
        stream = src.streams.video[0]
        stream.thread_count = 1
        yield src, stream


def luma_of(frame: av.VideoFrame) -> Luma:
    """The frame's Y plane as a read-only (height, width) uint8 view, without the plane's line padding.

    The view keeps the decoded frame alive as long as it is held (FFmpeg never writes into a frame it has
    handed out); read-only, so that nothing downstream can scribble on it."""
    if frame.format.name not in _LUMA_FIRST:
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    luma: Luma = rows[:, : plane.width]
    luma.flags.writeable = False
    return luma


class AnalyticsStream:
    def __init__(
        self,
        camera: CameraView,
        credentials: StreamCredentials,
        analytics: CameraAnalytics,
        clock: Clock,
        on_hits: OnHits,
        backoff: Backoff | None = None,
        runner: AnalysisRunner | None = None,
    ) -> None:
        self.camera = camera
        self._credentials = credentials
        self.analytics = analytics
        self._clock = clock
        self._on_hits = on_hits
        self._backoff = backoff or Backoff()
        self._runner = runner  # None: each frame is analysed on this thread as it is decoded
        self.health = HealthCounter(camera.id, "analytics")
        self.corrupt_frames = 0  # not analysed: undecodable, marked corrupt, or after damage until a keyframe
        self.decoded_frames = 0  # since the start, for benchmarks (health counts per reporting window)
        self.turned_away_frames = 0  # frames the runner had no room for: the worker is overloaded

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._decode_until_stopped(stop)
                self._backoff.reset()
            except (av.error.FFmpegError, OSError) as exc:
                self.health.error(str(exc))
            self.health.state = StreamState.DOWN
            deadline = self._backoff.next_delay()
            waited = 0.0
            while waited < deadline and not stop.is_set():  # while down, silence rules get their say
                self._run_analysis(self._idle)
                step = min(SILENCE_CHECK_S, deadline - waited)
                stop.wait(step)
                waited += step
        self.health.state = StreamState.STOPPED

    def _decode_until_stopped(self, stop: threading.Event) -> None:
        with open_sub_stream(self._credentials.in_url(self.camera.sub_url)) as (src, stream):
            self.health.state = StreamState.STREAMING
            damaged = False  # a packet failed to decode: the pictures built on it are not to be trusted
            for packet in src.demux(stream):
                if stop.is_set():
                    return
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:  # a corrupt packet costs its frame, not the stream
                    self.corrupt_frames += 1
                    damaged = True
                    continue
                for frame in frames:
                    if not isinstance(frame, av.VideoFrame):
                        continue
                    now = self._clock.now_us()
                    self.decoded_frames += 1
                    self.health.frames(1, packet.size, now)
                    damaged = damaged and not frame.key_frame
                    if damaged:
                        self.corrupt_frames += 1
                        continue
                    if self.analytics.due(now):
                        self._run_analysis(functools.partial(self._analyse, frame, now))

    def _run_analysis(self, job: Job) -> None:
        """On this thread, or on the runner's lane for this camera (so the pipeline is never run twice at once)."""
        if self._runner is None:
            for _step in job() or ():
                pass
        elif not self._runner.submit(self.camera.id, job):
            self.turned_away_frames += 1

    def _analyse(self, frame: av.VideoFrame, captured_us: int) -> Generator[None, None, None]:
        """The frame's analysis in steps, for the runner (see runner.py): its luma and the pipeline's steps, then
        the alerts once every camera of the batch has been through its rules."""
        if frame.is_corrupt:  # concealed garbage moves: it raised false intrusions
            self.corrupt_frames += 1
            return
        scene, hits = yield from self.analytics.steps(luma_of(frame), captured_us)
        yield
        self._report(scene, hits)

    def _idle(self) -> None:
        self._report(None, self.analytics.idle(self._clock.now_us()))

    def _report(self, scene: Scene | None, hits: list[RuleHit]) -> None:
        if not hits:
            return
        try:
            self._on_hits(self.camera, scene, hits)
        except Exception:  # the alert store failing must not stop the analysis
            log.exception("camera %s: reporting %d hits failed", self.camera.id, len(hits))
