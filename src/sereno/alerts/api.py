"""Routes for the alert queue: list, look, acknowledge, dismiss, promote to an incident, and the snapshot.

Alerts are raised by analytics and the system through the service, not over HTTP: nobody outside may
inject alerts into an operator's queue.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sereno.alerts.service import AlertView, StatusFilter
from sereno.api.deps import Require, RuntimeDep, client_of
from sereno.config.geo import Latitude, Longitude
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

Reader = Annotated[Principal, Depends(Require(Permission.ALERTS_READ))]
Handler = Annotated[Principal, Depends(Require(Permission.ALERTS_HANDLE))]


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


class DismissBody(Strict):
    reason: str = Field(min_length=1, max_length=1000, title="Why it needs nothing")


class PromoteBody(Strict):
    type_code: str = Field(min_length=1, max_length=40, title="Incident type")
    lat: Latitude | None = Field(default=None, description="Default: the camera's position")
    lon: Longitude | None = Field(default=None, description="Default: the camera's position")


@router.get("")
def list_alerts(
    principal: Reader,
    rt: RuntimeDep,
    status: StatusFilter | None = None,
    camera: Annotated[str | None, Query(max_length=120, description="Only this camera's alerts")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertView]:
    """Newest first, from the caller's centres; `status=active` is the queue still to handle."""
    return rt.alerts.list(principal, status=status, camera_id=camera, limit=limit)


@router.get("/{alert_id}")
def get_alert(alert_id: str, principal: Reader, rt: RuntimeDep) -> AlertView:
    return rt.alerts.get(principal, alert_id)


@router.get("/{alert_id}/snapshot.jpg")
def snapshot(alert_id: str, request: Request, principal: Reader, rt: RuntimeDep) -> Response:
    """The anonymised frame kept when the alert was raised (404 when there is none); the view is audited."""
    jpeg = rt.alerts.snapshot(principal, alert_id, client_of(request))
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: str, principal: Handler, rt: RuntimeDep) -> AlertView:
    return rt.alerts.acknowledge(principal, alert_id)


@router.post("/{alert_id}/dismiss")
def dismiss(alert_id: str, body: DismissBody, principal: Handler, rt: RuntimeDep) -> AlertView:
    return rt.alerts.dismiss(principal, alert_id, body.reason)


@router.post("/{alert_id}/promote")
def promote(alert_id: str, body: PromoteBody, principal: Handler, rt: RuntimeDep) -> AlertView:
    """Opens an incident from the alert (at the camera unless a position is given); the alert joins its timeline."""
    return rt.alerts.promote(principal, alert_id, body.type_code, body.lat, body.lon)
