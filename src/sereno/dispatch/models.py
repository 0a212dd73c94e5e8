"""Tables of the dispatch capability. Only the dispatch service modules query them."""

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base


class Call(Base):
    """Every call is kept, whatever became of it: an incident, a duplicate of one, or misuse (counted, never lost)."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_centre_answered", "centre", "answered_us"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    centre: Mapped[str] = mapped_column(String(40))
    answered_us: Mapped[int] = mapped_column(BigInteger)
    ring_us: Mapped[int | None] = mapped_column(BigInteger, default=None)  # when it started ringing, if known
    caller_number: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    location_text: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    call_taker: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(16))  # open, incident, merged, misuse
    misuse_kind: Mapped[str | None] = mapped_column(String(40), default=None)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), default=None, index=True)
    closed_us: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_centre_status", "centre", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    centre: Mapped[str] = mapped_column(String(40))
    type_code: Mapped[str] = mapped_column(String(40))
    agencies_json: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # new, dispatched, en-route, on-scene, closed
    created_us: Mapped[int] = mapped_column(BigInteger)
    answered_us: Mapped[int] = mapped_column(BigInteger)  # of the first call: where the KPIs start
    ring_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    first_dispatch_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    first_en_route_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    first_on_scene_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    closed_us: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_by: Mapped[str] = mapped_column(String(120))
    # Taken over from another centre (dispatch/eido.py): the sender's tracking id, unique so it is taken once.
    external_ref: Mapped[str | None] = mapped_column(String(200), default=None, unique=True, index=True)


class IncidentEvent(Base):
    """The append-only timeline of an incident: nothing here is ever updated or deleted."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    ts_us: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))  # created, call, status, note, dispatch, unit-status, alert
    details_json: Mapped[str] = mapped_column(Text)


class Unit(Base):
    __tablename__ = "units"

    callsign: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    centre: Mapped[str] = mapped_column(String(40), index=True)
    capabilities_json: Mapped[str] = mapped_column(Text)
    station_lat: Mapped[float] = mapped_column(Float)
    station_lon: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # available, dispatched, en-route, on-scene, returning, off-duty
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    position_us: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[str | None] = mapped_column(String(40), default=None)
