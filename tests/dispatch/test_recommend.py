"""Recommendation ranks available units with the capability by travel time, and explains each choice."""

import random

from sereno.dispatch.recommend import Recommender, UnitPosition, haversine_m


def unit(callsign: str, lat: float, lon: float, *caps: str, available: bool = True) -> UnitPosition:
    return UnitPosition(callsign, "fire", frozenset(caps), lat, lon, available)


def test_nearest_available_with_the_capability_first() -> None:
    units = [
        unit("far-engine", 0.05, 0.0, "engine"),
        unit("near-engine-busy", 0.001, 0.0, "engine", available=False),
        unit("near-ladder", 0.002, 0.0, "ladder"),
        unit("mid-engine", 0.01, 0.0, "engine", "ladder"),
    ]
    found = Recommender(units, {"default": 36.0}, 1.0).recommend(0.0, 0.0, ["engine", "ladder"], per_capability=2)
    assert [(r.capability, r.callsign) for r in found] == [
        ("engine", "mid-engine"),
        ("engine", "far-engine"),
        ("ladder", "near-ladder"),
        ("ladder", "mid-engine"),
    ]
    mid = found[0]
    assert abs(mid.distance_m - haversine_m(0.0, 0.0, 0.01, 0.0)) < 1
    assert abs(mid.eta_s - mid.distance_m / 10.0) < 0.1  # 36 km/h = 10 m/s, detour 1.0
    assert "mid-engine" in mid.reason and "available" in mid.reason and "km" in mid.reason


def test_speed_per_capability_changes_the_order_across_capabilities_not_within() -> None:
    units = [unit("amb", 0.02, 0.0, "als-ambulance"), unit("amb-2", 0.01, 0.0, "als-ambulance")]
    found = Recommender(units, {"default": 30.0, "als-ambulance": 60.0}, 1.3).recommend(0.0, 0.0, ["als-ambulance"])
    assert [r.callsign for r in found] == ["amb-2", "amb"]
    assert abs(found[0].eta_s - found[0].distance_m * 1.3 / (60 / 3.6)) < 0.1


def test_nothing_to_recommend_is_an_empty_answer() -> None:
    assert Recommender([], {"default": 30.0}, 1.3).recommend(0.0, 0.0, ["engine"]) == []
    busy = [unit("e", 0.0, 0.0, "engine", available=False)]
    assert Recommender(busy, {"default": 30.0}, 1.3).recommend(0.0, 0.0, ["engine", "unknown-capability"]) == []


def test_five_thousand_units_are_ranked_exactly() -> None:
    rng = random.Random(5)
    units = [
        unit(f"u{i}", rng.uniform(-1, 1), rng.uniform(-1, 1), rng.choice(["engine", "patrol"])) for i in range(5000)
    ]
    found = Recommender(units, {"default": 40.0}, 1.3).recommend(0.1, 0.1, ["patrol"], per_capability=5)
    expected = sorted((haversine_m(0.1, 0.1, u.lat, u.lon), u.callsign) for u in units if "patrol" in u.capabilities)[
        :5
    ]
    assert [r.callsign for r in found] == [callsign for _, callsign in expected]
