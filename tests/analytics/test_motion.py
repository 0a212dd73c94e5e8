"""Motion on the luma plane, on synthetic streets: what moves is boxed where it is and nothing else is, at any
sub stream size; the shrink is a block average; something that stops fades into the background while a
passer-by does not; the tamper numbers (brightness, sharpness) read the picture, every few frames; a region is
boxed whole and the smallest are dropped."""

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from sereno.analytics.motion import MotionConfig, MotionDetector, _boxes
from sereno.analytics.scene import Box, Luma

W, H = 640, 360


def street(step: int, width: int = W, height: int = H, at: list[tuple[float, float]] | None = None) -> Luma:
    """A textured street with sensor noise; each (x, y) in `at` is a bright figure 1/9 of the height tall
    and 1/40 of the width wide, whose feet are at that normalised point."""
    rng = np.random.default_rng(step)
    ys, xs = np.indices((height, width))
    texture = ((xs * 40 // width + ys * 24 // height) % 8) * 12 + 60
    frame: Luma = np.clip(texture + rng.normal(0, 2.0, texture.shape), 0, 255).astype(np.uint8)
    for x, y in at or []:
        cx, feet = int(x * width), int(y * height)
        half, tall = max(1, width // 80), height // 9
        frame[max(0, feet - tall) : feet, max(0, cx - half) : cx + half] = 235
    return frame


def covers(box: Box, x: float, y: float) -> bool:
    return box.x0 - 0.02 <= x <= box.x1 + 0.02 and box.y0 - 0.02 <= y <= box.y1 + 0.02


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1280, 720), (704, 576), (320, 180)])
def test_a_walking_figure_is_boxed_on_every_frame_and_noise_is_not(width: int, height: int) -> None:
    motion = MotionDetector()
    for step in range(10):  # a street with nothing in it but noise
        assert motion.update(street(step, width, height)).boxes == []
    for step in range(10, 30):
        x, y = 0.1 + 0.03 * (step - 10), 0.7
        found = motion.update(street(step, width, height, [(x, y)]))
        assert len(found.boxes) == 1 and covers(found.boxes[0], x, y), (step, found.boxes)
        assert 0 < found.fraction < 0.05


def test_two_figures_apart_are_two_boxes_and_sizes_do_not_change_what_is_seen() -> None:
    seen = []
    for width, height in ((640, 360), (1280, 720)):
        motion = MotionDetector()
        for step in range(5):
            motion.update(street(step, width, height))
        found = motion.update(street(5, width, height, [(0.2, 0.5), (0.8, 0.9)]))
        seen.append([tuple(round(v, 2) for v in (b.x0, b.y0, b.x1, b.y1)) for b in found.boxes])
    assert len(seen[0]) == 2 and seen[0] == seen[1]


def test_the_shrink_is_a_block_average() -> None:
    rng = np.random.default_rng(1)
    luma: Luma = rng.integers(0, 256, (H, W), dtype=np.uint8)
    small = MotionDetector(MotionConfig(work_width=160))._shrink(luma)
    exact: npt.NDArray[np.float64] = luma.reshape(90, 4, 160, 4).mean(axis=(1, 3))
    assert small.shape == (90, 160) and np.abs(small - exact).max() <= 1.0


def test_what_stops_fades_into_the_background_and_what_walks_does_not() -> None:
    motion = MotionDetector()
    small = (320, 180)  # width, height
    for step in range(5):
        motion.update(street(step, *small))
    parked = [(0.5, 0.8)]
    assert len(motion.update(street(5, *small, at=parked)).boxes) == 1
    # Under something moving the background learns at a tenth of the rate: a parked car takes a few minutes
    # at 5 fps to become scenery (a person standing in a zone stays an object far longer than any dwell).
    still_there = [bool(motion.update(street(6 + i, *small, at=parked)).boxes) for i in range(800)]
    assert all(still_there[:300]) and not any(still_there[-50:])
    walker = motion.update(street(900, *small, at=[*parked, (0.2, 0.4)]))
    assert len(walker.boxes) == 1 and covers(walker.boxes[0], 0.2, 0.4)


def test_brightness_and_sharpness_read_the_picture() -> None:
    motion = MotionDetector()
    normal = motion.update(street(0))
    flat = MotionDetector().update(np.full((H, W), 5, np.uint8))
    assert 60 < normal.mean_luma < 150 and normal.sharpness > 10
    assert flat.mean_luma == pytest.approx(5.0) and flat.sharpness == 0.0


def test_brightness_and_sharpness_are_measured_every_few_frames_and_held_between() -> None:
    motion = MotionDetector(MotionConfig(look_every=3))
    seen = [motion.update(street(n) if n < 4 else np.full((H, W), 5, np.uint8)) for n in range(8)]
    # frames 0 and 3 show the street, the lens is covered from frame 4: the next measurement (frame 6) sees it
    assert all(m.mean_luma > 60 and m.sharpness > 10 for m in seen[:6])
    assert all(m.mean_luma == pytest.approx(5.0) and m.sharpness == 0.0 for m in seen[6:])


def test_regions_are_boxed_whole_and_the_smallest_dropped() -> None:
    mask = np.zeros((90, 160), np.uint8)
    mask[10:30, 20:40] = 1  # 400 px
    mask[15:25, 25:35] = 0  # a still patch inside it: still one region, one box
    mask[60:62, 100:102] = 1  # 4 px: under min_area
    mask[50:80, 130:150] = 1  # 600 px, touching nothing else
    boxes = _boxes(mask, 160, 90, min_area=10 / (160 * 90), changed=int(mask.sum()))
    assert sorted((round(b.x0 * 160), round(b.y0 * 90), round(b.x1 * 160), round(b.y1 * 90)) for b in boxes) == [
        (20, 10, 40, 30),
        (130, 50, 150, 80),
    ]
    assert _boxes(np.zeros((90, 160), np.uint8), 160, 90, 0.001, changed=0) == []


@pytest.mark.parametrize("grown_px", [0, 1, 2, 4])
def test_regions_of_a_grown_mask_are_dropped_by_the_same_count_whether_counted_or_bounded(grown_px: int) -> None:
    rng = np.random.default_rng(grown_px)
    size = 2 * grown_px + 1
    for _ in range(40):
        changes = (rng.random((90, 160)) < 0.004).astype(np.uint8)
        mask = cv2.dilate(changes, np.ones((size, size), np.uint8)) if grown_px else changes
        for min_px in (3, 12, 40, 90):
            area = min_px / (160 * 90)
            bounded = _boxes(mask, 160, 90, area, int(mask.sum()), grown_px)
            counted = _boxes(mask, 160, 90, area, int(mask.sum()), grown_px=-1)  # no lower bound: always counts
            assert bounded == counted
