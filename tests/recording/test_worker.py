"""The recording worker as a real process: kill -9 at any moment leaves an index that never points at
missing or corrupt video; recovery removes what the kill left half-done; a restart indexes the time away."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.core.auth.principal import Principal
from sereno.recording.models import Segment
from sereno.recording.storage import PARTIAL_SUFFIX
from sereno.recording.worker import keep_segment_buffers_in_heap
from sereno.sim.cameras import SimulatedCameraServer
from tests.recording.helpers import add_camera
from tests.recording.test_recorder import register, segments


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
    _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()
    gaps = rt.recording.gaps(admin, "cam-a", 0, 2**62)
    assert any(g.reason == "recorder not running" for g in gaps)
    found = segments(rt, admin, "cam-a")
    assert len(found) > indexed - 1 and check_index_points_at_whole_video(rt, admin) == len(found)


def test_segment_buffers_can_be_kept_in_the_heap() -> None:
    assert keep_segment_buffers_in_heap() is True
