"""Intrusion over real RTSP: a figure walks in from the street, through a narrow strip and into a closed yard,
and stays. The yard raises an alert; the strip, which it crossed faster than that zone's dwell, does not;
nor does a zone it never entered."""

from collections.abc import Iterator

import pytest

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
