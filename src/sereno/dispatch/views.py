"""What the dispatch services take and give back: plain values, never ORM rows, so callers (routes, the
simulator, other capabilities) cannot reach into the tables through them. Building a view from a row is here
too; querying is not.
"""

import json
from dataclasses import dataclass
from typing import Any

from sereno.dispatch.models import Call, Incident


@dataclass(frozen=True)
class NewCall:
    caller_number: str
    answered_us: int
    lat: float | None = None
    lon: float | None = None
    location_text: str = ""
    text: str = ""
    ring_us: int | None = None


@dataclass(frozen=True)
class CallView:
    id: str
    centre: str
    answered_us: int
    caller_number: str
    lat: float | None
    lon: float | None
    location_text: str
    text: str
    call_taker: str
    outcome: str
    misuse_kind: str | None
    incident_id: str | None
    closed_us: int | None


@dataclass(frozen=True)
class IncidentView:
    id: str
    centre: str
    type_code: str
    agencies: list[str]
    priority: int
    lat: float
    lon: float
    address: str
    status: str
    created_us: int
    answered_us: int
    first_dispatch_us: int | None
    first_en_route_us: int | None
    first_on_scene_us: int | None
    closed_us: int | None
    external_ref: str | None = None  # the sender's tracking id, when taken over from another centre


@dataclass(frozen=True)
class TimelineEntry:
    ts_us: int
    actor: str
    kind: str
    details: dict[str, Any]


@dataclass(frozen=True)
class DuplicateSuggestion:
    incident: IncidentView
    distance_m: float
    minutes_ago: float


def call_row(c: CallView) -> dict[str, Any]:
    return {
        "id": c.id,
        "centre": c.centre,
        "answered_us": c.answered_us,
        "caller_number": c.caller_number,
        "lat": c.lat,
        "lon": c.lon,
        "location_text": c.location_text,
        "text": c.text,
        "call_taker": c.call_taker,
        "outcome": c.outcome,
    }


def call_view(r: Call) -> CallView:
    return CallView(
        r.id,
        r.centre,
        r.answered_us,
        r.caller_number,
        r.lat,
        r.lon,
        r.location_text,
        r.text,
        r.call_taker,
        r.outcome,
        r.misuse_kind,
        r.incident_id,
        r.closed_us,
    )


def incident_view(r: Incident) -> IncidentView:
    return IncidentView(
        r.id,
        r.centre,
        r.type_code,
        json.loads(r.agencies_json),
        r.priority,
        r.lat,
        r.lon,
        r.address,
        r.status,
        r.created_us,
        r.answered_us,
        r.first_dispatch_us,
        r.first_en_route_us,
        r.first_on_scene_us,
        r.closed_us,
        r.external_ref,
    )
