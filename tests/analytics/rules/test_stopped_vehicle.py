"""Stopped vehicle: scenes built directly with synthetic times (one frame a second), once through the
pipeline with a detector that keeps reporting a parked car, to show the schedule gate, and over real RTSP with
the motion-only detector: a car that breaks down on the carriageway alerts; one that pulls onto the shoulder
and traffic that keeps moving do not. (Motion keeps seeing a car that stopped for the minutes the background
takes to learn it, long enough for a short `stopped_s`.)"""

from collections.abc import Iterator

import numpy as np
import pytest
from pydantic import ValidationError

from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.rules import RuleHit
from sereno.analytics.rules.stopped_vehicle import Config, StoppedVehicle, create
from sereno.analytics.scene import Box, Detection, Luma, Motion, Scene, Track
from sereno.app import Runtime
from sereno.config.analytics import CameraAnalyticsConfig
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import LEAD_IN_S, Mover, Script, plain, serve
from tests.analytics.live import LiveAnalytics, Watched

ROAD = [(0.0, 0.4), (1.0, 0.4), (1.0, 0.9), (0.0, 0.9)]  # the carriageway, across the lower half
STILL = Motion([], 0.0, 100.0, 10.0, 0.0)


def car(tid: int, x: float, y: float = 0.7, label: str = "car") -> Track:
    """A vehicle whose feet (bottom centre of its box) are at (x, y)."""
    return Track(tid, label, Box(x - 0.04, y - 0.05, x + 0.04, y), 0, 0)


def scene(at_s: float, *tracks: Track) -> Scene:
    return Scene("cam-1", "north", int(at_s * 1e6), 320, 180, STILL, [], list(tracks), None)


def rule(**settings: object) -> StoppedVehicle:
    return create(Config.model_validate({"zone": ROAD, **settings}))


def feed(stopped: StoppedVehicle, frames: list[Scene]) -> list[RuleHit]:
    return [hit for frame in frames for hit in stopped.evaluate(frame)]


def test_a_car_stopped_59_s_is_not_raised_and_61_s_is_raised_once() -> None:
    stopped = rule(name="Tunnel")
    assert feed(stopped, [scene(t, car(7, 0.5)) for t in range(60)]) == []  # 0..59 s at rest
    hits = feed(stopped, [scene(t, car(7, 0.5)) for t in range(60, 180)])
    assert len(hits) == 1  # one alert per stop, not one per frame
    hit = hits[0]
    assert hit.title == "Tunnel: car stopped for 61 s"
    assert hit.details == {"track": 7, "label": "car", "stopped_s": 61.0}
    assert hit.dedup_key == "cam-1:stopped-vehicle:Tunnel:7" and hit.severity == "warning"
    assert hit.where == pytest.approx((0.5, 0.7))


def test_box_jitter_within_the_radius_is_still_stopped() -> None:
    rng = np.random.default_rng(3)
    frames = [scene(t, car(1, 0.5 + rng.uniform(-0.008, 0.008), 0.7 + rng.uniform(-0.008, 0.008))) for t in range(70)]
    assert len(feed(rule(), frames)) == 1


def test_traffic_that_keeps_moving_is_never_a_stopped_vehicle() -> None:
    crawling = [scene(t, car(1, 0.05 + 0.003 * t)) for t in range(300)]  # 0.3 % of the width a second
    assert feed(rule(), crawling) == []
    stop_and_go, x = [], 0.05  # a queue: 20 s at rest, then a car length forward, for ten minutes
    for t in range(600):
        x += 0.05 if t % 20 == 19 else 0.0
        stop_and_go.append(scene(t, car(2, x % 1.0)))
    assert feed(rule(), stop_and_go) == []


def test_only_vehicles_on_the_carriageway_count() -> None:
    shoulder = [scene(t, car(1, 0.5, y=0.95)) for t in range(120)]  # feet below the carriageway
    assert feed(rule(), shoulder) == []
    person = [scene(t, car(2, 0.5, label="person")) for t in range(120)]
    assert feed(rule(), person) == []
    bus = [scene(t, car(3, 0.5, label="bus")) for t in range(120)]
    assert len(feed(rule(labels=["bus"]), bus)) == 1


def test_two_stopped_cars_are_two_alerts() -> None:
    hits = feed(rule(stopped_s=30), [scene(t, car(1, 0.2), car(2, 0.8)) for t in range(40)])
    assert sorted(h.dedup_key for h in hits) == ["cam-1:stopped-vehicle::1", "cam-1:stopped-vehicle::2"]


def test_missed_frames_keep_the_clock_and_a_vanished_track_is_forgotten() -> None:
    flicker = [scene(t, car(1, 0.5)) if t % 3 else scene(t) for t in range(64)]  # misses every third
    assert len(feed(rule(), flicker)) == 1
    stopped = rule(forget_s=5)
    assert feed(stopped, [scene(t, car(4, 0.5)) for t in range(40)]) == []
    assert feed(stopped, [scene(t) for t in range(40, 70)]) == []  # gone for 30 s
    assert stopped._rest == {}  # nothing kept for a track that left
    assert feed(stopped, [scene(t, car(4, 0.5)) for t in range(70, 125)]) == []  # clock restarted at 70 s
    assert len(feed(stopped, [scene(t, car(4, 0.5)) for t in range(125, 135)])) == 1


def test_moving_off_and_stopping_again_is_a_new_stop_under_the_same_key() -> None:
    stopped = rule(stopped_s=10)
    first = feed(stopped, [scene(t, car(5, 0.3)) for t in range(15)])
    moved = feed(stopped, [scene(t, car(5, 0.3 + 0.05 * (t - 14))) for t in range(15, 20)])
    second = feed(stopped, [scene(t, car(5, 0.55)) for t in range(20, 35)])
    assert len(first) == 1 and moved == [] and len(second) == 1
    assert first[0].dedup_key == second[0].dedup_key  # the alert service folds it within the cooldown


class ParkedCar:
    """A detector that reports the same car in every frame, even in a still picture."""

    name = "parked"
    needs_every_frame = True

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        return [Detection(Box(0.46, 0.65, 0.54, 0.7), "car", 0.9)]


def test_the_schedule_limits_when_the_rule_speaks() -> None:
    rules = [{"kind": "stopped-vehicle", "zone": ROAD, "stopped_s": 30, "schedule": ["22:00-06:00"]}]
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "rules": rules})
    frame = np.full((180, 320), 90, np.uint8)

    def titles(start_s: int) -> list[str]:
        pipeline = CameraAnalytics("cam-1", "north", "UTC", config, detector=ParkedCar())
        return [h.title for t in range(40) for h in pipeline.process(frame, int((start_s + t) * 1e6))[1]]

    assert titles(12 * 3600) == []  # noon: outside the schedule
    assert titles(23 * 3600) == ["Stopped vehicle: car stopped for 31 s"]


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"zone": []}, "at least 3"),
        ({"zone": [(0, 0), (1, 1)]}, "at least 3"),
        ({"zone": [(0, 0), (0.5, 0.5), (1, 1)]}, "no area"),
        ({"zone": [(0, 0), (1.5, 0), (1, 1)]}, "normalised"),
        ({"zone": ROAD, "stopped_s": -1}, "greater than 0"),
        ({"zone": ROAD, "radius": 0}, "greater than 0"),
        ({"zone": ROAD, "labels": []}, "at least 1"),
        ({"zone": ROAD, "speed": 3}, "Extra inputs"),
    ],
)
def test_bad_configs_are_refused(settings: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Config.model_validate(settings)


CARRIAGEWAY = [[0.0, 0.55], [1.0, 0.55], [1.0, 1.0], [0.0, 1.0]]
CAR = (0.22, 0.12)
BREAKDOWN = Mover(CAR, ((LEAD_IN_S, -0.1, 0.85), (LEAD_IN_S + 1.2, 0.4, 0.85), (LEAD_IN_S + 1.5, 0.45, 0.85)), 230)
PULLED_OVER = Mover(CAR, ((LEAD_IN_S, 1.1, 0.45), (LEAD_IN_S + 1.5, 0.75, 0.45)), 200)  # feet above the carriageway
TRAFFIC = tuple(  # a car every 1.5 s at 0.4 picture widths a second, never stopping
    Mover(CAR, ((start, -0.15, 0.85), (start + 3.25, 1.15, 0.85)), 230, until_s=start + 3.25)
    for start in (LEAD_IN_S + 1.5 * i for i in range(6))
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    scripts = {"breakdown": Script(12.0, plain(), (BREAKDOWN, PULLED_OVER)), "traffic": Script(12.0, plain(), TRAFFIC)}
    with serve(tmp_path_factory.mktemp("stopped-vehicle"), scripts) as server:
        yield server


def test_over_rtsp_a_car_stopped_on_the_carriageway_alerts_and_one_on_the_shoulder_or_moving_traffic_does_not(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    rules = [{"kind": "stopped-vehicle", "name": "Carriageway", "zone": CARRIAGEWAY, "stopped_s": 1.0}]
    watched = [Watched(f"cam-{name}", sim.clip_url(name), rules) for name in ("breakdown", "traffic")]
    with LiveAnalytics(live_rt, site, watched) as live:
        live.wait_for("the breakdown", lambda: bool(live.alerts("cam-breakdown", "stopped-vehicle")))
        # Traffic has been driving through the carriageway for longer than stopped_s by now.
    breakdown = live.alerts("cam-breakdown")
    assert len(breakdown) == 1 and breakdown[0].rule == "stopped-vehicle"  # the pulled-over car is not news
    assert breakdown[0].title.startswith("Carriageway: moving stopped for ")
    assert breakdown[0].details["stopped_s"] >= 1.0
    assert breakdown[0].details["where"] == pytest.approx([0.45, 0.87], abs=0.04)
    assert live.alerts("cam-traffic") == []
    assert live.pipeline("cam-traffic").stats.detections > 0  # the traffic was seen, and moved on
