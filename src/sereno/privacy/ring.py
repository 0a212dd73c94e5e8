"""The latest anonymised JPEG frames of each camera, shared between the privacy worker and the API.

Files in a directory (one folder per camera, one file per frame, written under a temporary name and renamed)
work across processes with no broker and are what a local deployment needs; only anonymised frames are ever
written here, so nothing in this folder is sensitive beyond what an operator sees.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

NAME = "{seq:012d}-{captured_us}.jpg"


@dataclass(frozen=True)
class LiveFrame:
    seq: int
    captured_us: int
    jpeg: bytes


class FrameRing:
    def __init__(self, root: Path, keep: int = 10) -> None:
        self.root = root
        self.keep = keep
        self._seq: dict[str, int] = {}

    def publish(self, camera_id: str, jpeg: bytes, captured_us: int) -> int:
        folder = self.root / camera_id
        if camera_id not in self._seq:
            folder.mkdir(parents=True, exist_ok=True)
            existing = self._frames(camera_id)
            self._seq[camera_id] = existing[-1][0] if existing else 0
        seq = self._seq[camera_id] = self._seq[camera_id] + 1
        final = folder / NAME.format(seq=seq, captured_us=captured_us)
        temporary = folder / f".{final.name}.tmp"
        temporary.write_bytes(jpeg)
        os.replace(temporary, final)
        for _seq, path in self._frames(camera_id)[: -self.keep]:
            path.unlink(missing_ok=True)
        return seq

    def latest(self, camera_id: str) -> LiveFrame | None:
        for seq, path in reversed(self._frames(camera_id)):
            try:
                return LiveFrame(seq, int(path.stem.split("-")[1]), path.read_bytes())
            except (FileNotFoundError, IndexError, ValueError):
                continue  # removed by the writer meanwhile: take the one before
        return None

    def wait_newer(self, camera_id: str, after_seq: int, timeout_s: float, poll_s: float = 0.05) -> LiveFrame | None:
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self.latest(camera_id)
            if frame is not None and frame.seq > after_seq:
                return frame
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll_s)

    def clear(self, camera_id: str) -> None:
        """A camera that lost its anonymiser must not keep showing its last frames."""
        for _seq, path in self._frames(camera_id):
            path.unlink(missing_ok=True)

    def _frames(self, camera_id: str) -> list[tuple[int, Path]]:
        folder = self.root / camera_id
        if not folder.is_dir():
            return []
        frames = []
        for path in folder.glob("*.jpg"):
            head = path.name.split("-", 1)[0]
            if head.isdigit():
                frames.append((int(head), path))
        frames.sort()
        return frames
