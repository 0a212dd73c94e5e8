"""The recorder's second thread: renders finished segments, hashes, encrypts, stores and indexes them.

Kept off the receive loop so a slow disk or database never delays reading sockets (which would make the
cameras' TCP windows fill and frames arrive late). Jobs run in order, one at a time.
"""

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sereno.core.sealing import MasterKeys
from sereno.recording import sealing
from sereno.recording.segments import SealableSegment
from sereno.recording.service import NewSegment, RecordingService, sha256_hex
from sereno.recording.storage import StorageError

log = logging.getLogger(__name__)


@dataclass
class SealerStats:
    segments: int = 0
    frames: int = 0
    bytes: int = 0
    failures: int = 0


class SegmentSealer:
    def __init__(
        self,
        recording: RecordingService,
        keys: MasterKeys,
        *,
        on_store_failure: Callable[[], None] | None = None,
    ) -> None:
        self._recording = recording
        self._keys = keys
        self._on_store_failure = on_store_failure
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="segment-sealer", daemon=True)
        self.stats = SealerStats()
        self._thread.start()

    def submit(self, segment: SealableSegment, retention_days: int) -> None:
        self._jobs.put(lambda: self._seal(segment, retention_days))

    def call(self, job: Callable[[], None]) -> None:
        """Any other write that must not run on the receive loop (health reports, gap rows), in order."""
        self._jobs.put(job)

    def close(self, timeout_s: float = 60.0) -> None:
        """Finishes every queued job, then stops."""
        self._jobs.put(None)
        self._thread.join(timeout_s)

    @property
    def backlog(self) -> int:
        return self._jobs.qsize()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # one failed job must not stop the recording of every camera
                log.exception("recorder background job failed")

    def _seal(self, segment: SealableSegment, retention_days: int) -> None:
        plain, init_len = segment.render()
        stored, wrapped = sealing.seal_segment(self._keys, segment.segment_id, plain)
        day = datetime.fromtimestamp(segment.start_us / 1e6, UTC).strftime("%Y/%m/%d")
        key = f"{segment.camera_id}/{segment.stream}/{day}/{segment.segment_id}.sealed"
        try:
            self._recording.store.put(key, stored)
        except StorageError as exc:
            self.stats.failures += 1
            self._recording.add_gap(
                segment.camera_id, segment.stream, segment.start_us, segment.end_us, f"storage failed: {exc}"
            )
            if self._on_store_failure is not None:
                self._on_store_failure()
            return
        self._recording.add_segment(
            NewSegment(
                id=segment.segment_id,
                camera_id=segment.camera_id,
                stream=segment.stream,
                start_us=segment.start_us,
                end_us=segment.end_us,
                frames=segment.frames,
                size_bytes=sum(len(part) for part in stored),
                init_bytes=init_len,
                sha256=sha256_hex(plain),
                sealed=True,
                retention_days=retention_days,
                key_wrapped=wrapped,
                storage_key=key,
            )
        )
        self.stats.segments += 1
        self.stats.frames += segment.frames
        self.stats.bytes += sum(len(part) for part in stored)
