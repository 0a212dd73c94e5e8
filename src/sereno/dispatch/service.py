"""Calls and incidents: intake, duplicates, misuse, the incident lifecycle and its append-only timeline.

A call is never lost: it becomes an incident, joins one as a duplicate, or is closed as misuse with a kind.
An incident belongs to the centre whose jurisdiction contains it; only that centre's people (and national
roles) see it. Every change appends to the incident's timeline in the same transaction.
"""

import json
import math
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sereno.config.site import SiteConfig
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.messages import Message
from sereno.dispatch.eido import AssignedUnit, EidoDocument, from_eido, to_eido
from sereno.dispatch.events import CallTaken, IncidentChange, IncidentChanged
from sereno.dispatch.models import Call, Incident, IncidentEvent, Unit
from sereno.dispatch.recommend import EARTH_RADIUS_M, haversine_m
from sereno.dispatch.views import CallView as CallView  # re-exported: callers import them from the service
from sereno.dispatch.views import DuplicateSuggestion as DuplicateSuggestion
from sereno.dispatch.views import IncidentView as IncidentView
from sereno.dispatch.views import NewCall as NewCall
from sereno.dispatch.views import TimelineEntry as TimelineEntry
from sereno.dispatch.views import call_row, call_view
from sereno.dispatch.views import incident_view as incident_view

STATUSES = ("new", "dispatched", "en-route", "on-scene", "closed")
MISUSE_KINDS = ("silent", "prank", "insult", "wrong-number", "test", "information-only", "other")


class DispatchService:
    def __init__(self, db: Database, clock: Clock, site: SiteConfig | None = None, bus: EventBus | None = None) -> None:
        self._bus = bus
        self._db = db
        self._clock = clock
        self._site = site

    def configure(self, site: SiteConfig) -> None:
        """The site file's taxonomy, jurisdictions and speeds (loaded by serve, the demo and tests)."""
        self._site = site

    @property
    def site(self) -> SiteConfig:
        if self._site is None:
            raise Invalid("no site file is loaded: incident types and jurisdictions come from it")
        return self._site

    # calls ---------------------------------------------------------------------------------------------

    def take_call(self, actor: Principal, new: NewCall) -> CallView:
        """Records the call at once (before anyone decides what it is), in the taker's centre."""
        taken = self.take_calls([(actor, new)])[0]
        if isinstance(taken, Invalid):
            raise taken
        return taken

    def take_calls(self, calls: list[tuple[Principal, NewCall]]) -> list[CallView | Invalid]:
        """Records many calls in one transaction (the intake batcher's group commit); a call that cannot be
        taken gets its own error in its place and does not stop the others."""
        taken: list[CallView | Invalid] = []
        rows: list[dict[str, Any]] = []
        for actor, new in calls:
            centre = actor.centre or self.centre_at(new.lat, new.lon)
            if centre is None:
                taken.append(
                    Invalid("the call taker has no home centre and the caller's position is in no jurisdiction")
                )
            elif (new.lat is None) != (new.lon is None):
                taken.append(Invalid("give both latitude and longitude, or neither"))
            else:
                view = CallView(
                    _new_id("call"),
                    centre,
                    new.answered_us,
                    new.caller_number,
                    new.lat,
                    new.lon,
                    new.location_text,
                    new.text,
                    actor.actor,
                    "open",
                    None,
                    None,
                    None,
                )
                taken.append(view)
                rows.append({**call_row(view), "ring_us": new.ring_us})
        if rows:
            with self._db.write() as s:
                s.execute(insert(Call), rows)
            for outcome in taken:
                if isinstance(outcome, CallView):
                    self._publish(
                        CallTaken(call_id=outcome.id, centre=outcome.centre, lat=outcome.lat, lon=outcome.lon)
                    )
        return taken

    def call(self, viewer: Principal, call_id: str) -> CallView:
        with self._db.read() as s:
            return call_view(self._visible_call(s, viewer, call_id))

    def duplicates(self, viewer: Principal, call_id: str) -> list[DuplicateSuggestion]:
        return self.duplicates_of(viewer, self.call(viewer, call_id))

    def duplicates_of(self, viewer: Principal, call: CallView) -> list[DuplicateSuggestion]:
        """Open incidents near the caller's position reported recently: probably the same event."""
        return self.duplicates_for([(viewer, call)])[0]

    def duplicates_for(self, calls: list[tuple[Principal, CallView]]) -> list[list[DuplicateSuggestion]]:
        """Duplicate suggestions for many calls in one read transaction.

        A bounding box narrows the rows in SQL, so a busy country's open incidents are not all loaded for
        each call; the exact great-circle distance decides. The statement is built once (`_NEARBY`):
        composing it anew costs more than running it."""
        rules = self.site.dispatch
        window_us = int(rules.duplicate_window_s * 1e6)
        dlat = math.degrees(rules.duplicate_radius_m / EARTH_RADIUS_M)
        answers: list[list[DuplicateSuggestion]] = []
        with self._db.read() as s:
            for viewer, call in calls:
                if call.lat is None or call.lon is None:
                    answers.append([])
                    continue
                dlon = dlat / max(math.cos(math.radians(call.lat)), 1e-6)
                box = {
                    "since": call.answered_us - window_us,
                    "lat0": call.lat - dlat,
                    "lat1": call.lat + dlat,
                    "lon0": call.lon - dlon,
                    "lon1": call.lon + dlon,
                }
                if viewer.centres is None:
                    rows = s.scalars(_NEARBY, box)
                else:
                    rows = s.scalars(_NEARBY_IN_CENTRES, {**box, "centres": sorted(viewer.centres)})
                found = []
                for row in rows:
                    distance = haversine_m(call.lat, call.lon, row.lat, row.lon)
                    if distance <= rules.duplicate_radius_m:
                        minutes = (call.answered_us - row.created_us) / 60e6
                        found.append(DuplicateSuggestion(incident_view(row), round(distance, 1), round(minutes, 1)))
                answers.append(sorted(found, key=lambda d: (d.distance_m, d.minutes_ago)))
        return answers

    def merge_call(self, actor: Principal, call_id: str, incident_id: str) -> CallView:
        with self._db.write() as s:
            call = self._open_call(s, actor, call_id)
            incident = self._visible_incident(s, actor, incident_id)
            if incident.status == "closed":
                raise Conflict(f"incident '{incident_id}' is closed; open a new one")
            call.outcome, call.incident_id, call.closed_us = "merged", incident_id, self._clock.now_us()
            self.record_event(
                s, incident_id, actor, "call", {"call": call_id, "duplicate": True, "text": call.text[:500]}
            )
            merged, into = call_view(call), incident_view(incident)
        self.announce(into, "call-merged")
        return merged

    def close_as_misuse(self, actor: Principal, call_id: str, kind: str) -> CallView:
        if kind not in MISUSE_KINDS:
            raise Invalid(f"misuse kind must be one of {', '.join(MISUSE_KINDS)}")
        with self._db.write() as s:
            call = self._open_call(s, actor, call_id)
            call.outcome, call.misuse_kind, call.closed_us = "misuse", kind, self._clock.now_us()
            return call_view(call)

    # incidents -----------------------------------------------------------------------------------------

    def open_incident(
        self,
        actor: Principal,
        call_id: str,
        type_code: str,
        lat: float,
        lon: float,
        address: str = "",
        priority: int | None = None,
    ) -> IncidentView:
        kind = self.site.dispatch.incident_type(type_code)
        if kind is None:
            known = ", ".join(t.code for t in self.site.dispatch.incident_types)
            raise Invalid(f"unknown incident type '{type_code}' (known: {known})")
        if priority is not None and not 1 <= priority <= 5:
            raise Invalid("priority goes from 1 (most urgent) to 5")
        centre = self.centre_at(lat, lon)
        if centre is None:
            raise Invalid("the position is outside every centre's jurisdiction")
        now = self._clock.now_us()
        with self._db.write() as s:
            call = self._open_call(s, actor, call_id)
            if not actor.sees(centre):
                raise Invalid(f"the position is in the jurisdiction of centre '{centre}', which you cannot act for")
            row = Incident(
                id=_new_id("inc"),
                centre=centre,
                type_code=type_code,
                agencies_json=json.dumps(kind.agencies),
                priority=priority or kind.priority,
                lat=lat,
                lon=lon,
                address=address,
                status="new",
                created_us=now,
                answered_us=call.answered_us,
                ring_us=call.ring_us,
                created_by=actor.actor,
            )
            s.add(row)
            s.flush()
            call.outcome, call.incident_id, call.closed_us = "incident", row.id, now
            self.record_event(
                s, row.id, actor, "created", {"type": type_code, "priority": row.priority, "centre": centre}
            )
            self.record_event(s, row.id, actor, "call", {"call": call_id, "text": call.text[:500]})
            view = incident_view(row)
        self.announce(view, "created")
        return view

    def open_incident_from_alert(
        self,
        actor: Principal,
        alert_id: str,
        type_code: str,
        lat: float,
        lon: float,
        centre: str,
        *,
        details: dict[str, Any] | None = None,
        within: Callable[[Session, str], None] | None = None,
    ) -> IncidentView:
        """An incident that starts from an alert an operator saw, not from a call: no call is closed, the KPIs
        start at the promotion (answered_us), and the timeline opens with the alert.

        The centre is the alert's (the one watching that camera), not the jurisdiction at the camera's
        position: a camera may look across a boundary. `within(session, incident_id)` runs in the same
        transaction, so the alerts service marks its alert promoted atomically with the incident: never an
        incident for an alert still open, nor two incidents for one alert."""
        kind = self.site.dispatch.incident_type(type_code)
        if kind is None:
            known = ", ".join(t.code for t in self.site.dispatch.incident_types)
            raise Invalid(f"unknown incident type '{type_code}' (known: {known})")
        if not actor.sees(centre):
            raise Invalid(f"centre '{centre}' is not one you can act for")
        now = self._clock.now_us()
        with self._db.write() as s:
            row = Incident(
                id=_new_id("inc"),
                centre=centre,
                type_code=type_code,
                agencies_json=json.dumps(kind.agencies),
                priority=kind.priority,
                lat=lat,
                lon=lon,
                address="",
                status="new",
                created_us=now,
                answered_us=now,
                created_by=actor.actor,
            )
            s.add(row)
            s.flush()
            self.record_event(
                s, row.id, actor, "created", {"type": type_code, "priority": row.priority, "centre": centre}
            )
            self.record_event(s, row.id, actor, "alert", {**(details or {}), "alert": alert_id})
            if within is not None:
                within(s, row.id)
            view = incident_view(row)
        self.announce(view, "created")
        return view

    def incident(self, viewer: Principal, incident_id: str) -> IncidentView:
        with self._db.read() as s:
            return incident_view(self._visible_incident(s, viewer, incident_id))

    def incidents(self, viewer: Principal, *, include_closed: bool = False, limit: int = 500) -> list[IncidentView]:
        with self._db.read() as s:
            query = select(Incident).order_by(Incident.priority, Incident.created_us.desc()).limit(limit)
            if not include_closed:
                query = query.where(Incident.status != "closed")
            if viewer.centres is not None:
                query = query.where(Incident.centre.in_(viewer.centres))
            return [incident_view(r) for r in s.scalars(query)]

    def timeline(self, viewer: Principal, incident_id: str) -> list[TimelineEntry]:
        with self._db.read() as s:
            self._visible_incident(s, viewer, incident_id)
            return _timeline(s, incident_id)

    def add_note(self, actor: Principal, incident_id: str, text: str) -> None:
        if not text.strip():
            raise Invalid("a note needs text")
        with self._db.write() as s:
            view = incident_view(self._visible_incident(s, actor, incident_id))
            self.record_event(s, incident_id, actor, "note", {"text": text.strip()[:4000]})
        self.announce(view, "note")

    def set_status(self, actor: Principal, incident_id: str, status: str) -> IncidentView:
        """Forward through the lifecycle (a step may be skipped); closing is final."""
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        with self._db.write() as s:
            row = self._visible_incident(s, actor, incident_id)
            if STATUSES.index(status) <= STATUSES.index(row.status):
                raise Conflict(f"incident is '{row.status}'; it cannot go back to '{status}'")
            now = self._clock.now_us()
            self.record_event(s, incident_id, actor, "status", {"from": row.status, "to": status})
            row.status = status
            if status == "en-route" and row.first_en_route_us is None:
                row.first_en_route_us = now
            if status == "on-scene" and row.first_on_scene_us is None:
                row.first_on_scene_us = now
            if status == "closed":
                row.closed_us = now
                s.execute(  # the units still on it head back
                    update(Unit)
                    .where(Unit.incident_id == incident_id)
                    .values(status="returning", incident_id=None)
                    .execution_options(synchronize_session=False)
                )
            view = incident_view(row)
        self.announce(view, "status")
        return view

    # interchange with other centres (EIDO-style documents, dispatch/eido.py) -------------------------------

    def export_eido(self, viewer: Principal, incident_id: str, receiving_centre: str | None = None) -> EidoDocument:
        """The incident, its timeline, calls and units as a document a neighbouring centre can take over.

        Anyone who may read the incident may export it; the timeline records that it left, and for whom, in the
        same transaction, so the handover is visible where the incident stays."""
        with self._db.write() as s:
            row = self._visible_incident(s, viewer, incident_id)
            calls = s.scalars(select(Call).where(Call.incident_id == incident_id).order_by(Call.answered_us)).all()
            units = s.scalars(select(Unit).where(Unit.incident_id == incident_id).order_by(Unit.callsign)).all()
            kind = self.site.dispatch.incident_type(row.type_code)
            document = to_eido(
                incident_view(row),
                _timeline(s, incident_id),
                [call_view(c) for c in calls],
                [AssignedUnit(u.callsign, u.agency, u.status) for u in units],
                system=self.site.name,
                type_name=kind.name if kind else row.type_code,
                now_us=self._clock.now_us(),
                receiving_centre=receiving_centre,
            )
            self.record_event(
                s,
                incident_id,
                viewer,
                "exported",
                {"document": document.eido_message_identifier, "to": receiving_centre},
            )
        return document

    def import_eido(self, actor: Principal, document: EidoDocument) -> IncidentView:
        """Takes over another centre's incident: a new incident here, in the centre whose jurisdiction holds it.

        Type and position must make sense here (our taxonomy, a jurisdiction the actor acts for). The sender's
        timeline and calls become one "imported" entry, their words and times as sent: nothing pretends to have
        happened here, and no Call rows are made (our answer-time KPIs count only calls we answered). The
        incident's own KPI clock starts at the takeover. The sender's id is kept and can be taken only once."""
        taken = from_eido(document)
        kind = self.site.dispatch.incident_type(taken.type_code)
        if kind is None:
            known = ", ".join(t.code for t in self.site.dispatch.incident_types)
            raise Invalid(f"unknown incident type '{taken.type_code}' (known: {known})")
        centre = self.centre_at(taken.lat, taken.lon)
        if centre is None:
            raise Invalid("the position is outside every centre's jurisdiction")
        if not actor.sees(centre):
            raise Invalid(f"the position is in the jurisdiction of centre '{centre}', which you cannot act for")
        ours = {u.agency for u in self.site.units} | {a for t in self.site.dispatch.incident_types for a in t.agencies}
        agencies = list(dict.fromkeys([*kind.agencies, *(a for a in taken.agencies if a in ours)]))
        now = self._clock.now_us()
        try:
            with self._db.write() as s:
                earlier = s.scalar(select(Incident.id).where(Incident.external_ref == taken.external_ref))
                if earlier is not None:
                    raise Conflict(f"incident '{taken.external_ref}' was already taken over here as '{earlier}'")
                row = Incident(
                    id=_new_id("inc"),
                    centre=centre,
                    type_code=taken.type_code,
                    agencies_json=json.dumps(agencies),
                    priority=taken.priority,
                    lat=taken.lat,
                    lon=taken.lon,
                    address=taken.address,
                    status="new",
                    created_us=now,
                    answered_us=now,
                    created_by=actor.actor,
                    external_ref=taken.external_ref,
                )
                s.add(row)
                s.flush()
                self.record_event(
                    s, row.id, actor, "created", {"type": row.type_code, "priority": row.priority, "centre": centre}
                )
                self.record_event(s, row.id, actor, "imported", taken.record)
                view = incident_view(row)
        except IntegrityError:  # the same document imported concurrently (PostgreSQL): one wins
            raise Conflict(f"incident '{taken.external_ref}' was already taken over here") from None
        self.announce(view, "imported")
        return view

    # shared with the unit service ---------------------------------------------------------------------

    def announce(self, view: IncidentView, change: IncidentChange) -> None:
        """Tells live listeners (the console) after the change is committed, never before."""
        self._publish(
            IncidentChanged(
                incident_id=view.id,
                centre=view.centre,
                change=change,
                status=view.status,
                type_code=view.type_code,
                priority=view.priority,
                lat=view.lat,
                lon=view.lon,
            )
        )

    def _publish(self, message: Message) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(message)

    def centre_at(self, lat: float | None, lon: float | None) -> str | None:
        if lat is None or lon is None:
            return None
        for centre in self.site.centres:
            if centre.jurisdiction is not None and centre.jurisdiction.contains(lat, lon):
                return centre.code
        return None

    def record_event(
        self, s: Session, incident_id: str, actor: Principal | str, kind: str, details: dict[str, Any]
    ) -> None:
        """Appends to an incident's timeline inside the caller's transaction (units use it too)."""
        name = actor if isinstance(actor, str) else actor.actor
        s.add(
            IncidentEvent(
                incident_id=incident_id,
                ts_us=self._clock.now_us(),
                actor=name,
                kind=kind,
                details_json=json.dumps(details, sort_keys=True),
            )
        )

    def _visible_call(self, s: Session, viewer: Principal, call_id: str) -> Call:
        row = s.get(Call, call_id)
        if row is None or not viewer.sees(row.centre):
            raise NotFound(f"no call '{call_id}'")
        return row

    def _open_call(self, s: Session, actor: Principal, call_id: str) -> Call:
        row = self._visible_call(s, actor, call_id)
        if row.outcome != "open":
            raise Conflict(f"call '{call_id}' is already {row.outcome}")
        return row

    def _visible_incident(self, s: Session, viewer: Principal, incident_id: str) -> Incident:
        row = s.get(Incident, incident_id)
        if row is None or not viewer.sees(row.centre):
            raise NotFound(f"no incident '{incident_id}'")
        return row


_NEARBY = select(Incident).where(
    Incident.status != "closed",
    Incident.created_us >= bindparam("since"),
    Incident.lat.between(bindparam("lat0"), bindparam("lat1")),
    Incident.lon.between(bindparam("lon0"), bindparam("lon1")),
)
_NEARBY_IN_CENTRES = _NEARBY.where(Incident.centre.in_(bindparam("centres", expanding=True)))


def _timeline(s: Session, incident_id: str) -> list[TimelineEntry]:
    rows = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id))
    return [TimelineEntry(e.ts_us, e.actor, e.kind, json.loads(e.details_json)) for e in rows]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
