"""Tables of the recording capability. Only the recording service modules query them."""

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class Segment(Base):
    """One stored piece of video. `sha256` is over the plaintext MP4 (what a court will check)."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_stream_start", "camera_id", "stream", "start_us"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(16))  # "main" (sealed original) or "privacy" (anonymised)
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger, index=True)
    frames: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    init_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bool] = mapped_column(Boolean)
    retention_days: Mapped[int] = mapped_column(Integer)  # the camera's policy when recorded
    key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    storage_key: Mapped[str] = mapped_column(Text)
    created_us: Mapped[int] = mapped_column(BigInteger)


class Gap(Base):
    """Time with no recording, said explicitly so that absence of video is never mistaken for absence of events."""

    __tablename__ = "recording_gaps"
    __table_args__ = (Index("ix_recording_gaps_camera_start", "camera_id", "stream", "start_us"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(16))
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)


class LegalHold(Base):
    """Video under a hold is never deleted, neither by retention nor by disk pressure, until released."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    centre: Mapped[str] = mapped_column(String(40))
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    case_ref: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str] = mapped_column(String(120))
    created_us: Mapped[int] = mapped_column(BigInteger)
    released_by: Mapped[str | None] = mapped_column(String(120), default=None)
    released_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
