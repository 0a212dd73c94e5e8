"""Who is calling and whether they may: every route declares exactly one of `Require(...)` or `Public()`.

`tests/api/test_app.py` walks every route of the assembled app and fails when one declares neither.
"""

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from sereno.api.problems import Problem
from sereno.app import Runtime
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

SESSION_COOKIE = "sereno_session"


async def runtime(request: Request) -> Runtime:
    """Async on purpose: a sync dependency costs every request a hop through the thread pool."""
    return runtime_of(request)


def runtime_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return "token", header[7:].strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    return ("session", cookie) if cookie else None


def authenticate(request: Request) -> Principal | None:
    found = credentials(request)
    if found is None:
        return None
    kind, value = found
    rt = runtime_of(request)
    return rt.auth.resolve_token(value) if kind == "token" else rt.auth.resolve_session(value)


class Require:
    """Dependency: an authenticated principal holding `permission`, else 401 or 403."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        """A credential seen moments ago resolves here on the event loop; otherwise the database is asked
        from the thread pool, so a slow query never blocks other requests."""
        found = credentials(request)
        principal = runtime_of(request).auth.cached(*found) if found is not None else None
        if principal is None and found is not None:
            principal = await run_in_threadpool(authenticate, request)
        if principal is None:
            raise Problem(
                401,
                "unauthenticated",
                "Login required",
                "log in or send an API token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.can(self.permission):
            raise Problem(403, "forbidden", "Not allowed", f"your role lacks '{self.permission.value}'")
        return principal


class Public:
    """Dependency marking a route as deliberately open (health checks, the login form itself)."""

    async def __call__(self) -> None:
        return None


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
