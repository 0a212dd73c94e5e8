"""The privacy worker: one privacy stream per camera (a thread each: decoding is in C and releases the GIL),
restarted when the camera changes. `sereno worker privacy` runs it as a process."""

import logging
import threading
from dataclasses import dataclass

from sereno.app import Runtime
from sereno.cameras.service import CameraView
from sereno.ingest.backoff import Backoff
from sereno.privacy.stream import PrivacySegment, PrivacyStream

log = logging.getLogger(__name__)

REFRESH_EVERY_S = 10.0
HEALTH_EVERY_S = 2.0


@dataclass
class Running:
    camera: CameraView
    stream: PrivacyStream
    stop: threading.Event
    thread: threading.Thread


class PrivacyWorker:
    def __init__(self, rt: Runtime, *, camera_ids: set[str] | None = None, segment_seconds: float = 10.0) -> None:
        self.rt = rt
        self._only = camera_ids
        self._segment_seconds = segment_seconds
        self.running: dict[str, Running] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        wanted = {
            c.id: c for c in self.rt.cameras.registered() if c.enabled and (self._only is None or c.id in self._only)
        }
        for camera_id in list(self.running):
            if camera_id not in wanted or wanted[camera_id] != self.running[camera_id].camera:
                self._stop(self.running.pop(camera_id))
        for camera_id, camera in wanted.items():
            if camera_id not in self.running:
                self.running[camera_id] = self._start(camera)

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.refresh()
                for _ in range(int(REFRESH_EVERY_S / HEALTH_EVERY_S)):
                    self.report_health()
                    if stop.wait(HEALTH_EVERY_S):
                        break
        finally:
            self.close()

    def report_health(self) -> None:
        now = self.rt.clock.now_us()
        self.rt.ingest.report([r.stream.health.snapshot(now) for r in self.running.values()])

    def close(self) -> None:
        for running in self.running.values():
            running.stop.set()
        for running in self.running.values():
            running.thread.join(15)
        self.report_health()
        self.running.clear()

    def _start(self, camera: CameraView) -> Running:
        stream = PrivacyStream(
            camera,
            self.rt.cameras.stream_credentials(camera.id),
            self.rt.privacy.ring,
            self.rt.clock,
            lambda segment: self._store(segment, camera.retention_days),
            segment_seconds=self._segment_seconds,
            backoff=Backoff(0.5, self.rt.settings.recording.reconnect_max_s),
        )
        stop = threading.Event()
        thread = threading.Thread(target=stream.run, args=(stop,), name=f"privacy-{camera.id}", daemon=True)
        thread.start()
        return Running(camera, stream, stop, thread)

    def _stop(self, running: Running) -> None:
        running.stop.set()
        running.thread.join(15)

    def _store(self, segment: PrivacySegment, retention_days: int) -> None:
        with self._lock:
            try:
                self.rt.privacy.store_segment(segment, retention_days)
            except Exception:  # one camera's storage trouble must not stop its stream thread
                log.exception("storing an anonymised segment of %s failed", segment.camera_id)
