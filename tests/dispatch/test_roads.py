"""Road travel times from a local OSM extract: parsing, one-way streets, speeds, routes, ranking by road (a river
with one bridge makes the straight-line-nearest unit the slow one), and files that are not maps or are hostile."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from sereno.app import Runtime
from sereno.config.site import SiteConfig, SiteConfigError, load_site
from sereno.core.auth.principal import Principal
from sereno.dispatch.recommend import Recommender, UnitPosition, haversine_m
from sereno.dispatch.roads import HOP_KMH, MPH_KMH, RoadGraph, RoadGraphError, parse_maxspeed
from sereno.dispatch.service import NewCall
from sereno.sim.demo import bundled_site_path

D = 0.001  # degrees between neighbouring nodes: about 111 m
SEG = haversine_m(0.0, 0.0, D, 0.0)
Way = tuple[list[int], dict[str, str]]


def osm(nodes: dict[int, tuple[float, float]], ways: list[Way]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="sereno-tests">']
    lines += [
        f'  <node id="{i}" lat="{lat!r}" lon="{lon!r}"><tag k="x" v="y"/></node>' for i, (lat, lon) in nodes.items()
    ]
    for n, (refs, tags) in enumerate(ways, 1):
        inner = "".join(f'<nd ref="{r}"/>' for r in refs) + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'  <way id="{n}" version="1">{inner}</way>')
    lines += ['  <relation id="1"><member type="way" ref="1" role=""/></relation>', "</osm>"]
    return "\n".join(lines)


def write(tmp_path: Path, text: str | bytes, name: str = "city.osm") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def index(roads: RoadGraph) -> dict[int, int]:
    return {int(osm_id): i for i, osm_id in enumerate(roads.osm_ids)}


def grid(tmp_path: Path) -> RoadGraph:
    """3x3 nodes (id 1 + 3*row + col, north is +row, east is +col); row 1 is one-way east; a footway, a
    cycleway and steps cut across and must be ignored."""
    nodes = {1 + 3 * r + c: (r * D, c * D) for r in range(3) for c in range(3)}
    nodes[100] = (0.9 * D, 1.1 * D)
    res = {"highway": "residential"}
    ways: list[Way] = [
        ([1, 2, 3], res),
        ([4, 5, 6], {**res, "oneway": "yes"}),
        ([7, 8, 9], {**res, "maxspeed": "50"}),
        ([1, 4, 7], {**res, "maxspeed": "20 mph"}),
        ([2, 5, 8], res),
        ([3, 6, 9], {**res, "maxspeed": "60"}),
        ([1, 100, 9], {"highway": "footway"}),
        ([6, 4], {"highway": "cycleway"}),
        ([7, 5], {"highway": "steps"}),
        ([1, 2], {"building": "yes"}),  # not a highway at all
    ]
    return RoadGraph.load(write(tmp_path, osm(nodes, ways)))


def at(node: int) -> tuple[float, float]:
    r, c = divmod(node - 1, 3)
    return r * D, c * D


def test_grid_parses_with_oneway_and_speeds_and_without_paths(tmp_path: Path) -> None:
    roads = grid(tmp_path)
    i = index(roads)
    assert set(i) == set(range(1, 10))  # node 100 belongs to the footway only
    g = roads.graph
    assert g.number_of_edges() == 2 * 12 - 2  # twelve street segments, two of them one-way
    assert g.has_edge(i[4], i[5]) and not g.has_edge(i[5], i[4])
    assert not g.has_edge(i[6], i[4]) and not g.has_edge(i[1], i[9]) and not g.has_edge(i[7], i[5])
    assert g[i[1]][i[2]]["weight"] == pytest.approx(SEG / (30 / 3.6), rel=1e-3)
    assert g[i[7]][i[8]]["weight"] == pytest.approx(SEG / (50 / 3.6), rel=1e-3)
    assert g[i[3]][i[6]]["weight"] == pytest.approx(SEG / (60 / 3.6), rel=1e-3)
    assert g[i[4]][i[1]]["weight"] == pytest.approx(SEG / (20 * MPH_KMH / 3.6), rel=1e-3)


def test_route_goes_around_the_one_way_street_on_the_faster_side(tmp_path: Path) -> None:
    roads = grid(tmp_path)
    route = roads.route(*at(6), *at(4))
    assert route is not None
    assert route.points == [at(6), at(9), at(8), at(7), at(4)]
    expected = SEG / (60 / 3.6) + 2 * SEG / (50 / 3.6) + SEG / (20 * MPH_KMH / 3.6)
    assert route.seconds == pytest.approx(expected, rel=1e-3)
    east = roads.route(*at(4), *at(6))
    assert east is not None and east.points == [at(4), at(5), at(6)]
    assert east.seconds == pytest.approx(2 * SEG / (30 / 3.6), rel=1e-3)
    faster = roads.route(*at(4), *at(6), speed_factor=2.0)
    assert faster is not None and faster.seconds == pytest.approx(east.seconds / 2, rel=1e-6)
    off_road = roads.route(0.0, 1.1 * D, *at(6))  # starts 11 m east of node 2, ends on node 6
    assert off_road is not None and off_road.points[:2] == [(0.0, 1.1 * D), at(2)]
    assert off_road.seconds == pytest.approx(
        0.1 * SEG / (HOP_KMH / 3.6) + SEG / (30 / 3.6) + SEG / (60 / 3.6), rel=1e-3
    )


def test_travel_times_to_is_one_search_that_agrees_with_every_route(tmp_path: Path) -> None:
    roads = grid(tmp_path)
    i = index(roads)
    times = roads.travel_times_to(*at(4))
    assert times.node_s[i[4]] == 0.0 and times.arrival_hop_s == 0.0
    assert times.node_s[i[5]] == pytest.approx(
        SEG / (30 / 3.6) + SEG / (50 / 3.6) + SEG / (20 * MPH_KMH / 3.6), rel=1e-3
    )
    for node in range(1, 10):
        route = roads.route(*at(node), *at(4))
        assert route is not None and route.seconds == pytest.approx(times.node_s[i[node]], rel=1e-9)
    lats = np.array([at(5)[0] + 0.1 * D, at(4)[0], float("nan")])
    lons = np.array([at(5)[1], at(4)[1], 0.0])
    seconds = times.seconds_from(lats, lons)
    assert seconds[0] == pytest.approx(0.1 * SEG / (HOP_KMH / 3.6) + times.node_s[i[5]], rel=1e-3)
    assert seconds[1] == 0.0 and seconds[2] == np.inf  # a position that is not a number reaches nothing
    near = roads.travel_times_to(*at(4), cutoff_s=20.0)
    assert np.isfinite(near.node_s[i[7]]) and near.node_s[i[5]] == np.inf


def test_nearest_node_is_exact_near_and_far_from_the_roads(tmp_path: Path) -> None:
    roads = RoadGraph.load(write(tmp_path, river((0.0, 0.0))))
    rng = np.random.default_rng(3)
    lats = np.concatenate([rng.uniform(-2 * D, 22 * D, 400), [0.5, -0.3, float("nan")]])
    lons = np.concatenate([rng.uniform(-2 * D, 24 * D, 400), [0.5, 0.0, 0.0]])
    nodes, metres = roads.nearest_many(lats, lons)
    for lat, lon, node, m in zip(lats[:-1], lons[:-1], nodes[:-1], metres[:-1], strict=True):
        exact = [haversine_m(lat, lon, a, b) for a, b in zip(roads.lat, roads.lon, strict=True)]
        assert exact[node] == pytest.approx(min(exact), rel=1e-6, abs=1e-6) and m == pytest.approx(min(exact), rel=1e-3)
    assert metres[-1] == np.inf and roads.nearest(0.0, 0.0) == (index(roads)[1], 0.0)


def test_maxspeed_units_and_fallbacks() -> None:
    assert parse_maxspeed("50", 30.0) == 50.0
    assert parse_maxspeed("30 mph", 50.0) == pytest.approx(30 * MPH_KMH)
    assert parse_maxspeed("50 km/h", 30.0) == parse_maxspeed("50kmh", 30.0) == 50.0
    assert parse_maxspeed("60;40", 30.0) == 60.0
    for unusable in (None, "none", "DE:urban", "signals", "0", "9999", "fast", ""):
        assert parse_maxspeed(unusable, 42.0) == 42.0


def test_directions_implied_and_tagged(tmp_path: Path) -> None:
    nodes = {n: (0.0, n * D) for n in range(1, 15)}
    ways: list[Way] = [
        ([1, 2], {"highway": "residential", "oneway": "-1"}),
        ([3, 4], {"highway": "primary", "junction": "roundabout"}),
        ([5, 6], {"highway": "motorway"}),
        ([7, 8], {"highway": "motorway", "oneway": "no"}),
        ([9, 10], {"highway": "tertiary", "oneway": "reversible"}),
        ([11, 12], {"highway": "residential", "access": "no"}),
        ([13, 14], {"highway": "service", "access": "private"}),  # emergency vehicles may enter
    ]
    roads = RoadGraph.load(write(tmp_path, osm(nodes, ways)))
    i, g = index(roads), roads.graph
    assert g.has_edge(i[2], i[1]) and not g.has_edge(i[1], i[2])
    assert g.has_edge(i[3], i[4]) and not g.has_edge(i[4], i[3])
    assert g.has_edge(i[5], i[6]) and not g.has_edge(i[6], i[5])
    assert g.has_edge(i[7], i[8]) and g.has_edge(i[8], i[7])
    assert not {9, 10, 11, 12} & set(i) and g.has_edge(i[14], i[13])


def river(origin: tuple[float, float]) -> str:
    """Two banks (south road at the origin, north road 5 nodes up), one bridge at the east end, and a footbridge
    right beside the origin that cars cannot use; an island road nothing connects to."""
    lat0, lon0 = origin
    nodes = {1 + k: (lat0, lon0 + k * D) for k in range(11)}
    nodes |= {21 + k: (lat0 + 5 * D, lon0 + k * D) for k in range(11)}
    nodes |= {40 + k: (lat0 + k * D, lon0 + 10 * D) for k in range(1, 5)}
    nodes |= {50 + k: (lat0 + k * D, lon0) for k in range(1, 5)}
    nodes |= {60: (lat0 + 20 * D, lon0 + 20 * D), 61: (lat0 + 20 * D, lon0 + 21 * D)}
    road = {"highway": "secondary"}
    ways: list[Way] = [
        (list(range(1, 12)), road),
        (list(range(21, 32)), road),
        ([11, 41, 42, 43, 44, 31], {**road, "bridge": "yes"}),
        ([1, 51, 52, 53, 54, 21], {"highway": "footway", "bridge": "yes"}),
        ([60, 61], road),
    ]
    return osm(nodes, ways)


def patrol(callsign: str, lat: float, lon: float) -> UnitPosition:
    return UnitPosition(callsign, "police", frozenset({"patrol"}), lat, lon, True)


def test_the_bridge_makes_the_straight_line_nearest_unit_slower(tmp_path: Path) -> None:
    roads = RoadGraph.load(write(tmp_path, river((0.0, 0.0))))
    units = [patrol("north-bank", 5 * D, 0.0), patrol("south-bank", 0.0, 8 * D), patrol("island", 20 * D, 20.5 * D)]
    straight = Recommender(units, {"default": 40.0}, 1.3).recommend(0.0, 0.0, ["patrol"])
    assert [r.callsign for r in straight] == ["north-bank", "south-bank", "island"]
    by_road = Recommender(units, {"default": 40.0}, 1.3, roads).recommend(0.0, 0.0, ["patrol"])
    assert [r.callsign for r in by_road] == ["south-bank", "north-bank", "island"]
    south, north, island = by_road
    assert south.eta_s == pytest.approx(8 * SEG / (50 / 3.6), rel=1e-3)
    assert north.eta_s == pytest.approx(25 * SEG / (50 / 3.6), rel=1e-3)
    assert "by road" in south.reason and "0.9 km away in a straight line" in south.reason
    assert north.distance_m == pytest.approx(5 * SEG, rel=1e-3)  # distance stays the straight line
    assert "no road on the map" in island.reason and island.eta_s == pytest.approx(
        island.distance_m * 1.3 / (40 / 3.6), abs=0.1
    )
    emergency = Recommender(units, {"default": 40.0}, 1.3, roads, road_speed_factor=1.25).recommend(
        0.0, 0.0, ["patrol"]
    )
    assert emergency[0].eta_s == pytest.approx(south.eta_s / 1.25, rel=1e-3) and "x1.25" in emergency[0].reason
    assert Recommender(units, {"default": 40.0}, 1.3, roads).recommend(0.0, 0.0, ["patrol"], per_capability=0) == []


def test_road_ranking_among_many_units_is_exact(tmp_path: Path) -> None:
    roads = RoadGraph.load(write(tmp_path, river((0.0, 0.0))))
    rng = np.random.default_rng(7)
    units = [patrol(f"u{n}", float(rng.uniform(-D, 6 * D)), float(rng.uniform(-D, 11 * D))) for n in range(500)]
    found = Recommender(units, {"default": 40.0}, 1.3, roads).recommend(0.0, 0.0, ["patrol"], per_capability=5)
    times = roads.travel_times_to(0.0, 0.0)
    every = times.seconds_from(np.array([u.lat for u in units]), np.array([u.lon for u in units]))
    assert [r.eta_s for r in found] == pytest.approx(sorted(every)[:5], abs=0.1)


def test_the_road_graph_is_loaded_once_per_file(tmp_path: Path) -> None:
    path = write(tmp_path, river((0.0, 0.0)))
    assert RoadGraph.cached(path) is RoadGraph.cached(tmp_path / "." / "city.osm")
    broken = write(tmp_path, "not a map", "broken.osm")
    for _ in range(2):
        with pytest.raises(RoadGraphError, match="not well-formed XML"):
            RoadGraph.cached(broken)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="&d;"/></node></osm>"""
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY x SYSTEM "file:///etc/passwd">]><osm>&x;</osm>'


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"  \n ", "the file is empty"),
        (b"this is not XML at all", "not well-formed XML"),
        (b'<?xml version="1.0"?><gpx><trk/></gpx>', "not an OpenStreetMap XML file"),
        (BOMB.encode(), "refused"),
        (EXTERNAL.encode(), "refused"),
        (river((0.0, 0.0)).encode()[:700], "not well-formed XML"),
        (b"\x00\x00\x00\x0e\n\tOSMHeader\x18\x7f", "OSM PBF"),
        (gzip.compress(river((0.0, 0.0)).encode()), "compressed"),
        (osm({1: (0.0, 0.0), 2: (0.0, D)}, [([1, 2], {"highway": "footway"})]).encode(), "no roads that cars"),
    ],
)
def test_files_that_are_not_road_maps_are_refused_in_words(tmp_path: Path, content: bytes, problem: str) -> None:
    with pytest.raises(RoadGraphError, match=problem) as err:
        RoadGraph.load(write(tmp_path, content))
    assert str(err.value).startswith(str(tmp_path / "city.osm"))


def test_unreadable_paths_are_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(RoadGraphError, match="cannot read"):
        RoadGraph.load(tmp_path / "absent.osm")
    with pytest.raises(RoadGraphError, match="cannot read"):
        RoadGraph.load(tmp_path)


def test_ways_through_missing_or_broken_nodes_keep_their_usable_segments(tmp_path: Path) -> None:
    text = osm(
        {1: (0.0, 0.0), 2: (0.0, D), 3: (0.0, 3 * D), 4: (0.0, 4 * D)}, [([1, 2, 999, 3, 4], {"highway": "primary"})]
    )
    text = text.replace(
        "</osm>",
        '<node id="5" lat="north" lon="0"/><node id="6" lat="95" lon="0"/>'
        '<way id="9"><nd ref="5"/><nd ref="6"/><nd ref="x"/><tag k="highway" v="primary"/></way></osm>',
    )
    roads = RoadGraph.load(write(tmp_path, text))
    i = index(roads)
    assert set(i) == {1, 2, 3, 4}
    assert roads.graph.has_edge(i[1], i[2]) and roads.graph.has_edge(i[3], i[4])
    assert not roads.graph.has_edge(i[2], i[3])
    assert roads.route(0.0, 0.0, 0.0, 4 * D) is None  # the gap splits the road: unreachable, not a crash
    assert roads.travel_times_to(0.0, 4 * D).node_s[i[1]] == np.inf


# site file and the dispatch service ------------------------------------------------------------------------

NORTH = (-0.16, -78.47)


def with_roads(site: SiteConfig, path: Path) -> SiteConfig:
    return site.model_copy(update={"dispatch": site.dispatch.model_copy(update={"road_graph": path})})


def test_site_file_reads_the_map_beside_it_and_refuses_a_missing_one(tmp_path: Path) -> None:
    text = bundled_site_path().read_text().replace("[dispatch]\n", '[dispatch]\nroad_graph = "maps/city.osm"\n', 1)
    (tmp_path / "site.toml").write_text(text)
    with pytest.raises(SiteConfigError) as err:
        load_site(tmp_path / "site.toml")
    assert any(p.startswith("dispatch.road_graph:") and "no file at" in p for p in err.value.problems)
    (tmp_path / "maps").mkdir()
    write(tmp_path / "maps", river(NORTH))
    site = load_site(tmp_path / "site.toml")
    assert site.dispatch.road_graph == (tmp_path / "maps" / "city.osm").resolve()
    assert site.dispatch.road_speed_factor == 1.0


def robbery_at_north(rt: Runtime, admin: Principal) -> str:
    call = rt.dispatch.take_call(admin, NewCall("+593 99 000 0000", 0, *NORTH, "", "robbery"))
    return rt.dispatch.open_incident(admin, call.id, "robbery", *NORTH).id


def test_unit_service_ranks_by_road_when_the_site_has_a_map(
    rt: Runtime, admin: Principal, site: SiteConfig, tmp_path: Path
) -> None:
    lat0, lon0 = NORTH
    rt.units.report_position(admin, "P-102", lat0 + 5 * D, lon0)  # across the river
    rt.units.report_position(admin, "P-101", lat0, lon0 + 8 * D)  # same bank, further away
    incident = robbery_at_north(rt, admin)
    straight = rt.units.recommend(admin, incident)
    assert [r.callsign for r in straight][:2] == ["P-102", "P-101"]
    assert all("straight line" in r.reason and "by road" not in r.reason for r in straight)
    rt.dispatch.configure(with_roads(site, write(tmp_path, river(NORTH))))
    by_road = rt.units.recommend(admin, incident)
    assert [r.callsign for r in by_road][:2] == ["P-101", "P-102"]
    assert all("by road" in r.reason for r in by_road)
    rt.dispatch.configure(with_roads(site, write(tmp_path, "<html/>", "broken.osm")))
    fallback = rt.units.recommend(admin, incident)
    assert [r.callsign for r in fallback][:2] == ["P-102", "P-101"]
    unusable = "; straight line because the road graph is unusable: not an OpenStreetMap XML file (its root is <html>"
    assert all(unusable in r.reason for r in fallback)
