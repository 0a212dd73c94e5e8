"""Intrusion over real RTSP: a figure walks in from the street, through a narrow strip and into a closed yard,
and stays. The yard raises an alert; the strip, which it crossed faster than that zone's dwell, does not;
nor does a zone it never entered. Several objects in a zone at once are one hit a frame, for the one longest
inside."""

from collections.abc import Iterator

import pytest

from sereno.analytics.rules import intrusion
from sereno.analytics.scene import Box, Detection, Motion, Scene
from sereno.analytics.tracking import Tracker
from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import LEAD_IN_S, Mover, Script, plain, serve
from tests.analytics.live import LiveAnalytics, Watched

CAMERA = "cam-yard"
YARD = [[0.6, 0.5], [1.0, 0.5], [1.0, 1.0], [0.6, 1.0]]
STRIP = [[0.25, 0.5], [0.37, 0.5], [0.37, 1.0], [0.25, 1.0]]  # crossed in under half a second
RAILS = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.3], [0.0, 0.3]]  # nobody goes there
WALKER = Mover(
    (0.05, 0.25),
    ((LEAD_IN_S, -0.03, 0.8), (LEAD_IN_S + 2, 0.75, 0.8), (LEAD_IN_S + 4, 0.9, 0.8), (LEAD_IN_S + 8, 0.7, 0.8)),
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    with serve(tmp_path_factory.mktemp("intrusion"), {"yard": Script(14.0, plain(), (WALKER,))}) as server:
        yield server


def test_walking_into_the_yard_alerts_and_passing_through_a_strip_or_nowhere_near_does_not(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    rules = [
        {"kind": "intrusion", "name": "Yard", "zone": YARD, "dwell_s": 0.4, "severity": "critical"},
        {"kind": "intrusion", "name": "Strip", "zone": STRIP, "dwell_s": 3.0},
        {"kind": "intrusion", "name": "Rails", "zone": RAILS, "dwell_s": 0.4},
    ]
    with LiveAnalytics(live_rt, site, [Watched(CAMERA, sim.clip_url("yard"), rules)]) as live:
        live.wait_for("the yard's intrusion", lambda: bool(live.alerts(CAMERA, "intrusion")))
    # The walker crossed the strip before it reached the yard: that passage has been analysed by now.
    alerts = live.alerts(CAMERA)
    assert [(a.rule, a.title) for a in alerts] == [("intrusion", "Yard: moving in the zone")]
    yard = alerts[0]
    assert yard.severity == "critical" and yard.centre == "north"
    assert yard.details["label"] == "moving" and yard.details["inside_s"] >= 0.4
    assert yard.details["where"][0] >= 0.6  # the feet, inside the yard
    assert live.pipeline(CAMERA).stats.rule_errors == 0


def test_several_objects_in_the_zone_are_one_hit_for_the_one_longest_inside() -> None:
    rule = intrusion.create(intrusion.Config.model_validate({"name": "Yard", "zone": YARD, "dwell_s": 0.4}))
    tracker = Tracker()
    motion = Motion([], 0.0, 100.0, 50.0, 0.0)

    def frame(at_s: float, feet: list[tuple[float, float]]) -> list[str]:
        found = [Detection(Box(x - 0.02, y - 0.2, x + 0.02, y), "person", 1.0) for x, y in feet]
        at_us = int(at_s * 1e6)
        tracks = tracker.update(found, at_us)
        scene = Scene(CAMERA, "north", at_us, 640, 360, motion, found, tracks)
        return [f"{h.title} ({h.details['inside_s']} s)" for h in rule.evaluate(scene)]

    assert frame(0.0, [(0.8, 0.8)]) == []  # the first one steps in
    assert frame(0.2, [(0.8, 0.8)]) == []
    assert frame(0.4, [(0.8, 0.8), (0.2, 0.8)]) == ["Yard: person in the zone (0.4 s)"]  # the other is outside
    assert frame(0.6, [(0.8, 0.8), (0.65, 0.8)]) == ["Yard: person in the zone (0.6 s)"]  # two inside: one hit
    assert frame(0.8, [(0.65, 0.8)]) == []  # the first has left; the second is inside only 0.2 s
