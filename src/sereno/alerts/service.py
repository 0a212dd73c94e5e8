"""Alerts: what analytics (and the system itself) raise, folded, escalated and handled by people.

A rule that keeps firing must not bury the operator: a repeat within the cooldown of the same alert (same
dedup key, same centre, still open or acknowledged) adds an occurrence instead of a new row. An alert nobody
acknowledges escalates, once per delay of its severity, so it climbs the queue and reaches a supervisor.
People decide (principle 6): they acknowledge, dismiss with a reason, or promote to an incident; each of those
is audited in the same transaction as the change.

The picture kept with a new alert is a copy of the camera's latest anonymised frame from the privacy ring,
never an original; a camera without an anonymiser or without a recent frame gives an alert without one.
"""

import asyncio
import json
import logging
import secrets
import time
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, insert, select, update
from sqlalchemy.orm import Session

from sereno.alerts.events import AlertChange, AlertChanged, AlertRaised
from sereno.alerts.models import Alert
from sereno.alerts.snapshots import SnapshotStore
from sereno.alerts.views import (
    ACTIVE,
    STATUSES,
    AlertInput,
    AlertView,
    StatusFilter,
    check,
    severity_of,
    view_of,
)
from sereno.cameras.service import CameraService, CameraView
from sereno.config.alerts import AlertSettings
from sereno.core.audit.service import AuditLog
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.messages import Message
from sereno.dispatch.service import DispatchService
from sereno.privacy.ring import FrameRing, LiveFrame

# The shapes live in views.py; callers (the API, the analytics worker) import them from here too.
__all__ = ["AlertInput", "AlertService", "AlertView", "StatusFilter"]

log = logging.getLogger(__name__)

# Raising an alert has no person behind it; this principal only looks up the alert's camera (any centre).
EXPIRE_BATCH = 5000  # snapshots forgotten per transaction; the next pass takes the rest
EXPIRE_EVERY_US = 3_600_000_000  # the escalation loop also expires snapshots, this often
_SYSTEM = Principal(0, "alerts", Role.ADMIN, None, None, frozenset(), "system")
# How long a repeat may skip the checks a first raise makes (the camera exists, belongs to the centre given):
# a camera moved to another centre is noticed within this, without a camera lookup on every repeat.
REVALIDATE_S = 60.0
_RECENT_LIMIT = 10_000
RecentKey = tuple[str | None, str, str]  # camera, centre, dedup key: as a rule gives them


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
        self._ring = ring
        self._snapshots = snapshots
        self._settings = settings
        self._bus = bus
        self._next_expiry_us = 0
        self._recent: dict[RecentKey, tuple[str, float]] = {}  # -> alert id, when its inputs were checked
        self._cameras_seen: dict[str, tuple[CameraView, float]] = {}  # -> the camera, when it was looked up

    # raising -------------------------------------------------------------------------------------------

    def raise_alert(self, alert: AlertInput) -> AlertView:
        """A new alert (with its snapshot, published as AlertRaised) or, within the cooldown, one more
        occurrence of the alert already there (published as AlertChanged "repeated")."""
        check(alert)
        now = self._clock.now_us()
        at = alert.observed_us if alert.observed_us is not None else now
        repeated = self._repeat_known(alert, at)
        if repeated is not None:
            return repeated
        camera = self._camera(alert) if alert.camera_id is not None else None
        centre = camera.centre if camera is not None else alert.centre
        if centre is None:
            raise Invalid("an alert needs a camera or a centre")
        if camera is not None and alert.centre is not None and alert.centre != camera.centre:
            raise Invalid(f"camera '{camera.id}' belongs to centre '{camera.centre}', not '{alert.centre}'")
        key = _dedup_key(alert, centre)
        found = {"key": key, "centre": centre, "since": self._cooldown_start(alert, at)}

        alert_id, snapshot = _new_id(), None
        frame = self._snapshot_frame(camera, at)
        if frame is not None:  # bytes first, row second (and no file work while holding the writer lock)
            with self._db.read() as s:
                known = s.execute(_FIND, found).first() is not None
            snapshot = None if known else self._keep_snapshot(frame, alert_id, at)
        with self._db.write() as s:
            self._db.serialise(s, f"alert:{centre}:{key}")  # two raises of one new thing: one alert, not two
            same = s.execute(_FIND, found).first()
            if same is not None:
                row = s.execute(_REPEAT, {"alert_id": same.id, "since": found["since"], "at": at}).one()
                view = view_of(Alert(**row._mapping))
            else:
                values = self._new_values(alert_id, alert, centre, key, at, camera, snapshot)
                s.execute(_INSERT, values)
                view = view_of(Alert(**values))
                snapshot = None  # now referenced
        if snapshot is not None:  # another raise of the same thing won the race: it has its own picture
            self._snapshots.discard(snapshot)
        if alert.centre is not None:
            if len(self._recent) >= _RECENT_LIMIT:
                self._recent.clear()
            self._recent[(alert.camera_id, alert.centre, key)] = (view.id, time.monotonic())
        if view.id == alert_id:
            self._publish(
                AlertRaised(
                    alert_id=view.id,
                    centre=view.centre,
                    camera_id=view.camera_id,
                    rule=view.rule,
                    severity=alert.severity,
                    title=view.title,
                    first_us=view.first_us,
                    has_snapshot=view.snapshot_url is not None,
                )
            )
        else:
            self._changed(view, "repeated")
        return view

    def _repeat_known(self, alert: AlertInput, at: int) -> AlertView | None:
        """One more occurrence of an alert this service raised or repeated recently, as one UPDATE.

        A rule seeing the same thing reports it every few seconds for as long as it lasts; the first raise
        looked the camera up, checked its centre and searched for the alert, and a repeat of the same inputs
        need not do it again (it cost 2 ms, most of an analysed frame's budget). The UPDATE keeps the same
        conditions as the search (still active, last seen within the cooldown), so an alert that was dismissed,
        promoted or went quiet meanwhile, here or in another process, falls back to the full path."""
        if alert.centre is None:
            return None
        recent_key = (alert.camera_id, alert.centre, _dedup_key(alert, alert.centre))
        known = self._recent.get(recent_key)
        if known is None:
            return None
        alert_id, checked = known
        if time.monotonic() - checked > REVALIDATE_S:
            return None
        since = self._cooldown_start(alert, at)
        with self._db.write() as s:
            row = s.execute(_REPEAT, {"alert_id": alert_id, "since": since, "at": at}).first()
        view = view_of(Alert(**row._mapping)) if row is not None else None
        if view is None:
            self._recent.pop(recent_key, None)
            return None
        self._changed(view, "repeated")
        return view

    def _cooldown_start(self, alert: AlertInput, at: int) -> int:
        """An alert last seen after this moment is still the same alert: the rule's cooldown, else the settings'."""
        cooldown = alert.cooldown_s
        if cooldown is None:
            cooldown = self._settings.cooldown_s.get(alert.rule, self._settings.default_cooldown_s)
        return at - int(cooldown * 1e6)

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
            camera = self._cameras.get(_SYSTEM, alert.camera_id)
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
                actor=_SYSTEM.actor,
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

    def _new_values(
        self,
        alert_id: str,
        alert: AlertInput,
        centre: str,
        key: str,
        at: int,
        camera: CameraView | None,
        snapshot: str | None,
    ) -> dict[str, Any]:
        clip = camera is not None
        return {
            "id": alert_id,
            "centre": centre,
            "camera_id": alert.camera_id,
            "rule": alert.rule,
            "severity": alert.severity,
            "title": alert.title.strip(),
            "details_json": json.dumps(dict(alert.details), sort_keys=True),
            "dedup_key": key,
            "first_us": at,
            "last_us": at,
            "occurrences": 1,
            "status": "open",
            "escalation_level": 0,
            "escalated_us": None,
            "handled_by": None,
            "handled_us": None,
            "dismiss_reason": None,
            "incident_id": None,
            "snapshot": snapshot,
            "clip_start_us": at - int(self._settings.clip_before_s * 1e6) if clip else None,
            "clip_end_us": at + int(self._settings.clip_after_s * 1e6) if clip else None,
        }

    def _camera(self, alert: AlertInput) -> CameraView:
        """The alert's camera. With the centre given (the analytics worker gives it), a lookup is reused for
        REVALIDATE_S, as repeats are: a worker raising a new alert for each passer-by paid a camera lookup
        for each, a third of a new alert's cost. Without a centre to check against, it is looked up every time."""
        assert alert.camera_id is not None
        if alert.centre is not None:
            seen = self._cameras_seen.get(alert.camera_id)
            if seen is not None and time.monotonic() - seen[1] <= REVALIDATE_S:
                return seen[0]
        camera = self._cameras.get(_SYSTEM, alert.camera_id)
        if len(self._cameras_seen) >= _RECENT_LIMIT:
            self._cameras_seen.clear()
        self._cameras_seen[alert.camera_id] = (camera, time.monotonic())
        return camera

    def _snapshot_frame(self, camera: CameraView | None, at: int) -> LiveFrame | None:
        """The camera's latest anonymised frame if it is recent enough to show what the alert is about."""
        if not self._settings.snapshot or camera is None or not camera.anonymiser:
            return None  # a camera without an anonymiser shows nothing, even here
        frame = self._ring.latest(camera.id)
        if frame is None or abs(at - frame.captured_us) > self._settings.snapshot_max_age_s * 1e6:
            return None
        return frame

    def _keep_snapshot(self, frame: LiveFrame, alert_id: str, at: int) -> str | None:
        """A copy of the frame in the snapshot store; any failure means no picture."""
        name = SnapshotStore.name_for(alert_id, at)
        try:
            self._snapshots.put(name, frame.jpeg)
        except OSError as exc:
            log.warning("alert %s: no snapshot kept: %s", alert_id, exc)
            return None
        return name

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
        self._publish(
            AlertChanged(
                alert_id=view.id,
                centre=view.centre,
                change=change,
                status=view.status,
                severity=severity_of(view.severity),
                occurrences=view.occurrences,
                last_us=view.last_us,
                escalation_level=view.escalation_level,
                handled_by=view.handled_by,
                incident_id=view.incident_id,
            )
        )

    def _publish(self, message: Message) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(message)


# One more occurrence of a known alert, if it is still active and within its cooldown. Built once: building
# the statement cost more than running it.
_ALERTS = cast(Table, Alert.__table__)
_REPEAT = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"), _ALERTS.c.status.in_(ACTIVE), _ALERTS.c.last_us >= bindparam("since"))
    .values(
        occurrences=_ALERTS.c.occurrences + 1,
        last_us=case((_ALERTS.c.last_us < bindparam("at"), bindparam("at")), else_=_ALERTS.c.last_us),
    )
    .returning(*_ALERTS.c)
)


def _dedup_key(alert: AlertInput, centre: str) -> str:
    return alert.dedup_key or f"{alert.rule}:{alert.camera_id or centre}"


# The active alert a raise folds into, if any, and a new alert's row: built once, as _REPEAT is.
_FIND = (
    select(_ALERTS.c.id)
    .where(
        _ALERTS.c.dedup_key == bindparam("key"),
        _ALERTS.c.centre == bindparam("centre"),
        _ALERTS.c.status.in_(ACTIVE),
        _ALERTS.c.last_us >= bindparam("since"),
    )
    .order_by(_ALERTS.c.last_us.desc())
    .limit(1)
)
_INSERT = insert(_ALERTS)


def _new_id() -> str:
    return f"alr-{secrets.token_hex(6)}"
