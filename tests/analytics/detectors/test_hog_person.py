"""hog-person on synthetic luma: a drawn walker (head, torso, arms, legs: the outline HOG's people model keys on)
is found only through the motion crop when it is too small for plain HOG; then the cropping, joining, scaling
and mapping back are checked with known windows injected in place of the HOG call."""

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from sereno.analytics.detectors import hog_person
from sereno.analytics.detectors.hog_person import Config, HogPerson
from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.scene import Box, Luma, Motion
from sereno.config.analytics import CameraAnalyticsConfig

W, H = 640, 360


def walker(frame: Luma, cx: float, feet: float, height: float, value: int = 40) -> None:
    """A standing figure, feet at (cx, feet) px, drawn in a 96-unit body frame like HOG's training people."""
    u, top = height / 96, feet - height

    def poly(*points: tuple[float, float]) -> None:
        outline = np.array([[cx + x * u, top + y * u] for x, y in points], np.int32)
        cv2.fillPoly(frame, [outline], value, cv2.LINE_AA)

    head = (max(1, int(6 * u)), max(1, int(7 * u)))
    cv2.ellipse(frame, (int(cx), int(top + 7 * u)), head, 0, 0, 360, value, -1, cv2.LINE_AA)
    poly((-3, 12), (3, 12), (3, 18), (-3, 18))  # neck
    poly((-11, 17), (11, 17), (9, 52), (-9, 52))  # torso
    for side in (-1, 1):
        poly((side * 11, 18), (side * 15, 20), (side * 15, 52), (side * 11, 52))  # arm
        poly((side * 1, 50), (side * 9, 50), (side * 10, 96), (side * 3, 96))  # leg


def pavement(seed: int = 1) -> Luma:
    rng = np.random.default_rng(seed)
    frame: Luma = np.clip(150 + rng.normal(0, 4, (H, W)), 0, 255).astype(np.uint8)
    return frame


def soft(frame: Luma) -> Luma:
    """A camera's slight blur: drawn edges are sharper than any lens makes them."""
    return np.asarray(cv2.GaussianBlur(frame, (3, 3), 0), np.uint8)


def moving(*boxes: Box) -> Motion:
    return Motion(list(boxes), fraction=0.01, mean_luma=150.0, sharpness=10.0, shift=0.0)


def around(cx: float, feet: float, height: float, half_width: float = 16) -> Box:
    return Box((cx - half_width) / W, (feet - height) / H, (cx + half_width) / W, feet / H)


def test_a_small_walker_is_found_through_its_motion_crop_and_plain_hog_misses_it() -> None:
    frame = pavement()
    walker(frame, 200, 300, 40)
    frame = soft(frame)
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    whole, _weights = hog.detectMultiScale(frame, winStride=(8, 8), padding=(8, 8), scale=1.05)
    assert len(whole) == 0  # 40 px is far below the 128 px window: why crops are scaled up

    detector = hog_person.create(Config())
    found = detector.detect(frame, moving(around(200, 300, 40)))
    assert len(found) == 1 and found[0].label == "person" and 0.5 < found[0].score <= 1
    (x, _), (_, fy) = found[0].box.centre, found[0].box.foot
    assert x == pytest.approx(200 / W, abs=0.01) and fy == pytest.approx(300 / H, abs=0.02)
    assert found[0].box.y0 == pytest.approx(260 / H, abs=0.02)  # the box is trimmed to the body
    assert detector.detect(frame, moving()) == []  # no motion, no work


def test_a_moving_crate_is_not_a_person() -> None:
    frame = pavement()
    cv2.rectangle(frame, (180, 240), (260, 300), 40, -1)
    assert hog_person.create(Config()).detect(frame, moving(Box(180 / W, 240 / H, 260 / W, 300 / H))) == []


def test_the_pipeline_finds_the_walker_from_real_motion_boxes() -> None:
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "detector": {"name": "hog-person"}})
    pipeline = CameraAnalytics("cam-1", "north", "UTC", config)
    for step in range(10):
        pipeline.process(pavement(step), step * 200_000)
    people = []
    for step in range(10, 16):
        frame = pavement(step)
        walker(frame, 150 + 10 * step, 300, 48)
        scene, _hits = pipeline.process(soft(frame), step * 200_000)
        people += [(step, d.box.foot) for d in scene.detections if d.label == "person"]
    assert len(people) >= 4
    for step, (fx, fy) in people:
        assert fx == pytest.approx((150 + 10 * step) / W, abs=0.02) and fy == pytest.approx(300 / H, abs=0.03)


class Recorder:
    """Stands in for the HOG call: returns fixed windows (crop px) and remembers the crops it was given."""

    def __init__(self, windows: list[tuple[int, int, int, int]], weights: list[float]) -> None:
        self.windows, self.weights = windows, weights
        self.crops: list[tuple[int, int]] = []

    def __call__(self, crop: Luma) -> tuple[Sequence[Sequence[int]], Sequence[float]]:
        self.crops.append(crop.shape)
        return self.windows, self.weights


def test_windows_are_mapped_back_through_crop_and_scale() -> None:
    stub = Recorder([(0, 0, 64, 128)], [1.0])
    box = Box(300 / W, 100 / H, 316 / W, 132 / H)  # 16 x 32 px: scaled 4x (the cap) to 128 px tall
    detector = HogPerson(Config(margin=0.25), windows=stub)
    crop, region = detector.regions([box], W, H)[0]
    assert region == (300, 100, 316, 132)
    factor = 4.0
    assert stub.crops == [] and (crop[2] - crop[0]) * factor >= 64 and (crop[3] - crop[1]) * factor >= 128
    (found,) = detector.detect(pavement(), moving(box))
    assert stub.crops == [(round((crop[3] - crop[1]) * factor), round((crop[2] - crop[0]) * factor))]
    x0 = crop[0] + 64 * hog_person.TRIM_X / factor
    y0 = crop[1] + 128 * hog_person.TRIM_Y / factor
    assert found.box.x0 == pytest.approx(x0 / W) and found.box.y0 == pytest.approx(y0 / H)
    assert found.box.x1 == pytest.approx((x0 + 64 * (1 - 2 * hog_person.TRIM_X) / factor) / W)
    assert found.box.y1 == pytest.approx((y0 + 128 * (1 - 2 * hog_person.TRIM_Y) / factor) / H)
    assert found.score == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_overlapping_windows_are_merged_keeping_the_stronger() -> None:
    stub = Recorder([(10, 10, 64, 128), (14, 12, 64, 128), (300, 10, 64, 128)], [0.5, 2.0, 1.0])
    big = Box(0.1, 0.1, 0.9, 0.9)  # big enough that the crop is not scaled
    found = HogPerson(Config(), windows=stub).detect(pavement(), moving(big))
    assert sorted(round(d.score, 3) for d in found) == [
        round(1 / (1 + np.exp(-1.0)), 3),
        round(1 / (1 + np.exp(-2.0)), 3),
    ]


def test_fragments_of_one_body_are_joined_and_far_apart_regions_are_not() -> None:
    head = Box(300 / W, 100 / H, 316 / W, 112 / H)
    legs = Box(300 / W, 118 / H, 316 / W, 140 / H)
    elsewhere = Box(40 / W, 200 / H, 56 / W, 240 / H)
    regions = HogPerson(Config()).regions([head, legs, elsewhere], W, H)
    assert sorted(r[1] for r in regions) == [(40, 200, 56, 240), (300, 100, 316, 140)]


def test_tiny_regions_are_skipped_and_small_crops_at_the_edge_are_padded() -> None:
    speck = Box(0.5, 0.5, 0.505, 0.52)  # ~7 px tall: no body even scaled 4x
    assert HogPerson(Config()).regions([speck], W, H) == []
    stub = Recorder([], [])
    corner = Box(0.0, 0.0, 8 / W, 60 / H)  # at the corner: the grown crop is cut short by the frame
    assert HogPerson(Config(max_upscale=1.0, min_height=64), windows=stub).detect(pavement(), moving(corner)) == []
    assert stub.crops and all(h >= 128 and w >= 64 for h, w in stub.crops)


def test_the_busiest_frames_examine_at_most_max_regions() -> None:
    boxes = [Box(x / 20, 0.2, x / 20 + 0.02, 0.3) for x in range(0, 20, 2)]
    assert len(HogPerson(Config(max_regions=3)).regions(boxes, W, H)) == 3
