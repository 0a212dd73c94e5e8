"""Which units to send: for each capability an incident type needs, the nearest available units that have it,
ranked by estimated travel time, each with the reason in words. People decide; this only ranks and explains.

Travel time is straight-line distance times a detour factor at a speed per capability. Positions live in
numpy arrays so ranking 5,000 units is a few vector operations, not 5,000 Python iterations.

With a road graph (roads.py, from a map the site supplies) the ranking is by road travel time instead: one
Dijkstra from the incident, then one vectorised nearest-node lookup and array read for all candidate units.
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sereno.dispatch.roads import RoadGraph

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class UnitPosition:
    callsign: str
    agency: str
    capabilities: frozenset[str]
    lat: float
    lon: float
    available: bool


@dataclass(frozen=True)
class Recommendation:
    capability: str
    callsign: str
    agency: str
    distance_m: float
    eta_s: float
    reason: str


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class Recommender:
    def __init__(
        self,
        units: list[UnitPosition],
        speed_kmh: dict[str, float],
        detour_factor: float,
        roads: "RoadGraph | None" = None,
        road_speed_factor: float = 1.0,
    ) -> None:
        self.units = units
        self.speed_kmh = speed_kmh
        self.detour = detour_factor
        self.roads = roads
        self.road_speed_factor = road_speed_factor
        self._lat_deg = np.array([u.lat for u in units], dtype=np.float64)
        self._lon_deg = np.array([u.lon for u in units], dtype=np.float64)
        self._lat = np.radians(self._lat_deg)
        self._lon = np.radians(self._lon_deg)
        self._available = np.array([u.available for u in units], dtype=bool)
        self._by_capability: dict[str, np.ndarray] = {}
        for capability in {c for u in units for c in u.capabilities}:
            self._by_capability[capability] = np.array([capability in u.capabilities for u in units], dtype=bool)

    def recommend(
        self, lat: float, lon: float, capabilities: list[str], per_capability: int = 3
    ) -> list[Recommendation]:
        if not self.units:
            return []
        distances = self._distances(lat, lon)
        etas = self._road_etas(self.roads, lat, lon, capabilities) if self.roads is not None else None
        found: list[Recommendation] = []
        for capability in capabilities:
            mask = self._by_capability.get(capability)
            if mask is None:
                continue
            candidates = np.flatnonzero(mask & self._available)
            if candidates.size == 0:
                continue
            if etas is not None:
                found += self._by_road(etas, capability, candidates, distances, per_capability)
                continue
            order = candidates[np.argsort(distances[candidates], kind="stable")[:per_capability]]
            speed = self.speed_kmh.get(capability, self.speed_kmh["default"])
            for index in order:
                unit = self.units[int(index)]
                meters = float(distances[index])
                eta = meters * self.detour / (speed / 3.6)
                reason = (
                    f"{unit.callsign} ({unit.agency}) has {capability}, is available, {meters / 1000:.1f} km away in a "
                    f"straight line; x{self.detour:g} for roads at {speed:g} km/h is about {eta / 60:.0f} min"
                )
                found.append(
                    Recommendation(capability, unit.callsign, unit.agency, round(meters, 1), round(eta, 1), reason)
                )
        return found

    def _road_etas(self, roads: "RoadGraph", lat: float, lon: float, capabilities: list[str]) -> np.ndarray:
        """Road seconds to the incident for every available unit with a needed capability (inf for the rest
        and for units no road connects): one Dijkstra, then one batch of nearest-node lookups."""
        wanted = np.zeros(len(self.units), dtype=bool)
        for capability in capabilities:
            wanted |= self._by_capability.get(capability, wanted)
        wanted &= self._available
        etas = np.full(len(self.units), np.inf)
        if wanted.any():
            times = roads.travel_times_to(lat, lon)
            etas[wanted] = times.seconds_from(self._lat_deg[wanted], self._lon_deg[wanted], self.road_speed_factor)
        return etas

    def _by_road(
        self, etas: np.ndarray, capability: str, candidates: np.ndarray, distances: np.ndarray, k: int
    ) -> list[Recommendation]:
        """The k fastest by road, ties by straight line. Units no road connects to the incident (off the map,
        or behind a one-way dead end) come after every unit with a route, in straight-line order: their
        straight-line estimate is optimistic and not comparable with road times, yet the map may be wrong,
        so they are still shown rather than dropped."""
        routed = candidates[np.isfinite(etas[candidates])]
        routed = routed[np.lexsort((distances[routed], etas[routed]))][: max(k, 0)]
        stranded = candidates[~np.isfinite(etas[candidates])]
        stranded = stranded[np.argsort(distances[stranded], kind="stable")][: max(k - routed.size, 0)]
        speed = self.speed_kmh.get(capability, self.speed_kmh["default"])
        factor = f" x{self.road_speed_factor:g}" if self.road_speed_factor != 1.0 else ""
        found: list[Recommendation] = []
        for index in routed:
            unit, meters, eta = self.units[int(index)], float(distances[index]), float(etas[index])
            reason = (
                f"{unit.callsign} ({unit.agency}) has {capability}, is available, about {eta / 60:.0f} min by road "
                f"at the speed limits{factor} ({meters / 1000:.1f} km away in a straight line)"
            )
            found.append(
                Recommendation(capability, unit.callsign, unit.agency, round(meters, 1), round(eta, 1), reason)
            )
        for index in stranded:
            unit, meters = self.units[int(index)], float(distances[index])
            eta = meters * self.detour / (speed / 3.6)
            reason = (
                f"{unit.callsign} ({unit.agency}) has {capability}, is available, {meters / 1000:.1f} km away in a "
                f"straight line, but no road on the map leads from it to the incident, so it comes after the units "
                f"with a road route; x{self.detour:g} at {speed:g} km/h is about {eta / 60:.0f} min"
            )
            found.append(
                Recommendation(capability, unit.callsign, unit.agency, round(meters, 1), round(eta, 1), reason)
            )
        return found

    def _distances(self, lat: float, lon: float) -> np.ndarray:
        p = math.radians(lat)
        dp = self._lat - p
        dl = self._lon - math.radians(lon)
        a = np.sin(dp / 2) ** 2 + math.cos(p) * np.cos(self._lat) * np.sin(dl / 2) ** 2
        result: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
        return result
