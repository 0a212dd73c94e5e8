"""Logging in and out, sessions and API tokens, and turning a credential into a `Principal`.

Lockout is per account and lives in the database, so it holds across API replicas and restarts. Only
hashes of session and API tokens are stored: a database copy does not let anyone log in.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sereno.config.auth import AuthSettings
from sereno.core.audit.service import AuditLog
from sereno.core.auth.credential_cache import CredentialCache
from sereno.core.auth.errors import AccountLocked, AuthError, Invalid, InvalidCredentials, NotFound
from sereno.core.auth.events import AccountLockedOut
from sereno.core.auth.models import ApiToken, Centre, CentreGrant, LoginSession, User
from sereno.core.auth.passwords import Passwords
from sereno.core.auth.permissions import ROLE_PERMISSIONS, Role
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database

TOKEN_PREFIX = "srn_"  # noqa: S105 - a prefix, not a secret
_SEEN_EVERY_US = 60_000_000  # a session's last-seen time is written at most once a minute


def _printable(text: str) -> str:
    """An attempted username goes into the audit log as typed, minus control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_us: int
    principal: Principal


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    created_us: int
    expires_us: int | None
    last_used_us: int | None
    revoked: bool


class AuthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        passwords: Passwords,
        settings: AuthSettings,
        bus: EventBus | None = None,
        cache: CredentialCache | None = None,
    ) -> None:
        self._bus = bus
        self._cache = cache or CredentialCache(clock, settings.credential_cache_s)
        self._db = db
        self._clock = clock
        self._audit = audit
        self._passwords = passwords
        self._settings = settings

    def login(self, username: str, password: str, client: str) -> LoginResult:
        """Failed attempts are committed (counter, lockout, audit entry) before the error is raised."""
        now = self._clock.now_us()
        refusal: AuthError | None = None
        with self._db.write() as s:
            user = s.scalar(select(User).where(User.username == username))
            centre = self._home_code(s, user) if user is not None else None
            if user is None or not user.active:
                self._passwords.verify(None, password)
                self._audit.record(
                    actor=f"user:{_printable(username[:64])}",
                    action="auth.login_failed",
                    target="session",
                    outcome="denied",
                    details={"client": client, "reason": "unknown or inactive"},
                    session=s,
                )
                refusal = InvalidCredentials("wrong username or password")
            elif user.locked_until_us is not None and user.locked_until_us > now:
                self._audit.record(
                    actor=f"user:{username}",
                    action="auth.login_locked",
                    target="session",
                    centre=centre or "",
                    outcome="denied",
                    details={"client": client},
                    session=s,
                )
                refusal = AccountLocked((user.locked_until_us - now) / 1_000_000)
            elif not self._passwords.verify(user.password_hash, password):
                refusal = self._fail(s, user, centre, client, now)
            else:
                result = self._open_session(s, user, centre, client, password, now)
        if refusal is not None:
            if isinstance(refusal, AccountLocked) and self._bus is not None:
                self._bus.publish_threadsafe(
                    AccountLockedOut(
                        username=username, centre=centre, until_us=now + int(refusal.retry_after_s * 1_000_000)
                    )
                )
            raise refusal
        return result

    def _open_session(
        self, s: Session, user: User, centre: str | None, client: str, password: str, now: int
    ) -> LoginResult:
        if self._passwords.needs_rehash(user.password_hash):
            user.password_hash = self._passwords.hash(password)
        user.failed_logins = 0
        user.locked_until_us = None
        user.last_login_us = now
        token = secrets.token_urlsafe(32)
        expires = now + self._settings.session_max_hours * 3_600_000_000
        s.add(
            LoginSession(
                token_hash=_digest(token),
                user_id=user.id,
                created_us=now,
                last_seen_us=now,
                expires_us=expires,
                client=client[:64],
            )
        )
        self._audit.record(
            actor=f"user:{user.username}",
            action="auth.login",
            target="session",
            centre=centre or "",
            details={"client": client},
            session=s,
        )
        return LoginResult(token=token, expires_us=expires, principal=self._principal(s, user, "session"))

    def _fail(self, s: Session, user: User, centre: str | None, client: str, now: int) -> AuthError:
        user.failed_logins += 1
        details: dict[str, object] = {"client": client, "failures": user.failed_logins}
        locked = user.failed_logins >= self._settings.lockout_after_failures
        if locked:
            user.locked_until_us = now + self._settings.lockout_minutes * 60_000_000
            user.failed_logins = 0
            details["locked_minutes"] = self._settings.lockout_minutes
        self._audit.record(
            actor=f"user:{user.username}",
            action="auth.lockout" if locked else "auth.login_failed",
            target="session",
            centre=centre or "",
            outcome="denied",
            details=details,
            session=s,
        )
        if locked:
            return AccountLocked(self._settings.lockout_minutes * 60.0)
        return InvalidCredentials("wrong username or password")

    def logout(self, token: str, principal: Principal) -> None:
        with self._db.write() as s:
            s.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
            self._audit.record(
                actor=principal.actor, action="auth.logout", target="session", centre=principal.centre or "", session=s
            )
        self._cache.clear()

    def resolve_session(self, token: str) -> Principal | None:
        if (cached := self.cached("session", token)) is not None:
            return cached
        digest = _digest(token)
        generation = self._cache.generation
        now = self._clock.now_us()
        idle_us = self._settings.session_idle_minutes * 60_000_000
        with self._db.read() as s:
            row = s.get(LoginSession, digest)
            if row is None or row.expires_us <= now or row.last_seen_us + idle_us <= now:
                return None
            user = s.get(User, row.user_id)
            if user is None or not user.active:
                return None
            principal = self._principal(s, user, "session")
            stale = now - row.last_seen_us > _SEEN_EVERY_US
            valid_until = min(row.expires_us, now + idle_us)
        if stale:
            with self._db.write() as w:
                w.execute(update(LoginSession).where(LoginSession.token_hash == digest).values(last_seen_us=now))
        self._cache.put(f"session:{digest}", principal, valid_until, generation)
        return principal

    def cached(self, kind: str, credential: str) -> Principal | None:
        """The principal for a credential resolved moments ago, without touching the database (or None)."""
        return self._cache.get(f"{kind}:{_digest(credential)}")

    # API tokens ----------------------------------------------------------------------------------------

    def create_token(self, principal: Principal, name: str, ttl_days: int | None = None) -> tuple[TokenView, str]:
        """Returns the token's plaintext once; only its hash is kept."""
        if not 1 <= len(name) <= 80:
            raise Invalid("a token name is 1-80 characters")
        now = self._clock.now_us()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._db.write() as s:
            row = ApiToken(
                user_id=self._user_id(s, principal.username),
                name=name,
                token_hash=_digest(token),
                created_us=now,
                expires_us=now + ttl_days * 86_400_000_000 if ttl_days else None,
                revoked=False,
            )
            s.add(row)
            s.flush()
            self._audit.record(
                actor=principal.actor,
                action="auth.token_create",
                target=f"token:{row.id}",
                centre=principal.centre or "",
                details={"name": name, "ttl_days": ttl_days},
                session=s,
            )
            return _token_view(row), token

    def tokens(self, principal: Principal) -> list[TokenView]:
        with self._db.read() as s:
            user_id = self._user_id(s, principal.username)
            return [
                _token_view(t)
                for t in s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
            ]

    def revoke_token(self, principal: Principal, token_id: int) -> None:
        with self._db.write() as s:
            row = s.get(ApiToken, token_id)
            if row is None or row.user_id != self._user_id(s, principal.username):
                raise NotFound(f"no token {token_id}")
            row.revoked = True
            self._audit.record(
                actor=principal.actor,
                action="auth.token_revoke",
                target=f"token:{token_id}",
                centre=principal.centre or "",
                session=s,
            )
        self._cache.clear()

    def resolve_token(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        if (cached := self.cached("token", token)) is not None:
            return cached
        digest = _digest(token)
        generation = self._cache.generation
        now = self._clock.now_us()
        with self._db.read() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
            if row is None or row.revoked or (row.expires_us is not None and row.expires_us <= now):
                return None
            user = s.get(User, row.user_id)
            if user is None or not user.active:
                return None
            principal = self._principal(s, user, "token")
            stale = row.last_used_us is None or now - row.last_used_us > _SEEN_EVERY_US
            valid_until = row.expires_us if row.expires_us is not None else now + _SEEN_EVERY_US
        if stale:
            with self._db.write() as w:
                w.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_us=now))
        self._cache.put(f"token:{digest}", principal, valid_until, generation)
        return principal

    # helpers -------------------------------------------------------------------------------------------

    def principal_for(self, username: str, via: str = "cli") -> Principal:
        with self._db.read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user '{username}'")
            return self._principal(s, user, via)

    def _principal(self, s: Session, user: User, via: str) -> Principal:
        role = Role(user.role)
        home = self._home_code(s, user)
        centres: frozenset[str] | None = None
        if not user.all_centres:
            granted = s.scalars(
                select(Centre.code)
                .join(CentreGrant, CentreGrant.centre_id == Centre.id)
                .where(CentreGrant.user_id == user.id)
            )
            centres = frozenset(granted) | ({home} if home else set())
        return Principal(
            user_id=user.id,
            username=user.username,
            role=role,
            centre=home,
            centres=centres,
            permissions=ROLE_PERMISSIONS[role],
            via=via,
        )

    @staticmethod
    def _home_code(s: Session, user: User) -> str | None:
        return s.scalar(select(Centre.code).where(Centre.id == user.centre_id)) if user.centre_id else None

    @staticmethod
    def _user_id(s: Session, username: str) -> int:
        user_id = s.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(f"no user '{username}'")
        return user_id


def _token_view(t: ApiToken) -> TokenView:
    return TokenView(
        id=t.id,
        name=t.name,
        created_us=t.created_us,
        expires_us=t.expires_us,
        last_used_us=t.last_used_us,
        revoked=t.revoked,
    )
