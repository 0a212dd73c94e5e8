"""Tables of the auth capability. Only `sereno.core.auth.service` queries them."""

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    lat: Mapped[float]
    lon: Mapped[float]
    jurisdiction_geojson: Mapped[str | None] = mapped_column(Text, default=None)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), default=None)
    all_centres: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_us: Mapped[int] = mapped_column(BigInteger)
    last_login_us: Mapped[int | None] = mapped_column(BigInteger, default=None)


class CentreGrant(Base):
    """Access to a centre other than one's own: explicit, attributable, revocable."""

    __tablename__ = "centre_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_us: Mapped[int] = mapped_column(BigInteger)


class LoginSession(Base):
    """A browser session; only the SHA-256 of the cookie value is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    last_seen_us: Mapped[int] = mapped_column(BigInteger)
    expires_us: Mapped[int] = mapped_column(BigInteger)
    client: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    expires_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_used_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
