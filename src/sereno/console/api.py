"""Serves the console page and its static modules (public: the page holds no data until login)."""

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from sereno.api.deps import Public

STATIC = Path(__file__).with_name("static")

router = APIRouter(tags=["console"], include_in_schema=False)


@router.get("/", dependencies=[Depends(Public())])
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


static_files = StaticFiles(directory=STATIC)
