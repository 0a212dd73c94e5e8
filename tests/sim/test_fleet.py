"""Simulated vehicles drive their route in time: halfway through the trip they are halfway along it."""

from pathlib import Path

import pytest

from sereno.config.dispatch import DispatchConfig
from sereno.dispatch.recommend import haversine_m
from sereno.dispatch.roads import RoadGraph
from sereno.sim.fleet import Fleet

SECOND = 1_000_000
L_SHAPED = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="0.0" lon="0.0"/>
  <node id="2" lat="0.0" lon="0.01"/>
  <node id="3" lat="0.01" lon="0.01"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="maxspeed" v="40"/></way>
</osm>
"""


def test_a_straight_line_drive_at_the_planned_speed() -> None:
    rules = DispatchConfig(speed_kmh={"default": 36.0}, detour_factor=1.0)
    fleet = Fleet(rules)
    start, end = (0.0, 0.0), (0.0, 0.01)
    drive = fleet.drive("P-1", "patrol", start, end, now_us=0)
    metres = haversine_m(*start, *end)
    assert not drive.by_road and drive.seconds == pytest.approx(metres / 10.0)
    half = drive.position_at(int(drive.seconds / 2 * SECOND))
    assert half == pytest.approx((0.0, 0.005))
    assert fleet.moving(int(drive.seconds / 2 * SECOND)) == {"P-1": half}
    assert fleet.moving(drive.arrival_us) == {"P-1": end}  # the last report is the destination...
    assert fleet.moving(drive.arrival_us + SECOND) == {}  # ...then it is parked


def test_a_road_drive_turns_the_corner(tmp_path: Path) -> None:
    path = tmp_path / "l.osm"
    path.write_text(L_SHAPED)
    fleet = Fleet(DispatchConfig(), RoadGraph.load(path))
    drive = fleet.drive("E-1", "engine", (0.0, 0.0), (0.01, 0.01), now_us=0, pace=1.0)
    assert drive.by_road and drive.points[0] == (0.0, 0.0) and drive.points[-1] == (0.01, 0.01)
    assert drive.seconds == pytest.approx(2 * haversine_m(0, 0, 0, 0.01) / (40 / 3.6), rel=0.01)
    lat, lon = drive.position_at(int(drive.seconds * 0.25 * SECOND))  # along the first street, not the diagonal
    assert lat == pytest.approx(0.0, abs=1e-9) and lon == pytest.approx(0.005, rel=0.01)
    lat, lon = drive.position_at(int(drive.seconds * 0.75 * SECOND))
    assert lon == pytest.approx(0.01, abs=1e-9) and lat == pytest.approx(0.005, rel=0.01)
