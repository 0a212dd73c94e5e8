"""One camera's analysis, without any I/O: luma in, rule hits out. The stream and the worker around it only
move frames and hits; everything that decides is here, testable with arrays.

A detector or rule that throws is contained to this camera and counted: the camera keeps being analysed by
its other rules, and other cameras never notice. In a worker the detector is the camera's handle on the
process's shared detector pool (`pool.py`); a frame whose detections do not come back in time is analysed
without them (tracks coast, rules see no new objects) and counted as a timeout, not an error.
"""

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from sereno.analytics import detectors, rules
from sereno.analytics.detectors import Detector
from sereno.analytics.motion import MotionDetector
from sereno.analytics.pool import DetectionTimeout, DetectorPool
from sereno.analytics.rules import Rule, RuleHit
from sereno.analytics.scene import Detection, Luma, Motion, Scene
from sereno.analytics.tracking import Tracker
from sereno.config.analytics import CameraAnalyticsConfig

log = logging.getLogger(__name__)


@dataclass
class PipelineStats:
    frames: int = 0
    skipped: int = 0
    detections: int = 0
    hits: int = 0
    detector_errors: int = 0
    detector_timeouts: int = 0
    rule_errors: int = 0
    last_error: str | None = None
    hits_by_rule: dict[str, int] = field(default_factory=dict)


class CameraAnalytics:
    def __init__(
        self,
        camera_id: str,
        centre: str,
        timezone: str,
        config: CameraAnalyticsConfig,
        detector: Detector | None = None,
        rule_set: list[Rule] | None = None,
        pool: DetectorPool | None = None,
    ) -> None:
        self.camera_id, self.centre, self.timezone, self.config = camera_id, centre, timezone, config
        self.motion = MotionDetector(config.motion)
        if detector is None:
            detector = (
                pool.detector_for(camera_id, config.detector)
                if pool is not None
                else detectors.create(config.detector.name, config.detector.settings)
            )
        self.detector = detector
        self.rules = (
            rule_set
            if rule_set is not None
            else [rules.create(r["kind"], {k: v for k, v in r.items() if k != "kind"}) for r in config.rules]
        )
        self.tracker = Tracker(config.tracker)
        self.stats = PipelineStats()
        self.last_frame_us: int | None = None
        self._interval_us = round(1e6 / config.max_fps)
        self._credit_us = 2 * self._interval_us
        self._last_due_us: int | None = None

    def due(self, captured_us: int) -> bool:
        """Frame-rate cap: analysing more than max_fps buys nothing for these rules and costs a core.

        A token bucket holding two frames' worth, not "one interval since the last frame analysed": frames
        reach us unevenly (network, decoder), and with the stream at the cap a frame a few milliseconds early
        would be dropped; at 5 fps that skipped over a third of a steady stream's frames."""
        if self._last_due_us is not None:
            elapsed = max(0, captured_us - self._last_due_us)
            self._credit_us = min(2 * self._interval_us, self._credit_us + elapsed)
        self._last_due_us = captured_us
        if self._credit_us < self._interval_us:
            self.stats.skipped += 1
            return False
        self._credit_us -= self._interval_us
        return True

    def process(self, luma: Luma, captured_us: int) -> tuple[Scene, list[RuleHit]]:
        """One frame's analysis from start to end: the steps of `steps`, run one after the other."""
        steps = self.steps(luma, captured_us)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                outcome: tuple[Scene, list[RuleHit]] = done.value
                return outcome

    def steps(self, luma: Luma, captured_us: int) -> Generator[None, None, tuple[Scene, list[RuleHit]]]:
        """The frame's analysis, pausing between motion, detection, tracking and rules, so that the runner can
        take a batch of cameras through each step together (`runner.py` says why)."""
        self.stats.frames += 1
        self.last_frame_us = captured_us
        height, width = luma.shape
        motion = self.motion.update(luma)
        yield
        found = self._detect(luma, motion)
        yield
        tracks = self.tracker.update(found, captured_us)
        yield
        scene = Scene(self.camera_id, self.centre, captured_us, width, height, motion, found, tracks, luma)
        return scene, self._apply(lambda rule: rule.evaluate(scene), captured_us)

    def _detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        try:
            found = self.detector.detect(luma, motion) if motion.boxes or self._detects_still() else []
        except DetectionTimeout:
            found = []
            self.stats.detector_timeouts += 1
        except Exception as exc:  # a broken detector blinds this camera's detections, nothing else
            found = []
            self._failed("detector", exc)
        self.stats.detections += len(found)
        return found

    def idle(self, now_us: int) -> list[RuleHit]:
        """While no frames come (stream down): rules about silence speak (camera offline)."""
        return self._apply(lambda rule: rule.silence(self.camera_id, now_us, self.last_frame_us), now_us)

    def _apply(self, ask: Callable[[Rule], list[RuleHit]], at_us: int) -> list[RuleHit]:
        hits: list[RuleHit] = []
        for rule in self.rules:
            if rule.config.schedule and not rule.config.active(at_us, self.timezone):
                continue
            try:
                hits += ask(rule)
            except Exception as exc:
                self._failed(f"rule {rule.name}", exc)
        for hit in hits:
            self.stats.hits += 1
            self.stats.hits_by_rule[hit.rule] = self.stats.hits_by_rule.get(hit.rule, 0) + 1
        return hits

    def _detects_still(self) -> bool:
        """Thermal detectors look at every frame: a hotspot need not move."""
        return bool(getattr(self.detector, "needs_every_frame", False))

    def _failed(self, what: str, exc: Exception) -> None:
        if what == "detector":
            self.stats.detector_errors += 1
        else:
            self.stats.rule_errors += 1
        self.stats.last_error = f"{what}: {type(exc).__name__}: {exc}"[:300]
        log.warning("camera %s: %s failed: %s", self.camera_id, what, exc)
