"""Simulated cameras are real RTSP servers with real H.264, and a camera can be dropped and resumed."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def luma(frame: av.VideoFrame) -> list[bytes]:
    """The Y plane's rows without the decoder's line padding, whose bytes are whatever was in memory."""
    plane = frame.planes[0]
    data = bytes(plane)
    return [data[row * plane.line_size : row * plane.line_size + frame.width] for row in range(frame.height)]


def changed(before: list[bytes], after: list[bytes], step: int = 2, levels: int = 30) -> float:
    """Share of (subsampled) pixels whose brightness moved by more than `levels`.

    A figure or a car passing changes its pixels by far more than that; sensor noise and coding artefacts on a
    still view do not, so the share tells motion from no motion without tuning to the encoder's mood.
    """
    total = moved = 0
    for row_a, row_b in zip(before[::step], after[::step], strict=True):
        for x in range(0, len(row_a), step):
            total += 1
            moved += abs(row_a[x] - row_b[x]) > levels
    return moved / total


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
def sim() -> Iterator[SimulatedCameraServer]:
    server = SimulatedCameraServer(
        [
            SimulatedCamera("cam-a", "day", SMALL, TINY),
            SimulatedCamera("cam-b", "night", SMALL, TINY),
            SimulatedCamera("cam-c", "traffic", SMALL, TINY),
            SimulatedCamera("cam-d", "empty", SMALL, TINY),
        ]
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


@pytest.mark.parametrize(("camera", "scene"), [("cam-a", "day"), ("cam-b", "night"), ("cam-c", "traffic")])
@pytest.mark.parametrize("spec", [("main", SMALL), ("sub", TINY)], ids=["main", "sub"])
def test_scenes_with_people_and_cars_move(
    sim: SimulatedCameraServer, camera: str, scene: str, spec: tuple[str, StreamSpec]
) -> None:
    stream, size = spec
    first, second = frames_a_second_apart(sim.url(camera, stream), size.fps)
    assert changed(first, second) > 0.03, scene  # measured 6-15%: several walkers and cars each moved


def test_the_empty_scene_holds_still(sim: SimulatedCameraServer) -> None:
    for stream, size in (("main", SMALL), ("sub", TINY)):
        first, second = frames_a_second_apart(sim.url("cam-d", stream), size.fps)
        assert changed(first, second) < 0.005  # noise only: measured 0


def frames_a_second_apart(url: str, fps: int) -> tuple[list[bytes], list[bytes]]:
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
        frames = []
        for frame in container.decode(container.streams.video[0]):
            frames.append(luma(frame))
            if len(frames) == 2 + fps + 1:  # skip the first two in case the decoder joined mid-picture
                return frames[2], frames[-1]
    raise AssertionError("the stream ended early")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make a clip")
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    make = ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "4"]
    make += ["-c:v", "libx264", "-g", "25"]
    subprocess.run([*make, str(path)], check=True, timeout=60)
    return path


def test_a_clip_plays_from_its_start_to_every_client_in_real_time(clip: Path) -> None:
    with av.open(str(clip)) as container:
        opening = luma(next(container.decode(video=0)))

    def watch(delay_s: float, url: str) -> tuple[float, float, list[av.VideoFrame]]:
        time.sleep(delay_s)
        started = time.monotonic()
        with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
            frames = list(container.decode(video=0))
        return started, time.monotonic(), frames

    with SimulatedCameraServer([], clips={"testsrc": clip}) as server, ThreadPoolExecutor(2) as pool:
        url = server.clip_url("testsrc")
        # The second viewer arrives a second into the first one's playback; a shared stream would start it there.
        early, late = pool.map(watch, (0.0, 1.0), (url, url))

    assert late[0] < early[1]  # they watched at the same time
    for started, ended, frames in (early, late):
        assert 90 <= len(frames) <= 100  # 4 s at 25 fps
        assert {(f.width, f.height) for f in frames} == {(320, 180)}
        assert luma(frames[0]) == opening  # the very first picture of the file, bit for bit
        assert next(f.time for f in frames if f.time is not None) < 0.2
        assert ended - started > 3.0  # paced by the file's timestamps, not read as fast as the disk allows


def test_clips_are_checked_before_they_are_served(tmp_path: Path) -> None:
    with pytest.raises(SimulatorError, match="no such file"):
        SimulatedCameraServer([], clips={"gone": tmp_path / "gone.mp4"}).start()
    with SimulatedCameraServer([]) as server, pytest.raises(SimulatorError, match="no clip"):
        server.clip_url("gone")
