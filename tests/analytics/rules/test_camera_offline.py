"""Camera offline: the rule on its own (silence before the first frame is starting up, not offline), and over
real RTSP: of two cameras streaming to the same worker, the one whose stream drops raises camera-offline once
its grace period has passed; the one that keeps streaming never does."""

from collections.abc import Iterator

import pytest

from sereno.analytics.rules.camera_offline import Config, create
from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec
from tests.analytics.clips import serve
from tests.analytics.live import LiveAnalytics, Watched

SPEC = StreamSpec(320, 180, 25, 200)
SECOND = 1_000_000


def test_silence_counts_from_the_last_frame_and_never_before_the_first() -> None:
    offline = create(Config.model_validate({"after_s": 30, "name": "Rail crossing"}))
    assert offline.silence("cam-1", 100 * SECOND, None) == []  # never seen: starting up
    assert offline.silence("cam-1", 129 * SECOND, 100 * SECOND) == []
    hits = offline.silence("cam-1", 131 * SECOND, 100 * SECOND)
    assert [(h.title, h.dedup_key, h.severity) for h in hits] == [
        ("Rail crossing: no picture for 31 s", "cam-1:camera-offline", "warning")
    ]
    assert hits[0].details == {"silent_s": 31.0, "last_frame_us": 100 * SECOND}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    cameras = [SimulatedCamera(camera, "empty", SPEC, SPEC) for camera in ("cam-gone", "cam-steady")]
    with serve(tmp_path_factory.mktemp("camera-offline"), {}, cameras) as server:
        yield server


def test_over_rtsp_a_dropped_stream_is_offline_and_a_streaming_one_is_not(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    rules = [{"kind": "camera-offline", "after_s": 1}]
    watched = [Watched(camera, sim.url(camera, "sub"), rules) for camera in ("cam-gone", "cam-steady")]
    try:
        with LiveAnalytics(live_rt, site, watched) as live:
            live.wait_for(
                "both cameras' first frames",
                lambda: all(live.pipeline(w.camera).last_frame_us is not None for w in watched),
            )
            sim.drop("cam-gone")
            live.wait_for("the dropped camera to be offline", lambda: bool(live.alerts("cam-gone")))
            steady_frames = live.pipeline("cam-steady").stats.frames
            live.wait_for(
                "the steady camera to keep streaming", lambda: live.pipeline("cam-steady").stats.frames > steady_frames
            )
    finally:
        sim.resume("cam-gone")  # for the next database's run of this test
    gone = live.alerts("cam-gone")
    assert [(a.rule, a.severity) for a in gone] == [("camera-offline", "warning")]
    assert gone[0].title.startswith("Camera offline: no picture for ") and gone[0].details["silent_s"] >= 1
    assert live.alerts("cam-steady") == []  # streaming the whole time, analysed past the other's grace period
