"""Hostile requests: arbitrary JSON bodies, paths and query values on every route never produce a 500."""

import json
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sereno.api.app import create_app
from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from tests.api.test_app import api_routes, methods
from tests.conftest import login, make_user

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
segments = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=20)


STREAMS = {"/api/live"}


def _fill(path: str, value: str) -> str:
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + value + out[end + 1 :]
    return out


def test_no_route_answers_500_to_hostile_input(rt: Runtime) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    app = create_app(rt)
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "root")
        routes = [(m, r.path) for r in api_routes(app.routes) for m in methods(r) - {"HEAD"}]

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(
            st.sampled_from(routes),
            json_values,
            segments,
            st.dictionaries(
                st.sampled_from(["limit", "since_us", "actor", "action", "before_seq"]),
                st.text(max_size=10),
                max_size=3,
            ),
        )
        def probe(route: tuple[str, str], body: Any, segment: str, query: dict[str, str]) -> None:
            method, path = route
            if path == "/api/auth/logout":
                return  # would end the session the other probes use
            if path in STREAMS:
                return  # endless by design (and without parameters to fuzz); tested where they are built
            response = client.request(
                method,
                _fill(path, quote(segment, safe="")),
                params=query,
                content=json.dumps(body),
                headers={"content-type": "application/json"},
            )
            assert response.status_code < 500, (method, path, body, response.text)

        probe()
