"""Stream health: written by the recorders, read by people through the camera's visibility rules."""

from sqlalchemy import select

from sereno.cameras.service import CameraService
from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.ingest.health import StreamHealth, StreamState
from sereno.ingest.models import StreamHealthRow


class IngestService:
    def __init__(self, db: Database, clock: Clock, cameras: CameraService) -> None:
        self._db = db
        self._clock = clock
        self._cameras = cameras

    def report(self, healths: list[StreamHealth]) -> None:
        now = self._clock.now_us()
        with self._db.write() as s:
            for h in healths:
                row = s.get(StreamHealthRow, (h.camera_id, h.stream))
                if row is None:
                    row = StreamHealthRow(camera_id=h.camera_id, stream=h.stream)
                    s.add(row)
                row.state, row.fps, row.kbps = h.state.value, h.fps, h.kbps
                row.last_frame_us, row.errors, row.last_error = h.last_frame_us, h.errors, h.last_error
                row.reconnects, row.packets_lost, row.updated_us = h.reconnects, h.packets_lost, now

    def health(self, viewer: Principal, camera_id: str) -> list[StreamHealth]:
        self._cameras.get(viewer, camera_id)  # NotFound unless visible
        with self._db.read() as s:
            rows = s.scalars(
                select(StreamHealthRow).where(StreamHealthRow.camera_id == camera_id).order_by(StreamHealthRow.stream)
            )
            return [_health(r) for r in rows]

    def overview(self, viewer: Principal) -> list[StreamHealth]:
        visible = {c.id for c in self._cameras.visible(viewer)}
        with self._db.read() as s:
            rows = s.scalars(select(StreamHealthRow).order_by(StreamHealthRow.camera_id, StreamHealthRow.stream))
            return [_health(r) for r in rows if r.camera_id in visible]


def _health(r: StreamHealthRow) -> StreamHealth:
    return StreamHealth(
        camera_id=r.camera_id,
        stream=r.stream,
        state=StreamState(r.state),
        fps=r.fps,
        kbps=r.kbps,
        last_frame_us=r.last_frame_us,
        errors=r.errors,
        last_error=r.last_error,
        reconnects=r.reconnects,
        packets_lost=r.packets_lost,
    )
