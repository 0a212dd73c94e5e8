"""Routes for watching: live MJPEG, snapshots, and HLS playback of the anonymised recording."""

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from sereno.api.deps import Require, RuntimeDep
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal
from sereno.core.errors import Unavailable
from sereno.privacy.ring import FrameRing, LiveFrame
from sereno.privacy.service import RecordedSpan

router = APIRouter(prefix="/api/video", tags=["video"])

Viewer = Annotated[Principal, Depends(Require(Permission.VIDEO_VIEW))]
TimeUs = Annotated[int, Query(ge=0, le=2**62, description="Microseconds since the epoch (UTC)")]
BOUNDARY = "sereno-frame"
FIRST_FRAME_WAIT_S = 5.0
STALE_AFTER_S = 10.0
LONGEST_VIEW_S = 3600.0
NO_STORE = {"Cache-Control": "no-store"}


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/{camera_id}/live.mjpeg")
def live(camera_id: str, request: Request, principal: Viewer, rt: RuntimeDep) -> StreamingResponse:
    """multipart/x-mixed-replace JPEGs as the anonymiser produces them; ends when frames stop coming."""
    camera = rt.privacy.open_live(principal, camera_id, _client(request))
    first = rt.privacy.ring.wait_newer(camera.id, 0, FIRST_FRAME_WAIT_S)
    if first is None:
        raise Unavailable(f"camera '{camera_id}' has no anonymised picture right now")
    return StreamingResponse(
        _frames(rt.privacy.ring, camera.id, first),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers=NO_STORE,
    )


def _frames(ring: FrameRing, camera_id: str, first: LiveFrame) -> Iterator[bytes]:
    """Ends when frames stop (a camera that lost its anonymiser goes dark) or after an hour (re-authorise)."""
    frame: LiveFrame | None = first
    deadline = time.monotonic() + LONGEST_VIEW_S
    while frame is not None and time.monotonic() < deadline:
        yield (
            (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame.jpeg)}\r\n"
                f"X-Captured-Us: {frame.captured_us}\r\n\r\n"
            ).encode()
            + frame.jpeg
            + b"\r\n"
        )
        frame = ring.wait_newer(camera_id, frame.seq, STALE_AFTER_S)


@router.get("/{camera_id}/snapshot.jpg")
def snapshot(camera_id: str, request: Request, principal: Viewer, rt: RuntimeDep) -> Response:
    frame = rt.privacy.snapshot(principal, camera_id, _client(request))
    return Response(frame.jpeg, media_type="image/jpeg", headers={**NO_STORE, "X-Captured-Us": str(frame.captured_us)})


@router.get("/{camera_id}/playback.m3u8")
def playback(
    camera_id: str, start_us: TimeUs, end_us: TimeUs, request: Request, principal: Viewer, rt: RuntimeDep
) -> Response:
    text = rt.privacy.playlist(principal, camera_id, start_us, end_us, _client(request))
    return Response(text, media_type="application/vnd.apple.mpegurl", headers=NO_STORE)


@router.get("/{camera_id}/timeline")
def timeline(camera_id: str, start_us: TimeUs, end_us: TimeUs, principal: Viewer, rt: RuntimeDep) -> list[RecordedSpan]:
    """When anonymised recording exists in the range (spans, oldest first): the playback timeline's bar."""
    return rt.privacy.timeline(principal, camera_id, start_us, end_us)


@router.get("/{camera_id}/segments/{segment_id}/init.mp4")
def segment_init(camera_id: str, segment_id: str, principal: Viewer, rt: RuntimeDep) -> Response:
    data = rt.privacy.segment_part(principal, camera_id, segment_id, "init")
    return Response(data, media_type="video/mp4", headers=NO_STORE)


@router.get("/{camera_id}/segments/{segment_id}/media.m4s")
def segment_media(camera_id: str, segment_id: str, principal: Viewer, rt: RuntimeDep) -> Response:
    data = rt.privacy.segment_part(principal, camera_id, segment_id, "media")
    return Response(data, media_type="video/iso.segment", headers=NO_STORE)
