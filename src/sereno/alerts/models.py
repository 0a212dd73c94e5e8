"""Tables of the alerts capability. Only the alerts service queries them."""

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class Alert(Base):
    """One thing that deserves a person's attention; repeats within the cooldown add to it, not beside it.

    The picture kept with it is a copy of an anonymised frame (never an original), and the clip is only a
    time window into the anonymised recording, which plays back through the audited privacy routes.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_centre_first", "centre", "first_us"),
        Index("ix_alerts_status_first", "status", "first_us"),
        Index("ix_alerts_camera_first", "camera_id", "first_us"),  # a camera's page: its alerts, newest first
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    centre: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str | None] = mapped_column(String(64), default=None)
    rule: Mapped[str] = mapped_column(String(40))  # intrusion, line-crossing, tamper, camera-offline, ...
    severity: Mapped[str] = mapped_column(String(16))  # info, warning, critical
    title: Mapped[str] = mapped_column(String(200))
    details_json: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(String(200), index=True)
    first_us: Mapped[int] = mapped_column(BigInteger)
    last_us: Mapped[int] = mapped_column(BigInteger)
    occurrences: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open, acknowledged, dismissed, promoted
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    handled_by: Mapped[str | None] = mapped_column(String(120), default=None)
    handled_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    dismiss_reason: Mapped[str | None] = mapped_column(Text, default=None)
    incident_id: Mapped[str | None] = mapped_column(String(40), default=None)
    snapshot: Mapped[str | None] = mapped_column(String(200), default=None)  # name in the snapshot store
    clip_start_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    clip_end_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
