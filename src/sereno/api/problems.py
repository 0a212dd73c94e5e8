"""Errors as RFC 9457 problem details, so every client (console, scripts, a neighbouring centre) gets the
same shape: a stable `type`, a human `title`, the `status`, and a `detail` that says what to fix."""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sereno.core import errors
from sereno.core.auth import errors as auth_errors

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str = "", headers: dict[str, str] | None = None):
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail, self.headers = status, slug, title, detail, headers


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    *,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "instance": request.url.path}
    if detail:
        body["detail"] = detail
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    errors.NotFound: (404, "not-found", "Not found"),
    errors.Conflict: (409, "conflict", "Conflict"),
    errors.Invalid: (422, "invalid", "Invalid request"),
    errors.Unavailable: (503, "unavailable", "Not available"),
    auth_errors.InvalidCredentials: (401, "invalid-credentials", "Wrong username or password"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.slug, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(errors.SerenoError)
    async def _refused(request: Request, exc: errors.SerenoError) -> JSONResponse:
        if isinstance(exc, auth_errors.AccountLocked):
            retry = max(1, int(exc.retry_after_s))
            return problem_response(
                request,
                423,
                "account-locked",
                "Account locked",
                f"too many failed logins; try again in {retry} s",
                headers={"Retry-After": str(retry)},
            )
        status, slug, title = _ERRORS.get(type(exc), (400, "bad-request", "Bad request"))
        return problem_response(request, status, slug, title, str(exc))

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the schema let through (PostgreSQL: a NUL character in text).
        return problem_response(
            request,
            422,
            "invalid",
            "Invalid request",
            "a value could not be stored or compared (control characters such as NUL)",
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem_response(
            request,
            422,
            "invalid",
            "Invalid request",
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors),
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem_response(request, exc.status_code, slug, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal", "Internal error", "the error was logged")
