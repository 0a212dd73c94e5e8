"""Which units to send: for each capability an incident type needs, the nearest available units that have it,
ranked by estimated travel time, each with the reason in words. People decide; this only ranks and explains.

Travel time is straight-line distance times a detour factor at a speed per capability. Positions live in
numpy arrays so ranking 5,000 units is a few vector operations, not 5,000 Python iterations.
"""

import math
from dataclasses import dataclass

import numpy as np

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
    def __init__(self, units: list[UnitPosition], speed_kmh: dict[str, float], detour_factor: float) -> None:
        self.units = units
        self.speed_kmh = speed_kmh
        self.detour = detour_factor
        self._lat = np.radians(np.array([u.lat for u in units], dtype=np.float64))
        self._lon = np.radians(np.array([u.lon for u in units], dtype=np.float64))
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
        found: list[Recommendation] = []
        for capability in capabilities:
            mask = self._by_capability.get(capability)
            if mask is None:
                continue
            candidates = np.flatnonzero(mask & self._available)
            if candidates.size == 0:
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

    def _distances(self, lat: float, lon: float) -> np.ndarray:
        p = math.radians(lat)
        dp = self._lat - p
        dl = self._lon - math.radians(lon)
        a = np.sin(dp / 2) ** 2 + math.cos(p) * np.cos(self._lat) * np.sin(dl / 2) ** 2
        result: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
        return result
