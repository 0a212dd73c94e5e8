"""Fixtures for recording over real RTSP: a runtime with short segments and the system clock, and cameras."""

from collections.abc import Iterator

import pytest

from sereno.app import Runtime
from sereno.config.recording import RecordingSettings
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available

SMALL = StreamSpec(320, 180, 25, 300)
TINY = StreamSpec(160, 96, 5, 100)


@pytest.fixture
def recording_rt(settings: Settings, site: SiteConfig) -> Iterator[Runtime]:
    fast = RecordingSettings(
        segment_seconds=2.0, reconnect_initial_s=0.2, reconnect_max_s=1.0, stall_timeout_s=2.0, connect_timeout_s=2.0
    )
    runtime = Runtime.build(settings.model_copy(update={"recording": fast}))
    runtime.directory.sync_centres(site, "test")
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedCameraServer]:
    if not gstreamer_available():
        pytest.skip("GStreamer's RTSP server is not installed (see .ci/run for the Debian packages)")
    cameras = [SimulatedCamera(f"cam-{c}", "day", SMALL, TINY) for c in "abc"]
    with SimulatedCameraServer(cameras) as server:
        yield server
