"""Simulated vehicles that drive: a unit sent somewhere follows a route in time, so whoever asks where it is
(the map, the recommender, the KPIs) sees it where a real vehicle would be, not teleported on arrival.

A route follows the roads when the site supplies a road graph, else the straight line, at the speed the
recommendation assumed for that capability (give or take, `pace`). Positions are interpolated along the
route's length; the simulation reports them through the same path as a vehicle's AVL device would.
"""

import itertools
from dataclasses import dataclass

from sereno.config.dispatch import DispatchConfig
from sereno.dispatch.recommend import haversine_m
from sereno.dispatch.roads import RoadGraph

SECOND = 1_000_000


@dataclass(frozen=True)
class Drive:
    callsign: str
    points: list[tuple[float, float]]  # (lat, lon), start to end
    cumulative_m: list[float]  # distance along the route at each point
    started_us: int
    seconds: float
    by_road: bool

    @property
    def arrival_us(self) -> int:
        return self.started_us + int(self.seconds * SECOND)

    @property
    def destination(self) -> tuple[float, float]:
        return self.points[-1]

    def position_at(self, now_us: int) -> tuple[float, float]:
        """Where the vehicle is: the point at the same fraction of the route's length as of its time."""
        if self.seconds <= 0 or now_us >= self.arrival_us:
            return self.points[-1]
        fraction = max(0.0, (now_us - self.started_us) / (self.seconds * SECOND))
        target = fraction * self.cumulative_m[-1]
        for i in range(1, len(self.points)):
            if self.cumulative_m[i] >= target:
                leg = self.cumulative_m[i] - self.cumulative_m[i - 1]
                t = (target - self.cumulative_m[i - 1]) / leg if leg > 0 else 1.0
                (lat0, lon0), (lat1, lon1) = self.points[i - 1], self.points[i]
                return lat0 + (lat1 - lat0) * t, lon0 + (lon1 - lon0) * t
        return self.points[-1]


class Fleet:
    def __init__(self, rules: DispatchConfig, roads: RoadGraph | None = None) -> None:
        self.rules = rules
        self.roads = roads
        self.drives: dict[str, Drive] = {}

    def drive(
        self,
        callsign: str,
        capability: str,
        start: tuple[float, float],
        end: tuple[float, float],
        now_us: int,
        pace: float = 1.0,
    ) -> Drive:
        """Starts (or replaces) the unit's drive; `pace` > 1 is slower than planned (traffic, a wrong turn)."""
        speed_kmh = self.rules.speed_kmh.get(capability, self.rules.speed_kmh["default"])
        route = self.roads.route(*start, *end, self.rules.road_speed_factor) if self.roads is not None else None
        if route is not None and len(route.points) >= 2:
            points, seconds, by_road = route.points, route.seconds, True
        else:
            metres = haversine_m(*start, *end) * self.rules.detour_factor
            points, seconds, by_road = [start, end], metres / (speed_kmh / 3.6), False
        cumulative = [0.0]
        for a, b in itertools.pairwise(points):
            cumulative.append(cumulative[-1] + haversine_m(*a, *b))
        drive = Drive(callsign, points, cumulative, now_us, max(1.0, seconds * pace), by_road)
        self.drives[callsign] = drive
        return drive

    def moving(self, now_us: int) -> dict[str, tuple[float, float]]:
        """Positions of the units on the road now; a finished drive is forgotten after its last report."""
        positions = {}
        for callsign, drive in list(self.drives.items()):
            positions[callsign] = drive.position_at(now_us)
            if now_us >= drive.arrival_us:
                del self.drives[callsign]
        return positions

    def stop(self, callsign: str) -> None:
        self.drives.pop(callsign, None)
