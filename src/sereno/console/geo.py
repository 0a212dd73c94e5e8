"""The console map's own geometry: what it draws when there is no basemap, scoped to what the user may see.

Sereno runs offline, so the map cannot count on tiles: the city's jurisdictions (from the site file) and, when
the site supplies a road graph, its streets are sent as GeoJSON and drawn on a plain background. Only the
centres the user holds are sent (the outline of another centre's area is still another centre's business),
and the streets are cut to the box around those areas.

A whole city's streets can be hundreds of thousands of segments; more than MAX_STREET_SEGMENTS are thinned
to the fastest ones (the arterials a dispatcher steers by), never sent whole to a browser.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from sereno.config.site import SiteConfig
from sereno.core.auth.principal import Principal
from sereno.core.errors import Invalid
from sereno.dispatch.roads import RoadGraph, RoadGraphError
from sereno.dispatch.service import DispatchService

MAX_STREET_SEGMENTS = 20_000
# Degrees of margin around the jurisdictions' box, so streets do not stop dead at the border (about 1 km).
STREET_MARGIN_DEG = 0.01
Feature = dict[str, Any]
Box = tuple[float, float, float, float]  # west, south, east, north


def jurisdiction_features(site: SiteConfig, viewer: Principal) -> list[Feature]:
    """One Polygon per visible centre with a jurisdiction, and one Point per visible centre (where it is),
    so a centre without a drawn area still has a place on the map."""
    features: list[Feature] = []
    for centre in site.centres:
        if not viewer.sees(centre.code):
            continue
        properties = {"centre": centre.code, "name": centre.name}
        if centre.jurisdiction is not None:
            ring = [[lon, lat] for lon, lat in centre.jurisdiction.ring]
            if ring[0] != ring[-1]:
                ring.append(ring[0])  # the site file closes rings implicitly; GeoJSON wants them closed
            features.append(_feature({"type": "Polygon", "coordinates": [ring]}, kind="jurisdiction", **properties))
        point = {"type": "Point", "coordinates": [centre.position.lon, centre.position.lat]}
        features.append(_feature(point, kind="centre", **properties))
    return features


def street_feature(roads: RoadGraph, box: Box, limit: int = MAX_STREET_SEGMENTS) -> Feature | None:
    """The road graph's segments inside `box` as one MultiLineString (None when none are inside)."""
    segments = _segments(roads, box, limit)
    if not segments:
        return None
    return _feature({"type": "MultiLineString", "coordinates": segments}, kind="streets")


def jurisdictions_box(features: list[Feature], margin: float = STREET_MARGIN_DEG) -> Box | None:
    """The box around the jurisdiction polygons (and centre points) in `features`, widened by `margin`."""
    points = [p for f in features for p in _points(f["geometry"])]
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin


def map_geometry(site: SiteConfig | None, viewer: Principal, roads: RoadGraph | None) -> list[Feature]:
    """Everything the map draws of the city itself, for this viewer: jurisdictions, centres, streets."""
    if site is None:
        return []
    features = jurisdiction_features(site, viewer)
    box = jurisdictions_box(features)
    if roads is not None and box is not None:
        streets = street_feature(roads, box)
        if streets is not None:
            features.insert(0, streets)  # first, so it is drawn under the areas and their labels
    return features


def city_geometry(dispatch: DispatchService, viewer: Principal) -> list[Feature]:
    """map_geometry for the site the process runs with: none loaded is an empty map, not an error, and a road
    graph that does not parse leaves the streets out (RoadGraph.cached has logged why once)."""
    try:
        site = dispatch.site
    except Invalid:
        return []
    roads = None
    if site.dispatch.road_graph is not None:
        try:
            roads = RoadGraph.cached(site.dispatch.road_graph)
        except RoadGraphError:
            roads = None
    return map_geometry(site, viewer, roads)


def _feature(geometry: dict[str, Any], **properties: str) -> Feature:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _points(geometry: dict[str, Any]) -> list[list[float]]:
    if geometry["type"] == "Point":
        return [geometry["coordinates"]]
    if geometry["type"] == "Polygon":
        return [p for ring in geometry["coordinates"] for p in ring]
    return []


@functools.lru_cache(maxsize=32)
def _segments(roads: RoadGraph, box: Box, limit: int) -> list[list[list[float]]]:
    """Undirected segments with an end inside the box, fastest first when over `limit`. Cached per graph and
    box: the graph is parsed once per process, and each centre's users ask for the same box."""
    edges: list[tuple[int, int, float]] = list(roads.graph.edges(data="weight"))
    if not edges:
        return []
    u = np.fromiter((e[0] for e in edges), dtype=np.intp, count=len(edges))
    v = np.fromiter((e[1] for e in edges), dtype=np.intp, count=len(edges))
    seconds = np.fromiter((e[2] for e in edges), dtype=np.float64, count=len(edges))
    a, b = np.minimum(u, v), np.maximum(u, v)  # a two-way street is two edges: draw it once
    _, first = np.unique(np.stack([a, b], axis=1), axis=0, return_index=True)
    a, b, seconds = a[first], b[first], seconds[first]
    west, south, east, north = box
    lat, lon = roads.lat, roads.lon

    def inside(i: np.ndarray) -> np.ndarray:
        inside_box: np.ndarray = (lon[i] >= west) & (lon[i] <= east) & (lat[i] >= south) & (lat[i] <= north)
        return inside_box

    keep = inside(a) | inside(b)
    a, b, seconds = a[keep], b[keep], seconds[keep]
    if a.size > limit:
        # Speed ~ length / time; equirectangular length is enough to rank motorways above lanes.
        dx = (lon[b] - lon[a]) * np.cos(np.radians((lat[a] + lat[b]) / 2))
        speed = np.hypot(dx, lat[b] - lat[a]) / np.maximum(seconds, 1e-9)
        fastest = np.argsort(-speed, kind="stable")[:limit]
        a, b = a[fastest], b[fastest]
    ends = np.round(np.stack([lon[a], lat[a], lon[b], lat[b]], axis=1), 6)
    return [[[float(r[0]), float(r[1])], [float(r[2]), float(r[3])]] for r in ends]
