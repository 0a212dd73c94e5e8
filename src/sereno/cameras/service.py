"""The camera registry: create, change, remove and list cameras, scoped to the caller's centres.

A camera's purpose and retention are required (principle 4). Stream passwords are sealed at rest with the
master key and bound to their camera; they never appear in a response.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from sereno.cameras import onvif
from sereno.cameras.events import CameraChanged, CameraMoved
from sereno.cameras.models import Camera
from sereno.config.cameras import CameraConfig, CameraKind, PrivacyMask
from sereno.config.site import SiteConfig
from sereno.core.audit.service import AuditLog
from sereno.core.auth.directory import Directory
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Conflict, Invalid, NotFound, Unavailable
from sereno.core.sealing import MasterKeys

STREAM_SCHEMES = {"rtsp", "rtsps", "http", "https", "file"}


@dataclass(frozen=True)
class CameraView:
    id: str
    centre: str
    name: str
    kind: CameraKind
    lat: float
    lon: float
    heading_deg: float
    main_url: str
    sub_url: str
    purpose: str
    retention_days: int
    privacy_masks: list[PrivacyMask]
    anonymiser: str | None
    username: str | None
    has_password: bool
    enabled: bool


@dataclass(frozen=True)
class StreamCredentials:
    username: str | None
    password: str | None

    def in_url(self, url: str) -> str:
        """The URL with these credentials in it, for libavformat (never stored, shown or logged)."""
        if not self.username:
            return url
        parts = urlsplit(url)
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
        return urlunsplit(parts._replace(netloc=f"{quote(self.username, safe='')}{secret}@{host}"))


class CameraService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        directory: Directory,
        keys: MasterKeys,
        bus: EventBus | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._directory = directory
        self._keys = keys
        self._bus = bus

    def visible(self, viewer: Principal) -> list[CameraView]:
        with self._db.read() as s:
            rows = s.scalars(select(Camera).order_by(Camera.centre, Camera.id))
            return [_view(c) for c in rows if viewer.sees(c.centre)]

    def registered(self) -> list[CameraView]:
        """Every camera, for workers (recorder, retention) that act on all of them; never for people."""
        with self._db.read() as s:
            return [_view(c) for c in s.scalars(select(Camera).order_by(Camera.id))]

    def get(self, viewer: Principal, camera_id: str) -> CameraView:
        with self._db.read() as s:
            return _view(self._visible(s, viewer, camera_id))

    def create(self, actor: Principal, cfg: CameraConfig, password: str | None = None) -> CameraView:
        self._check(actor, cfg)
        now = self._clock.now_us()
        with self._db.write() as s:
            if s.get(Camera, cfg.id) is not None:
                raise Conflict(f"camera '{cfg.id}' already exists")
            row = Camera(id=cfg.id, created_us=now, enabled=True)
            self._apply(row, cfg, password, now)
            s.add(row)
            self._audit.record(
                actor=actor.actor,
                action="cameras.create",
                target=f"camera:{cfg.id}",
                centre=cfg.centre,
                details=_audit_details(cfg, password),
                session=s,
            )
            view = _view(row)
        self._publish(view, "created")
        return view

    def replace(self, actor: Principal, camera_id: str, cfg: CameraConfig, password: str | None = None) -> CameraView:
        """Full update; a missing password keeps the sealed one."""
        if cfg.id != camera_id:
            raise Invalid("a camera's id cannot change; create a new camera instead")
        self._check(actor, cfg)
        with self._db.write() as s:
            row = self._visible(s, actor, camera_id)
            self._apply(row, cfg, password, self._clock.now_us())
            self._audit.record(
                actor=actor.actor,
                action="cameras.update",
                target=f"camera:{camera_id}",
                centre=cfg.centre,
                details=_audit_details(cfg, password),
                session=s,
            )
            view = _view(row)
        self._publish(view, "updated")
        return view

    def delete(self, actor: Principal, camera_id: str) -> None:
        with self._db.write() as s:
            row = self._visible(s, actor, camera_id)
            view = _view(row)
            s.delete(row)
            self._audit.record(
                actor=actor.actor, action="cameras.delete", target=f"camera:{camera_id}", centre=view.centre, session=s
            )
        self._publish(view, "deleted")

    def sync_from_site(self, site: SiteConfig, actor: Principal, env: Mapping[str, str] | None = None) -> list[str]:
        """Create or update the site file's cameras; returns the ids changed. Passwords come from `password_env`."""
        env = os.environ if env is None else env
        changed = []
        for cfg in site.cameras:
            password = env.get(cfg.password_env) if cfg.password_env else None
            if cfg.password_env and password is None:
                raise Invalid(f"camera '{cfg.id}': environment variable {cfg.password_env} is not set")
            try:
                current = self.get(actor, cfg.id)
            except NotFound:
                self.create(actor, cfg, password)
                changed.append(cfg.id)
                continue
            if _differs(current, cfg) or password is not None:
                self.replace(actor, cfg.id, cfg, password)
                changed.append(cfg.id)
        return changed

    def onvif_lookup(
        self, actor: Principal, device_url: str, username: str | None, password: str | None
    ) -> tuple[onvif.DeviceInformation, list[onvif.MediaProfile]]:
        """What an ONVIF device says it is and which streams it offers: to fill in a new camera's URLs."""
        if urlsplit(device_url).scheme not in ("http", "https"):
            raise Invalid("device_url: an ONVIF device service is an http:// or https:// URL")
        client = onvif.OnvifClient(device_url, username, password)
        try:
            found = client.device_information(), client.profiles()
        except onvif.OnvifError as exc:
            raise Unavailable(str(exc)) from exc
        self._audit.record(actor=actor.actor, action="cameras.onvif_lookup", target=device_url[:300])
        return found

    def onvif_discover(self, actor: Principal, timeout_s: float = 2.0) -> list[onvif.DiscoveredDevice]:
        found = onvif.discover(timeout_s)
        self._audit.record(actor=actor.actor, action="cameras.onvif_discover", details={"found": len(found)})
        return found

    def update_position(
        self, actor: Principal, camera_id: str, lat: float, lon: float, heading_deg: float
    ) -> CameraView:
        """Telemetry for cameras that move (drones). A fixed camera that moved is a change to edit, not a fix."""
        with self._db.write() as s:
            row = self._visible(s, actor, camera_id)
            if row.kind != CameraKind.DRONE.value:
                raise Invalid(f"camera '{camera_id}' is {row.kind}: only drone positions come from telemetry")
            row.lat, row.lon, row.heading_deg, row.updated_us = lat, lon, heading_deg, self._clock.now_us()
            view = _view(row)
        if self._bus is not None:
            self._bus.publish_threadsafe(
                CameraMoved(camera_id=view.id, centre=view.centre, lat=lat, lon=lon, heading_deg=heading_deg)
            )
        return view

    def reseal(self, keys: MasterKeys) -> int:
        """After a master-key rotation: every stored stream password sealed again under the current key."""
        changed = 0
        with self._db.write() as s:
            for row in s.scalars(select(Camera).where(Camera.password_sealed.is_not(None))):
                assert row.password_sealed is not None
                context = f"camera:{row.id}:password"
                row.password_sealed = keys.seal(self._keys.open(row.password_sealed, context), context)
                changed += 1
        self._keys = keys
        return changed

    def stream_credentials(self, camera_id: str) -> StreamCredentials:
        """For ingest workers only: the one place a stream password is opened."""
        with self._db.read() as s:
            row = s.get(Camera, camera_id)
            if row is None:
                raise NotFound(f"no camera '{camera_id}'")
            password = None
            if row.password_sealed is not None:
                password = self._keys.open(row.password_sealed, f"camera:{camera_id}:password").decode()
            return StreamCredentials(row.username, password)

    # helpers -------------------------------------------------------------------------------------------

    def _check(self, actor: Principal, cfg: CameraConfig) -> None:
        self._directory.centre(actor, cfg.centre)  # NotFound unless it exists and the actor sees it
        for label, url in (("main_url", cfg.main_url), ("sub_url", cfg.sub_url)):
            parts = urlsplit(url)
            if parts.scheme not in STREAM_SCHEMES:
                raise Invalid(f"{label}: scheme must be one of {', '.join(sorted(STREAM_SCHEMES))}")
            if parts.password:
                raise Invalid(
                    f"{label}: put credentials in 'username' and 'password', not in the URL "
                    "(they are stored sealed; URLs are shown to operators)"
                )

    def _apply(self, row: Camera, cfg: CameraConfig, password: str | None, now: int) -> None:
        row.centre, row.name, row.kind = cfg.centre, cfg.name, cfg.kind.value
        row.lat, row.lon, row.heading_deg = cfg.lat, cfg.lon, cfg.heading_deg
        row.main_url, row.sub_url = cfg.main_url, cfg.sub_url
        row.purpose, row.retention_days = cfg.purpose, cfg.retention_days
        row.privacy_masks_json = json.dumps([m.model_dump() for m in cfg.privacy_masks])
        row.anonymiser = cfg.anonymiser
        row.username = cfg.username
        if password is not None:
            row.password_sealed = self._keys.seal(password.encode(), f"camera:{cfg.id}:password")
        row.updated_us = now

    def _visible(self, s: Session, viewer: Principal, camera_id: str) -> Camera:
        row = s.get(Camera, camera_id)
        if row is None or not viewer.sees(row.centre):
            raise NotFound(f"no camera '{camera_id}'")
        return row

    def _publish(self, view: CameraView, change: Literal["created", "updated", "deleted"]) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(CameraChanged(camera_id=view.id, centre=view.centre, change=change))


def _view(c: Camera) -> CameraView:
    return CameraView(
        id=c.id,
        centre=c.centre,
        name=c.name,
        kind=CameraKind(c.kind),
        lat=c.lat,
        lon=c.lon,
        heading_deg=c.heading_deg,
        main_url=c.main_url,
        sub_url=c.sub_url,
        purpose=c.purpose,
        retention_days=c.retention_days,
        privacy_masks=[PrivacyMask.model_validate(m) for m in json.loads(c.privacy_masks_json)],
        anonymiser=c.anonymiser,
        username=c.username,
        has_password=c.password_sealed is not None,
        enabled=c.enabled,
    )


def _differs(view: CameraView, cfg: CameraConfig) -> bool:
    fields = (
        "centre",
        "name",
        "kind",
        "lat",
        "lon",
        "heading_deg",
        "main_url",
        "sub_url",
        "purpose",
        "retention_days",
        "privacy_masks",
        "anonymiser",
        "username",
    )
    return any(getattr(view, f) != getattr(cfg, f) for f in fields)


def _audit_details(cfg: CameraConfig, password: str | None) -> dict[str, object]:
    return {
        "name": cfg.name,
        "purpose": cfg.purpose,
        "retention_days": cfg.retention_days,
        "masks": len(cfg.privacy_masks),
        "anonymiser": cfg.anonymiser,
        "password_changed": password is not None,
    }
