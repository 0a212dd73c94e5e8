"""Worker processes of the embedded mode, started and kept alive by the process that serves the API.

A worker that exits is started again after a short, growing delay (a crash loop must not spin the CPU);
stopping sends SIGTERM, waits, then kills. Output goes to a log file per worker in the data directory.
"""

import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sereno.ingest.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass
class WorkerSpec:
    name: str
    args: list[str]  # after `python -m sereno`


@dataclass
class _Running:
    spec: WorkerSpec
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    started: float
    backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 30.0))
    restarts: int = 0


class WorkerSupervisor:
    def __init__(self, specs: list[WorkerSpec], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self._specs = specs
        self._log_dir = log_dir
        self._env = env
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> "WorkerSupervisor":
        self._log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self._specs:
            self._running[spec.name] = self._launch(spec)
        self._thread.start()
        return self

    def restarts(self) -> dict[str, int]:
        return {name: r.restarts for name, r in self._running.items()}

    def stop(self, timeout_s: float = 20.0) -> dict[str, int | None]:
        """SIGTERM to all, wait, kill what is left. Returns each worker's exit code."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for running in self._running.values():
            if running.process.poll() is None:
                running.process.terminate()
        deadline = time.monotonic() + timeout_s
        codes: dict[str, int | None] = {}
        for name, running in self._running.items():
            try:
                codes[name] = running.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                running.process.kill()
                codes[name] = running.process.wait()
            running.log_file.close()
        return codes

    def _launch(self, spec: WorkerSpec) -> _Running:
        log_file = (self._log_dir / f"{spec.name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "sereno", *spec.args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env,
        )
        return _Running(spec, process, log_file, time.monotonic())

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for name, running in list(self._running.items()):
                code = running.process.poll()
                if code is None:
                    if time.monotonic() - running.started > 60:
                        running.backoff.reset()
                    continue
                delay = running.backoff.next_delay()
                log.warning("worker %s exited with %s; starting it again in %.1f s", name, code, delay)
                if self._stop.wait(delay):
                    return
                running.log_file.close()
                replacement = self._launch(running.spec)
                replacement.backoff, replacement.restarts = running.backoff, running.restarts + 1
                self._running[name] = replacement
