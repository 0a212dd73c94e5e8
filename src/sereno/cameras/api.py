"""Routes of the camera registry."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, SecretStr

from sereno.api.deps import Require, RuntimeDep
from sereno.cameras.onvif import DeviceInformation, DiscoveredDevice, MediaProfile
from sereno.cameras.service import CameraView
from sereno.config.cameras import CameraConfig
from sereno.config.geo import Latitude, Longitude
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

router = APIRouter(prefix="/api/cameras", tags=["cameras"])

Reader = Annotated[Principal, Depends(Require(Permission.CAMERAS_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.CAMERAS_MANAGE))]


class CameraBody(CameraConfig):
    """A camera as the site file describes it, plus the stream password (write-only, stored sealed)."""

    password: SecretStr | None = Field(default=None, title="Stream password", description="Write-only")


def _split(body: CameraBody) -> tuple[CameraConfig, str | None]:
    cfg = CameraConfig.model_validate(body.model_dump(exclude={"password"}))
    return cfg, body.password.get_secret_value() if body.password is not None else None


class OnvifLookup(BaseModel):
    model_config = {"extra": "forbid"}

    device_url: str = Field(
        max_length=500, title="Device service URL", examples=["http://10.0.0.5/onvif/device_service"]
    )
    username: str | None = Field(default=None, max_length=120, title="Username")
    password: SecretStr | None = Field(default=None, title="Password", description="Used once, never stored")


class OnvifDevice(BaseModel):
    device: DeviceInformation
    profiles: list[MediaProfile]


@router.post("/onvif/lookup")
def onvif_lookup(body: OnvifLookup, principal: Manager, rt: RuntimeDep) -> OnvifDevice:
    """The device's identity and its media profiles with their RTSP URLs."""
    password = body.password.get_secret_value() if body.password is not None else None
    device, profiles = rt.cameras.onvif_lookup(principal, body.device_url, body.username, password)
    return OnvifDevice(device=device, profiles=profiles)


@router.post("/onvif/discover")
def onvif_discover(principal: Manager, rt: RuntimeDep) -> list[DiscoveredDevice]:
    """ONVIF cameras that answer a WS-Discovery probe on the server's network within two seconds."""
    return rt.cameras.onvif_discover(principal)


class Position(BaseModel):
    model_config = {"extra": "forbid"}

    lat: Latitude
    lon: Longitude
    heading_deg: float = Field(default=0.0, ge=0.0, lt=360.0, title="Heading")


@router.put("/{camera_id}/position")
def update_position(camera_id: str, body: Position, principal: Manager, rt: RuntimeDep) -> CameraView:
    """A drone camera's telemetry fix (other kinds refuse: their position is part of their configuration)."""
    return rt.cameras.update_position(principal, camera_id, body.lat, body.lon, body.heading_deg)


@router.get("")
def list_cameras(principal: Reader, rt: RuntimeDep) -> list[CameraView]:
    return rt.cameras.visible(principal)


@router.get("/{camera_id}")
def get_camera(camera_id: str, principal: Reader, rt: RuntimeDep) -> CameraView:
    return rt.cameras.get(principal, camera_id)


@router.post("", status_code=201)
def create_camera(body: CameraBody, principal: Manager, rt: RuntimeDep) -> CameraView:
    cfg, password = _split(body)
    return rt.cameras.create(principal, cfg, password)


@router.put("/{camera_id}")
def replace_camera(camera_id: str, body: CameraBody, principal: Manager, rt: RuntimeDep) -> CameraView:
    cfg, password = _split(body)
    return rt.cameras.replace(principal, camera_id, cfg, password)


@router.delete("/{camera_id}", status_code=204)
def delete_camera(camera_id: str, principal: Manager, rt: RuntimeDep) -> None:
    rt.cameras.delete(principal, camera_id)
