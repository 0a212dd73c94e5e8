"""Retention is enforced, not promised (principle 4): expired video is deleted, and a full disk evicts.

Both paths skip anything a legal hold covers, delete index rows before files (a crash leaves an unindexed file
that recovery removes, never a row pointing at nothing), and leave an audit entry saying what went and why.
Disk-pressure eviction also raises an alert: video lost before its time is an operational failure.
"""

from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, cast, delete, func, literal, select

from sereno.cameras.service import CameraService
from sereno.core.audit.service import AuditLog
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.recording.events import DiskPressureEviction, RetentionSwept
from sereno.recording.models import LegalHold, Segment
from sereno.recording.storage import SegmentStore

DAY_US = 86_400_000_000
BATCH = 500
ACTOR = "system:retention"


@dataclass(frozen=True)
class SweepReport:
    deleted_segments: int
    deleted_bytes: int
    kept_by_hold: int


@dataclass(frozen=True)
class EvictionReport:
    deleted_segments: int
    deleted_bytes: int
    free_bytes: int
    short_bytes: int  # still missing after evicting everything allowed (the rest is held)


def not_held() -> ColumnElement[bool]:
    """The segment overlaps no active legal hold on its camera."""
    return ~(
        select(LegalHold.id)
        .where(
            LegalHold.camera_id == Segment.camera_id,
            LegalHold.released_us.is_(None),
            LegalHold.start_us < Segment.end_us,
            LegalHold.end_us > Segment.start_us,
        )
        .exists()
    )


class RetentionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        cameras: CameraService,
        store: SegmentStore,
        bus: EventBus | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._cameras = cameras
        self._store = store
        self._bus = bus

    def sweep(self) -> SweepReport:
        """Delete every segment older than its camera's retention (the shorter of now and when recorded)."""
        now = self._clock.now_us()
        current = {c.id: (c.retention_days, c.centre) for c in self._cameras.registered()}
        deleted = deleted_bytes = kept = 0
        with self._db.read() as s:
            cameras = list(s.scalars(select(Segment.camera_id).distinct()))
        for camera_id in cameras:
            days, centre = current.get(camera_id, (None, ""))
            expired = Segment.end_us < literal(now, BigInteger) - cast(Segment.retention_days, BigInteger) * DAY_US
            if days is not None:  # a shortened retention applies to what was recorded before, too
                expired = expired | (Segment.end_us < now - days * DAY_US)
            condition = (Segment.camera_id == camera_id) & expired
            count, size, keys = self._delete(condition & not_held(), "recording.retention_delete", camera_id, centre)
            deleted, deleted_bytes = deleted + count, deleted_bytes + size
            with self._db.read() as s:
                kept += s.scalar(select(func.count()).select_from(Segment).where(condition & ~not_held())) or 0
            self._remove_files(keys)
        report = SweepReport(deleted, deleted_bytes, kept)
        if self._bus is not None and (deleted or kept):
            self._bus.publish_threadsafe(
                RetentionSwept(deleted_segments=deleted, deleted_bytes=deleted_bytes, kept_by_hold=kept)
            )
        return report

    def relieve_pressure(self, min_free_bytes: int) -> EvictionReport | None:
        """If free space is below the floor, evict the oldest unheld video until it is not. None: nothing to do."""
        usage = self._store.usage()
        if usage.free_bytes >= min_free_bytes:
            return None
        need = min_free_bytes - usage.free_bytes
        deleted = freed = 0
        while freed < need:
            with self._db.read() as s:
                batch = s.execute(
                    select(Segment.id, Segment.size_bytes).where(not_held()).order_by(Segment.end_us).limit(BATCH)
                ).all()
            if not batch:
                break
            chosen, running = [], 0
            for segment_id, size in batch:
                chosen.append(segment_id)
                running += size
                if freed + running >= need:
                    break
            count, size, keys = self._delete(Segment.id.in_(chosen), "recording.disk_pressure_evict", "", "")
            self._remove_files(keys)
            deleted, freed = deleted + count, freed + size
        free = self._store.usage().free_bytes
        with self._db.read() as s:
            oldest = s.scalar(select(func.min(Segment.start_us)))
            held = s.scalar(select(func.coalesce(func.sum(Segment.size_bytes), 0)).where(~not_held())) or 0
        report = EvictionReport(deleted, freed, free, max(0, min_free_bytes - free))
        if self._bus is not None:
            self._bus.publish_threadsafe(
                DiskPressureEviction(
                    deleted_segments=deleted,
                    deleted_bytes=freed,
                    free_bytes=free,
                    min_free_bytes=min_free_bytes,
                    oldest_remaining_us=oldest,
                    held_bytes_untouched=int(held),
                )
            )
        return report

    def _delete(
        self, condition: ColumnElement[bool], action: str, camera_id: str, centre: str
    ) -> tuple[int, int, list[str]]:
        """Rows go (with their audit entry) in one transaction; files after, by the caller."""
        with self._db.write() as s:
            rows = s.execute(
                select(
                    Segment.id,
                    Segment.camera_id,
                    Segment.size_bytes,
                    Segment.storage_key,
                    Segment.start_us,
                    Segment.end_us,
                )
                .where(condition)
                .order_by(Segment.start_us)
            ).all()
            if not rows:
                return 0, 0, []
            s.execute(delete(Segment).where(Segment.id.in_([r.id for r in rows])))
            size = sum(r.size_bytes for r in rows)
            self._audit.record(
                actor=ACTOR,
                action=action,
                target=f"camera:{camera_id}" if camera_id else "store",
                centre=centre,
                details={
                    "segments": len(rows),
                    "bytes": size,
                    "cameras": sorted({r.camera_id for r in rows}),
                    "from_us": rows[0].start_us,
                    "to_us": max(r.end_us for r in rows),
                },
                session=s,
            )
            return len(rows), size, [r.storage_key for r in rows]

    def _remove_files(self, keys: list[str]) -> None:
        for key in keys:
            self._store.delete(key)
