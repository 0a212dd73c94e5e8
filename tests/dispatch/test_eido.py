"""Incident interchange (EIDO-style JSON): export, takeover by another centre, and hostile documents refused
with nothing written."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.core.errors import Conflict, Invalid
from sereno.dispatch.eido import EidoDocument, parse_eido
from sereno.dispatch.models import Call, Incident, IncidentEvent
from sereno.dispatch.service import NewCall
from tests.conftest import login, make_user

NORTH = (-0.16, -78.47)
SOUTH = (-0.30, -78.54)


def north_incident(rt: Runtime, clock: ManualClock) -> tuple[Principal, str]:
    """A north structure fire with a call, a unit en route and a note: every component has something in it."""
    north = make_user(rt, "disp-north", Role.DISPATCHER, "north")
    call = rt.dispatch.take_call(
        north, NewCall("+593 99 123 4567", clock.now_us(), *NORTH, "behind the market", "smoke from a kitchen")
    )
    incident = rt.dispatch.open_incident(north, call.id, "structure-fire", *NORTH, address="Av. Amazonas 100")
    clock.advance(30)
    rt.units.dispatch(north, incident.id, "E-12")
    rt.units.set_status(north, "E-12", "en-route")
    rt.dispatch.add_note(north, incident.id, "gas cylinders inside")
    return north, incident.id


def wire(document: EidoDocument) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(document.model_dump_json())
    return raw


def moved_to(raw: dict[str, Any], where: tuple[float, float]) -> dict[str, Any]:
    """The same document as if the sender's incident lay at `where` (a different deployment's incident)."""
    return {**raw, "locationComponent": {**raw["locationComponent"], "latitude": where[0], "longitude": where[1]}}


def written(rt: Runtime) -> list[int]:
    """Rows in the incident, timeline and call tables: a refusal must leave all three as they were."""
    with rt.db.read() as s:
        return [s.scalar(select(func.count()).select_from(t)) or 0 for t in (Incident, IncidentEvent, Call)]


def test_export_and_takeover_round_trip(rt: Runtime, clock: ManualClock) -> None:
    north, incident_id = north_incident(rt, clock)
    before = rt.dispatch.timeline(north, incident_id)
    document = rt.dispatch.export_eido(north, incident_id, "south")
    raw = wire(document)
    assert raw["eidoVersion"] == "1.0" and raw["sendingCentreIdentifier"] == "north"
    assert raw["receivingCentreIdentifier"] == "south" and raw["lastUpdateTimeStamp"].endswith("Z")
    inc = raw["incidentComponent"]
    assert inc["incidentTrackingIdentifier"].startswith(f"urn:emergency:uid:incidentid:{incident_id}:north.")
    assert (inc["incidentTypeInternalCode"], inc["incidentStatusCommonRegistryText"]) == ("structure-fire", "EnRoute")
    assert raw["locationComponent"]["coordinateReferenceSystem"] == "urn:ogc:def:crs:EPSG::4326"
    assert [n["noteKind"] for n in raw["notesComponent"]] == [e.kind for e in before]
    assert raw["notesComponent"][-1]["noteText"] == "gas cylinders inside"
    assert [(c["callbackNumber"], c["callText"]) for c in raw["callComponent"]] == [
        ("+593 99 123 4567", "smoke from a kitchen")
    ]
    assert raw["emergencyResourceComponent"] == [
        {"resourceIdentifier": "E-12", "agencyIdentifier": "fire", "resourceStatusRegistryText": "EnRoute"}
    ]
    assert [a["agencyIdentifier"] for a in raw["agencyComponent"]] == ["fire", "health"]
    left = rt.dispatch.timeline(north, incident_id)[-1]  # the handover is on the record where it stays
    assert (left.kind, left.details["to"]) == ("exported", "south")

    national = make_user(rt, "national", Role.DISPATCHER, None, all_centres=True)
    calls_before = written(rt)[2]
    taken = rt.dispatch.import_eido(national, parse_eido(json.dumps(raw)))
    assert taken.id != incident_id and taken.external_ref == inc["incidentTrackingIdentifier"]
    assert (taken.centre, taken.type_code, taken.priority, taken.status) == ("north", "structure-fire", 1, "new")
    assert (taken.lat, taken.lon, taken.address) == (*NORTH, "Av. Amazonas 100")
    assert taken.created_us == taken.answered_us == clock.now_us()  # our KPI clock starts at the takeover
    timeline = rt.dispatch.timeline(national, taken.id)
    assert [e.kind for e in timeline] == ["created", "imported"]
    record = timeline[1].details
    assert [n["kind"] for n in record["timeline"]] == [e.kind for e in before]  # the sender's, as sent
    assert record["calls"][0]["text"] == "smoke from a kitchen" and record["units"][0]["callsign"] == "E-12"
    assert record["from_centre"] == "north" and record["sender_incident"]["status"] == "EnRoute"
    assert written(rt)[2] == calls_before  # the sender's calls stay text, not calls we answered


def test_a_neighbouring_centre_takes_over_in_its_own_jurisdiction(rt: Runtime, clock: ManualClock) -> None:
    north, incident_id = north_incident(rt, clock)
    raw = wire(rt.dispatch.export_eido(north, incident_id))
    south = make_user(rt, "taker-south", Role.CALL_TAKER, "south")
    with pytest.raises(Invalid, match="centre 'north', which you cannot act for"):
        rt.dispatch.import_eido(south, parse_eido(raw))
    taken = rt.dispatch.import_eido(south, parse_eido(moved_to(raw, SOUTH)))
    assert taken.centre == "south" and rt.dispatch.incident(south, taken.id).external_ref is not None
    assert [i.id for i in rt.dispatch.incidents(south)] == [taken.id]


def test_refusals_write_nothing(rt: Runtime, clock: ManualClock) -> None:
    north, incident_id = north_incident(rt, clock)
    raw = wire(rt.dispatch.export_eido(north, incident_id))
    national = make_user(rt, "national", Role.DISPATCHER, None, all_centres=True)
    counts = written(rt)
    alien = {**raw, "incidentComponent": {**raw["incidentComponent"], "incidentTypeInternalCode": "alien-landing"}}
    with pytest.raises(Invalid, match=r"unknown incident type 'alien-landing' \(known: structure-fire, "):
        rt.dispatch.import_eido(national, parse_eido(alien))
    with pytest.raises(Invalid, match="outside every centre"):
        rt.dispatch.import_eido(national, parse_eido(moved_to(raw, (1.5, -70.0))))
    closed = {**raw, "incidentComponent": {**raw["incidentComponent"], "incidentStatusCommonRegistryText": "Closed"}}
    with pytest.raises(Invalid, match="closed at the sender"):
        rt.dispatch.import_eido(national, parse_eido(closed))
    assert written(rt) == counts
    first = rt.dispatch.import_eido(national, parse_eido(raw))
    counts = written(rt)
    with pytest.raises(Conflict, match=f"already taken over here as '{first.id}'"):
        rt.dispatch.import_eido(national, parse_eido(moved_to(raw, SOUTH)))  # same sender id, whatever else
    assert written(rt) == counts


def _set(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `raw` with one key (dotted path, list index as a number) set, or deleted when value is ..."""
    copy: dict[str, Any] = json.loads(json.dumps(raw))
    *parents, last = path.split(".")
    node: Any = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return copy


HOSTILE = {
    "extra top-level field": ("sereno", {"hello": 1}, "sereno: Extra inputs are not permitted"),
    "extra nested field": ("incidentComponent.secret", "x", "incidentComponent.secret: Extra inputs"),
    "wrong version": ("eidoVersion", "2.0", "eidoVersion: Input should be '1.0'"),
    "time without zone": ("lastUpdateTimeStamp", "2026-11-30T21:15:00", "lastUpdateTimeStamp: Input should have"),
    "time as a number": ("incidentComponent.lastUpdateTimeStamp", 1764537300, "ISO 8601 text with its zone"),
    "missing component": ("locationComponent", ..., "locationComponent: Field required"),
    "projected coordinates": ("locationComponent.coordinateReferenceSystem", "urn:ogc:def:crs:EPSG::3857", "4326"),
    "metres for degrees": ("locationComponent.latitude", -22_000.0, "greater than or equal to -90"),
    "huge string": ("callComponent.0.callText", "x" * 10_000_000, "at most 4000 characters"),
    "NUL in text": ("locationComponent.civicAddressText", "Av.\x00 1", "civicAddressText: String should match"),
    "snake_case keys": ("eido_version", "1.0", "eido_version: Extra inputs"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_documents_are_refused_in_words(rt: Runtime, clock: ManualClock, case: str) -> None:
    north, incident_id = north_incident(rt, clock)
    raw = wire(rt.dispatch.export_eido(north, incident_id))
    national = make_user(rt, "national", Role.DISPATCHER, None, all_centres=True)
    counts = written(rt)
    path, value, expected = HOSTILE[case]
    with pytest.raises(Invalid) as refused:
        rt.dispatch.import_eido(national, parse_eido(_set(raw, path, value)))
    message = str(refused.value)
    assert message.startswith("not a valid EIDO document") and expected in message
    assert len(message) < 2000  # the offending input is never echoed
    assert written(rt) == counts


def _shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (list items merged): what a reader of the docs relies on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            merged.update(_shape(item) or {})
        return [merged]
    return None


def test_the_documented_example_is_what_export_makes(rt: Runtime, clock: ManualClock) -> None:
    text = (Path(__file__).parents[2] / "docs" / "eido.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)\n```", text, flags=re.DOTALL)
    assert len(blocks) == 1
    documented = parse_eido(blocks[0])
    north, incident_id = north_incident(rt, clock)
    fresh = wire(rt.dispatch.export_eido(north, incident_id, "south"))
    assert _shape(json.loads(documented.model_dump_json())) == _shape(fresh)


def test_an_oversized_document_is_refused_before_parsing(rt: Runtime) -> None:
    with pytest.raises(Invalid, match="at most 2000000 bytes"):
        parse_eido(b"{" + b" " * 3_000_000 + b"}")
    with pytest.raises(Invalid, match="Invalid JSON"):
        parse_eido("{not json")


def test_over_http_with_permissions(rt: Runtime, client: TestClient, clock: ManualClock) -> None:
    _, incident_id = north_incident(rt, clock)
    make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    make_user(rt, "taker-south", Role.CALL_TAKER, "south")
    make_user(rt, "auditor", Role.AUDITOR, None, all_centres=True)
    assert client.get(f"/api/dispatch/incidents/{incident_id}/eido").status_code == 401
    login(client, "taker-south")
    assert client.get(f"/api/dispatch/incidents/{incident_id}/eido").status_code == 404  # not south's to see
    login(client, "auditor")
    assert client.get(f"/api/dispatch/incidents/{incident_id}/eido").status_code == 403
    login(client, "taker-north")
    assert client.get(f"/api/dispatch/incidents/{incident_id}/eido", params={"to": "no spaces"}).status_code == 422
    exported = client.get(f"/api/dispatch/incidents/{incident_id}/eido", params={"to": "south"})
    assert exported.status_code == 200, exported.text
    raw = exported.json()
    assert raw["receivingCentreIdentifier"] == "south" and raw["eidoVersion"] == "1.0"

    login(client, "auditor")
    assert client.post("/api/dispatch/incidents/eido", json=moved_to(raw, SOUTH)).status_code == 403
    login(client, "taker-south")
    counts = written(rt)
    hostile = client.post("/api/dispatch/incidents/eido", json={**moved_to(raw, SOUTH), "extra": True})
    assert hostile.status_code == 422 and "extra" in hostile.json()["detail"]
    huge = _set(moved_to(raw, SOUTH), "callComponent.0.callText", "x" * 10_000_000)
    refused = client.post("/api/dispatch/incidents/eido", json=huge)
    assert refused.status_code == 422 and len(refused.content) < 5000
    assert client.post("/api/dispatch/incidents/eido", json=raw).status_code == 422  # north's ground
    assert written(rt) == counts
    created = client.post("/api/dispatch/incidents/eido", json=moved_to(raw, SOUTH))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["centre"] == "south" and body["external_ref"] == raw["incidentComponent"]["incidentTrackingIdentifier"]
    again = client.post("/api/dispatch/incidents/eido", json=moved_to(raw, SOUTH))
    assert again.status_code == 409
    kinds = [e["kind"] for e in client.get(f"/api/dispatch/incidents/{body['id']}/timeline").json()]
    assert kinds == ["created", "imported"]
