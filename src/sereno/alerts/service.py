"""Alerts: what analytics (and the system itself) raise, folded, escalated and handled by people.

Raising (folding repeats within the cooldown, the snapshot) is the hot path and lives in `raising.py`; this
service is the capability's one entry point and owns the rest. An alert nobody acknowledges escalates, once per
delay of its severity, so it climbs the queue and reaches a supervisor. People decide (principle 6): they
acknowledge, dismiss with a reason, or promote to an incident; each of those is audited in the same transaction
as the change. Looking at an alert's snapshot is audited like any other view of a camera.
"""

import asyncio
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sereno.alerts.events import AlertChange
from sereno.alerts.models import Alert
from sereno.alerts.raising import SYSTEM, AlertRaiser, changed_message
from sereno.alerts.snapshots import SnapshotStore
from sereno.alerts.views import (
    ACTIVE,
    STATUSES,
    AlertInput,
    AlertView,
    StatusFilter,
    severity_of,
    view_of,
)
from sereno.cameras.service import CameraService
from sereno.config.alerts import AlertSettings
from sereno.core.audit.service import AuditLog
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.messages import Message
from sereno.dispatch.service import DispatchService
from sereno.privacy.ring import FrameRing

# The shapes live in views.py; callers (the API, the analytics worker) import them from here too.
__all__ = ["AlertInput", "AlertService", "AlertView", "StatusFilter"]

log = logging.getLogger(__name__)

EXPIRE_BATCH = 5000  # snapshots forgotten per transaction; the next pass takes the rest
EXPIRE_EVERY_US = 3_600_000_000  # the escalation loop also expires snapshots, this often


class AlertService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        cameras: CameraService,
        dispatch: DispatchService,
        ring: FrameRing,
        snapshots: SnapshotStore,
        settings: AlertSettings,
        bus: EventBus | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._cameras = cameras
        self._dispatch = dispatch
        self._snapshots = snapshots
        self._settings = settings
        self._bus = bus
        self._next_expiry_us = 0
        self._raiser = AlertRaiser(db, clock, cameras, ring, snapshots, settings, self._publish)

    # raising -------------------------------------------------------------------------------------------

    def raise_alert(self, alert: AlertInput) -> AlertView:
        """A new alert (with its snapshot, published as AlertRaised) or, within the cooldown, one more
        occurrence of the alert already there (published as AlertChanged "repeated"): see raising.py."""
        return self._raiser.raise_alert(alert)

    def close(self) -> None:
        self._raiser.close()

    # reading -------------------------------------------------------------------------------------------

    def get(self, viewer: Principal, alert_id: str) -> AlertView:
        with self._db.read() as s:
            return view_of(self._visible(s, viewer, alert_id))

    def snapshot(self, viewer: Principal, alert_id: str, client: str = "") -> bytes:
        """The picture kept with the alert; looking at it is audited like any other view of a camera."""
        with self._db.read() as s:
            row = self._visible(s, viewer, alert_id)
            name, camera_id, centre = row.snapshot, row.camera_id, row.centre
        jpeg = self._snapshots.get(name) if name is not None else None
        if jpeg is None:
            raise NotFound(f"alert '{alert_id}' has no snapshot")
        self._audit.record(
            actor=viewer.actor,
            action="video.snapshot",
            target=f"camera:{camera_id}",
            centre=centre,
            details={"client": client, "alert": alert_id},
        )
        return jpeg

    # handling ------------------------------------------------------------------------------------------

    def acknowledge(self, actor: Principal, alert_id: str) -> AlertView:
        """Someone is looking at it: it stops escalating."""
        with self._db.write() as s:
            row = self._visible(s, actor, alert_id, lock=True)
            if row.status != "open":
                raise Conflict(f"alert '{alert_id}' is already {row.status}")
            self._handle(s, actor, row, "acknowledged", {"escalation_level": row.escalation_level})
            view = view_of(row)
        self._changed(view, "acknowledged")
        return view

    def dismiss(self, actor: Principal, alert_id: str, reason: str) -> AlertView:
        """Nothing to do (a false alarm, a known works crew): the reason is kept, so patterns can be found."""
        reason = reason.strip()
        if not reason:
            raise Invalid("dismissing an alert needs a reason")
        with self._db.write() as s:
            row = self._visible(s, actor, alert_id, lock=True)
            if row.status not in ACTIVE:
                raise Conflict(f"alert '{alert_id}' is already {row.status}")
            row.dismiss_reason = reason[:1000]
            self._handle(s, actor, row, "dismissed", {"reason": row.dismiss_reason})
            view = view_of(row)
        self._changed(view, "dismissed")
        return view

    def promote(
        self, actor: Principal, alert_id: str, type_code: str, lat: float | None = None, lon: float | None = None
    ) -> AlertView:
        """Opens an incident in the alert's centre, at the camera's position unless one is given (an alert
        without a camera needs one). The alert joins the incident's timeline; both change in one transaction."""
        alert = self.get(actor, alert_id)
        if alert.status not in ACTIVE:
            raise Conflict(f"alert '{alert_id}' is already {alert.status}")
        if (lat is None) != (lon is None):
            raise Invalid("give both latitude and longitude, or neither")
        if lat is None or lon is None:
            if alert.camera_id is None:
                raise Invalid("this alert has no camera: give the incident's position")
            camera = self._cameras.get(SYSTEM, alert.camera_id)
            lat, lon = camera.lat, camera.lon
        promoted: list[AlertView] = []

        def mark(s: Session, incident_id: str) -> None:
            row = self._visible(s, actor, alert_id, lock=True)
            if row.status not in ACTIVE:  # promoted or dismissed meanwhile: the incident is rolled back too
                raise Conflict(f"alert '{alert_id}' is already {row.status}")
            row.incident_id = incident_id
            self._handle(s, actor, row, "promoted", {"incident": incident_id, "type": type_code})
            promoted.append(view_of(row))

        summary = {"rule": alert.rule, "severity": alert.severity, "title": alert.title, "camera": alert.camera_id}
        self._dispatch.open_incident_from_alert(
            actor, alert_id, type_code, lat, lon, alert.centre, details=summary, within=mark
        )
        self._changed(promoted[0], "promoted")
        return promoted[0]

    # escalation ----------------------------------------------------------------------------------------

    def escalate_due(self, now_us: int | None = None) -> list[AlertView]:
        """Raises the level of every open alert unacknowledged for longer than its severity's delay (since it
        was raised, then since its last escalation), up to the highest level. Each step is a conditional
        update, so two API replicas running this loop at once escalate an alert once, not twice."""
        now = now_us if now_us is not None else self._clock.now_us()
        top = self._settings.max_escalation_level
        with self._db.read() as s:
            candidates = s.execute(
                select(Alert.id, Alert.severity, Alert.first_us, Alert.escalated_us, Alert.escalation_level).where(
                    Alert.status == "open", Alert.escalation_level < top
                )
            ).all()
        due = [
            (c.id, c.escalation_level)
            for c in candidates
            if now - (c.escalated_us or c.first_us) >= self._settings.escalate_after_s.of(severity_of(c.severity)) * 1e6
        ]
        if not due:
            return []
        escalated = []
        with self._db.write() as s:
            for alert_id, level in due:
                done = s.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, Alert.status == "open", Alert.escalation_level == level)
                    .values(escalation_level=level + 1, escalated_us=now)
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", 0) == 1:
                    escalated.append(alert_id)
            views = [view_of(row) for row in s.scalars(select(Alert).where(Alert.id.in_(escalated)))]
        for view in views:
            self._changed(view, "escalated")
        return views

    def expire_snapshots(self, now_us: int | None = None) -> int:
        """Removes the pictures of alerts dismissed (nothing came of them) and raised longer ago than the
        retention; an alert still being handled, or promoted into an incident's record, keeps its picture.
        The row forgets the picture first, then the file goes, so a crash in between leaves an orphan file
        (removed at the next pass over its day) and never a row pointing at nothing. Audited as one entry."""
        now = now_us if now_us is not None else self._clock.now_us()
        cutoff = now - self._settings.snapshot_retention_days * 86_400_000_000
        with self._db.write() as s:
            rows = s.execute(
                select(Alert.id, Alert.snapshot, Alert.centre)
                .where(Alert.snapshot.is_not(None), Alert.status == "dismissed", Alert.first_us < cutoff)
                .limit(EXPIRE_BATCH)
            ).all()
            if not rows:
                return 0
            s.execute(
                update(Alert)
                .where(Alert.id.in_([r.id for r in rows]))
                .values(snapshot=None)
                .execution_options(synchronize_session=False)
            )
            self._audit.record(
                actor=SYSTEM.actor,
                action="alerts.snapshots_expired",
                details={"count": len(rows), "retention_days": self._settings.snapshot_retention_days},
                session=s,
            )
        for row in rows:
            try:
                self._snapshots.discard(row.snapshot)
            except (OSError, ValueError) as exc:
                log.warning("alert %s: snapshot not removed: %s", row.id, exc)
        return len(rows)

    async def escalate_forever(self, interval_s: float | None = None) -> None:
        """The API process's loop (started by its lifespan). The database work runs in a thread; a cancelled
        loop lets the step in flight finish, so shutdown never closes the database under it."""
        interval = interval_s if interval_s is not None else self._settings.escalation_check_s
        while True:
            await asyncio.sleep(interval)
            step = asyncio.ensure_future(asyncio.to_thread(self._escalate_logged))
            try:
                await asyncio.shield(step)
            except asyncio.CancelledError:
                await step
                raise

    def _escalate_logged(self) -> None:
        try:
            self.escalate_due()
            if self._clock.now_us() >= self._next_expiry_us:
                self._next_expiry_us = self._clock.now_us() + EXPIRE_EVERY_US
                self.expire_snapshots()
        except Exception:  # a database hiccup must not end escalation for the life of the process
            log.exception("alert upkeep failed; trying again at the next interval")

    # listing (last: the method's name would shadow the builtin in the annotations above) ---------------

    def list(
        self, viewer: Principal, *, status: StatusFilter | None = None, camera_id: str | None = None, limit: int = 100
    ) -> list[AlertView]:
        """The viewer's queue, newest first; `active` means open or acknowledged (still someone's to handle).
        `camera_id` narrows it to one camera (its page in the console)."""
        if not 1 <= limit <= 1000:
            raise Invalid("limit goes from 1 to 1000")
        query = select(Alert).order_by(Alert.first_us.desc(), Alert.id.desc()).limit(limit)
        if camera_id is not None:
            query = query.where(Alert.camera_id == camera_id)
        if status == "active":
            query = query.where(Alert.status.in_(ACTIVE))
        elif status is not None:
            if status not in STATUSES:
                raise Invalid(f"status must be one of {', '.join(STATUSES)} or active")
            query = query.where(Alert.status == status)
        if viewer.centres is not None:
            query = query.where(Alert.centre.in_(sorted(viewer.centres)))
        with self._db.read() as s:
            return [view_of(r) for r in s.scalars(query)]

    # inside --------------------------------------------------------------------------------------------

    def _handle(self, s: Session, actor: Principal, row: Alert, status: str, details: dict[str, Any]) -> None:
        row.status, row.handled_by, row.handled_us = status, actor.actor, self._clock.now_us()
        verb = {"acknowledged": "acknowledge", "dismissed": "dismiss", "promoted": "promote"}[status]
        self._audit.record(
            actor=actor.actor,
            action=f"alerts.{verb}",
            target=f"alert:{row.id}",
            centre=row.centre,
            details={"rule": row.rule, "severity": row.severity, "camera": row.camera_id, **details},
            session=s,
        )

    def _visible(self, s: Session, viewer: Principal, alert_id: str, *, lock: bool = False) -> Alert:
        row = s.get(Alert, alert_id, with_for_update=True if lock else None)
        if row is None or not viewer.sees(row.centre):
            raise NotFound(f"no alert '{alert_id}'")
        return row

    def _changed(self, view: AlertView, change: AlertChange) -> None:
        """Tells live listeners after the change is committed, never before."""
        self._publish(changed_message(view, change))

    def _publish(self, message: Message) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(message)
