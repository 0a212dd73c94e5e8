"""Serves the console page and its static modules (public: the page holds no data until login), and the
live feed the console's views follow (Server-Sent Events, scoped to the user)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import xstatic.pkg.leaflet
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from sereno.api.deps import Public, Require, RuntimeDep
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

STATIC = Path(__file__).with_name("static")

router = APIRouter(tags=["console"], include_in_schema=False)


@router.get("/", dependencies=[Depends(Public())])
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


static_files = StaticFiles(directory=STATIC)
# Leaflet ships inside the xstatic-leaflet wheel: installed with Sereno, served from here, no CDN.
leaflet_files = StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR)


@router.get("/api/live")
async def live(
    request: Request, principal: Annotated[Principal, Depends(Require(Permission.SESSION))], rt: RuntimeDep
) -> StreamingResponse:
    """Server-Sent Events: `call`, `incident`, `unit`, `camera`, `camera-moved` as they happen, each only
    for centres the user holds; `ping` every 15 s; `resync` when the console fell behind and should reload."""

    async def stream() -> AsyncIterator[str]:
        async for name, data in rt.live.events(principal):
            if await request.is_disconnected():
                return
            yield f"event: {name}\ndata: {data}\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
