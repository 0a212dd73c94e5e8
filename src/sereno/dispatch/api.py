"""Routes for call taking, incidents, units and dispatch."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sereno.api.deps import Require, RuntimeDep
from sereno.config.dispatch import IncidentType
from sereno.config.geo import Latitude, Longitude
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal
from sereno.dispatch.eido import EidoDocument
from sereno.dispatch.kpi_chart import render_svg
from sereno.dispatch.kpis import GroupBy, KpiReport
from sereno.dispatch.recommend import Recommendation
from sereno.dispatch.service import (
    MISUSE_KINDS,
    CallView,
    DuplicateSuggestion,
    IncidentView,
    NewCall,
    TimelineEntry,
)
from sereno.dispatch.units import UnitView

router = APIRouter(prefix="/api/dispatch", tags=["dispatch"])

Reader = Annotated[Principal, Depends(Require(Permission.INCIDENTS_READ))]
Taker = Annotated[Principal, Depends(Require(Permission.CALLS_TAKE))]
Dispatcher = Annotated[Principal, Depends(Require(Permission.DISPATCH))]
Reporter = Annotated[Principal, Depends(Require(Permission.UNITS_REPORT))]
Supervisor = Annotated[Principal, Depends(Require(Permission.KPIS_READ))]
TimeUs = Annotated[int, Query(ge=0, le=2**62, description="Microseconds since the epoch (UTC)")]


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


class CallBody(Strict):
    caller_number: str = Field(min_length=1, max_length=40, title="Caller number")
    lat: Latitude | None = None
    lon: Longitude | None = None
    location_text: str = Field(default="", max_length=500, title="Location as given")
    text: str = Field(default="", max_length=4000, title="What the caller says")
    ringing_s: float | None = Field(default=None, ge=0, le=3600, title="Seconds it rang before answered")


class IncidentBody(Strict):
    call_id: str = Field(max_length=40, title="Call")
    type_code: str = Field(max_length=40, title="Incident type")
    lat: Latitude
    lon: Longitude
    address: str = Field(default="", max_length=500, title="Address")
    priority: int | None = Field(default=None, ge=1, le=5, title="Priority (1 most urgent)")


class MergeBody(Strict):
    incident_id: str = Field(max_length=40)


class MisuseBody(Strict):
    kind: str = Field(max_length=40, title="Kind of misuse")


class NoteBody(Strict):
    text: str = Field(min_length=1, max_length=4000)


class StatusBody(Strict):
    status: str = Field(max_length=16)


class DispatchBody(Strict):
    callsign: str = Field(max_length=32)


class PositionBody(Strict):
    lat: Latitude
    lon: Longitude


class CallAnswer(BaseModel):
    call: CallView
    duplicates: list[DuplicateSuggestion]


@router.post("/calls", status_code=201)
async def take_call(body: CallBody, principal: Taker, rt: RuntimeDep) -> CallAnswer:
    """Records the call now (answer time is the server's clock) and suggests incidents it may duplicate.

    Async, through the intake batcher: a centre at its peak takes hundreds of calls a second."""
    answered = rt.clock.now_us()
    ring = answered - int(body.ringing_s * 1e6) if body.ringing_s is not None else None
    new = NewCall(body.caller_number, answered, body.lat, body.lon, body.location_text, body.text, ring)
    taken = await rt.intake.take(principal, new)
    return CallAnswer(call=taken.call, duplicates=taken.duplicates)


@router.get("/calls/{call_id}")
def get_call(call_id: str, principal: Reader, rt: RuntimeDep) -> CallView:
    return rt.dispatch.call(principal, call_id)


@router.post("/calls/{call_id}/merge")
def merge_call(call_id: str, body: MergeBody, principal: Taker, rt: RuntimeDep) -> CallView:
    return rt.dispatch.merge_call(principal, call_id, body.incident_id)


@router.post("/calls/{call_id}/misuse")
def close_as_misuse(call_id: str, body: MisuseBody, principal: Taker, rt: RuntimeDep) -> CallView:
    return rt.dispatch.close_as_misuse(principal, call_id, body.kind)


@router.post("/incidents", status_code=201)
def open_incident(body: IncidentBody, principal: Taker, rt: RuntimeDep) -> IncidentView:
    return rt.dispatch.open_incident(
        principal, body.call_id, body.type_code, body.lat, body.lon, body.address, body.priority
    )


@router.get("/incidents")
def list_incidents(principal: Reader, rt: RuntimeDep, include_closed: bool = False) -> list[IncidentView]:
    return rt.dispatch.incidents(principal, include_closed=include_closed)


@router.get("/incidents/{incident_id}")
def get_incident(incident_id: str, principal: Reader, rt: RuntimeDep) -> IncidentView:
    return rt.dispatch.incident(principal, incident_id)


@router.get("/incidents/{incident_id}/timeline")
def get_timeline(incident_id: str, principal: Reader, rt: RuntimeDep) -> list[TimelineEntry]:
    return rt.dispatch.timeline(principal, incident_id)


@router.get("/incidents/{incident_id}/eido")
def export_eido(
    incident_id: str,
    principal: Reader,
    rt: RuntimeDep,
    to: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None,
) -> EidoDocument:
    """The incident as an EIDO-style document (docs/eido.md) for a neighbouring centre (`to`) to take over."""
    return rt.dispatch.export_eido(principal, incident_id, to)


@router.post("/incidents/eido", status_code=201)
def import_eido(document: EidoDocument, principal: Taker, rt: RuntimeDep) -> IncidentView:
    """Takes over an incident another centre exported: a new incident here, the sender's record on its timeline."""
    return rt.dispatch.import_eido(principal, document)


@router.post("/incidents/{incident_id}/notes", status_code=204)
def add_note(incident_id: str, body: NoteBody, principal: Taker, rt: RuntimeDep) -> None:
    rt.dispatch.add_note(principal, incident_id, body.text)


@router.post("/incidents/{incident_id}/status")
def set_status(incident_id: str, body: StatusBody, principal: Dispatcher, rt: RuntimeDep) -> IncidentView:
    return rt.dispatch.set_status(principal, incident_id, body.status)


@router.get("/incidents/{incident_id}/recommendation")
def recommendation(incident_id: str, principal: Reader, rt: RuntimeDep) -> list[Recommendation]:
    """For each capability the incident type needs, the nearest available units, with the reason in words."""
    return rt.units.recommend(principal, incident_id)


@router.post("/incidents/{incident_id}/dispatch")
def dispatch_unit(incident_id: str, body: DispatchBody, principal: Dispatcher, rt: RuntimeDep) -> IncidentView:
    return rt.units.dispatch(principal, incident_id, body.callsign)


@router.get("/units")
def list_units(principal: Reader, rt: RuntimeDep) -> list[UnitView]:
    return rt.units.units(principal)


class TypesAnswer(BaseModel):
    incident_types: list[IncidentType]
    misuse_kinds: list[str]


@router.get("/types")
def incident_types(principal: Reader, rt: RuntimeDep) -> TypesAnswer:
    """What the intake form offers: the site's incident types and the kinds a misuse call is closed as.

    INCIDENTS_READ suffices: every role that may take calls (CALLS_TAKE) holds it too."""
    return TypesAnswer(incident_types=list(rt.dispatch.site.dispatch.incident_types), misuse_kinds=list(MISUSE_KINDS))


@router.put("/units/{callsign}/position")
def report_position(callsign: str, body: PositionBody, principal: Reporter, rt: RuntimeDep) -> UnitView:
    return rt.units.report_position(principal, callsign, body.lat, body.lon)


@router.post("/units/{callsign}/status")
def unit_status(callsign: str, body: StatusBody, principal: Reporter, rt: RuntimeDep) -> UnitView:
    return rt.units.set_status(principal, callsign, body.status)


@router.get("/kpis")
def kpis(
    since_us: TimeUs, until_us: TimeUs, principal: Supervisor, rt: RuntimeDep, group_by: GroupBy = "centre"
) -> KpiReport:
    """Answer, processing, turnout, travel and total times: percentiles against the NENA/NFPA targets."""
    return rt.kpis.report(principal, since_us, until_us, group_by)


@router.get("/kpis.csv")
def kpis_csv(
    since_us: TimeUs, until_us: TimeUs, principal: Supervisor, rt: RuntimeDep, group_by: GroupBy = "centre"
) -> Response:
    report = rt.kpis.report(principal, since_us, until_us, group_by)
    return Response(
        report.to_csv(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="sereno-kpis-{group_by}.csv"'},
    )


@router.get("/kpis.svg")
def kpis_chart(
    since_us: TimeUs, until_us: TimeUs, principal: Supervisor, rt: RuntimeDep, group_by: GroupBy = "centre"
) -> Response:
    """The same report drawn: p90 bars (p50 ticks) per group against each standard's target."""
    report = rt.kpis.report(principal, since_us, until_us, group_by)
    return Response(render_svg(report), media_type="image/svg+xml")
