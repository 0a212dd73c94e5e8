"""One detector per detector configuration per worker process, shared by its cameras, fed in batches.

A neural detector's cost on a CPU is mostly per call: one inference over the frames of six cameras costs a
little more than one over a single frame, far less than six. So instead of each camera's thread running its
own copy, the cameras' pipelines hand their frame (luma and moving regions) to the lane of their detector
configuration and wait. A detector with `detect_batch` gets a `BatchingLane`: its thread takes the first
frame waiting, lets other cameras' frames join it for a short window (a few milliseconds) up to a bounded
batch, runs them in one call and gives each camera its own detections. While a batch runs the next frames
queue up and form the next batch, so batches grow with load by themselves.

A detector without `detect_batch` (motion, HOG, thermal) gains nothing from waiting for others, and handing
its frame to another thread and back costs more than the motion detector's whole work (measured: ~35 us a
frame against ~13 us). Its `SerialLane` runs it on the asking camera's own thread, one camera at a time, so
the shared instance is never called concurrently: the cameras' frames go through it in a loop.

Containment is per camera, as when each camera ran its own detector:
- a detector that throws fails the frames of the call it was in: the whole batch for `detect_batch`, that
  one frame otherwise. Each of those cameras counts a detector error; the lane goes on with the next;
- a camera whose detections do not come back within the timeout (a slow model, a long queue, a closing
  pool) carries on without them and counts a timeout; its frame is skipped if its turn had not come yet.
Cameras whose detector configurations differ never share an instance: a lane is keyed by the whole choice.
"""

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sereno.analytics import detectors
from sereno.analytics.detectors import BatchDetector, Detector, DetectorInput
from sereno.analytics.scene import Detection, Luma, Motion
from sereno.config.analytics import DetectorChoice, DetectorPoolConfig

log = logging.getLogger(__name__)

MakeDetector = Callable[[DetectorChoice], Detector]
Outcome = list[Detection] | Exception  # one frame's detections, or what the detector raised on it


class DetectionTimeout(Exception):
    """The camera's detections did not come back in time; it carries on without them for this frame."""


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class DetectionRequest:
    """One camera's frame waiting in a batching lane, and its answer once there is one.

    Two plain locks rather than a concurrent.futures.Future: the hand-off is paid on every frame, and a
    Future's condition variables cost twice as much. `claim` settles the frame's fate once: the lane takes
    it to run it, or the camera, having given up waiting, takes it so that the lane skips it."""

    camera_id: str
    frame: DetectorInput
    queued_at: float  # time.monotonic()
    detections: list[Detection] = field(default_factory=list)
    error: Exception | None = None
    _claimed: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _answered: threading.Lock = field(default_factory=_held, repr=False)

    def claim(self) -> bool:
        return self._claimed.acquire(blocking=False)

    def answer(self, outcome: Outcome) -> None:
        if isinstance(outcome, Exception):
            self.error = outcome
        else:
            self.detections = outcome
        self._answered.release()

    def wait(self, timeout: float) -> bool:
        return self._answered.acquire(timeout=timeout)


@dataclass
class LaneStats:
    """What a lane has done (counted without locks: figures for people, not for decisions)."""

    requests: int = 0
    batches: int = 0  # calls to the detector
    largest_batch: int = 0
    failed_batches: int = 0  # calls to the detector that threw
    expired: int = 0  # frames whose camera stopped waiting before their turn came
    turned_away: int = 0  # frames refused because too many were waiting


class SerialLane:
    """A detector without detect_batch, called on the asking camera's thread, one camera at a time."""

    def __init__(self, label: str, detector: Detector, config: DetectorPoolConfig) -> None:
        self.label, self.detector, self.config = label, detector, config
        self.stats = LaneStats()
        self._turn = threading.Lock()
        self._closed = False

    def request(self, camera_id: str, luma: Luma, motion: Motion) -> list[Detection]:
        stats = self.stats
        stats.requests += 1
        if self._closed:
            raise DetectionTimeout(f"the detector pool is closed ({self.label})")
        if not self._turn.acquire(timeout=self.config.timeout_s):
            stats.expired += 1
            raise DetectionTimeout(f"{self.label} stayed busy for {self.config.timeout_s} s")
        try:
            stats.batches += 1
            stats.largest_batch = 1
            return self.detector.detect(luma, motion)
        except Exception:
            stats.failed_batches += 1
            raise
        finally:
            self._turn.release()

    def close(self, wait_s: float = 5.0) -> None:
        self._closed = True


class BatchingLane:
    """A detector with detect_batch, its queue and the thread(s) that run its batches."""

    def __init__(self, label: str, detector: BatchDetector, config: DetectorPoolConfig) -> None:
        self.label, self.detector, self.config = label, detector, config
        self.stats = LaneStats()
        self._queue: queue.SimpleQueue[DetectionRequest | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"detector-{label}-{i}", daemon=True) for i in range(config.threads)
        ]
        for thread in self._threads:
            thread.start()

    def request(self, camera_id: str, luma: Luma, motion: Motion) -> list[Detection]:
        """The frame's detections, from the next batch; raises what the detector raised, or DetectionTimeout."""
        request = DetectionRequest(camera_id, DetectorInput(luma, motion), time.monotonic())
        with self._lock:  # queued under the lock: nothing slips in behind the closing marks
            if self._closed:
                raise DetectionTimeout(f"the detector pool is closed ({self.label})")
            if self._queue.qsize() >= self.config.max_waiting:
                self.stats.turned_away += 1
                raise DetectionTimeout(f"{self.config.max_waiting} frames already wait for {self.label}")
            self._queue.put(request)
        if not request.wait(self.config.timeout_s):
            request.claim()  # if its turn has not come, the lane will skip it
            raise DetectionTimeout(f"no detections from {self.label} within {self.config.timeout_s} s")
        if request.error is not None:
            raise request.error
        return request.detections

    def close(self, wait_s: float = 5.0) -> None:
        """Frames still waiting are answered with DetectionTimeout; a batch already running finishes first."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)  # one closing mark per thread, behind every frame queued
        for thread in self._threads:
            thread.join(wait_s)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            closing = self._gather(batch)
            try:
                self._execute(batch)
            except Exception:  # a bug here must not end the lane: every camera of the detector would go blind
                log.exception("detector %s: a batch of %d could not be handled", self.label, len(batch))
                self._refuse(batch, "failed internally")
            if closing:
                return

    def _gather(self, batch: list[DetectionRequest]) -> bool:
        """Adds the frames waiting or arriving within the window that opened with the first one, up to the
        batch limit. Returns whether a closing mark was taken."""
        window_end = batch[0].queued_at + self.config.window_ms / 1000
        while len(batch) < self.config.max_batch:
            left = window_end - time.monotonic()
            try:
                request = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False
            if request is None:
                return True
            batch.append(request)
        return False

    def _execute(self, batch: list[DetectionRequest]) -> None:
        if self._closed:
            self._refuse(batch, "closed")
            return
        live = [r for r in batch if r.claim()]
        stats = self.stats
        stats.requests += len(batch)
        stats.expired += len(batch) - len(live)
        if not live:
            return
        stats.batches += 1
        stats.largest_batch = max(stats.largest_batch, len(live))
        for request, outcome in zip(live, self._detect([r.frame for r in live]), strict=True):
            request.answer(outcome)

    def _detect(self, frames: Sequence[DetectorInput]) -> list[Outcome]:
        try:
            found = self.detector.detect_batch(frames)
            if len(found) != len(frames):
                raise RuntimeError(f"detect_batch answered for {len(found)} frames of {len(frames)}")
        except Exception as exc:
            self.stats.failed_batches += 1
            log.warning("detector %s failed on a batch of %d: %s", self.label, len(frames), exc)
            return [exc] * len(frames)
        return list(found)

    def _refuse(self, batch: list[DetectionRequest], why: str) -> None:
        for request in batch:
            if request.claim():  # a frame claimed and left unanswered by a failure here times out instead
                request.answer(DetectionTimeout(f"detector {self.label}: {why}"))


DetectorLane = SerialLane | BatchingLane


class PooledDetector:
    """A camera's handle on its lane: to the camera's pipeline it is just its detector."""

    def __init__(self, lane: DetectorLane, camera_id: str) -> None:
        self.lane = lane
        self.camera_id = camera_id
        self.name = lane.detector.name
        self.needs_every_frame = bool(getattr(lane.detector, "needs_every_frame", False))

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        return self.lane.request(self.camera_id, luma, motion)


def _create(choice: DetectorChoice) -> Detector:
    return detectors.create(choice.name, choice.settings)


class DetectorPool:
    """The worker process's lanes, one per detector configuration, made on first use."""

    def __init__(self, config: DetectorPoolConfig | None = None, make: MakeDetector = _create) -> None:
        self.config = config or DetectorPoolConfig()
        self._make = make
        self.lanes: dict[str, DetectorLane] = {}
        self._lock = threading.Lock()
        self._closed = False

    def detector_for(self, camera_id: str, choice: DetectorChoice) -> PooledDetector:
        """The camera's detector; making it (loading a model) raises here, as creating one directly would."""
        key = json.dumps(choice.model_dump(mode="json"), sort_keys=True)
        with self._lock:
            if self._closed:
                raise RuntimeError("the detector pool is closed")
            lane = self.lanes.get(key)
            if lane is None:
                lane = self._lane(f"{choice.name}#{len(self.lanes) + 1}", self._make(choice))
                self.lanes[key] = lane
        return PooledDetector(lane, camera_id)

    def frames_at_once(self) -> int:
        """How many cameras' frames it pays to have in analysis at the same time: a batching detector's batch,
        else one (the serial lanes run one frame at a time anyway)."""
        batching = any(isinstance(lane, BatchingLane) for lane in self.lanes.values())
        return self.config.max_batch if batching else 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            lanes = list(self.lanes.values())
        for lane in lanes:
            lane.close()

    def _lane(self, label: str, detector: Detector) -> DetectorLane:
        if isinstance(detector, BatchDetector):
            return BatchingLane(label, detector, self.config)
        return SerialLane(label, detector, self.config)
