"""Smoke run of the dispatch benchmark: a light load for a few seconds, every intake answered 201."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dispatch.py"


def test_dispatch_bench_prints_its_figures() -> None:
    args = ["--rate", "20", "--seconds", "3", "--units", "500"]
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=180, check=True)
    result = json.loads(proc.stdout)
    assert result["failures"] == 0 and result["intakes_per_s"] > 0
    assert result["p99_ms"] > 0 and result["recommend_p99_ms_5000_units"] > 0
