"""`sereno worker avl`: refuses to run while AVL is off; otherwise runs until SIGTERM and stops cleanly."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from typer.testing import CliRunner

from sereno.cli import app


def test_the_worker_refuses_to_start_while_avl_is_off(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["worker", "avl", "--data-dir", str(tmp_path)], env={"SERENO_AVL__ENABLED": "false"}
    )
    assert result.exit_code == 2 and "SERENO_AVL__ENABLED=true" in result.output


def test_the_worker_stops_on_sigterm(tmp_path: Path) -> None:
    """No broker is needed: the connection is made in the background and retried until the worker stops."""
    env = {
        **os.environ,
        "SERENO_AVL__ENABLED": "true",
        "SERENO_AVL__PORT": "1",  # nothing listens there: the worker keeps retrying, and still stops at once
        "SERENO_AVL__CLIENT_ID": f"test-{uuid.uuid4().hex[:8]}",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "sereno", "worker", "avl", "--data-dir", str(tmp_path)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "AVL worker: mqtt://127.0.0.1:1 sereno/avl/+/position" in first, first
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, proc.stderr.read()
