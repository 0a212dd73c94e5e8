"""The analytics worker over real RTSP: simulated cameras through decode, motion, tracking and rules to alerts
in the database; an empty scene raises nothing; a camera whose stream drops raises camera-offline. And the
process settings that shape a worker reach it."""

import gc
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from sereno.analytics.runner import AnalysisRunner
from sereno.analytics.worker import AnalyticsWorker, freeze_startup_objects
from sereno.app import Runtime
from sereno.config.analytics import AnalyticsSettings, CameraAnalyticsConfig, DetectorPoolConfig
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig
from sereno.core.auth.principal import cli_principal
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available
from sereno.sim.demo import simulated_site

needs_rtsp = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer's RTSP server is not installed")
SPEC = StreamSpec(320, 180, 10, 200)
EVERYWHERE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


@pytest.fixture
def city(live_rt: Runtime, site: SiteConfig) -> Iterator[tuple[SimulatedCameraServer, SiteConfig]]:
    scenes = {"cam-av-10-agosto": "traffic", "cam-plaza-grande": "empty", "cam-rail-chimbacalle": "day"}
    with SimulatedCameraServer([SimulatedCamera(c, scene, SPEC, SPEC) for c, scene in scenes.items()]) as sim:
        analysed = simulated_site(site, sim).model_copy(
            update={
                "analytics": [
                    CameraAnalyticsConfig.model_validate(
                        {"camera": camera, "rules": [{"kind": "intrusion", "name": "Closed area", "zone": EVERYWHERE,
                                                      "dwell_s": 0.4},
                                                     {"kind": "camera-offline", "after_s": 2}]}
                    )
                    for camera in scenes
                ]
            }
        )  # fmt: skip
        live_rt.cameras.sync_from_site(analysed, cli_principal("test"))
        yield sim, analysed


def wait_for(check: "object", seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@needs_rtsp
def test_moving_scenes_alert_an_empty_one_does_not_and_a_dropped_stream_is_offline(
    live_rt: Runtime, city: tuple[SimulatedCameraServer, SiteConfig]
) -> None:
    rt = live_rt
    sim, site = city
    worker = AnalyticsWorker(rt, site)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    everyone = cli_principal("tester")
    try:
        wait_for(lambda: {a.camera_id for a in rt.alerts.list(everyone)} >= {"cam-av-10-agosto"})
        sim.drop("cam-rail-chimbacalle")
        wait_for(lambda: any(a.rule == "camera-offline" for a in rt.alerts.list(everyone)))
    finally:
        stop.set()
        thread.join(30)
    alerts = rt.alerts.list(everyone)
    by_camera = {(a.camera_id, a.rule) for a in alerts}
    assert ("cam-av-10-agosto", "intrusion") in by_camera
    assert ("cam-rail-chimbacalle", "camera-offline") in by_camera
    assert not any(camera == "cam-plaza-grande" for camera, _ in by_camera)  # nothing moves there
    moving = next(a for a in alerts if a.camera_id == "cam-av-10-agosto")
    assert moving.centre == "north" and moving.title == "Closed area: moving in the zone"
    assert worker.alerts_raised >= 1


def test_the_round_window_and_the_detector_pool_come_from_the_process_settings(
    settings: Settings, site: SiteConfig
) -> None:
    tuned = AnalyticsSettings(gather_ms=80, pool=DetectorPoolConfig(timeout_s=3.0, max_batch=4))
    rt = Runtime.build(settings.model_copy(update={"analytics": tuned}))
    try:
        worker = AnalyticsWorker(rt, site.model_copy(update={"analytics": []}))
        worker.start()
        assert worker.runner is not None and worker.runner.gather_s == pytest.approx(0.08)
        assert worker.pool.config.timeout_s == 3.0 and worker.pool.config.max_batch == 4
        worker.close()
    finally:
        rt.close()


class ChosenRunner(AnalysisRunner):
    """A runner of the caller's choosing, as the analytics benchmark passes one it can switch off."""


def test_the_worker_runs_its_lanes_on_the_runner_type_it_was_given(settings: Settings, site: SiteConfig) -> None:
    rt = Runtime.build(settings)
    try:
        worker = AnalyticsWorker(rt, site.model_copy(update={"analytics": []}), runner_type=ChosenRunner)
        worker.start()
        assert type(worker.runner) is ChosenRunner
        worker.close()
    finally:
        rt.close()


def test_freezing_startup_objects_collects_the_garbage_first_and_freezes_what_lives() -> None:
    """Garbage frozen would never be freed: the cycles already dead are collected before the freeze."""

    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the collector frees it

    dead, alive = Node(), Node()
    dead_ref = weakref.ref(dead)
    del dead
    try:
        frozen = freeze_startup_objects()
        assert dead_ref() is None
        assert frozen == gc.get_freeze_count() > 0 and alive.me is alive
    finally:
        gc.unfreeze()
