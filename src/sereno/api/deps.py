"""Who is calling and whether they may: every route declares exactly one of `Require(...)` or `Public()`.

`tests/api/test_app.py` walks every route of the assembled app and fails when one declares neither.
"""

from typing import Annotated

from fastapi import Depends, Request

from sereno.api.problems import Problem
from sereno.app import Runtime
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

SESSION_COOKIE = "sereno_session"


def runtime(request: Request) -> Runtime:
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
    rt = runtime(request)
    return rt.auth.resolve_token(value) if kind == "token" else rt.auth.resolve_session(value)


class Require:
    """Dependency: an authenticated principal holding `permission`, else 401 or 403."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request) -> Principal:
        principal = authenticate(request)
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

    def __call__(self) -> None:
        return None


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
