"""Road travel times over a local OpenStreetMap extract, for ranking units and for driving simulated ones.

Why roads at all: a river with one bridge, a one-way grid or a motorway without an exit make the unit that
is nearest in a straight line the slowest to arrive, and the straight-line estimate in recommend.py cannot
see that. The map is a file the site's operators supply (an OSM XML extract of their city, e.g. cut from a
regional download with osmium); Sereno never fetches map data from anywhere.

Why one Dijkstra per incident: ranking asks "how long from each unit to here", so the search runs once from
the incident over the reversed graph, and each unit is then a nearest-node lookup and an array read: N units
cost one Dijkstra plus N lookups, not N searches.

The file is streamed with defusedxml's iterparse and DTDs are refused outright (an OSM extract never has
one), so entity bombs and external entities never expand. Only node coordinates and the ways that cars may
drive are kept. Lookups use an equirectangular approximation, which is exact enough within a city extract
and wrong across the antimeridian or the poles, where no city extract lies.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import defusedxml
import networkx as nx
import numpy as np
from defusedxml.ElementTree import ParseError, iterparse

from sereno.dispatch.recommend import EARTH_RADIUS_M

log = logging.getLogger(__name__)

# km/h by highway class when a way has no usable maxspeed. A highway value missing here (footway, cycleway,
# steps, path, pedestrian, track, bridleway, construction, proposed, platform, ...) is not for cars: skipped.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 110.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "service": 20.0,
    "living_street": 10.0,
}
# Between a point (a unit's position, an incident) and its nearest road node: yards, car parks, private
# lanes the map lacks. Slow on purpose, so a unit far off the mapped roads is not ranked as if it were on them.
HOP_KMH = 15.0
MPH_KMH = 1.609344
_SPEED = re.compile(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?")
_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}


class RoadGraphError(Exception):
    """A road graph file that cannot be used, with what is wrong in words for the person who supplied it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Route:
    points: list[tuple[float, float]]  # (lat, lon) from the start, along the roads, to the end
    seconds: float


def parse_maxspeed(value: str | None, default_kmh: float) -> float:
    """An OSM maxspeed in km/h: '50', '30 mph', '50 km/h'; the first of '50;30'. Zone codes ('DE:urban'),
    'none', 'signals' and nonsense fall back to the class default rather than guessing."""
    if value is None:
        return default_kmh
    found = _SPEED.fullmatch(value.split(";")[0].strip().lower())
    if found is None:
        return default_kmh
    kmh = float(found[1]) * (MPH_KMH if found[2] == "mph" else 1.0)
    return kmh if 1.0 <= kmh <= 300.0 else default_kmh


def _direction(tags: dict[str, str]) -> int | None:
    """1 along the way's node order, -1 against it, 0 both ways, None not drivable in a known direction."""
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in _FORWARD:
        return 1
    if oneway in _BACKWARD:
        return -1
    if oneway in ("reversible", "alternating"):
        return None  # the direction changes by the hour; no ranking should count on it
    implied = tags.get("highway") == "motorway" or tags.get("junction") in ("roundabout", "circular")
    return 1 if implied and oneway != "no" else 0


def _for_cars(tags: dict[str, str]) -> bool:
    if tags.get("highway") not in DEFAULT_SPEED_KMH or tags.get("area") == "yes":
        return False
    return "no" not in (tags.get("access"), tags.get("vehicle"), tags.get("motor_vehicle"))


class RoadGraph:
    """A directed road network: node i is at (lat[i], lon[i]); edge weights are seconds at the speed limits."""

    def __init__(self, graph: nx.DiGraph[int], lat: np.ndarray, lon: np.ndarray, osm_ids: np.ndarray) -> None:
        self.graph = graph
        self.osm_ids = osm_ids
        self.lat = lat
        self.lon = lon
        self._cells = _Cells(lat, lon)
        self._reversed = graph.reverse(copy=False)

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        """Parse an OSM XML extract; RoadGraphError says what is wrong with a file that is not one."""
        nodes, ways = _read(path)
        index: dict[int, int] = {}
        edges: dict[tuple[int, int], float] = {}
        missing = 0
        for refs, kmh, direction in ways:
            for a, b in pairwise(refs):
                pa, pb = nodes.get(a), nodes.get(b)
                if pa is None or pb is None:
                    missing += 1  # clipped extracts end ways at nodes they lack: drop the segment, keep the rest
                    continue
                if a == b:
                    continue
                ia, ib = index.setdefault(a, len(index)), index.setdefault(b, len(index))
                seconds = _haversine_m(*pa, *pb) / (kmh / 3.6)
                pairs = {1: ((ia, ib),), -1: ((ib, ia),), 0: ((ia, ib), (ib, ia))}[direction]
                for u, v in pairs:
                    if seconds < edges.get((u, v), math.inf):  # two ways over the same nodes: the faster
                        edges[(u, v)] = seconds
        if not index:
            raise RoadGraphError(path, "no roads that cars can use (ways tagged highway=residential, primary, ...)")
        if missing:
            log.warning("%s: %d road segments name nodes the file lacks; they were left out", path, missing)
        osm_ids = np.fromiter(index, dtype=np.int64, count=len(index))
        lat = np.array([nodes[int(i)][0] for i in osm_ids], dtype=np.float64)
        lon = np.array([nodes[int(i)][1] for i in osm_ids], dtype=np.float64)
        graph: nx.DiGraph[int] = nx.DiGraph()
        graph.add_nodes_from(range(len(index)))
        graph.add_weighted_edges_from((u, v, s) for (u, v), s in edges.items())
        return cls(graph, lat, lon, osm_ids)

    @classmethod
    def cached(cls, path: Path) -> RoadGraph:
        """Load once per process per file. A file that fails is remembered too, so a broken map costs one
        parse and one log line, not one per recommendation; restart the process after fixing it."""
        key = path.resolve()
        with _LOCK:
            found = _CACHE.get(key)
            if found is None:
                try:
                    found = cls.load(key)
                except RoadGraphError as exc:
                    log.warning("road graph not used: %s", exc)
                    found = exc
                _CACHE[key] = found
        if isinstance(found, RoadGraphError):
            raise RoadGraphError(found.path, found.problem)
        return found

    def nearest(self, lat: float, lon: float) -> tuple[int, float]:
        """The node nearest to a point and how far it is in metres."""
        nodes, metres = self.nearest_many(np.array([lat]), np.array([lon]))
        return int(nodes[0]), float(metres[0])

    def nearest_many(self, lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest nodes of many points (metres to each; inf for a position that is not a number)."""
        return self._cells.nearest(np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64))

    def travel_times_to(self, lat: float, lon: float, cutoff_s: float | None = None) -> TravelTimes:
        """One Dijkstra from the destination over the reversed graph: seconds from every node to here.
        Nodes beyond cutoff_s (road seconds at the limits), or with no road leading here, get inf."""
        node, hop_m = self.nearest(lat, lon)
        found = nx.single_source_dijkstra_path_length(self._reversed, node, cutoff=cutoff_s, weight="weight")
        node_s = np.full(self.lat.size, np.inf)
        node_s[np.fromiter(found.keys(), dtype=np.intp, count=len(found))] = np.fromiter(
            found.values(), dtype=np.float64, count=len(found)
        )
        return TravelTimes(self, node_s, hop_m / (HOP_KMH / 3.6))

    def route(
        self, from_lat: float, from_lon: float, to_lat: float, to_lon: float, speed_factor: float = 1.0
    ) -> Route | None:
        """The fastest way by road between two points (None when no road connects them), for the simulator to
        drive: the points start and end at the given positions, through the nodes on the way."""
        start, start_m = self.nearest(from_lat, from_lon)
        end, end_m = self.nearest(to_lat, to_lon)
        if not (math.isfinite(start_m) and math.isfinite(end_m)):
            return None
        try:
            road_s, path = nx.bidirectional_dijkstra(self.graph, start, end, weight="weight")
        except nx.NetworkXNoPath:
            return None
        points = [(float(self.lat[i]), float(self.lon[i])) for i in path]
        if start_m > 0.5:
            points.insert(0, (from_lat, from_lon))
        if end_m > 0.5:
            points.append((to_lat, to_lon))
        return Route(points, (start_m + end_m) / (HOP_KMH / 3.6) + road_s / speed_factor)


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Seconds to one destination from anywhere: the hop to the nearest node, the roads, the hop off them."""

    roads: RoadGraph
    node_s: np.ndarray  # road seconds at the limits from each node to the destination's node; inf: no road
    arrival_hop_s: float

    def seconds_from(self, lats: np.ndarray, lons: np.ndarray, speed_factor: float = 1.0) -> np.ndarray:
        """Total seconds from each point; speed_factor scales road speeds (emergency driving), not hops."""
        nodes, hop_m = self.roads.nearest_many(lats, lons)
        total: np.ndarray = hop_m / (HOP_KMH / 3.6) + self.node_s[nodes] / speed_factor + self.arrival_hop_s
        total[~np.isfinite(total)] = np.inf
        return total


class _Cells:
    """Nodes bucketed in square cells, so a batch of nearest-node lookups reads the 3x3 cells around each
    point (about 36 nodes) instead of every node; a point with no node within one cell's width falls back to
    the exhaustive scan, which keeps the answer exact. Coordinates are metres on a plane tangent at the mean
    latitude, the equirectangular approximation that is exact enough within a city."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        self.cos = math.cos(math.radians(float(lat.mean())))
        self.x, self.y = self.project(lat, lon)
        self.x0, self.y0 = float(self.x.min()), float(self.y.min())
        width, height = max(float(self.x.max()) - self.x0, 1.0), max(float(self.y.max()) - self.y0, 1.0)
        self.size = max(2.0 * math.sqrt(width * height / lat.size), 1.0)  # about 4 nodes a cell if spread evenly
        self.nx, self.ny = int(width // self.size) + 1, int(height // self.size) + 1
        cell = self._cell(self.x, self.y)
        self.order = np.argsort(cell, kind="stable")
        self.starts = np.searchsorted(cell[self.order], np.arange(self.nx * self.ny + 1))

    def project(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.radians(lon) * self.cos * EARTH_RADIUS_M, np.radians(lat) * EARTH_RADIUS_M

    def _cell(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        cx = np.clip((x - self.x0) // self.size, 0, self.nx - 1).astype(np.intp)
        return np.clip((y - self.y0) // self.size, 0, self.ny - 1).astype(np.intp) * self.nx + cx

    def nearest(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        qx, qy = self.project(lat, lon)
        ok = np.isfinite(qx) & np.isfinite(qy)
        qx, qy = np.where(ok, qx, self.x0), np.where(ok, qy, self.y0)
        home = self._cell(qx, qy)
        hx, hy = home % self.nx, home // self.nx
        nbx, nby = hx[:, None] + np.tile([-1, 0, 1], 3), hy[:, None] + np.repeat([-1, 0, 1], 3)
        inside = (nbx >= 0) & (nbx < self.nx) & (nby >= 0) & (nby < self.ny)
        cells = np.where(inside, nby * self.nx + nbx, 0).ravel()
        count = np.where(inside.ravel(), self.starts[cells + 1] - self.starts[cells], 0)
        owner = np.repeat(np.repeat(np.arange(qx.size), 9), count)  # the query each candidate node belongs to
        block = np.repeat(self.starts[cells] - (np.cumsum(count) - count), count)
        cand = self.order[block + np.arange(owner.size)]
        d2 = (self.x[cand] - qx[owner]) ** 2 + (self.y[cand] - qy[owner]) ** 2
        best = np.full(qx.size, np.inf)
        np.minimum.at(best, owner, d2)
        hits = np.flatnonzero(d2 == best[owner])
        found, first = np.unique(owner[hits], return_index=True)
        nodes = np.zeros(qx.size, dtype=np.intp)
        nodes[found] = cand[hits[first]]
        far = np.flatnonzero(ok & ~(best <= self.size**2))  # nothing that near: every node is a candidate
        step = max(1, (1 << 21) // self.x.size)  # 16 MiB of distances at a time
        for chunk in (far[i : i + step] for i in range(0, far.size, step)):
            d2_all = (self.x - qx[chunk, None]) ** 2 + (self.y - qy[chunk, None]) ** 2
            nodes[chunk] = np.argmin(d2_all, axis=1)
            best[chunk] = d2_all[np.arange(chunk.size), nodes[chunk]]
        return nodes, np.where(ok, np.sqrt(best), np.inf)


_CACHE: dict[Path, RoadGraph | RoadGraphError] = {}
_LOCK = threading.Lock()


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _read(path: Path) -> tuple[dict[int, tuple[float, float]], list[tuple[list[int], float, int]]]:
    """Node coordinates and drivable ways ((node refs, km/h, direction)) streamed from the file."""
    try:
        with path.open("rb") as f:
            _sniff(path, f.read(64))
            f.seek(0)
            return _stream(path, f)
    except OSError as exc:
        raise RoadGraphError(path, f"cannot read the file ({exc.strerror or exc})") from None
    except defusedxml.DefusedXmlException as exc:
        raise RoadGraphError(
            path, f"refused: it declares a DTD or entities, which OSM extracts never do ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        raise RoadGraphError(path, f"not well-formed XML ({exc})") from None


def _sniff(path: Path, head: bytes) -> None:
    if not head.strip():
        raise RoadGraphError(path, "the file is empty")
    if b"OSMHeader" in head:
        raise RoadGraphError(path, "this is OSM PBF, not XML: convert it with `osmium cat in.osm.pbf -o out.osm`")
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")):
        raise RoadGraphError(path, "the file is compressed; decompress it to plain .osm XML first")


def _stream(path: Path, f: IO[bytes]) -> tuple[dict[int, tuple[float, float]], list[tuple[list[int], float, int]]]:
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[list[int], float, int]] = []
    root: Any = None
    depth = 0
    for event, elem in iterparse(f, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if root is None:
                if elem.tag != "osm":
                    raise RoadGraphError(path, f"not an OpenStreetMap XML file (its root is <{elem.tag}>, not <osm>)")
                root = elem
            depth += 1
            continue
        depth -= 1
        if depth != 1:
            continue  # inside an element (a way's <nd> and <tag>): handled when the element ends
        if elem.tag == "node":
            position = _position(elem)
            if position is not None:
                nodes[position[0]] = position[1]
        elif elem.tag == "way":
            way = _way(elem)
            if way is not None:
                ways.append(way)
        root.clear()  # streaming: what has been read is dropped, so memory follows the kept data only
    return nodes, ways


def _position(elem: Any) -> tuple[int, tuple[float, float]] | None:
    try:
        ident, lat, lon = int(elem.get("id")), float(elem.get("lat")), float(elem.get("lon"))
    except (TypeError, ValueError):
        return None
    return (ident, (lat, lon)) if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 else None


def _way(elem: Any) -> tuple[list[int], float, int] | None:
    tags = {str(t.get("k")): str(t.get("v")) for t in elem.iter("tag")}
    if not _for_cars(tags):
        return None
    direction = _direction(tags)
    try:
        refs = [int(nd.get("ref")) for nd in elem.iter("nd")]
    except (TypeError, ValueError):
        return None
    if direction is None or len(refs) < 2:
        return None
    highway = tags["highway"]
    return refs, parse_maxspeed(tags.get("maxspeed"), DEFAULT_SPEED_KMH[highway]), direction
