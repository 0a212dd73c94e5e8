"""Starting and steering the simulated RTSP cameras from Sereno's own interpreter.

The RTSP server itself (`rtsp_server.py`) runs under Debian's Python, where GStreamer's bindings live; this
class owns that child process: it starts it, waits until it listens, drops and resumes cameras on demand
(fault tests, the demo's dead camera) and stops it with the parent. Clips replay a real recording's H.264
untouched to every client, for benchmarks that want many viewers of a high-bitrate stream at little cost.
"""

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")


class SimulatorError(RuntimeError):
    pass


@dataclass(frozen=True)
class StreamSpec:
    width: int
    height: int
    fps: int
    kbps: int

    def arg(self) -> str:
        return f"{self.width}x{self.height}@{self.fps}:{self.kbps}"


@dataclass(frozen=True)
class SimulatedCamera:
    id: str
    scene: str = "day"  # day, night, traffic (people and cars moving), empty (no motion, only sensor noise)
    main: StreamSpec = StreamSpec(1280, 720, 25, 2000)
    sub: StreamSpec = StreamSpec(640, 360, 5, 300)

    def arg(self) -> str:
        return f"{self.id}:{self.scene}:{self.main.arg()}/{self.sub.arg()}"


def system_python() -> str:
    """The interpreter with GStreamer's bindings: $SERENO_SIM_PYTHON, else Debian's python3."""
    return os.environ.get("SERENO_SIM_PYTHON") or shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"


def gstreamer_available() -> bool:
    """Whether the system interpreter can import GStreamer's RTSP server bindings."""
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        return subprocess.run([system_python(), "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class SimulatedCameraServer:
    def __init__(
        self,
        cameras: list[SimulatedCamera],
        *,
        port: int = 0,
        start_timeout_s: float = 20.0,
        clips: dict[str, Path] | None = None,
    ) -> None:
        self.cameras = {c.id: c for c in cameras}
        self.clips = dict(clips or {})
        self._requested_port = port
        self._timeout = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self.port = 0

    def start(self) -> "SimulatedCameraServer":
        args = [system_python(), str(SERVER_SCRIPT), "--port", str(self._requested_port)]
        for cam in self.cameras.values():
            args += ["--camera", cam.arg()]
        for name, path in self.clips.items():
            # Absolute, so the child finds the file whatever directory it is started from.
            args += ["--clip", f"{name}={Path(path).resolve()}"]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        line = self._read_line()
        if not line.startswith("ready "):
            err = self._proc.stderr.read() if self._proc.stderr and self._proc.poll() is not None else ""
            self.close()
            raise SimulatorError(f"simulated cameras did not start: {line or 'no answer'} {err.strip()[-400:]}")
        self.port = int(line.split()[1])
        return self

    def url(self, camera_id: str, stream: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.port}/{camera_id}/{stream}"

    def clip_url(self, name: str) -> str:
        """Each client of this URL gets its own playback from the clip's first frame, paced in real time."""
        if name not in self.clips:
            raise SimulatorError(f"no clip named {name!r}")
        return f"rtsp://127.0.0.1:{self.port}/clip/{name}"

    def drop(self, camera_id: str) -> None:
        """The camera goes dark: its clients are disconnected and new connections refused."""
        self._command(f"drop {camera_id}")

    def resume(self, camera_id: str) -> None:
        self._command(f"resume {camera_id}")

    def _command(self, text: str) -> None:
        with self._lock:
            if self._proc is None or self._proc.stdin is None:
                raise SimulatorError("the simulated camera server is not running")
            self._proc.stdin.write(text + "\n")
            self._proc.stdin.flush()
            answer = self._read_line()
        if not answer.startswith("ok "):
            raise SimulatorError(answer or "the simulated camera server stopped")

    def _read_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self._proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self._timeout)
        return result[0].strip() if result else ""

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.write("quit\n")
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> "SimulatedCameraServer":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
