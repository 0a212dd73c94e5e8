"""thermal on synthetic radiometric luma: a hot blob is one hotspot at the right place with the right °C, a cool
picture has none, specks are noise, and the detector runs even when nothing moves."""

import numpy as np
import pytest

from sereno.analytics import detectors
from sereno.analytics.detectors.thermal import Config, Thermal
from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.scene import Luma, Motion
from sereno.config.analytics import CameraAnalyticsConfig

W, H = 320, 240
STILL = Motion([], fraction=0.0, mean_luma=60.0, sharpness=5.0, shift=0.0)


def luma_of(celsius: float, t_min: float = 0.0, t_max: float = 255.0) -> int:
    return round((celsius - t_min) / (t_max - t_min) * 255)


def scene(background_c: float = 20.0) -> Luma:
    """0..255 °C span: luma equals °C, which keeps the arithmetic visible."""
    rng = np.random.default_rng(0)
    frame: Luma = np.clip(background_c + rng.normal(0, 1.5, (H, W)), 0, 255).astype(np.uint8)
    return frame


def test_a_hot_blob_is_one_hotspot_with_its_peak_temperature() -> None:
    frame = scene()
    yy, xx = np.mgrid[0:H, 0:W]
    blob = (xx - 240) ** 2 + (yy - 60) ** 2 <= 10**2
    frame[blob] = 90
    frame[60, 240] = 131  # the hottest pixel: 131 °C
    detector = Thermal(Config(t_min_c=0, t_max_c=255, threshold_c=60))
    (spot,) = detector.detect(frame, STILL)
    assert spot.label == "hotspot" and spot.value == pytest.approx(131.0)
    assert spot.box.centre == pytest.approx((240.5 / W, 60.5 / H), abs=0.01)
    assert spot.box.x0 == pytest.approx(230 / W) and spot.box.y1 == pytest.approx(71 / H)


def test_the_linear_span_maps_luma_to_celsius() -> None:
    detector = Thermal(Config(t_min_c=-20, t_max_c=150, threshold_c=60))
    assert detector.celsius(0) == -20 and detector.celsius(255) == 150
    frame = np.full((H, W), luma_of(10, -20, 150), np.uint8)
    frame[100:110, 100:110] = luma_of(95, -20, 150)
    (spot,) = detector.detect(frame, STILL)
    assert spot.value == pytest.approx(95, abs=170 / 255)


def test_a_cool_picture_and_hot_specks_give_nothing() -> None:
    detector = Thermal(Config(t_min_c=0, t_max_c=255, threshold_c=60, min_pixels=4))
    assert detector.detect(scene(), STILL) == []
    frame = scene()
    frame[10, 10] = frame[200, 300] = 250  # dead pixels
    frame[50:52, 50] = 200  # two pixels: still below min_pixels
    assert detector.detect(frame, STILL) == []


def test_several_hotspots_come_hottest_first_and_are_capped() -> None:
    frame = scene()
    for i, temperature in enumerate([70, 120, 95]):
        frame[20 + 60 * i : 30 + 60 * i, 20:30] = temperature
    found = Thermal(Config(t_min_c=0, t_max_c=255, threshold_c=60, max_regions=2)).detect(frame, STILL)
    assert [d.value for d in found] == [120, 95]


def test_the_pipeline_asks_every_frame_because_a_hotspot_need_not_move() -> None:
    settings = {"t_min_c": 0, "t_max_c": 255, "threshold_c": 60}
    config = CameraAnalyticsConfig.model_validate(
        {"camera": "t-1", "detector": {"name": "thermal", "settings": settings}}
    )
    pipeline = CameraAnalytics("t-1", "volcano", "UTC", config)
    frame = scene()
    frame[100:120, 100:120] = 80  # hot from the first frame on: never moves
    for step in range(5):
        seen, _hits = pipeline.process(frame, step * 200_000)
    assert not seen.motion.boxes
    assert [(d.label, d.value) for d in seen.detections] == [("hotspot", 80)]


def test_bad_spans_are_refused_when_the_config_loads() -> None:
    with pytest.raises(ValueError, match="below t_max_c"):
        Config(t_min_c=100, t_max_c=0, threshold_c=50)
    with pytest.raises(ValueError, match="within the span"):
        Config(t_min_c=0, t_max_c=100, threshold_c=300)
    with pytest.raises(ValueError, match="Extra inputs"):
        detectors.create("thermal", {"t_min": 0})
