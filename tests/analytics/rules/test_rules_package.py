"""The rules package's shared parts: the zone test every zone rule uses, zone validation, the registry."""

import random

import pytest
from pydantic import TypeAdapter, ValidationError

from sereno.analytics import rules
from sereno.analytics.rules import Region, Zone

L_SHAPE = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.4), (0.4, 0.4), (0.4, 0.9), (0.1, 0.9)]


def _crossings(point: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    """Ray casting written the plain way, recomputing each edge: what Region must agree with."""
    x, y = point
    hit = False
    for i, (x0, y0) in enumerate(polygon):
        x1, y1 = polygon[(i + 1) % len(polygon)]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def test_a_region_knows_inside_from_outside_of_a_concave_zone() -> None:
    region = Region(L_SHAPE)
    assert region.contains((0.2, 0.2))
    assert region.contains((0.2, 0.8))  # the L's foot
    assert region.contains((0.8, 0.3))  # the L's arm
    assert not region.contains((0.7, 0.7))  # the notch
    assert not region.contains((0.95, 0.5))
    assert not region.contains((0.05, 0.05))


def test_a_region_agrees_with_plain_ray_casting_everywhere() -> None:
    chance = random.Random(4)
    zones = [L_SHAPE, [(0.5, 0.0), (1.0, 1.0), (0.0, 1.0)], [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]]
    for zone in zones:
        region = Region(zone)
        for _ in range(2000):
            point = (chance.random(), chance.random())
            assert region.contains(point) == _crossings(point, zone), (zone, point)


def test_points_level_with_a_horizontal_edge_follow_the_plain_rule() -> None:
    """A horizontal edge never meets the ray (its prepared slope is never used): a point level with the top
    edge is inside, one level with the bottom edge is outside (half-open, as plain ray casting says)."""
    corners = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
    square = Region(corners)
    assert square.contains((0.5, 0.2))
    assert not square.contains((0.5, 0.8))
    for x in (0.0, 0.1, 0.2, 0.5, 0.8, 0.9):
        for y in (0.2, 0.8):
            assert square.contains((x, y)) == _crossings((x, y), corners), (x, y)


def test_a_regions_pixels_are_those_whose_centres_it_contains() -> None:
    region = Region(L_SHAPE)
    height, width = 36, 64
    pixels = region.pixels(height, width)
    expected = [[region.contains(((c + 0.5) / width, (r + 0.5) / height)) for c in range(width)] for r in range(height)]
    assert pixels.tolist() == expected
    assert 0 < pixels.sum() < height * width


@pytest.mark.parametrize(
    ("points", "error"),
    [
        ([(0.1, 0.1), (0.9, 0.1)], "at least 3 points"),
        ([(0.1, 0.1), (1.5, 0.1), (0.5, 0.9)], "normalised"),
        ([(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)], "no area"),
    ],
)
def test_a_zone_that_is_not_an_area_of_the_picture_is_refused(points: list[tuple[float, float]], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        TypeAdapter(Zone).validate_python(points)


def test_every_rule_module_is_found_and_an_unknown_kind_is_named() -> None:
    found = rules.registry()
    assert {"intrusion", "line-crossing", "tamper", "camera-offline", "crowd-density"} <= set(found)
    with pytest.raises(ValueError, match="unknown rule 'no-such-rule'"):
        rules.create("no-such-rule", {})
