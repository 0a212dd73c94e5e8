"""Raising an alert: the write path the analytics workers take for every rule hit, kept apart from handling.

A rule that keeps firing must not bury the operator: a repeat within the cooldown of the same alert (same
dedup key, same centre, still open or acknowledged) adds an occurrence instead of a new row. Raising is the hot
path of the alerts capability (a busy street camera raises a new alert for every passer-by), so its statements
are built once and the checks a raise makes (the camera exists and belongs to the centre given) are reused for
REVALIDATE_S when the caller gives the centre.

The picture kept with a new alert is a copy of the camera's latest anonymised frame from the privacy ring,
never an original; a camera without an anonymiser or without a recent frame gives an alert without one.
"""

import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text

from sereno.alerts.events import AlertChange, AlertChanged, AlertRaised
from sereno.alerts.models import Alert
from sereno.alerts.snapshots import SnapshotStore
from sereno.alerts.views import ACTIVE, AlertInput, AlertView, check, severity_of, view_of
from sereno.cameras.service import CameraService, CameraView
from sereno.config.alerts import AlertSettings
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.direct import DirectCursor, DirectWriter
from sereno.core.errors import Invalid
from sereno.core.messages import Message
from sereno.privacy.ring import FrameRing, LiveFrame

log = logging.getLogger(__name__)

# Raising an alert has no person behind it; this principal only looks up the alert's camera (any centre).
SYSTEM = Principal(0, "alerts", Role.ADMIN, None, None, frozenset(), "system")
# How long a raise may skip the checks a first raise makes (the camera exists, belongs to the centre given):
# a camera moved to another centre is noticed within this, without a camera lookup on every raise.
REVALIDATE_S = 60.0
_RECENT_LIMIT = 10_000
RecentKey = tuple[str | None, str, str]  # camera, centre, dedup key: as a rule gives them


def changed_message(view: AlertView, change: AlertChange) -> AlertChanged:
    return AlertChanged(
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


class AlertRaiser:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cameras: CameraService,
        ring: FrameRing,
        snapshots: SnapshotStore,
        settings: AlertSettings,
        publish: Callable[[Message], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._cameras = cameras
        self._ring = ring
        self._snapshots = snapshots
        self._settings = settings
        self._publish = publish
        self._recent: dict[RecentKey, tuple[str, float]] = {}  # -> alert id, when its inputs were checked
        self._cameras_seen: dict[str, tuple[CameraView, float]] = {}  # -> the camera, when it was looked up
        self._writer = DirectWriter(db)

    def close(self) -> None:
        self._writer.close()

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
        """One more occurrence of an alert this service raised or repeated recently, as one UPDATE on the
        capability's own connection (`core/direct.py`: through the session it cost ~0.5 ms, a tenth of it the
        UPDATE).

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
        params = {"alert_id": alert_id, "since": self._cooldown_start(alert, at), "at": at}

        def repeat(cur: DirectCursor) -> tuple[Any, ...] | None:
            cur.execute(_REPEAT_SQL, params)
            return cur.fetchone()

        row = self._writer.transaction(repeat)
        if row is None:
            self._recent.pop(recent_key, None)
            return None
        view = view_of(Alert(**dict(zip(_COLUMNS, row, strict=True))))
        self._changed(view, "repeated")
        return view

    def _cooldown_start(self, alert: AlertInput, at: int) -> int:
        """An alert last seen after this moment is still the same alert: the rule's cooldown, else the settings'."""
        cooldown = alert.cooldown_s
        if cooldown is None:
            cooldown = self._settings.cooldown_s.get(alert.rule, self._settings.default_cooldown_s)
        return at - int(cooldown * 1e6)

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
        camera = self._cameras.get(SYSTEM, alert.camera_id)
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

    def _changed(self, view: AlertView, change: AlertChange) -> None:
        self._publish(changed_message(view, change))


# One more occurrence of a known alert, if it is still active and within its cooldown: SQL text written once,
# run by the direct writer on the hot path (a repeat) and inside the session on the full path (under the
# alert's serialising lock). Names from the table's model and the ACTIVE constant, no input: not an injection.
_ALERTS = cast(Table, Alert.__table__)
_COLUMNS = [c.name for c in _ALERTS.columns]
_ACTIVE_SQL = ", ".join(f"'{status}'" for status in ACTIVE)
_REPEAT_SQL = (
    f"UPDATE {_ALERTS.name} SET occurrences = occurrences + 1, "  # noqa: S608
    "last_us = CASE WHEN last_us < :at THEN :at ELSE last_us END "
    f"WHERE id = :alert_id AND status IN ({_ACTIVE_SQL}) AND last_us >= :since "
    f"RETURNING {', '.join(_COLUMNS)}"
)
_REPEAT = text(_REPEAT_SQL)


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
