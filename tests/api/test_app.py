"""The assembled app: every route guarded, errors as problem details, health and readiness."""

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sereno.api.app import create_app
from sereno.api.deps import Public, Require
from sereno.app import Runtime


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Flatten included routers (newer FastAPI keeps them as wrappers around the original router)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def methods(route: APIRoute) -> set[str]:
    """APIRoute always sets them (GET when none are given); starlette's Route types them as optional."""
    assert route.methods is not None
    return route.methods


def _guards(route: APIRoute) -> list[Require | Public]:
    found: list[Require | Public] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require | Public):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def test_every_route_declares_a_permission_or_is_explicitly_public(rt: Runtime) -> None:
    app = create_app(rt)
    routes = api_routes(app.routes)
    assert len(routes) > 10
    unguarded = [f"{sorted(methods(r))} {r.path}" for r in routes if not _guards(r)]
    assert unguarded == []
    public = sorted(r.path for r in routes if any(isinstance(g, Public) for g in _guards(r)))
    assert public == ["/", "/api/auth/login", "/healthz", "/readyz"]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"database": "ok", "schema": "ok"}}


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-found"


def test_malformed_json_is_a_422_problem_not_a_500(client: TestClient) -> None:
    response = client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/invalid" and body["errors"]


def test_extra_fields_are_refused(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "a", "password": "b", "admin": True})
    assert response.status_code == 422


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/auth/login" in spec["paths"] and "/api/audit/entries" in spec["paths"]


def test_console_page_and_modules_are_served_offline(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/console.js" in page.text
    module = client.get("/static/console.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    for imported in ("/static/api.js", "/static/live.js"):
        assert f'"{imported}"' in module.text and client.get(imported).status_code == 200
    views = re.findall(r"^  ([a-z]+): \[", module.text.split("const VIEWS = {", 1)[1].split("};", 1)[0], re.M)
    assert "wall" in views and "audit" in views
    for view in [*views, "incident"]:  # every view the navigation can open is a module the server has
        assert client.get(f"/static/views/{view}.js").status_code == 200, view
    assert client.get("/static/leaflet/leaflet-src.esm.js").status_code == 200  # from the wheel, not a CDN
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: everything comes from this server


def test_nul_characters_are_a_422_on_every_database(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "a\x00b", "password": "whatever"})
    assert response.status_code in (401, 422)  # SQLite stores NUL; PostgreSQL refuses it: never a 500
    assert response.headers["content-type"] == "application/problem+json"
