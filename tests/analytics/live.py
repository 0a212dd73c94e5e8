"""The real analytics worker over real RTSP, for tests: cameras registered from the demo site's template,
each pointed at a simulated stream, one `AnalyticsWorker` thread for all of them, the alerts it raised read
back through the alert service, and each camera's pipeline at hand to check what it saw.

Deadlines are generous and nothing is timed: a test waits until what must happen has happened, then checks
what must not have, on the same run, so that the pipeline certainly ran over the must-not material too."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sereno.alerts.views import AlertView
from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.rules import Rule
from sereno.analytics.stream import AnalyticsStream
from sereno.analytics.worker import AnalyticsWorker
from sereno.app import Runtime
from sereno.config.analytics import CameraAnalyticsConfig
from sereno.config.site import SiteConfig
from sereno.core.auth.principal import cli_principal

TEMPLATE = "cam-av-10-agosto"  # a demo camera of the north centre, without privacy masks
DEADLINE_S = 45.0


@dataclass(frozen=True)
class Watched:
    camera: str
    url: str
    rules: list[dict[str, Any]]
    detector: dict[str, Any] = field(default_factory=dict)  # {"name": ..., "settings": {...}}; empty: motion only
    max_fps: float = 5.0


class LiveAnalytics:
    def __init__(self, rt: Runtime, site: SiteConfig, watched: list[Watched]) -> None:
        self.rt = rt
        template = next(c for c in site.cameras if c.id == TEMPLATE)
        cameras = [
            template.model_copy(
                update={"id": w.camera, "name": f"Test {w.camera}", "main_url": w.url, "sub_url": w.url}
            )
            for w in watched
        ]
        analytics = [
            CameraAnalyticsConfig.model_validate(
                {
                    "camera": w.camera,
                    "rules": w.rules,
                    "max_fps": w.max_fps,
                    "detector": w.detector or {"name": "motion"},
                }
            )
            for w in watched
        ]
        self.site = site.model_copy(update={"cameras": cameras, "analytics": analytics})
        self.worker = AnalyticsWorker(rt, self.site)
        self.streams: dict[str, AnalyticsStream] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.worker.run, args=(self._stop,), name="test-analytics")
        self._everyone = cli_principal("tester")

    def __enter__(self) -> "LiveAnalytics":
        self.rt.cameras.sync_from_site(self.site, cli_principal("test"))
        self._thread.start()
        wanted = {entry.camera for entry in self.site.analytics}
        try:
            self.wait_for("every camera's stream to start", lambda: set(dict(self.worker.running)) >= wanted)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.streams = {camera: running.stream for camera, running in self.worker.running.items()}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the analytics worker did not stop"

    def pipeline(self, camera: str) -> CameraAnalytics:
        return self.streams[camera].analytics

    def rule(self, camera: str, name: str) -> Rule:
        return next(r for r in self.pipeline(camera).rules if r.config.name == name)

    def alerts(self, camera: str | None = None, rule: str | None = None) -> list[AlertView]:
        found = self.rt.alerts.list(self._everyone, camera_id=camera, limit=1000)
        return [a for a in found if rule is None or a.rule == rule]

    def wait_for(self, what: str, check: Callable[[], bool], seconds: float = DEADLINE_S) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            if not self._thread.is_alive():
                raise AssertionError(f"the analytics worker stopped while waiting for {what}")
            time.sleep(0.1)
        seen = sorted(f"{a.camera_id}: {a.title}" for a in self.alerts())
        frames = {camera: stream.analytics.stats.frames for camera, stream in self.streams.items()}
        raise AssertionError(f"timed out waiting for {what}; alerts {seen}; frames analysed {frames}")
