"""Routes of the recording index and legal holds. Playback (anonymised HLS) lives in `privacy/api.py`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from sereno.api.deps import Require, RuntimeDep
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal
from sereno.recording.service import GapInfo, HoldInfo, SegmentInfo

router = APIRouter(prefix="/api/recordings", tags=["recording"])

Viewer = Annotated[Principal, Depends(Require(Permission.VIDEO_VIEW))]
HoldManager = Annotated[Principal, Depends(Require(Permission.HOLDS_MANAGE))]
TimeUs = Annotated[int, Query(ge=0, le=2**62, description="Microseconds since the epoch (UTC)")]


class HoldBody(BaseModel):
    model_config = {"extra": "forbid"}

    camera_id: str = Field(min_length=1, max_length=64, title="Camera")
    start_us: int = Field(ge=0, le=2**62, title="From (µs since epoch)")
    end_us: int = Field(ge=0, le=2**62, title="To (µs since epoch)")
    reason: str = Field(min_length=10, max_length=2000, title="Reason")
    case_ref: str = Field(min_length=1, max_length=120, title="Case reference")


@router.get("/{camera_id}/segments")
def list_segments(
    camera_id: str, start_us: TimeUs, end_us: TimeUs, principal: Viewer, rt: RuntimeDep
) -> list[SegmentInfo]:
    return rt.recording.segments(principal, camera_id, start_us, end_us)


@router.get("/{camera_id}/gaps")
def list_gaps(camera_id: str, start_us: TimeUs, end_us: TimeUs, principal: Viewer, rt: RuntimeDep) -> list[GapInfo]:
    return rt.recording.gaps(principal, camera_id, start_us, end_us)


@router.get("/holds/active")
def list_holds(principal: Viewer, rt: RuntimeDep) -> list[HoldInfo]:
    return rt.recording.holds(principal)


@router.post("/holds", status_code=201)
def place_hold(body: HoldBody, principal: HoldManager, rt: RuntimeDep) -> HoldInfo:
    return rt.recording.place_hold(principal, body.camera_id, body.start_us, body.end_us, body.reason, body.case_ref)


@router.post("/holds/{hold_id}/release")
def release_hold(hold_id: str, principal: HoldManager, rt: RuntimeDep) -> HoldInfo:
    return rt.recording.release_hold(principal, hold_id)
