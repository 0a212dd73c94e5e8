"""Tables of the cameras capability. Only `sereno.cameras.service` queries them."""

from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float] = mapped_column(Float)
    main_url: Mapped[str] = mapped_column(Text)
    sub_url: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(120), default=None)
    password_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    purpose: Mapped[str] = mapped_column(Text)
    retention_days: Mapped[int] = mapped_column(Integer)
    privacy_masks_json: Mapped[str] = mapped_column(Text, default="[]")
    anonymiser: Mapped[str | None] = mapped_column(String(40), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
