"""Line crossing over real RTSP, counted by direction. The line runs down the middle of the picture from top
to bottom, so "forward" (from its left to its right, looking along it) is walking from right to left.

One camera sees a figure cross forward and another cross backward: the exit-only rule (any forward crossing)
alerts, the surge rule (more than one backward crossing a minute) does not. The other camera sees two figures
cross backward: the surge rule alerts and the exit-only rule, which saw no forward crossing, does not."""

from collections.abc import Iterator

import pytest

from sereno.analytics.rules.line_crossing import LineCrossing
from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import LEAD_IN_S, Mover, Script, plain, serve
from tests.analytics.live import LiveAnalytics, Watched

LINE = [[0.5, 0.1], [0.5, 0.95]]
NEAR, FAR = 0.9, 0.45  # the two walkways' feet lines: figures on different rows never overlap


def crossing(name: str, direction: str, over_per_minute: int) -> dict[str, object]:
    watch = {"alert_direction": direction, "alert_over_per_minute": over_per_minute}
    return {"kind": "line-crossing", "name": name, "line": LINE, **watch}


RULES = [crossing("Exit only", "forward", 0), crossing("Surge", "backward", 1)]


def walker(row: float, start_s: float, rightwards: bool) -> Mover:
    """Crosses the picture in 2.5 s, then stands at the far side."""
    x0, x1 = (-0.03, 0.9) if rightwards else (1.03, 0.1)
    return Mover((0.05, 0.2), ((start_s, x0, row), (start_s + 2.5, x1, row)))


SCRIPTS = {
    "one-each-way": Script(12.0, plain(), (walker(NEAR, LEAD_IN_S, False), walker(FAR, LEAD_IN_S + 0.5, True))),
    "two-backward": Script(12.0, plain(), (walker(NEAR, LEAD_IN_S, True), walker(FAR, LEAD_IN_S + 0.5, True))),
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    with serve(tmp_path_factory.mktemp("line-crossing"), SCRIPTS) as server:
        yield server


def test_each_direction_is_counted_and_only_the_watched_one_over_its_limit_alerts(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    watched = [
        Watched("cam-mixed", sim.clip_url("one-each-way"), RULES),
        Watched("cam-in", sim.clip_url("two-backward"), RULES),
    ]

    def counts(camera: str, name: str) -> dict[str, int]:
        rule = live.rule(camera, name)
        assert isinstance(rule, LineCrossing)
        return dict(rule.counts)

    with LiveAnalytics(live_rt, site, watched) as live:
        live.wait_for(
            "both cameras' crossings and alerts",
            lambda: (
                counts("cam-mixed", "Surge")["backward"] >= 1
                and counts("cam-in", "Exit only")["backward"] >= 2
                and bool(live.alerts("cam-mixed", "line-crossing"))
                and bool(live.alerts("cam-in", "line-crossing"))
            ),
        )
    for name in ("Exit only", "Surge"):  # every rule counts both directions, whatever it watches
        assert counts("cam-mixed", name) == {"forward": 1, "backward": 1}
        assert counts("cam-in", name) == {"forward": 0, "backward": 2}
    mixed = live.alerts("cam-mixed")
    assert [a.title for a in mixed] == ["Exit only: 1 crossing forward in a minute"]
    assert mixed[0].details["per_minute"] == 1
    inbound = live.alerts("cam-in")
    assert [a.title for a in inbound] == ["Surge: 2 crossing backward in a minute"]
    assert inbound[0].details["counts"] == {"forward": 0, "backward": 2}
