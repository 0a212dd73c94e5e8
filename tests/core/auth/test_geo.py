"""The map's own geometry over HTTP: jurisdictions scoped to the user's centres, the configured basemap, the
site's streets cut to the user's area and thinned to the fastest, and an empty map when no site is loaded."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.config.console import ConsoleSettings
from sereno.config.site import SiteConfig
from sereno.console.geo import city_geometry, street_feature
from sereno.core.auth.permissions import Role
from sereno.core.clock import ManualClock
from sereno.dispatch.roads import RoadGraph
from sereno.dispatch.service import DispatchService
from tests.conftest import login, make_user
from tests.dispatch.test_roads import osm, write


def kinds(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in body["features"] if f["properties"]["kind"] == kind]


def with_roads(tmp_path: Path) -> Path:
    """A residential street inside north's area, a motorway crossing it, and a street far outside every area."""
    nodes = {
        1: (-0.16, -78.48),
        2: (-0.16, -78.47),
        3: (-0.15, -78.48),
        4: (-0.17, -78.48),
        8: (5.0, 10.0),
        9: (5.0, 10.01),
    }
    ways = [
        ([1, 2], {"highway": "residential"}),
        ([3, 1, 4], {"highway": "motorway", "oneway": "yes"}),
        ([8, 9], {"highway": "primary"}),
    ]
    return write(tmp_path, osm(nodes, ways))


def test_an_operator_gets_only_their_centres_jurisdiction(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    response = client.get("/api/centres/geo")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["tile_url"] is None
    (area,) = kinds(body, "jurisdiction")
    assert area["properties"] == {"kind": "jurisdiction", "centre": "north", "name": "North Monitoring Centre"}
    ring = area["geometry"]["coordinates"][0]
    assert ring[0] == [-78.52, -0.20] and ring[0] == ring[-1] and len(ring) == 5  # [lon, lat], closed
    assert [f["properties"]["centre"] for f in kinds(body, "centre")] == ["north"]
    assert kinds(body, "streets") == []  # the demo site has no road graph


def test_everyone_else_sees_what_they_hold_and_strangers_nothing(rt: Runtime, client: TestClient) -> None:
    assert client.get("/api/centres/geo").status_code == 401
    make_user(rt, "ada", Role.ADMIN, all_centres=True)
    login(client, "ada")
    body = client.get("/api/centres/geo").json()
    assert sorted(f["properties"]["centre"] for f in kinds(body, "jurisdiction")) == ["centre", "north", "south"]


def test_the_configured_tile_server_is_reported(
    rt: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiles = ConsoleSettings(tile_url="/tiles/{z}/{x}/{y}.png", tile_attribution="© City GIS")
    monkeypatch.setattr(rt.settings, "console", tiles)
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    body = client.get("/api/centres/geo").json()
    assert (body["tile_url"], body["tile_attribution"]) == ("/tiles/{z}/{x}/{y}.png", "© City GIS")


def test_streets_come_from_the_road_graph_cut_to_the_users_area(
    rt: Runtime, client: TestClient, site: SiteConfig, tmp_path: Path
) -> None:
    roads = with_roads(tmp_path)
    rt.dispatch.configure(site.model_copy(update={"dispatch": site.dispatch.model_copy(update={"road_graph": roads})}))
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    body = client.get("/api/centres/geo").json()
    (streets,) = kinds(body, "streets")
    assert body["features"][0]["properties"]["kind"] == "streets"  # first, so it is drawn under the areas
    lines = streets["geometry"]["coordinates"]
    assert streets["geometry"]["type"] == "MultiLineString" and len(lines) == 3  # the far street is cut away
    assert [[-78.48, -0.16], [-78.47, -0.16]] in lines or [[-78.47, -0.16], [-78.48, -0.16]] in lines
    # Over the limit, the fastest segments are kept: the motorway's, not the residential street.
    graph = RoadGraph.cached(roads)
    thinned = street_feature(graph, (-79.0, -1.0, -78.0, 0.0), limit=2)
    assert thinned is not None
    assert all(seg[0][0] == seg[1][0] == -78.48 for seg in thinned["geometry"]["coordinates"])


def test_no_site_loaded_is_an_empty_map_not_an_error(rt: Runtime, clock: ManualClock) -> None:
    viewer = make_user(rt, "olga", Role.OPERATOR, "north")
    assert city_geometry(DispatchService(rt.db, clock), viewer) == []
