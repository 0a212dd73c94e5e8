"""Incident interchange: an EIDO-style JSON document, so a neighbouring centre can take over an incident.

The shape follows the concepts of NENA-STA-021 (EIDO, Emergency Incident Data Object): an envelope that says
who sent it and when, then components for the incident, its location, notes, calls, agencies and resources.
It is EIDO-*style*, not a schema-valid EIDO: Sereno carries plain values (no PIDF-LO XML, no JSON-LD, one
incident per document) so that any CAD can read it without the NIEM toolchain. docs/eido.md has the mapping.

A document is input from another system, so it is parsed as hostile: unknown keys refused, every string and
list bounded, times must carry their zone, coordinates must say WGS 84. `to_eido` validates its own output
through the same model, so whatever Sereno exports, Sereno (and a strict peer) accepts.
"""

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from sereno.config.base import StrictModel
from sereno.core.errors import Invalid

if TYPE_CHECKING:
    from sereno.dispatch.service import CallView, IncidentView, TimelineEntry

EIDO_VERSION = "1.0"
WGS84 = "urn:ogc:def:crs:EPSG::4326"
MAX_DOCUMENT_BYTES = 2_000_000  # the limits below add up to about 1.3 MB of text
MAX_NOTES = 250
MAX_CALLS = 50
MAX_RESOURCES = 50

# Sereno's incident lifecycle -> the EIDO-style status text (and back). Closing is final everywhere.
INCIDENT_STATUS = {
    "new": "Pending",
    "dispatched": "Dispatched",
    "en-route": "EnRoute",
    "on-scene": "OnScene",
    "closed": "Closed",
}
UNIT_STATUS = {
    "available": "Available",
    "dispatched": "Dispatched",
    "en-route": "EnRoute",
    "on-scene": "OnScene",
    "returning": "Returning",
    "off-duty": "OutOfService",
}
EidoIncidentStatus = Literal["Pending", "Dispatched", "EnRoute", "OnScene", "Closed"]
EidoUnitStatus = Literal["Available", "Dispatched", "EnRoute", "OnScene", "Returning", "OutOfService"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it here rather than fail at the insert


def _iso_text(value: object) -> object:
    """Times arrive as ISO 8601 text with a zone; a bare number would be read as UTC seconds without saying so."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("a time is ISO 8601 text with its zone, e.g. 2026-11-30T21:15:00Z")
    return value


def _text(title: str, max_length: int, *, min_length: int = 0) -> Any:
    return Field(title=title, min_length=min_length, max_length=max_length, pattern=_NO_NUL)


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$")]


class _Component(StrictModel):
    """camelCase on the wire (EIDO's convention), snake_case in Python; only the wire names are accepted."""

    model_config = ConfigDict(alias_generator=to_camel, serialize_by_alias=True)


class IncidentComponent(_Component):
    incident_tracking_identifier: str = Field(
        title="Incident tracking identifier",
        max_length=200,
        pattern=r"^urn:emergency:uid:incidentid:[A-Za-z0-9._-]{1,60}:[A-Za-z0-9._-]{1,100}$",
        description="Unique across centres: urn:emergency:uid:incidentid:<incident id>:<sending element>",
    )
    incident_type_internal_code: Code = Field(title="Incident type code (the site's taxonomy)")
    incident_type_internal_text: str = _text("Incident type name", 120)
    incident_status_common_registry_text: EidoIncidentStatus = Field(title="Incident status")
    incident_priority_number: int = Field(title="Priority (1 most urgent)", ge=1, le=5, strict=True)
    incident_creation_time_stamp: Timestamp = Field(title="Created")
    last_update_time_stamp: Timestamp = Field(title="Last updated")


class LocationComponent(_Component):
    coordinate_reference_system: Literal["urn:ogc:def:crs:EPSG::4326"] = Field(title="Coordinate reference system")
    latitude: float = Field(title="Latitude (WGS 84 degrees)", ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(title="Longitude (WGS 84 degrees)", ge=-180, le=180, allow_inf_nan=False)
    civic_address_text: str = _text("Civic address", 500)


class NoteComponent(_Component):
    note_date_time_stamp: Timestamp = Field(title="When")
    note_author: str = _text("Author", 120, min_length=1)
    note_kind: Code = Field(title="Kind of entry (Sereno's timeline kind)")
    note_text: str = _text("Text", 4000)


class CallComponent(_Component):
    call_identifier: Code = Field(title="Call identifier (the sender's)")
    answer_time_stamp: Timestamp = Field(title="Answered")
    callback_number: str = _text("Callback number", 40)
    caller_location_text: str = _text("Location as the caller gave it", 500)
    call_text: str = _text("What the caller said", 4000)


class AgencyComponent(_Component):
    agency_identifier: Code = Field(title="Agency (e.g. fire, health, police)")


class EmergencyResourceComponent(_Component):
    resource_identifier: Code = Field(title="Unit callsign")
    agency_identifier: Code = Field(title="Unit's agency")
    resource_status_registry_text: EidoUnitStatus = Field(title="Unit status")


class EidoDocument(_Component):
    eido_version: Literal["1.0"] = Field(title="EIDO version")
    eido_message_identifier: str = Field(
        title="Document identifier", max_length=100, pattern=r"^urn:uuid:[0-9a-f-]{36}$"
    )
    last_update_time_stamp: Timestamp = Field(title="When the document was made")
    sending_system_identifier: str = _text("Sending system (site)", 120, min_length=1)
    sending_centre_identifier: Code = Field(title="Sending centre")
    receiving_centre_identifier: Code | None = Field(default=None, title="Receiving centre, if named")
    incident_component: IncidentComponent = Field(title="Incident")
    location_component: LocationComponent = Field(title="Incident location")
    notes_component: list[NoteComponent] = Field(default_factory=list, max_length=MAX_NOTES, title="Timeline")
    call_component: list[CallComponent] = Field(default_factory=list, max_length=MAX_CALLS, title="Calls")
    agency_component: list[AgencyComponent] = Field(default_factory=list, max_length=20, title="Agencies")
    emergency_resource_component: list[EmergencyResourceComponent] = Field(
        default_factory=list, max_length=MAX_RESOURCES, title="Units assigned"
    )


@dataclass(frozen=True)
class AssignedUnit:
    callsign: str
    agency: str
    status: str


@dataclass(frozen=True)
class ImportedIncident:
    """What a receiving centre takes from a document: the fields it acts on, and the rest as the sender's record."""

    external_ref: str
    type_code: str
    priority: int
    lat: float
    lon: float
    address: str
    agencies: list[str]
    record: dict[str, Any]  # the "imported" timeline entry: the sender's words, times and units


def to_eido(
    incident: "IncidentView",
    timeline: "list[TimelineEntry]",
    calls: "list[CallView]",
    units: list[AssignedUnit],
    *,
    system: str,
    type_name: str,
    now_us: int,
    receiving_centre: str | None = None,
) -> EidoDocument:
    """Sereno's incident as a document. Over-long histories keep their most recent entries (MAX_NOTES)."""
    element = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{incident.centre}.{system}").strip("-")[:100]
    updated = max([incident.created_us, *(e.ts_us for e in timeline)])
    raw = {
        "eidoVersion": EIDO_VERSION,
        "eidoMessageIdentifier": f"urn:uuid:{uuid.uuid4()}",
        "lastUpdateTimeStamp": _iso(now_us),
        "sendingSystemIdentifier": system[:120],
        "sendingCentreIdentifier": incident.centre,
        "receivingCentreIdentifier": receiving_centre,
        "incidentComponent": {
            "incidentTrackingIdentifier": f"urn:emergency:uid:incidentid:{incident.id}:{element}",
            "incidentTypeInternalCode": incident.type_code,
            "incidentTypeInternalText": type_name[:120],
            "incidentStatusCommonRegistryText": INCIDENT_STATUS[incident.status],
            "incidentPriorityNumber": incident.priority,
            "incidentCreationTimeStamp": _iso(incident.created_us),
            "lastUpdateTimeStamp": _iso(updated),
        },
        "locationComponent": {
            "coordinateReferenceSystem": WGS84,
            "latitude": incident.lat,
            "longitude": incident.lon,
            "civicAddressText": incident.address[:500],
        },
        "notesComponent": [
            {
                "noteDateTimeStamp": _iso(e.ts_us),
                "noteAuthor": e.actor[:120],
                "noteKind": e.kind,
                "noteText": _describe(e.details)[:4000],
            }
            for e in timeline[-MAX_NOTES:]
        ],
        "callComponent": [
            {
                "callIdentifier": c.id,
                "answerTimeStamp": _iso(c.answered_us),
                "callbackNumber": c.caller_number,
                "callerLocationText": c.location_text[:500],
                "callText": c.text[:4000],
            }
            for c in calls[:MAX_CALLS]
        ],
        "agencyComponent": [{"agencyIdentifier": a} for a in incident.agencies[:20]],
        "emergencyResourceComponent": [
            {
                "resourceIdentifier": u.callsign,
                "agencyIdentifier": u.agency,
                "resourceStatusRegistryText": UNIT_STATUS.get(u.status, "Dispatched"),
            }
            for u in units[:MAX_RESOURCES]
        ],
    }
    return EidoDocument.model_validate(raw)


def from_eido(document: EidoDocument) -> ImportedIncident:
    """The receiving side's reading. A closed incident has nothing left to take over, so it is refused."""
    inc, loc = document.incident_component, document.location_component
    if inc.incident_status_common_registry_text == "Closed":
        raise Invalid(f"incident '{inc.incident_tracking_identifier}' is closed at the sender: nothing to take over")
    record = {
        "document": document.eido_message_identifier,
        "from_system": document.sending_system_identifier,
        "from_centre": document.sending_centre_identifier,
        "sent_at": document.last_update_time_stamp.isoformat(),
        "external_ref": inc.incident_tracking_identifier,
        "sender_incident": {
            "type": inc.incident_type_internal_code,
            "status": inc.incident_status_common_registry_text,
            "priority": inc.incident_priority_number,
            "created": inc.incident_creation_time_stamp.isoformat(),
            "updated": inc.last_update_time_stamp.isoformat(),
        },
        "timeline": [
            {"at": n.note_date_time_stamp.isoformat(), "by": n.note_author, "kind": n.note_kind, "text": n.note_text}
            for n in document.notes_component
        ],
        "calls": [
            {
                "id": c.call_identifier,
                "answered": c.answer_time_stamp.isoformat(),
                "caller_number": c.callback_number,
                "location": c.caller_location_text,
                "text": c.call_text,
            }
            for c in document.call_component
        ],
        "units": [
            {
                "callsign": r.resource_identifier,
                "agency": r.agency_identifier,
                "status": r.resource_status_registry_text,
            }
            for r in document.emergency_resource_component
        ],
        "agencies": [a.agency_identifier for a in document.agency_component],
    }
    return ImportedIncident(
        external_ref=inc.incident_tracking_identifier,
        type_code=inc.incident_type_internal_code,
        priority=inc.incident_priority_number,
        lat=loc.latitude,
        lon=loc.longitude,
        address=loc.civic_address_text,
        agencies=list(dict.fromkeys(a.agency_identifier for a in document.agency_component)),
        record=record,
    )


def parse_eido(raw: str | bytes | Mapping[str, Any]) -> EidoDocument:
    """A document from outside (a file, a queue, a peer's API): bounded first, then validated, errors in words."""
    try:
        if isinstance(raw, Mapping):
            return EidoDocument.model_validate(raw)
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise Invalid(f"an EIDO document is at most {MAX_DOCUMENT_BYTES} bytes; this one is {len(raw)}")
        return EidoDocument.model_validate_json(raw)
    except ValidationError as exc:
        raise Invalid(explain(exc)) from None


def explain(exc: ValidationError) -> str:
    """The first few problems, by wire name; never the offending input (it may be megabytes, or personal)."""
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in problems[:5]]
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return "not a valid EIDO document: " + "; ".join(parts) + more


def _iso(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=us)).isoformat().replace("+00:00", "Z")


def _describe(details: dict[str, Any]) -> str:
    """A timeline entry's details as one line a person at another CAD can read (a note is just its text)."""
    if set(details) == {"text"}:
        return str(details["text"])
    return "; ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in sorted(details.items()))
