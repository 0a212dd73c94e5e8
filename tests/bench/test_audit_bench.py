"""Smoke run of the audit benchmark: it runs, prints its JSON keys, and its log verifies (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "audit.py"


def test_audit_bench_prints_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--appends", "300", "--entries", "2000"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["verify_ok"] is True and result["verified_entries"] == 2000
    assert result["appends_per_s"] > 0 and result["verify_1m_s"] > 0
