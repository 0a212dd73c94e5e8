"""Tables of the ingest capability. Only `sereno.ingest.service` queries them."""

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class StreamHealthRow(Base):
    """The latest health of one camera stream, written by whichever worker records it (any process, any node)."""

    __tablename__ = "stream_health"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    fps: Mapped[float] = mapped_column(Float)
    kbps: Mapped[float] = mapped_column(Float)
    last_frame_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    errors: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    reconnects: Mapped[int] = mapped_column(Integer)
    packets_lost: Mapped[int] = mapped_column(Integer)
    updated_us: Mapped[int] = mapped_column(BigInteger)
