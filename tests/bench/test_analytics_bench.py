"""Smoke run of the analytics benchmark on two small streams: it runs, switches the analysis on and off by turns,
and prints its figures.

No timing is asserted; the figures that matter come from `sereno bench analytics --json` at its defaults.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sereno.sim.cameras import gstreamer_available

BENCH = Path(__file__).resolve().parents[2] / "bench" / "analytics.py"


@pytest.mark.skipif(not gstreamer_available(), reason="needs GStreamer's RTSP server")
def test_analytics_bench_prints_its_figures() -> None:
    args = ["--streams", "2", "--warmup", "3", "--window", "2", "--settle", "1", "--rounds", "2", "--size", "320x180",
            "--fps", "10"]  # fmt: skip
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=240, check=True)
    result = json.loads(proc.stdout)
    assert result["streams"] == 2
    assert result["streams_per_core"] > 0 and result["decode_only_streams_per_core"] > 0
    assert result["ratio"] == pytest.approx(
        result["streams_per_core"] / result["decode_only_streams_per_core"], rel=0.02
    )
    assert {"alert_latency_p99_ms", "alert_events"} <= set(result)
    assert len(result["ratio_by_round"]) == 2
    assert result["frames_decoded"]["decode_only"] > 0 and result["frames_decoded"]["analysed"] > 0
    assert 0.4 < result["analysed_share"] <= 1.0  # analysis on: the frames were analysed, up to max_fps (5 of 10)
    by_thread = result["cpu_s_by_thread"]  # where each phase's CPU went: the cameras' threads, the lane
    assert by_thread["decode_only"]["analytics"] > 0 and by_thread["decode_only"].get("analysis-lane", 0) < 0.01
    assert by_thread["analysed"]["analytics"] > 0 and by_thread["analysed"]["analysis-lane"] > 0
