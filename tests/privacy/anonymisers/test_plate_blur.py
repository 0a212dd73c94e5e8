"""Plate blurring: OpenCV's bundled plate cascade loads and runs, whatever it finds is hidden on top of motion
pixelation, and its settings are checked. What the cascade detects is OpenCV's business, not asserted here."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from sereno.privacy.anonymiser import AnonymiserUnavailable, Image, create, registry
from sereno.privacy.anonymisers import pixelate_motion, plate_blur
from sereno.privacy.anonymisers.plate_blur import PlateCascade, PlateConfig
from tests.privacy.anonymisers.faces import hidden_share


def car_with_plate() -> tuple[Image, tuple[int, int, int, int]]:
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(70, 10, (180, 320, 3)), 0, 255).astype(np.uint8)
    cv2.rectangle(image, (80, 60), (240, 150), (30, 40, 120), -1)
    plate = np.full((30, 130, 3), 235, np.uint8)
    cv2.rectangle(plate, (0, 0), (129, 29), (0, 0, 0), 2)
    cv2.putText(plate, "A123BC 77", (6, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (10, 10, 10), 2)
    image[110:140, 95:225] = plate
    return image, (95, 110, 225, 140)


def test_the_plugin_is_registered() -> None:
    assert "plate-blur" in registry()
    assert create("plate-blur").name == "plate-blur"


def test_whatever_the_cascade_finds_is_hidden_over_a_still_scene() -> None:
    anonymiser = plate_blur.create(plate_blur.Config(motion=pixelate_motion.Config(warmup_frames=1)))
    image, _plate = car_with_plate()
    anonymiser.apply(image)  # warm-up: all pixelated
    out = anonymiser.apply(image)  # nothing moves: only the cascade's boxes are hidden
    boxes = PlateCascade(PlateConfig()).detect(image)
    assert boxes.shape[1:] == (4,)
    changed = (out != image).any(axis=2)
    for x1, y1, x2, y2 in boxes.astype(int):
        assert hidden_share(image, out, (x1, y1, x2, y2)) >= 0.95
        changed[y1:y2, x1:x2] = False
    margin = 0.15 * (boxes[:, 2:] - boxes[:, :2]).max() + 1 if len(boxes) else 0
    ys, xs = np.nonzero(changed)
    for x, y in zip(xs, ys, strict=True):  # anything else changed is within a box's margin
        assert any(b[0] - margin <= x <= b[2] + margin and b[1] - margin <= y <= b[3] + margin for b in boxes)


def test_motion_pixelation_is_the_base_layer() -> None:
    """Outside the cascade's boxes (and margins) the output is exactly motion pixelation's."""
    image, _ = car_with_plate()
    out = plate_blur.create(plate_blur.Config()).apply(image)
    base = pixelate_motion.create(pixelate_motion.Config()).apply(image)
    differs = (out != base).any(axis=2)
    for x1, y1, x2, y2 in PlateCascade(PlateConfig()).detect(image):
        mx, my = 0.15 * (x2 - x1) + 1, 0.15 * (y2 - y1) + 1
        differs[max(0, int(y1 - my)) : int(y2 + my) + 1, max(0, int(x1 - mx)) : int(x2 + mx) + 1] = False
    assert not differs.any()


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError):
        PlateConfig(min_width=20)  # below the cascade's 60 px window: would promise what it cannot do
    with pytest.raises(ValidationError):
        PlateConfig(scale_factor=1.0)
    with pytest.raises(ValidationError):
        plate_blur.Config.model_validate({"plates": {"colour": "red"}})


def test_a_missing_cascade_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AnonymiserUnavailable):
        PlateCascade(PlateConfig(cascade=tmp_path / "none.xml"))
