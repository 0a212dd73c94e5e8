"""Thermal hotspot: synthetic radiometric pictures (luma = °C through the mapping (0, 255)) and a thermal
detector's hotspot detections, one frame a second, with what must and must not be raised; and over real RTSP
through the thermal detector: a fire breaking out and taking hold in a cool bunker alerts, then alerts again as
rising; a chimney hot from the start beside a sun-warmed wall is the scene's normal and raises nothing.

The RTSP pictures are white-hot grey (luma linear in °C), which is what the detector reads: a pseudo-colour
palette carries temperature in hue, and the detector's documentation has it converted upstream."""

from collections.abc import Iterator

import numpy as np
import pytest
from pydantic import ValidationError

from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.rules import RuleHit
from sereno.analytics.rules.thermal_hotspot import Config, ThermalHotspot, create
from sereno.analytics.scene import Box, Detection, Luma, Motion, Scene
from sereno.app import Runtime
from sereno.config.analytics import CameraAnalyticsConfig
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import HEIGHT, LEAD_IN_S, WIDTH, Script, serve
from tests.analytics.live import LiveAnalytics, Watched

H, W = 90, 160
STILL = Motion([], 0.0, 100.0, 10.0, 0.0)


def picture(base: int = 30, hot: int | None = None, at: tuple[int, int] = (40, 100), size: int = 8) -> Luma:
    """A scene at `base` °C (+0..2 of sensor noise) and, when `hot` is given, a size x size spot at that °C."""
    rng = np.random.default_rng(base * 1000 + (hot or 0))
    frame: Luma = (base + rng.integers(0, 3, (H, W))).astype(np.uint8)
    if hot is not None:
        frame[at[0] : at[0] + size, at[1] : at[1] + size] = hot
    return frame


def scene(at_s: float, luma: Luma | None = None, detections: list[Detection] | None = None) -> Scene:
    return Scene("cam-1", "north", int(at_s * 1e6), W, H, STILL, detections or [], [], luma)


def rule(**settings: object) -> ThermalHotspot:
    return create(Config.model_validate({"luma_c": (0, 255), **settings}))


def run(hotspot: ThermalHotspot, start_s: int, pictures: list[Luma]) -> list[RuleHit]:
    return [hit for i, luma in enumerate(pictures) for hit in hotspot.evaluate(scene(start_s + i, luma))]


def test_a_hotspot_over_the_background_and_the_threshold_is_raised() -> None:
    hotspot = rule(name="Waste bunker")
    assert run(hotspot, 0, [picture() for _ in range(61)]) == []  # learning a 30 °C scene
    hits = run(hotspot, 61, [picture(hot=90) for _ in range(10)])
    assert len(hits) == 10
    hit = hits[0]
    assert hit.title == "Waste bunker: 90 °C (58 °C over background)"
    assert hit.severity == "warning" and hit.dedup_key == "cam-1:thermal-hotspot:Waste bunker"
    assert hit.details == {
        "peak_c": 90.0,
        "background_c": 32.0,
        "over_background_c": 58.0,
        "trend_c_per_min": None,  # a step, not yet a trend
        "rising": False,
        "source": "luma",
    }
    assert hit.where == pytest.approx((104 / W, 44 / H))


def test_a_hotspot_below_the_delta_or_the_threshold_is_not_raised() -> None:
    roof = rule()
    run(roof, 0, [picture(base=55) for _ in range(61)])  # a sunny roof: 55-57 °C everywhere
    assert run(roof, 61, [picture(base=55, hot=70) for _ in range(30)]) == []  # hot, but only 13 °C over
    assert run(roof, 91, [picture(base=55, hot=80) for _ in range(5)])  # 23 °C over: raised
    night = rule()
    run(night, 0, [picture(base=5) for _ in range(61)])
    assert run(night, 61, [picture(base=5, hot=45) for _ in range(30)]) == []  # 38 °C over, but only 45 °C


def test_single_hot_pixels_are_noise() -> None:
    hotspot = rule()
    run(hotspot, 0, [picture() for _ in range(61)])
    assert run(hotspot, 61, [picture(hot=200, size=1) for _ in range(10)]) == []  # 1 pixel < min_pixels
    assert run(hotspot, 71, [picture(hot=200, size=2) for _ in range(10)])  # 4 pixels: a real (small) spot


def test_nothing_is_raised_before_the_background_is_learned() -> None:
    hotspot = rule(learn_s=60)
    assert run(hotspot, 0, [picture() for _ in range(31)] + [picture(hot=90) for _ in range(30)]) == []
    assert run(hotspot, 61, [picture(hot=90)])  # the median of the learned minute is still the cool scene


def test_a_rising_fire_is_its_own_severity_and_the_background_stays_frozen() -> None:
    hotspot = rule(name="Tunnel")
    run(hotspot, 0, [picture() for _ in range(61)])
    ramp = [picture(hot=30 + t // 5) for t in range(300)]  # +1 °C every 5 s: 12 °C a minute, to 89 °C
    hits = run(hotspot, 61, ramp)
    assert hits[0].severity == "warning" and hits[0].details["peak_c"] == 60.0  # the threshold, before a trend
    rising = [h for h in hits if h.details["rising"]]
    assert rising and rising[-1].severity == "critical"
    assert rising[-1].details["trend_c_per_min"] == pytest.approx(12.0, abs=0.5)
    assert "rising 12." in rising[-1].title and rising[-1].dedup_key == "cam-1:thermal-hotspot:Tunnel:rising"
    steady = run(hotspot, 361, [picture(hot=89) for _ in range(400)])  # holds at 89 °C for almost 7 minutes
    last = steady[-1]
    assert len(steady) == 400 and last.severity == "warning" and not last.details["rising"]
    # The ramp below 60 °C was learned (it was not hot yet); nothing since has been, in seven hot minutes.
    assert last.details["background_c"] == hits[0].details["background_c"] < 40
    assert abs(last.details["trend_c_per_min"]) < 1


def hot_spot(x: float, celsius: float) -> list[Detection]:
    return [Detection(Box(x - 0.02, 0.48, x + 0.02, 0.52), "hotspot", 0.9, celsius)]


def test_a_slow_smoulder_cannot_drag_the_background_up_but_a_chimney_hot_from_the_start_is_normal() -> None:
    smoulder = create(Config())
    readings = [(t, 30 + max(0, t - 120) / 60) for t in range(0, 3600, 5)]  # +1 °C a minute after two minutes
    first = next(t for t, c in readings if smoulder.evaluate(scene(t, detections=hot_spot(0.5, c))))
    assert 60 + 15 < 30 + (first - 120) / 60 < 60 + 20  # learning stopped at 60 °C, a few °C behind
    chimney = create(Config())
    assert [h for t in range(0, 600, 5) for h in chimney.evaluate(scene(t, detections=hot_spot(0.2, 80)))] == []
    fire = chimney.evaluate(scene(600, detections=hot_spot(0.2, 80) + hot_spot(0.7, 105)))
    assert [h.details["over_background_c"] for h in fire] == [25.0]


def test_a_thermal_detectors_hotspots_are_used_and_the_zone_respected() -> None:
    zone = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]  # the left half
    hotspot = create(Config.model_validate({"zone": zone}))  # no luma mapping: the detector's figures only

    assert [h for t in range(61) for h in hotspot.evaluate(scene(t))] == []  # nothing hot for a minute
    assert hotspot.evaluate(scene(61, detections=hot_spot(0.25, 50))) == []  # below the threshold
    assert hotspot.evaluate(scene(62, detections=hot_spot(0.75, 95))) == []  # outside the zone
    hits = hotspot.evaluate(scene(63, detections=hot_spot(0.25, 70) + hot_spot(0.3, 65) + hot_spot(0.8, 120)))
    assert [h.title for h in hits] == ["Thermal hotspot: 70 °C (nothing hot usually)"]
    assert hits[0].details["source"] == "detector" and hits[0].details["background_c"] is None
    assert hits[0].where == pytest.approx((0.25, 0.5))


def test_a_spot_outside_the_zone_of_the_picture_is_ignored() -> None:
    hotspot = rule(zone=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
    run(hotspot, 0, [picture() for _ in range(61)])
    assert run(hotspot, 61, [picture(hot=150, at=(40, 120)) for _ in range(10)]) == []  # right half
    assert run(hotspot, 71, [picture(hot=150, at=(40, 20)) for _ in range(3)])


def test_the_schedule_limits_when_the_rule_speaks() -> None:
    rule = {"kind": "thermal-hotspot", "luma_c": [0, 255], "learn_s": 10, "background_s": 30}
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "rules": [{**rule, "schedule": ["22:00-06:00"]}]})
    frames = [picture() for _ in range(15)] + [picture(hot=120) for _ in range(5)]

    def titles(start_s: int) -> list[str]:
        pipeline = CameraAnalytics("cam-1", "north", "UTC", config)
        return [h.title for i, f in enumerate(frames) for h in pipeline.process(f, (start_s + i) * 1_000_000)[1]]

    assert titles(12 * 3600) == []
    assert titles(23 * 3600) == ["Thermal hotspot: 120 °C (88 °C over background)"] * 5


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"zone": []}, "at least 3"),
        ({"zone": [(0, 0), (1, 1)]}, "at least 3"),
        ({"zone": [(0, 0), (0, 1), (0, 0.5)]}, "no area"),
        ({"delta_c": -5}, "greater than 0"),
        ({"luma_c": (20, 20)}, "two different"),
        ({"learn_s": 600, "background_s": 300}, "learn_s"),
        ({"min_pixels": 0}, "greater than or equal to 1"),
        ({"emissivity": 0.9}, "Extra inputs"),
    ],
)
def test_bad_configs_are_refused(settings: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Config.model_validate(settings)


def test_silence_says_nothing() -> None:
    assert rule().silence("cam-1", 10_000_000, 0) == []


SPAN_C = (-20.0, 150.0)  # the radiometric span: °C at luma 0 and at luma 255
FIRE_AT_S = LEAD_IN_S + 1.5  # the background (nothing hot) has been learned by then


def luma_for(celsius: float) -> int:
    return round((celsius - SPAN_C[0]) * 255 / (SPAN_C[1] - SPAN_C[0]))


def ambient() -> Luma:
    """Ground between 15 and 25 °C, in blocks."""
    rng = np.random.default_rng(5)
    blocks = rng.integers(luma_for(15), luma_for(25), (HEIGHT // 8 + 1, WIDTH // 8 + 1)).astype(np.uint8)
    ground: Luma = blocks.repeat(8, 0).repeat(8, 1)[:HEIGHT, :WIDTH].copy()
    return ground


def fire(t: float, frame: Luma) -> Luma:
    """From FIRE_AT_S a spot at 70 °C that spreads and heats by 7.5 °C a second, to 130 °C."""
    if t >= FIRE_AT_S:
        grown = min(t - FIRE_AT_S, 8.0)
        half = 2 + round(grown)
        frame = frame.copy()
        frame[120 - half : 120 + half, 200 - half : 200 + half] = luma_for(70 + 7.5 * grown)
    return frame


def chimney_and_wall() -> Luma:
    picture = ambient()
    picture[40:140, 90:110] = luma_for(85)  # the chimney, always hot
    picture[20:80, 200:300] = luma_for(45)  # a sun-warmed wall: the detector reports it, under the rule's threshold
    return picture


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    scripts = {"bunker": Script(14.0, ambient(), effect=fire), "chimney": Script(14.0, chimney_and_wall())}
    with serve(tmp_path_factory.mktemp("thermal-hotspot"), scripts) as server:
        yield server


def test_over_rtsp_a_fire_taking_hold_alerts_then_as_rising_and_a_steady_chimney_does_not(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    detector = {"name": "thermal", "settings": {"t_min_c": SPAN_C[0], "t_max_c": SPAN_C[1], "threshold_c": 40}}
    learning = {"background_s": 10, "learn_s": 1.5, "trend_s": 10}
    rules = [{"kind": "thermal-hotspot", "name": "Bunker", "threshold_c": 60, "delta_c": 20, **learning}]
    watched = [Watched(f"cam-{name}", sim.clip_url(name), rules, detector) for name in ("bunker", "chimney")]
    with LiveAnalytics(live_rt, site, watched) as live:
        live.wait_for(
            "the fire's alerts, first and rising",
            lambda: {a.severity for a in live.alerts("cam-bunker", "thermal-hotspot")} == {"warning", "critical"},
        )
    first, rising = sorted(live.alerts("cam-bunker"), key=lambda a: a.first_us)
    assert first.title.endswith("°C (nothing hot usually)") and first.dedup_key == "cam-bunker:thermal-hotspot:Bunker"
    assert first.details["source"] == "detector" and 60 <= first.details["peak_c"] < 100
    assert rising.dedup_key == "cam-bunker:thermal-hotspot:Bunker:rising" and rising.severity == "critical"
    assert rising.details["trend_c_per_min"] > 100  # 7.5 °C a second
    assert first.details["where"] == pytest.approx([200 / WIDTH, 120 / HEIGHT], abs=0.03)
    assert live.alerts("cam-chimney") == []
    chimney = live.rule("cam-chimney", "Bunker")
    assert isinstance(chimney, ThermalHotspot)
    assert chimney._background_c() == pytest.approx(85, abs=3)  # learned as the scene's normal, and judged against
