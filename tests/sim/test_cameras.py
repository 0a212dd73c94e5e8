"""Simulated cameras are real RTSP servers with real H.264, and a camera can be dropped and resumed."""

import time

import av
import pytest

from sereno.sim.cameras import (
    SimulatedCamera,
    SimulatedCameraServer,
    SimulatorError,
    StreamSpec,
    gstreamer_available,
)

pytestmark = pytest.mark.skipif(
    not gstreamer_available(), reason="GStreamer's RTSP server is not installed (see .ci/run for the Debian packages)"
)

SMALL = StreamSpec(320, 180, 10, 300)
TINY = StreamSpec(160, 96, 5, 100)


def read_frames(url: str, count: int = 3, timeout_s: float = 10.0) -> list[tuple[int, int, str]]:
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=timeout_s) as container:
        stream = container.streams.video[0]
        frames = []
        for frame in container.decode(stream):
            frames.append((frame.width, frame.height, stream.codec_context.name))
            if len(frames) == count:
                break
        return frames


@pytest.fixture(scope="module")
def sim() -> SimulatedCameraServer:
    server = SimulatedCameraServer(
        [SimulatedCamera("cam-a", "day", SMALL, TINY), SimulatedCamera("cam-b", "night", SMALL, TINY)]
    )
    with server:
        yield server


def test_main_and_sub_streams_are_h264_at_their_sizes(sim: SimulatedCameraServer) -> None:
    assert read_frames(sim.url("cam-a", "main")) == [(320, 180, "h264")] * 3
    assert read_frames(sim.url("cam-b", "sub")) == [(160, 96, "h264")] * 3


def test_a_dropped_camera_goes_dark_alone_and_comes_back(sim: SimulatedCameraServer) -> None:
    sim.drop("cam-a")
    with pytest.raises(av.error.FFmpegError):
        read_frames(sim.url("cam-a", "main"), timeout_s=3)
    assert read_frames(sim.url("cam-b", "main"), count=1) == [(320, 180, "h264")]  # the others carry on
    sim.resume("cam-a")
    time.sleep(0.2)
    assert read_frames(sim.url("cam-a", "main"), count=1) == [(320, 180, "h264")]


def test_unknown_camera_command_is_refused(sim: SimulatedCameraServer) -> None:
    with pytest.raises(SimulatorError, match="unknown"):
        sim.drop("cam-nope")


def test_drop_disconnects_a_client_that_is_watching(sim: SimulatedCameraServer) -> None:
    with av.open(sim.url("cam-b", "main"), options={"rtsp_transport": "tcp"}, timeout=3) as container:
        stream = container.streams.video[0]
        frames = container.decode(stream)
        next(frames)
        sim.drop("cam-b")
        started = time.monotonic()
        with pytest.raises((av.error.FFmpegError, StopIteration)):
            while time.monotonic() - started < 15:
                next(frames)
        assert time.monotonic() - started < 15
    sim.resume("cam-b")
