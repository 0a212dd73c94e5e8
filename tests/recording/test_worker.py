"""The recording worker as a real process: kill -9 at any moment leaves an index that never points at
missing or corrupt video; recovery removes what the kill left half-done; a restart indexes the time away."""

import functools
import gc
import http.server
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av

from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.core.auth.principal import Principal
from sereno.recording.models import Segment
from sereno.recording.storage import PARTIAL_SUFFIX
from sereno.recording.worker import GC_THRESHOLDS, RecordingWorker, collect_garbage_rarely, keep_segment_buffers_in_heap
from sereno.sim.cameras import SimulatedCameraServer
from tests.recording.helpers import add_camera
from tests.recording.test_recorder import register, segments, wait_for


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SERENO_DATA_DIR": str(settings.data_dir),
        "SERENO_DATABASE_URL": settings.resolved_database_url(),
        "SERENO_RECORDING__SEGMENT_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sereno", "worker", "record"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def check_index_points_at_whole_video(rt: Runtime, admin: Principal) -> int:
    with rt.db.read() as s:
        rows = list(s.query(Segment).filter(Segment.stream == "main"))
    for row in rows:
        data = rt.recording.open_original(admin, row.id, "Checking the index after a kill -9")  # checks SHA-256
        assert len(data) > row.init_bytes
    return len(rows)


def test_kill_9_at_random_moments_never_corrupts_the_index(
    settings: Settings, recording_rt: Runtime, admin: Principal, sim: SimulatedCameraServer
) -> None:
    rt = recording_rt
    register(rt, admin, "cam-a", sim.url("cam-a", "main"))
    add_camera(rt, admin, "cam-off", "north")  # a camera that never answers, recorded by the same worker
    rng = random.Random(2026)
    indexed = 0
    for _round in range(3):
        worker = start_worker(settings)
        time.sleep(rng.uniform(6.0, 9.0))  # start-up, a keyframe, then segments every ~2 s (one per GOP)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert worker.stderr is not None
        errors = worker.stderr.read().decode()
        worker.stderr.close()
        now_indexed = check_index_points_at_whole_video(rt, admin)  # before any recovery ran
        assert now_indexed > indexed, errors
        indexed = now_indexed
        report = rt.recording.recover()
        assert report.missing_files == 0
        stored = set(rt.recording.store.list_keys())
        with rt.db.read() as s:
            assert stored == set(s.scalars(s.query(Segment.storage_key).statement))
        assert not list(Path(rt.settings.media_dir).rglob("*" + PARTIAL_SUFFIX))
    worker = start_worker(settings)
    time.sleep(6)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr.decode()
    gaps = rt.recording.gaps(admin, "cam-a", 0, 2**62)
    assert any(g.reason == "recorder not running" for g in gaps)
    found = segments(rt, admin, "cam-a")
    assert len(found) > indexed - 1 and check_index_points_at_whole_video(rt, admin) == len(found)


def test_segment_buffers_can_be_kept_in_the_heap() -> None:
    assert keep_segment_buffers_in_heap() is True


def test_the_recorder_process_collects_garbage_rarely() -> None:
    before = collect_garbage_rarely()
    try:
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > 100 * before[0]
    finally:
        gc.set_threshold(*before)


def test_sources_the_fast_path_does_not_take_are_recorded_through_pyav(
    recording_rt: Runtime, admin: Principal, sim: SimulatedCameraServer, tmp_path: Path
) -> None:
    """A file camera, an HTTP stream and RTSP over UDP: still stream copy, sealed, indexed, playable."""
    rt = recording_rt
    clip = tmp_path / "clip.ts"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25",
            "-t",
            "20",
            "-c:v",
            "libx264",
            "-g",
            "25",
            "-f",
            "mpegts",
            str(clip),
        ],
        check=True,
    )
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *_: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        register(rt, admin, "cam-file", f"file://{clip}")
        register(rt, admin, "cam-http", f"http://127.0.0.1:{server.server_address[1]}/clip.ts")
        register(rt, admin, "cam-udp", sim.url("cam-c", "main") + "#udp")
        worker = RecordingWorker(rt, camera_ids={"cam-file", "cam-http", "cam-udp"})
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        try:
            wait_for(lambda: all(len(segments(rt, admin, c)) >= 2 for c in ("cam-file", "cam-http", "cam-udp")), 40)
        finally:
            stop.set()
            thread.join(30)
    finally:
        server.shutdown()
        server.server_close()
    assert set(worker.pyav_feeds) == {"cam-file", "cam-http", "cam-udp"}
    for camera_id in ("cam-file", "cam-http", "cam-udp"):
        for segment in segments(rt, admin, camera_id):
            data = rt.recording.open_original(admin, segment.id, "Checking the PyAV path writes playable video")
            with av.open(io.BytesIO(data), mode="r") as container:
                frames = list(container.decode(video=0))
            assert len(frames) == segment.frames and frames[0].key_frame
    health = {h.camera_id: h for h in rt.ingest.overview(admin)}
    assert health["cam-file"].errors == 0 or health["cam-file"].last_error == "the stream ended"
