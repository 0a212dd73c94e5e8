"""The recording worker: the recorder loop plus what keeps it honest over days (registry changes, retention
sweeps, disk pressure). A class, so tests run it in a thread; `sereno worker record` runs it as a process."""

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sereno.app import Runtime
from sereno.ingest.health import HealthCounter
from sereno.recording.pyav_feed import PyAVFeed
from sereno.recording.recorder import STREAM, CameraSource, Recorder
from sereno.recording.sealer import SegmentSealer
from sereno.recording.service import RecoveryReport

log = logging.getLogger(__name__)

REFRESH_EVERY_S = 10.0
PRESSURE_EVERY_S = 10.0


GC_THRESHOLDS = (100_000, 50, 1000)


def keep_segment_buffers_in_heap() -> bool:
    """Every segment passes through a few multi-megabyte buffers (joined, encrypted). By default glibc maps
    each one fresh and returns it on free, so the kernel zero-fills ~5,000 new pages per 10 s of 1080p;
    measured, that was a third of the sealer's CPU. Serving them from the heap and keeping freed memory
    avoids it. Linux/glibc only; elsewhere this does nothing."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 64 << 20)) and bool(libc.mallopt(m_trim_threshold, 512 << 20))
    except (OSError, AttributeError):
        return False


def collect_garbage_rarely() -> tuple[int, int, int]:
    """The recorder keeps every packet of the last ~10 s of each camera as small tracked objects (views into
    the received bytes, grouped in lists), hundreds of thousands at 50 cameras; they live long enough to reach
    the older generations, so the cycle collector's default pace kept walking them all: 15% of the
    recorder's CPU in bench/record.py. Nothing on this path forms reference cycles, so the collector runs
    rarely here. Returns the thresholds it replaced."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


@dataclass
class WorkerTimers:
    refresh_at: float = 0.0
    sweep_at: float = 0.0
    pressure_at: float = 0.0
    health_at: float = 0.0


class RecordingWorker:
    def __init__(self, rt: Runtime, *, camera_ids: set[str] | None = None) -> None:
        self.rt = rt
        self._only = camera_ids
        self._settings = rt.settings.recording
        self.recovery: RecoveryReport = rt.recording.recover()
        if self.recovery.orphan_files or self.recovery.partial_files or self.recovery.missing_files:
            log.warning("recording recovery: %s", self.recovery)
        self._pressure = threading.Event()
        self.sealer = SegmentSealer(rt.recording, rt.keys, on_store_failure=self._pressure.set)
        self.recorder = Recorder(
            self.sealer,
            rt.clock,
            self._settings,
            add_gap=rt.recording.add_gap,
            last_end_us=lambda camera_id: rt.recording.last_end_us(camera_id, "main"),
            report_health=rt.ingest.report,
            bus=rt.bus,
        )
        self._timers = WorkerTimers()
        self.pyav_feeds: dict[str, PyAVFeed] = {}

    def sources(self) -> list[CameraSource]:
        sources = []
        for camera in self.rt.cameras.registered():
            if not camera.enabled or (self._only is not None and camera.id not in self._only):
                continue
            credentials = self.rt.cameras.stream_credentials(camera.id)
            sources.append(
                CameraSource(
                    camera_id=camera.id,
                    url=camera.main_url,
                    retention_days=camera.retention_days,
                    username=credentials.username,
                    password=credentials.password,
                )
            )
        return sources

    def run(self, stop: threading.Event, tick_s: float = 0.2) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.step(started)
                stop.wait(max(0.0, tick_s - (time.monotonic() - started)))
        finally:
            self.close()

    def step(self, now: float) -> None:
        timers = self._timers
        if now >= timers.refresh_at or self.recorder.unsupported.keys() - self.pyav_feeds.keys():
            timers.refresh_at = now + REFRESH_EVERY_S
            self._assign(self.sources())
        if now >= timers.health_at:
            timers.health_at = now + 2.0
            self._report_pyav_health()
        self.recorder.step()
        if now >= timers.sweep_at:
            timers.sweep_at = now + self._settings.sweep_interval_s
            self.sealer.call(self._sweep)
        if now >= timers.pressure_at or self._pressure.is_set():
            timers.pressure_at = now + PRESSURE_EVERY_S
            self._pressure.clear()
            self.sealer.call(self._relieve)

    def close(self) -> None:
        self.recorder.close()
        for feed in self.pyav_feeds.values():
            feed.stop()
        self._report_pyav_health()
        self.sealer.close()

    def _assign(self, sources: list[CameraSource]) -> None:
        """RTSP over TCP goes to the fast loop; the rest (and H.264-less RTSP) to a PyAV feed each."""
        fast = [s for s in sources if fast_path(s) and s.camera_id not in self.recorder.unsupported]
        self.recorder.set_sources(fast)
        slow = {s.camera_id: s for s in sources if s not in fast}
        for camera_id in list(self.pyav_feeds):
            if camera_id not in slow or slow[camera_id] != self.pyav_feeds[camera_id].source:
                self.pyav_feeds.pop(camera_id).stop()
        for camera_id, source in slow.items():
            if camera_id not in self.pyav_feeds:
                self.pyav_feeds[camera_id] = PyAVFeed(
                    source,
                    self.sealer,
                    self.rt.clock,
                    self._settings,
                    HealthCounter(camera_id, STREAM),
                    add_gap=self.rt.recording.add_gap,
                    gap_start_us=self.rt.recording.last_end_us(camera_id, STREAM),
                ).start()

    def _report_pyav_health(self) -> None:
        if self.pyav_feeds:
            now = self.rt.clock.now_us()
            snapshot = [feed.health.snapshot(now) for feed in self.pyav_feeds.values()]
            self.sealer.call(lambda: self.rt.ingest.report(snapshot))

    def _sweep(self) -> None:
        report = self.rt.retention.sweep()
        if report.deleted_segments:
            log.info("retention: %s", report)

    def _relieve(self) -> None:
        report = self.rt.retention.relieve_pressure(self._settings.min_free_bytes)
        if report is not None:
            log.warning("disk pressure: %s", report)


def fast_path(source: CameraSource) -> bool:
    return urlsplit(source.url).scheme == "rtsp" and not source.url.endswith("#udp")
