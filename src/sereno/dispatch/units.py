"""Units: who they are (from the site file), where they are (AVL), what they are doing, and sending them.

Sending a unit is one conditional update (available -> dispatched): when two dispatchers send the same unit
at once, exactly one succeeds and the other is told the unit is taken.
"""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sereno.config.site import SiteConfig
from sereno.core.audit.service import AuditLog
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.dispatch.events import UnitUpdated
from sereno.dispatch.models import Incident, Unit
from sereno.dispatch.recommend import Recommendation, Recommender, UnitPosition
from sereno.dispatch.roads import RoadGraph, RoadGraphError
from sereno.dispatch.service import DispatchService, IncidentView, incident_view

UNIT_STATUSES = ("available", "dispatched", "en-route", "on-scene", "returning", "off-duty")


@dataclass(frozen=True)
class UnitView:
    callsign: str
    agency: str
    centre: str
    capabilities: list[str]
    status: str
    lat: float
    lon: float
    position_us: int
    incident_id: str | None


class UnitService:
    def __init__(
        self, db: Database, clock: Clock, audit: AuditLog, incidents: DispatchService, bus: EventBus | None = None
    ) -> None:
        self._bus = bus
        self._db = db
        self._clock = clock
        self._audit = audit
        self._incidents = incidents

    def sync_from_site(self, site: SiteConfig) -> int:
        """New units start available at their station; known ones keep their status and position."""
        now = self._clock.now_us()
        with self._db.write() as s:
            for cfg in site.units:
                row = s.get(Unit, cfg.callsign)
                if row is None:
                    row = Unit(
                        callsign=cfg.callsign,
                        status="available",
                        lat=cfg.station.lat,
                        lon=cfg.station.lon,
                        position_us=now,
                    )
                    s.add(row)
                row.agency, row.centre = cfg.agency, cfg.centre
                row.capabilities_json = json.dumps(sorted(cfg.capabilities))
                row.station_lat, row.station_lon = cfg.station.lat, cfg.station.lon
        return len(site.units)

    def units(self, viewer: Principal) -> list[UnitView]:
        with self._db.read() as s:
            query = select(Unit).order_by(Unit.centre, Unit.callsign)
            if viewer.centres is not None:
                query = query.where(Unit.centre.in_(viewer.centres))
            return [_view(u) for u in s.scalars(query)]

    def report_position(self, actor: Principal, callsign: str, lat: float, lon: float) -> UnitView:
        with self._db.write() as s:
            row = self._visible(s, actor, callsign)
            row.lat, row.lon, row.position_us = lat, lon, self._clock.now_us()
            view = _view(row)
        self._announce(view)
        return view

    def recommend(self, viewer: Principal, incident_id: str, per_capability: int = 3) -> list[Recommendation]:
        incident = self._incidents.incident(viewer, incident_id)
        kind = self._incidents.site.dispatch.incident_type(incident.type_code)
        needed = kind.capabilities if kind is not None else []
        positions = [
            UnitPosition(u.callsign, u.agency, frozenset(u.capabilities), u.lat, u.lon, u.status == "available")
            for u in self.units(viewer)
        ]
        rules = self._incidents.site.dispatch
        roads, note = _road_graph(rules.road_graph)
        found = Recommender(positions, rules.speed_kmh, rules.detour_factor, roads, rules.road_speed_factor).recommend(
            incident.lat, incident.lon, needed, per_capability
        )
        return [replace(r, reason=f"{r.reason}; {note}") for r in found] if note else found

    def dispatch(self, actor: Principal, incident_id: str, callsign: str) -> IncidentView:
        """A person's decision: this unit goes to this incident. Refused if the unit is not available."""
        now = self._clock.now_us()
        with self._db.write() as s:
            incident = s.get(Incident, incident_id)
            if incident is None or not actor.sees(incident.centre):
                raise NotFound(f"no incident '{incident_id}'")
            if incident.status == "closed":
                raise Conflict(f"incident '{incident_id}' is closed")
            unit = self._visible(s, actor, callsign)
            taken = s.execute(
                update(Unit)
                .where(Unit.callsign == callsign, Unit.status == "available")
                .values(status="dispatched", incident_id=incident_id)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"unit {callsign} is not available (it is {unit.status})")
            if incident.first_dispatch_us is None:
                incident.first_dispatch_us = now
            if incident.status == "new":
                incident.status = "dispatched"
            self._incidents.record_event(s, incident_id, actor, "dispatch", {"unit": callsign, "agency": unit.agency})
            agencies = json.loads(incident.agencies_json)
            if unit.agency not in agencies:  # a police unit sent to a medical call: police is on it now too
                incident.agencies_json = json.dumps([*agencies, unit.agency])
                self._incidents.record_event(s, incident_id, actor, "agency-added", {"agency": unit.agency})
            self._audit.record(
                actor=actor.actor,
                action="dispatch.assign",
                target=f"incident:{incident_id}",
                centre=incident.centre,
                details={"unit": callsign},
                session=s,
            )
            view, sent = incident_view(incident), _view(unit)
        self._incidents.announce(view, "dispatch")
        self._announce(replace(sent, status="dispatched", incident_id=incident_id))
        return view

    def set_status(self, actor: Principal, callsign: str, status: str) -> UnitView:
        """A unit's own report. The first unit on scene puts the incident on scene; 'available' frees it."""
        if status not in UNIT_STATUSES or status == "dispatched":
            raise Invalid(f"a unit reports one of {', '.join(s for s in UNIT_STATUSES if s != 'dispatched')}")
        now = self._clock.now_us()
        with self._db.write() as s:
            unit = self._visible(s, actor, callsign)
            incident = s.get(Incident, unit.incident_id) if unit.incident_id else None
            if status in ("en-route", "on-scene") and incident is None:
                raise Conflict(f"unit {callsign} has no incident to be {status} for")
            if incident is not None:
                self._incidents.record_event(s, incident.id, actor, "unit-status", {"unit": callsign, "status": status})
                order = ("new", "dispatched", "en-route", "on-scene")
                if status in order and incident.status in order and order.index(status) > order.index(incident.status):
                    incident.status = status
                if status == "en-route" and incident.first_en_route_us is None:
                    incident.first_en_route_us = now
                if status == "on-scene" and incident.first_on_scene_us is None:
                    incident.first_on_scene_us = now
            unit.status = status
            if status in ("available", "off-duty", "returning"):
                unit.incident_id = None
            view = _view(unit)
            moved = incident_view(incident) if incident is not None else None
        self._announce(view)
        if moved is not None:
            self._incidents.announce(moved, "status")
        return view

    def _announce(self, unit: UnitView) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(
                UnitUpdated(
                    callsign=unit.callsign,
                    centre=unit.centre,
                    agency=unit.agency,
                    status=unit.status,
                    lat=unit.lat,
                    lon=unit.lon,
                    incident_id=unit.incident_id,
                )
            )

    def _visible(self, s: Session, viewer: Principal, callsign: str) -> Unit:
        row = s.get(Unit, callsign)
        if row is None or not viewer.sees(row.centre):
            raise NotFound(f"no unit '{callsign}'")
        return row


def _road_graph(path: Path | None) -> tuple[RoadGraph | None, str]:
    """The site's road graph (parsed once per process), or why it is not used. A broken map must not stop a
    recommendation during an emergency: it falls back to straight line, and every reason says so."""
    if path is None:
        return None, ""
    try:
        return RoadGraph.cached(path), ""
    except RoadGraphError as exc:
        return None, f"straight line because the road graph is unusable: {exc.problem}"


def _view(u: Unit) -> UnitView:
    return UnitView(
        u.callsign,
        u.agency,
        u.centre,
        json.loads(u.capabilities_json),
        u.status,
        u.lat,
        u.lon,
        u.position_us,
        u.incident_id,
    )
