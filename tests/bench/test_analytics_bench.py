"""Smoke run of the analytics benchmark on two small streams: it runs and prints its figures.

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
    args = ["--streams", "2", "--warmup", "3", "--window", "4", "--size", "320x180", "--fps", "10"]
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=240, check=True)
    result = json.loads(proc.stdout)
    assert result["streams"] == 2
    assert result["streams_per_core"] > 0 and result["decode_only_streams_per_core"] > 0
    assert result["ratio"] == pytest.approx(
        result["streams_per_core"] / result["decode_only_streams_per_core"], rel=0.02
    )
    assert {"alert_latency_p99_ms", "alert_events"} <= set(result)
    by_thread = result["cpu_s_by_thread"]  # where each phase's CPU went: the decoders, the cameras, the lane
    assert set(by_thread["decode_only"]) >= {"decode-only"} and set(by_thread["analysed"]) >= {"analytics"}
