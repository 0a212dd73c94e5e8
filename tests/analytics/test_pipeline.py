"""One camera's analysis on synthetic luma: a figure walking into a zone, across a line, a covered lens, a
silent camera, a detector that throws (contained, counted), the frame-rate cap, and the same analysis with
the detector in a shared pool."""

import numpy as np
import pytest

from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.pool import DetectorPool
from sereno.analytics.scene import Detection, Luma, Motion
from sereno.config.analytics import CameraAnalyticsConfig

W, H = 320, 180
FRAME_US = 200_000  # 5 frames a second


def street(step: int, x: float | None = None, y: float = 0.6, dark: bool = False) -> Luma:
    """A textured street (so sharpness is real) and, when x is given, a bright figure whose feet are at (x, y)."""
    rng = np.random.default_rng(step)
    texture = (np.indices((H, W)).sum(axis=0) % 40 * 3 + 60).astype(np.uint8)
    frame: Luma = np.clip(texture.astype(int) + rng.integers(-2, 3, texture.shape), 0, 255).astype(np.uint8)
    if dark:
        return np.full((H, W), 5, np.uint8)
    if x is not None:
        cx, feet = int(x * W), int(y * H)
        frame[max(0, feet - 40) : feet, max(0, cx - 8) : cx + 8] = 240
    return frame


def analytics(rules: list[dict[str, object]], **extra: object) -> CameraAnalytics:
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "rules": rules, **extra})
    return CameraAnalytics("cam-1", "north", "UTC", config)


def run(pipeline: CameraAnalytics, frames: list[Luma], start: int = 0) -> list[str]:
    titles = []
    for i, frame in enumerate(frames):
        _scene, hits = pipeline.process(frame, (start + i) * FRAME_US)
        titles += [h.title for h in hits]
    return titles


def test_a_figure_walking_into_the_zone_is_an_intrusion_and_one_outside_is_not() -> None:
    zone = [[0.6, 0.4], [1.0, 0.4], [1.0, 1.0], [0.6, 1.0]]
    pipeline = analytics([{"kind": "intrusion", "name": "Rail tracks", "zone": zone, "dwell_s": 0.6}])
    warm = [street(i) for i in range(10)]
    assert run(pipeline, warm) == []
    outside = [street(10 + i, x=0.1 + 0.02 * i) for i in range(10)]  # walks along the left, never in the zone
    assert run(pipeline, outside, 10) == []
    into = [street(20 + i, x=0.45 + 0.04 * i) for i in range(10)]  # walks right, into the zone
    titles = run(pipeline, into, 20)
    assert titles and all(t == "Rail tracks: moving in the zone" for t in titles)


def test_crossings_are_counted_by_direction_and_alert_over_the_limit() -> None:
    line = [[0.5, 0.0], [0.5, 1.0]]  # top to bottom: walking left to right on screen crosses it "backward"
    rule = {"kind": "line-crossing", "name": "Footbridge", "line": line, "alert_direction": "backward",
            "alert_over_per_minute": 0}  # fmt: skip
    pipeline = analytics([rule])
    run(pipeline, [street(i) for i in range(10)])
    titles = run(pipeline, [street(10 + i, x=0.3 + 0.04 * i) for i in range(10)], 10)  # left to right
    crossing = pipeline.rules[0]
    assert crossing.counts == {"forward": 0, "backward": 1}  # type: ignore[attr-defined]
    assert titles  # any crossing in the watched direction alerts at a limit of 0
    assert set(titles) == {"Footbridge: 1 crossing backward in a minute"}


def test_a_covered_lens_is_tamper_after_the_hold_and_silence_is_offline() -> None:
    pipeline = analytics([{"kind": "tamper", "hold_s": 1.0}, {"kind": "camera-offline", "after_s": 10}])
    assert run(pipeline, [street(i) for i in range(30)]) == []
    titles = run(pipeline, [street(30 + i, dark=True) for i in range(10)], 30)
    assert "Camera tamper: covered" in titles
    last = pipeline.last_frame_us
    assert last is not None
    assert pipeline.idle(last + 5_000_000) == []
    offline = pipeline.idle(last + 12_000_000)
    assert [h.rule for h in offline] == ["camera-offline"] and offline[0].details["silent_s"] == 12.0


def test_a_throwing_detector_is_contained_and_counted() -> None:
    class Broken:
        name = "broken"

        def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
            raise RuntimeError("model exploded")

    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "rules": [{"kind": "tamper", "hold_s": 0}]})
    pipeline = CameraAnalytics("cam-1", "north", "UTC", config, detector=Broken())
    run(pipeline, [street(i, x=0.1 + 0.03 * i) for i in range(40)])
    assert pipeline.stats.frames == 40 and pipeline.stats.detector_errors > 0
    assert pipeline.stats.last_error is not None and "model exploded" in pipeline.stats.last_error


def test_the_schedule_limits_when_a_rule_speaks() -> None:
    zone = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    pipeline = analytics([{"kind": "intrusion", "zone": zone, "dwell_s": 0, "schedule": ["22:00-06:00"]}])
    noon = 12 * 3600 * 5  # frames at 5 fps: day one, 12:00 UTC
    run(pipeline, [street(i) for i in range(10)], noon)
    assert run(pipeline, [street(10 + i, x=0.2 + 0.03 * i) for i in range(10)], noon + 10) == []


def test_bad_rules_are_refused_when_the_site_loads() -> None:
    with pytest.raises(ValueError, match="kind 'teleport' is unknown"):
        CameraAnalyticsConfig.model_validate({"camera": "c", "rules": [{"kind": "teleport"}]})
    with pytest.raises(ValueError, match="zone"):
        CameraAnalyticsConfig.model_validate({"camera": "c", "rules": [{"kind": "intrusion", "zone": [[0, 0]]}]})
    with pytest.raises(ValueError, match="not a window"):
        CameraAnalyticsConfig.model_validate(
            {"camera": "c", "rules": [{"kind": "intrusion", "zone": [[0, 0], [1, 0], [1, 1]], "schedule": ["noon"]}]}
        )


def test_a_camera_turned_is_tamper_and_traffic_passing_is_not() -> None:
    pipeline = analytics([{"kind": "tamper", "hold_s": 1.0}])
    assert run(pipeline, [street(i) for i in range(30)]) == []
    assert run(pipeline, [street(30 + i, x=0.1 + 0.05 * i) for i in range(15)], 30) == []  # a figure crosses
    turned = [np.roll(street(50 + i), 13, axis=1) for i in range(15)]  # the whole view slid 13 px sideways
    assert "Camera tamper: moved" in run(pipeline, turned, 50)


def test_the_frame_rate_cap_takes_every_frame_of_a_stream_at_the_cap_however_unevenly_it_arrives() -> None:
    pipeline = analytics([])  # max_fps 5
    rng = np.random.default_rng(7)
    arrivals = np.arange(200) * FRAME_US + rng.integers(-60_000, 60_000, 200)  # 5 fps, each up to 60 ms off
    assert all(pipeline.due(int(t)) for t in arrivals)
    fast = analytics([])
    taken = sum(fast.due(i * 40_000) for i in range(250))  # 25 fps for 10 s
    assert 50 <= taken <= 52 and fast.stats.skipped == 250 - taken  # 5 a second (and the first two at once)


def test_a_pooled_detector_sees_what_a_private_one_sees() -> None:
    zone = [[0.6, 0.4], [1.0, 0.4], [1.0, 1.0], [0.6, 1.0]]
    rules: list[dict[str, object]] = [{"kind": "intrusion", "name": "Rail tracks", "zone": zone, "dwell_s": 0.6}]
    frames = [street(i) for i in range(10)] + [street(10 + i, x=0.45 + 0.04 * i) for i in range(10)]
    pool = DetectorPool()
    try:
        pooled = CameraAnalytics("cam-1", "north", "UTC", analytics(rules).config, pool=pool)
        assert run(pooled, frames) == run(analytics(rules), frames) != []
    finally:
        pool.close()
    assert pooled.stats.detections > 0 and pooled.stats.detector_errors == pooled.stats.detector_timeouts == 0
