"""`sereno demo --for N` as a user runs it: a real process, a real port, a JSON summary, a clean stop."""

import json
import subprocess
import sys
from pathlib import Path


def test_demo_runs_for_a_while_and_summarises(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            *[sys.executable, "-m", "sereno", "demo", "--for", "3", "--port", "0", "--data-dir", str(tmp_path)],
            *["--calls-per-day", "400000"],  # about five calls a second, so a few seconds show the city working
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["centres"] == 3 and summary["users_created"] == 11
    assert summary["cameras_registered"] == 3
    assert summary["smoke"] == {"ready": True, "login_status": 200, "operator_sees_centres": ["north"]}
    assert summary["audit"]["verified"] is True and summary["audit"]["entries"] >= 15
    city = summary["dispatch"]
    assert city["calls"] >= 1 and city["errors"] == 0, city
    assert "password:" in proc.stderr  # the generated credentials are shown to the person running it
    again = subprocess.run(
        [sys.executable, "-m", "sereno", "demo", "--for", "1", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["users_created"] == 0  # a second run keeps the users and the log
