"""Smoke run of the recording benchmark on two small streams: it runs, prints its figures, loses nothing.

No timing is asserted; the figures that matter come from `sereno bench record --json` on 50 1080p streams.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sereno.sim.cameras import gstreamer_available

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record.py"


@pytest.mark.skipif(
    not gstreamer_available() or shutil.which("ffmpeg") is None, reason="needs GStreamer's RTSP server and ffmpeg"
)
def test_record_bench_prints_its_figures() -> None:
    # CPU is read from /proc in clock ticks (10 ms). Two small streams for 4 s cost the recorder about one tick,
    # which read as 0 on a fast machine: four streams for 8 s give it several.
    args = ["--streams", "4", "--warmup", "4", "--window", "8", "--size", "320x180", "--kbps", "300"]
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=240, check=True)
    result = json.loads(proc.stdout)
    assert result["streams"] == 4 and result["packets_lost"] == 0
    assert result["cpu_s_per_stream_s"] > 0 and result["ffmpeg_cpu_s_per_stream_s"] > 0
    assert result["ratio_vs_ffmpeg"] == pytest.approx(
        result["cpu_s_per_stream_s"] / result["ffmpeg_cpu_s_per_stream_s"], rel=0.01
    )
