"""Centres, users and centre grants: who exists, what role they hold, which centres they may see.

Every change is audited in the same transaction as the change itself.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sereno.config.site import SiteConfig
from sereno.core.audit.service import AuditLog
from sereno.core.auth.credential_cache import CredentialCache
from sereno.core.auth.errors import Conflict, Invalid, NotFound
from sereno.core.auth.models import Centre, CentreGrant, User
from sereno.core.auth.passwords import Passwords, WeakPassword
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock
from sereno.core.db import Database


@dataclass(frozen=True)
class CentreView:
    code: str
    name: str
    timezone: str
    lat: float
    lon: float


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    centre: str | None
    all_centres: bool
    grants: tuple[str, ...]
    active: bool
    locked: bool


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: Role
    centre: str | None = None
    all_centres: bool = False
    display_name: str = ""


class Directory:
    def __init__(
        self, db: Database, clock: Clock, audit: AuditLog, passwords: Passwords, cache: CredentialCache | None = None
    ) -> None:
        self._cache = cache
        self._db = db
        self._clock = clock
        self._audit = audit
        self._passwords = passwords

    # centres -------------------------------------------------------------------------------------------

    def sync_centres(self, site: SiteConfig, actor: str) -> list[str]:
        """Make the centres table match the site file; returns the codes added or changed."""
        changed: list[str] = []
        with self._db.write() as s:
            existing = {c.code: c for c in s.scalars(select(Centre))}
            for cfg in site.centres:
                geo = json.dumps(cfg.jurisdiction.model_dump()) if cfg.jurisdiction else None
                values = {
                    "name": cfg.name,
                    "timezone": cfg.timezone,
                    "lat": cfg.position.lat,
                    "lon": cfg.position.lon,
                    "jurisdiction_geojson": geo,
                }
                row = existing.get(cfg.code)
                if row is None:
                    s.add(Centre(code=cfg.code, **values))
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                else:
                    continue
                changed.append(cfg.code)
            if changed:
                self._audit.record(
                    actor=actor,
                    action="config.centres",
                    target="centres",
                    details={"changed": changed, "site": site.name},
                    session=s,
                )
        return changed

    def centres(self, viewer: Principal) -> list[CentreView]:
        with self._db.read() as s:
            rows = s.scalars(select(Centre).order_by(Centre.code))
            return [_centre_view(c) for c in rows if viewer.sees(c.code)]

    def centre(self, viewer: Principal, code: str) -> CentreView:
        with self._db.read() as s:
            row = s.scalar(select(Centre).where(Centre.code == code))
            if row is None or not viewer.sees(code):
                raise NotFound(f"no centre '{code}'")  # the same answer whether hidden or absent
            return _centre_view(row)

    # users ---------------------------------------------------------------------------------------------

    def create_user(self, actor: Principal, new: NewUser) -> UserView:
        if (new.centre is None) == (not new.all_centres):
            raise Invalid("a user belongs to exactly one home centre, or sees all centres")
        if not new.username or len(new.username) > 64 or not new.username.replace("-", "").replace(".", "").isalnum():
            raise Invalid("usernames are 1-64 letters, digits, '.' or '-'")
        try:
            password_hash = self._passwords.hash(new.password)
        except WeakPassword as exc:
            raise Invalid(str(exc)) from None
        with self._db.write() as s:
            if s.scalar(select(User.id).where(User.username == new.username)) is not None:
                raise Conflict(f"user '{new.username}' already exists")
            centre_id = self._centre_id(s, new.centre) if new.centre else None
            if new.centre and not actor.sees(new.centre):
                raise NotFound(f"no centre '{new.centre}'")
            user = User(
                username=new.username,
                display_name=new.display_name or new.username,
                password_hash=password_hash,
                role=new.role.value,
                centre_id=centre_id,
                all_centres=new.all_centres,
                active=True,
                failed_logins=0,
                created_us=self._clock.now_us(),
            )
            s.add(user)
            s.flush()
            self._audit.record(
                actor=actor.actor,
                action="users.create",
                target=f"user:{new.username}",
                centre=new.centre or "",
                details={"role": new.role.value, "all_centres": new.all_centres},
                session=s,
            )
            return self._view(s, user)

    def users(self, viewer: Principal) -> list[UserView]:
        with self._db.read() as s:
            views = [self._view(s, u) for u in s.scalars(select(User).order_by(User.username))]
        return [v for v in views if viewer.centres is None or (v.centre is not None and viewer.sees(v.centre))]

    def user(self, viewer: Principal, username: str) -> UserView:
        with self._db.read() as s:
            user = s.scalar(select(User).where(User.username == username))
            view = self._view(s, user) if user is not None else None
        if view is None or not (viewer.centres is None or viewer.sees(view.centre)):
            raise NotFound(f"no user '{username}'")
        return view

    def set_active(self, actor: Principal, username: str, active: bool) -> UserView:
        return self._change(
            actor, username, "users.activate" if active else "users.deactivate", lambda u: setattr(u, "active", active)
        )

    def unlock(self, actor: Principal, username: str) -> UserView:
        def clear(u: User) -> None:
            u.failed_logins = 0
            u.locked_until_us = None

        return self._change(actor, username, "users.unlock", clear)

    def grant(self, actor: Principal, username: str, centre: str) -> UserView:
        with self._db.write() as s:
            user = self._user_for_change(s, actor, username)
            centre_id = self._centre_id(s, centre)
            if not actor.sees(centre):
                raise NotFound(f"no centre '{centre}'")
            if s.get(CentreGrant, (user.id, centre_id)) is None:
                s.add(
                    CentreGrant(
                        user_id=user.id, centre_id=centre_id, granted_by=actor.actor, granted_us=self._clock.now_us()
                    )
                )
                s.flush()
                self._audit.record(
                    actor=actor.actor, action="users.grant", target=f"user:{username}", centre=centre, session=s
                )
            view = self._view(s, user)
        self._forget_credentials()
        return view

    def revoke(self, actor: Principal, username: str, centre: str) -> UserView:
        with self._db.write() as s:
            user = self._user_for_change(s, actor, username)
            centre_id = self._centre_id(s, centre)
            result = s.execute(
                delete(CentreGrant).where(CentreGrant.user_id == user.id, CentreGrant.centre_id == centre_id)
            )
            if getattr(result, "rowcount", 0):
                self._audit.record(
                    actor=actor.actor, action="users.revoke", target=f"user:{username}", centre=centre, session=s
                )
            view = self._view(s, user)
        self._forget_credentials()
        return view

    # helpers -------------------------------------------------------------------------------------------

    def _change(self, actor: Principal, username: str, action: str, apply: Callable[[User], None]) -> UserView:
        with self._db.write() as s:
            user = self._user_for_change(s, actor, username)
            apply(user)
            s.flush()
            view = self._view(s, user)
            self._audit.record(
                actor=actor.actor, action=action, target=f"user:{username}", centre=view.centre or "", session=s
            )
        self._forget_credentials()
        return view

    def _forget_credentials(self) -> None:
        """After a committed change to who someone is or what they may see, nobody keeps the old answer."""
        if self._cache is not None:
            self._cache.clear()

    def _user_for_change(self, s: Session, actor: Principal, username: str) -> User:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user '{username}'")
        home = s.scalar(select(Centre.code).where(Centre.id == user.centre_id)) if user.centre_id else None
        if not (actor.centres is None or actor.sees(home)):
            raise NotFound(f"no user '{username}'")
        return user

    def _centre_id(self, s: Session, code: str) -> int:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == code))
        if centre_id is None:
            raise NotFound(f"no centre '{code}'")
        return centre_id

    def _view(self, s: Session, user: User) -> UserView:
        home = s.scalar(select(Centre.code).where(Centre.id == user.centre_id)) if user.centre_id else None
        grants = s.scalars(
            select(Centre.code)
            .join(CentreGrant, CentreGrant.centre_id == Centre.id)
            .where(CentreGrant.user_id == user.id)
            .order_by(Centre.code)
        )
        locked = user.locked_until_us is not None and user.locked_until_us > self._clock.now_us()
        return UserView(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            centre=home,
            all_centres=user.all_centres,
            grants=tuple(grants),
            active=user.active,
            locked=locked,
        )


def _centre_view(c: Centre) -> CentreView:
    return CentreView(code=c.code, name=c.name, timezone=c.timezone, lat=c.lat, lon=c.lon)
