"""Smoke run of the anonymiser benchmark on one small sequence: it runs and prints its figures, in range.

No target is asserted here; the figures that matter come from `sereno bench anonymise --json` at 640x360.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "anonymise.py"


def test_anonymise_bench_prints_its_figures() -> None:
    args = ["--sequences", "1", "--frames", "13", "--passes", "1", "--size", "320x180"]
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=240, check=True)
    result = json.loads(proc.stdout)
    assert result["frames"] == 3 and result["timed_frames"] == 3 and result["size"] == "320x180"
    for key in ("pixels_hidden_recall", "face_recall", "background_hidden_motion"):
        assert result[key] is None or 0 <= result[key] <= 1, key
    assert result["pixels_hidden_recall"] is not None
    assert result["fps_per_core_360p"] > 0 and result["fps_per_core"]["motion"] > 0
