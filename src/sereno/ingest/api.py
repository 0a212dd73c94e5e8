"""Stream health routes: per camera, and the overview a camera wall shows as badges."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sereno.api.deps import Require, RuntimeDep
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal
from sereno.ingest.health import StreamHealth

router = APIRouter(prefix="/api/health/streams", tags=["ingest"])

Reader = Annotated[Principal, Depends(Require(Permission.CAMERAS_READ))]


@router.get("")
def overview(principal: Reader, rt: RuntimeDep) -> list[StreamHealth]:
    return rt.ingest.overview(principal)


@router.get("/{camera_id}")
def camera_health(camera_id: str, principal: Reader, rt: RuntimeDep) -> list[StreamHealth]:
    return rt.ingest.health(principal, camera_id)
