"""The recording index: segments, gaps and legal holds; the only way to the bytes of a sealed original.

Writers (the recorder) add segments and gaps; readers see them scoped to the cameras they may see. Opening a
sealed original is audited with its justification; ordinary viewing goes through the anonymised stream.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from sereno.cameras.service import CameraService
from sereno.core.audit.service import AuditLog
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Invalid, NotFound
from sereno.core.sealing import MasterKeys
from sereno.recording import sealing
from sereno.recording.events import GapRecorded, SegmentWritten
from sereno.recording.models import Gap, LegalHold, Segment
from sereno.recording.storage import SegmentStore

MAX_LIST = 5000


@dataclass(frozen=True)
class SegmentInfo:
    id: str
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    frames: int
    size_bytes: int
    init_bytes: int
    sha256: str
    sealed: bool


@dataclass(frozen=True)
class NewSegment(SegmentInfo):
    """What the writer knows beyond what readers are shown: the policy, the wrapped key, where the bytes are."""

    retention_days: int
    key_wrapped: bytes | None
    storage_key: str


@dataclass(frozen=True)
class GapInfo:
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    reason: str


@dataclass(frozen=True)
class HoldInfo:
    id: str
    camera_id: str
    centre: str
    start_us: int
    end_us: int
    reason: str
    case_ref: str
    created_by: str
    created_us: int
    released_us: int | None


@dataclass(frozen=True)
class RecoveryReport:
    partial_files: int
    orphan_files: int
    missing_files: int


class RecordingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        cameras: CameraService,
        keys: MasterKeys,
        store: SegmentStore,
        bus: EventBus | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._cameras = cameras
        self._keys = keys
        self.store = store
        self._bus = bus

    # written by the recorder -----------------------------------------------------------------------

    def add_segment(self, new: NewSegment) -> None:
        """Called after the bytes are durable in the store (see storage.py for why in that order)."""
        with self._db.write() as s:  # a Core insert: one per segment per camera, the ORM's bookkeeping buys nothing
            s.execute(insert(Segment), [{**new.__dict__, "created_us": self._clock.now_us()}])
        if self._bus is not None:
            self._bus.publish_threadsafe(
                SegmentWritten(
                    segment_id=new.id,
                    camera_id=new.camera_id,
                    stream=new.stream,
                    start_us=new.start_us,
                    end_us=new.end_us,
                    size_bytes=new.size_bytes,
                )
            )

    def add_gap(self, camera_id: str, stream: str, start_us: int, end_us: int, reason: str) -> None:
        if end_us <= start_us:
            return
        with self._db.write() as s:
            s.add(Gap(camera_id=camera_id, stream=stream, start_us=start_us, end_us=end_us, reason=reason[:500]))
        if self._bus is not None:
            self._bus.publish_threadsafe(
                GapRecorded(camera_id=camera_id, stream=stream, start_us=start_us, end_us=end_us, reason=reason[:500])
            )

    def last_end_us(self, camera_id: str, stream: str) -> int | None:
        """Where the previous run of the recorder stopped, to index the time it was away as a gap."""
        with self._db.read() as s:
            found = s.scalar(
                select(func.max(Segment.end_us)).where(Segment.camera_id == camera_id, Segment.stream == stream)
            )
            return int(found) if found is not None else None

    # read by people ----------------------------------------------------------------------------------

    def segments(
        self, viewer: Principal, camera_id: str, start_us: int, end_us: int, stream: str = "main"
    ) -> list[SegmentInfo]:
        self._cameras.get(viewer, camera_id)  # NotFound unless the viewer sees it
        _check_range(start_us, end_us)
        with self._db.read() as s:
            rows = s.scalars(
                select(Segment)
                .where(
                    Segment.camera_id == camera_id,
                    Segment.stream == stream,
                    Segment.end_us > start_us,
                    Segment.start_us < end_us,
                )
                .order_by(Segment.start_us)
                .limit(MAX_LIST)
            )
            return [_info(r) for r in rows]

    def gaps(
        self, viewer: Principal, camera_id: str, start_us: int, end_us: int, stream: str = "main"
    ) -> list[GapInfo]:
        self._cameras.get(viewer, camera_id)
        _check_range(start_us, end_us)
        with self._db.read() as s:
            rows = s.scalars(
                select(Gap)
                .where(Gap.camera_id == camera_id, Gap.stream == stream, Gap.end_us > start_us, Gap.start_us < end_us)
                .order_by(Gap.start_us)
                .limit(MAX_LIST)
            )
            return [GapInfo(g.camera_id, g.stream, g.start_us, g.end_us, g.reason) for g in rows]

    def segment(self, viewer: Principal, segment_id: str) -> SegmentInfo:
        with self._db.read() as s:
            row = s.get(Segment, segment_id)
            if row is None:
                raise NotFound(f"no segment '{segment_id}'")
        self._cameras.get(viewer, row.camera_id)
        return _info(row)

    def read_plain(self, viewer: Principal, segment_id: str) -> bytes:
        """An anonymised segment's bytes (playback). Sealed originals are refused here."""
        info = self.segment(viewer, segment_id)
        if info.sealed:
            raise NotFound(f"no segment '{segment_id}'")
        with self._db.read() as s:
            row = s.get(Segment, segment_id)
            assert row is not None
            key, wrapped = row.storage_key, row.key_wrapped
        return self._open(segment_id, key, wrapped)

    def open_original(self, actor: Principal, segment_id: str, justification: str) -> bytes:
        """The sealed original, decrypted and checked against its index hash. Audited with the justification.

        Who may call this is the business of break-glass approval and evidence export; this method only
        guarantees the record of every opening and that the bytes are the ones indexed.
        """
        if len(justification.strip()) < 10:
            raise Invalid("opening a sealed original needs a justification of at least 10 characters")
        info = self.segment(actor, segment_id)
        with self._db.write() as s:
            row = s.get(Segment, segment_id)
            assert row is not None
            self._audit.record(
                actor=actor.actor,
                action="recording.open_original",
                target=f"segment:{segment_id}",
                centre=self._cameras.get(actor, info.camera_id).centre,
                details={"camera": info.camera_id, "justification": justification.strip()[:500]},
                session=s,
            )
            key, wrapped = row.storage_key, row.key_wrapped
        data = self._open(segment_id, key, wrapped)
        if sha256_hex(data) != info.sha256:
            raise Invalid(f"segment {segment_id} does not match its indexed SHA-256")
        return data

    def _open(self, segment_id: str, storage_key: str, wrapped: bytes | None) -> bytes:
        stored = self.store.get(storage_key)
        return stored if wrapped is None else sealing.open_segment(self._keys, segment_id, stored, wrapped)

    # keys ------------------------------------------------------------------------------------------------

    def rewrap_keys(self, keys: MasterKeys) -> int:
        """After `MasterKeys.rotate`: every data key re-wrapped by the new master key; video is not touched."""
        changed = 0
        with self._db.write() as s:
            for row in s.scalars(select(Segment).where(Segment.key_wrapped.is_not(None))):
                assert row.key_wrapped is not None
                row.key_wrapped = sealing.rewrap(keys, row.id, row.key_wrapped)
                changed += 1
        self._keys = keys
        return changed

    # crash recovery ------------------------------------------------------------------------------------

    def recover(self) -> RecoveryReport:
        """Run before recording starts: removes partial and unindexed files, and names indexed files that vanished."""
        partial = self.store.discard_partials()
        with self._db.read() as s:
            indexed = set(s.scalars(select(Segment.storage_key)))
        orphans = [key for key in self.store.list_keys() if key not in indexed]
        for key in orphans:
            self.store.delete(key)
        missing = [key for key in indexed if not self.store.exists(key)]
        return RecoveryReport(partial_files=partial, orphan_files=len(orphans), missing_files=len(missing))

    # legal holds -----------------------------------------------------------------------------------------

    def place_hold(
        self, actor: Principal, camera_id: str, start_us: int, end_us: int, reason: str, case_ref: str
    ) -> HoldInfo:
        camera = self._cameras.get(actor, camera_id)
        _check_range(start_us, end_us)
        if len(reason.strip()) < 10:
            raise Invalid("a legal hold needs a reason of at least 10 characters")
        if not case_ref.strip():
            raise Invalid("a legal hold needs a case reference")
        row = LegalHold(
            id=secrets.token_hex(8),
            camera_id=camera_id,
            centre=camera.centre,
            start_us=start_us,
            end_us=end_us,
            reason=reason.strip(),
            case_ref=case_ref.strip(),
            created_by=actor.actor,
            created_us=self._clock.now_us(),
        )
        with self._db.write() as s:
            s.add(row)
            self._audit.record(
                actor=actor.actor,
                action="recording.hold",
                target=f"hold:{row.id}",
                centre=camera.centre,
                details={"camera": camera_id, "start_us": start_us, "end_us": end_us, "case": row.case_ref},
                session=s,
            )
        return _hold(row)

    def release_hold(self, actor: Principal, hold_id: str) -> HoldInfo:
        with self._db.write() as s:
            row = s.get(LegalHold, hold_id)
            if row is None or not actor.sees(row.centre) or row.released_us is not None:
                raise NotFound(f"no active legal hold '{hold_id}'")
            row.released_by, row.released_us = actor.actor, self._clock.now_us()
            self._audit.record(
                actor=actor.actor,
                action="recording.release_hold",
                target=f"hold:{hold_id}",
                centre=row.centre,
                details={"camera": row.camera_id, "case": row.case_ref},
                session=s,
            )
            return _hold(row)

    def holds(self, viewer: Principal, *, active_only: bool = True) -> list[HoldInfo]:
        with self._db.read() as s:
            query = select(LegalHold).order_by(LegalHold.created_us.desc())
            if active_only:
                query = query.where(LegalHold.released_us.is_(None))
            return [_hold(h) for h in s.scalars(query) if viewer.sees(h.centre)]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def init_section_length(data: bytes) -> int:
    """Bytes before the first top-level 'moof' box (ftyp + moov): what HLS calls the initialisation section."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"moof":
            return offset
        if size < 8:
            break
        offset += size
    return len(data)


def new_segment_id(start_us: int) -> str:
    """Sortable by time, unique without coordination between recorders."""
    return f"{start_us:016x}{secrets.token_hex(6)}"


def _check_range(start_us: int, end_us: int) -> None:
    if end_us <= start_us:
        raise Invalid("the time range must end after it starts")


def _info(r: Segment) -> SegmentInfo:
    return SegmentInfo(
        r.id, r.camera_id, r.stream, r.start_us, r.end_us, r.frames, r.size_bytes, r.init_bytes, r.sha256, r.sealed
    )


def _hold(h: LegalHold) -> HoldInfo:
    return HoldInfo(
        h.id,
        h.camera_id,
        h.centre,
        h.start_us,
        h.end_us,
        h.reason,
        h.case_ref,
        h.created_by,
        h.created_us,
        h.released_us,
    )
