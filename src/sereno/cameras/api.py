"""Routes of the camera registry."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, SecretStr

from sereno.api.deps import Require, RuntimeDep
from sereno.cameras.service import CameraView
from sereno.config.cameras import CameraConfig
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
