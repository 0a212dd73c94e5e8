"""The recorder over real RTSP: sealed segments that play, reconnection with the gap indexed, dead and hostile
cameras contained to themselves."""

import io
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import av

from sereno.app import Runtime
from sereno.core.auth.principal import Principal
from sereno.ingest.health import StreamState
from sereno.recording.service import SegmentInfo
from sereno.recording.worker import RecordingWorker
from sereno.sim.cameras import SimulatedCameraServer
from tests.recording.helpers import add_camera
from tests.recording.hostile_camera import HostileCamera


def register(rt: Runtime, admin: Principal, camera_id: str, url: str) -> None:
    add_camera(rt, admin, camera_id)
    current = rt.cameras.get(admin, camera_id)
    from sereno.config.cameras import CameraConfig

    cfg = CameraConfig.model_validate(
        {
            **{k: getattr(current, k) for k in ("id", "centre", "name", "lat", "lon", "purpose", "retention_days")},
            "main_url": url,
            "sub_url": url,
        }
    )
    rt.cameras.replace(admin, camera_id, cfg)


@contextmanager
def recording(rt: Runtime, camera_ids: set[str] | None = None) -> Iterator[RecordingWorker]:
    worker = RecordingWorker(rt, camera_ids=camera_ids)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def segments(rt: Runtime, admin: Principal, camera_id: str) -> list[SegmentInfo]:
    return rt.recording.segments(admin, camera_id, 0, 2**62)


def test_records_sealed_segments_that_play_frame_for_frame(
    recording_rt: Runtime, admin: Principal, sim: SimulatedCameraServer
) -> None:
    rt = recording_rt
    register(rt, admin, "cam-a", sim.url("cam-a", "main"))
    with recording(rt) as worker:
        wait_for(lambda: len(segments(rt, admin, "cam-a")) >= 3)
        wait_for(lambda: any(h.state is StreamState.STREAMING and h.fps > 10 for h in rt.ingest.health(admin, "cam-a")))
    found = segments(rt, admin, "cam-a")
    assert worker.sealer.stats.failures == 0
    for segment in found:
        data = rt.recording.open_original(admin, segment.id, "Checking the recorder writes playable video")
        with av.open(io.BytesIO(data), mode="r") as container:
            frames = list(container.decode(video=0))
        assert len(frames) == segment.frames and frames[0].key_frame
        assert (frames[0].width, frames[0].height) == (320, 180)
    for segment in found[:-1]:  # the last one was cut short when recording stopped
        assert 1.9 <= (segment.end_us - segment.start_us) / 1e6 <= 2.5
    for before, after in itertools.pairwise(found):
        assert abs(after.start_us - before.end_us) < 100_000  # one connection: back to back
    health = rt.ingest.health(admin, "cam-a")[0]
    assert health.state is StreamState.STOPPED and health.packets_lost == 0


def test_a_dropped_stream_is_recorded_again_within_seconds_and_the_gap_indexed(
    recording_rt: Runtime, admin: Principal, sim: SimulatedCameraServer
) -> None:
    rt = recording_rt
    register(rt, admin, "cam-b", sim.url("cam-b", "main"))
    with recording(rt):
        wait_for(lambda: len(segments(rt, admin, "cam-b")) >= 1)
        sim.drop("cam-b")
        dropped_us = time.time() * 1e6
        time.sleep(3)
        sim.resume("cam-b")
        resumed_us = time.time() * 1e6
        wait_for(lambda: any(s.start_us > resumed_us for s in segments(rt, admin, "cam-b")), timeout_s=15)
        wait_for(lambda: bool(rt.recording.gaps(admin, "cam-b", 0, 2**62)))
    after = [s for s in segments(rt, admin, "cam-b") if s.start_us > dropped_us]
    assert after[0].start_us - resumed_us < 5_000_000  # recording resumed within 5 s of the stream's return
    gap = rt.recording.gaps(admin, "cam-b", 0, 2**62)[0]
    assert gap.start_us <= dropped_us + 500_000 and gap.end_us >= resumed_us - 500_000
    assert gap.end_us == after[0].start_us
    health = rt.ingest.health(admin, "cam-b")[0]
    assert health.reconnects >= 1 and health.errors >= 1


def test_dead_and_hostile_cameras_do_not_stop_the_others(
    recording_rt: Runtime, admin: Principal, sim: SimulatedCameraServer
) -> None:
    rt = recording_rt
    hostile = HostileCamera()
    try:
        register(rt, admin, "cam-c", sim.url("cam-c", "main"))
        register(rt, admin, "cam-dead", "rtsp://127.0.0.1:9/nothing-listens-here")
        register(rt, admin, "cam-junk", hostile.url)
        with recording(rt):
            wait_for(lambda: len(segments(rt, admin, "cam-c")) >= 3)
            wait_for(lambda: rt.ingest.health(admin, "cam-dead") != [] and rt.ingest.health(admin, "cam-junk") != [])
            wait_for(lambda: rt.ingest.health(admin, "cam-dead")[0].errors >= 2)
            wait_for(lambda: hostile.connections >= 1)
        dead = rt.ingest.health(admin, "cam-dead")[0]
        assert "cannot connect" in (dead.last_error or "")
        assert segments(rt, admin, "cam-dead") == [] and segments(rt, admin, "cam-junk") == []
    finally:
        hostile.close()
