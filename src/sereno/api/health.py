"""Liveness and readiness for process supervisors and load balancers."""

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sereno import __version__
from sereno.api.deps import Public, RuntimeDep
from sereno.core import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[Depends(Public())])
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", dependencies=[Depends(Public())])
def readyz(rt: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with rt.db.read() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["schema"] = "ok" if migrate.is_current(rt.db) else "migrations pending: run `sereno migrate`"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
