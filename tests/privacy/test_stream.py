"""The privacy stream: only anonymised frames get out, a missing or failing anonymiser shows nothing, the
anonymised recording plays, and over real RTSP the live ring fills."""

import io
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from sereno.cameras.service import CameraView, StreamCredentials
from sereno.config.cameras import CameraKind
from sereno.core.clock import SystemClock
from sereno.privacy.ring import FrameRing
from sereno.privacy.stream import PrivacySegment, PrivacySegmentWriter, PrivacyStream
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available
from tests.privacy.scenes import frame


def camera(anonymiser: str | None = "pixelate-motion", sub_url: str = "rtsp://127.0.0.1:9/none") -> CameraView:
    return CameraView(
        id="cam-p",
        centre="north",
        name="Privacy test",
        kind=CameraKind.FIXED,
        lat=0.0,
        lon=0.0,
        heading_deg=0.0,
        main_url=sub_url,
        sub_url=sub_url,
        purpose="Testing the privacy stream",
        retention_days=7,
        privacy_masks=[],
        username=None,
        has_password=False,
        enabled=True,
        anonymiser=anonymiser,
    )


def stream_for(tmp_path: Path, cam: CameraView, segments: list[PrivacySegment]) -> PrivacyStream:
    return PrivacyStream(
        cam, StreamCredentials(None, None), FrameRing(tmp_path), SystemClock(), segments.append, segment_seconds=1.0
    )


def decode_jpeg(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), mode="r", format="mjpeg") as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_published_frames_are_the_anonymised_ones(tmp_path: Path) -> None:
    stream = stream_for(tmp_path, camera(), [])
    image, _ = frame(0)
    assert stream.process(image, 1_000_000)
    live = stream.ring.latest("cam-p")
    assert live is not None
    shown = decode_jpeg(live.jpeg)
    assert shown.shape == image.shape
    # the first frame is fully pixelated (warm-up): 16x16 blocks are flat up to JPEG noise
    assert np.abs(shown[:16, :16].astype(int) - shown[:16, :16].mean(axis=(0, 1))).max() < 12
    assert np.abs(shown.astype(int) - image.astype(int)).mean() > 5


def test_no_anonymiser_means_nothing_is_shown(tmp_path: Path) -> None:
    FrameRing(tmp_path).publish("cam-p", b"left over from before", 1)
    segments: list[PrivacySegment] = []
    stream = stream_for(tmp_path, camera(anonymiser=None), segments)
    assert stream.process(frame(0)[0], 1) is False
    assert stream.ring.latest("cam-p") is None and segments == []
    assert "shows nothing" in (stream.health.last_error or "")
    stream.run(threading.Event())  # returns at once: it never opens the camera


def test_a_failing_anonymiser_hides_the_camera(tmp_path: Path) -> None:
    stream = stream_for(tmp_path, camera(), [])
    assert stream.process(frame(0)[0], 1)

    class Broken:
        name = "broken"

        def apply(self, image: np.ndarray) -> np.ndarray:
            raise RuntimeError("model file unreadable")

    stream.anonymiser = Broken()
    for t in range(3):
        assert stream.process(frame(t)[0], 2 + t) is False
    assert stream.ring.latest("cam-p") is None
    assert stream.health.errors == 3 and "model file unreadable" in (stream.health.last_error or "")


def test_the_anonymised_recording_is_playable_and_split_at_its_init_section() -> None:
    writer = PrivacySegmentWriter("cam-p", segment_seconds=1.0)
    finished = [s for t in range(12) if (s := writer.add(frame(t)[0], 1_000_000 + t * 200_000)) is not None]
    last = writer.flush()
    assert last is not None
    finished.append(last)
    assert [s.frames for s in finished] == [5, 5, 2]
    assert finished[0].start_us == 1_000_000 and finished[0].end_us == 2_000_000
    for segment in finished:
        assert segment.data[segment.init_bytes + 4 : segment.init_bytes + 8] == b"moof"
        with av.open(io.BytesIO(segment.data), mode="r") as container:
            assert sum(1 for _ in container.decode(video=0)) == segment.frames


@pytest.mark.skipif(not gstreamer_available(), reason="GStreamer's RTSP server is not installed")
def test_over_real_rtsp_the_live_ring_fills_with_anonymised_frames(tmp_path: Path) -> None:
    spec = StreamSpec(320, 180, 10, 200)
    with SimulatedCameraServer([SimulatedCamera("cam-p", "day", spec, spec)]) as server:
        segments: list[PrivacySegment] = []
        stream = stream_for(tmp_path, camera(sub_url=server.url("cam-p", "sub")), segments)
        stop = threading.Event()
        thread = threading.Thread(target=stream.run, args=(stop,))
        thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(segments) < 2 or stream.ring.latest("cam-p") is None):
            time.sleep(0.1)
        stop.set()
        thread.join(20)
    live = stream.ring.latest("cam-p")
    assert live is not None and decode_jpeg(live.jpeg).shape == (180, 320, 3)
    assert len(segments) >= 2 and all(s.frames > 0 for s in segments)
