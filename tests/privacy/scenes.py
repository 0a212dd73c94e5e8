"""Synthetic frames with a known moving object, for anonymiser and privacy-stream tests."""

import numpy as np

from sereno.privacy.anonymiser import Image

H, W = 180, 320
BOX = (40, 60)  # height, width of the moving "figure"


def frame(t: int, *, seed: int = 0) -> tuple[Image, tuple[int, int, int, int]]:
    """A textured grey background with a bright, textured box moving right by 6 px per frame; returns its box."""
    rng = np.random.default_rng(seed)
    background = rng.integers(90, 110, size=(H, W, 3), dtype=np.uint8)
    image = background.copy()
    top, left = 70, 10 + 6 * t
    pattern = (np.indices(BOX).sum(axis=0) % 2 * 120 + 100).astype(np.uint8)
    image[top : top + BOX[0], left : left + BOX[1]] = pattern[..., None]
    return image, (top, left, top + BOX[0], left + BOX[1])
