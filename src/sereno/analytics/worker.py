"""The analytics worker: every camera with an `[[analytics]]` entry gets a thread that decodes its sub stream
and runs its pipeline; hits become alerts through the alert service. `sereno worker analytics` runs it as a
process (several cameras per process; decoding is in C and releases the GIL). The cameras' detectors are
one shared instance per detector configuration in the process's detector pool (`pool.py`), which runs the
frames of several cameras in one batch where the detector can.

What the rules say goes to the alert service, which deduplicates and keeps cooldowns: the worker does not.
"""

import gc
import logging
import threading
import time
from dataclasses import dataclass

from sereno.alerts.service import AlertInput
from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.pool import DetectorPool
from sereno.analytics.rules import RuleHit
from sereno.analytics.runner import AnalysisRunner
from sereno.analytics.scene import Scene
from sereno.analytics.stream import AnalyticsStream
from sereno.app import Runtime
from sereno.cameras.service import CameraView
from sereno.config.site import SiteConfig
from sereno.ingest.backoff import Backoff

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 2.0
# The same thing seen on every frame is reported again at most this often: the alert's occurrences and last
# time stay meaningful without a database write per frame. A new thing (another dedup key) goes at once. Each
# report of a standing alert costs the lane ~1.3 ms (a write and a push); at 5 s, eight cameras with two
# standing alerts each spent a fifth of the lane's time on them, for a "last seen" a few seconds fresher.
REPEAT_EVERY_S = 10.0


def freeze_startup_objects() -> int:
    """Takes what the process holds once it has started (modules, classes, configuration, the runtime: ~190,000
    objects) out of the cycle collector's reach, and returns how many that was.

    Why: the collector's full collections walk every object in the process, and in a worker they are frequent.
    A camera's frame, its job and what its analysis builds live ~200 ms (a batch's window), long enough to
    survive the young collections, so a few hundred objects a second reach the oldest generation and trigger
    a full collection every half minute or so: 80-136 ms of one thread's time, which landed on the analysis
    lane (in bench/analytics.py, one such collection inside a 5 s analysed window cut that window's ratio from
    ~0.55 to 0.30). Frozen objects are still freed by reference counting; only reference cycles among them
    would never be collected, which is why garbage is collected once first."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@dataclass
class Running:
    stream: AnalyticsStream
    stop: threading.Event
    thread: threading.Thread


class AnalyticsWorker:
    def __init__(self, rt: Runtime, site: SiteConfig, runner_type: type[AnalysisRunner] = AnalysisRunner) -> None:
        """`runner_type` is the lanes' class: the analytics benchmark passes one that it can switch off, to
        measure these very streams decoded and not analysed."""
        self.rt = rt
        self.site = site
        self._runner_type = runner_type
        self.pool = DetectorPool(rt.settings.analytics.pool)
        self.runner: AnalysisRunner | None = None  # made in start(), once the cameras' detectors are known
        self.running: dict[str, Running] = {}
        self.alerts_raised = 0
        self._last_sent: dict[str, float] = {}
        self._sent_lock = threading.Lock()

    def start(self) -> None:
        cameras = {c.id: c for c in self.rt.cameras.registered() if c.enabled}
        zones = {c.code: c.timezone for c in self.site.centres}
        chosen: list[tuple[CameraView, CameraAnalytics]] = []
        for entry in self.site.analytics:
            camera = cameras.get(entry.camera)
            if camera is None:
                log.warning("analytics for camera %s skipped: not registered or disabled", entry.camera)
                continue
            timezone = zones.get(camera.centre, "UTC")  # detectors load here: a model that cannot, stops all
            chosen.append((camera, CameraAnalytics(camera.id, camera.centre, timezone, entry, pool=self.pool)))
        # One lane keeps the analysis warm; a batching detector needs frames of several cameras at once.
        self.runner = self._runner_type(
            lanes=max(1, min(len(chosen), self.pool.frames_at_once())),
            gather_s=self.rt.settings.analytics.gather_ms / 1000,
        )
        for camera, analytics in chosen:
            self.running[camera.id] = self._start(camera, analytics, self.runner)

    def run(self, stop: threading.Event) -> None:
        try:
            self.start()  # inside: a camera whose detector cannot load stops the others it started, and the pool
            while not stop.wait(HEALTH_EVERY_S):
                self.report_health()
        finally:
            self.close()

    def report_health(self) -> None:
        now = self.rt.clock.now_us()
        self.rt.ingest.report([r.stream.health.snapshot(now) for r in self.running.values()])

    def close(self) -> None:
        for running in self.running.values():
            running.stop.set()
        self.pool.close()  # a frame waiting for detections gets its answer (none) now, not at its timeout
        for running in self.running.values():
            running.thread.join(15)
        if self.runner is not None:
            self.runner.close()
        self.running.clear()

    def _start(self, camera: CameraView, analytics: CameraAnalytics, runner: AnalysisRunner) -> Running:
        stream = AnalyticsStream(
            camera,
            self.rt.cameras.stream_credentials(camera.id),
            analytics,
            self.rt.clock,
            self._raise,
            backoff=Backoff(0.5, self.rt.settings.recording.reconnect_max_s),
            runner=runner,
        )
        stop = threading.Event()
        thread = threading.Thread(target=stream.run, args=(stop,), name=f"analytics-{camera.id}", daemon=True)
        thread.start()
        return Running(stream, stop, thread)

    def _raise(self, camera: CameraView, scene: Scene | None, hits: list[RuleHit]) -> None:
        now = time.monotonic()
        for hit in hits:
            with self._sent_lock:
                if now - self._last_sent.get(hit.dedup_key, -REPEAT_EVERY_S) < REPEAT_EVERY_S:
                    continue
                self._last_sent[hit.dedup_key] = now
            details = {**hit.details, **({"where": list(hit.where)} if hit.where else {})}
            self.rt.alerts.raise_alert(
                AlertInput(
                    rule=hit.rule,
                    severity=hit.severity,
                    title=hit.title,
                    camera_id=camera.id,
                    centre=camera.centre,
                    details=details,
                    dedup_key=hit.dedup_key,
                    cooldown_s=hit.cooldown_s,
                    observed_us=scene.captured_us if scene is not None else None,
                )
            )
            self.alerts_raised += 1
