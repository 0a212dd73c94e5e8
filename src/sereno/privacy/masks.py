"""Static privacy masks (windows of homes): polygons in frame fractions, filled solid on every frame."""

from functools import lru_cache

import numpy as np

from sereno.config.cameras import PrivacyMask
from sereno.privacy.anonymiser import Image

FILL = np.array([64, 64, 64], dtype=np.uint8)


def apply_masks(image: Image, masks: list[PrivacyMask]) -> Image:
    if not masks:
        return image
    h, w, _ = image.shape
    key = tuple(tuple(tuple(p) for p in m.polygon) for m in masks)
    covered = _raster(key, h, w)
    out = image.copy()
    out[covered] = FILL
    return out


@lru_cache(maxsize=64)
def _raster(polygons: tuple[tuple[tuple[float, float], ...], ...], h: int, w: int) -> np.ndarray:
    """Even-odd rule on pixel centres, conservative by one pixel at the edges (a mask that leaks is worse)."""
    ys, xs = np.mgrid[0:h, 0:w]
    px, py = (xs + 0.5) / w, (ys + 0.5) / h
    covered = np.zeros((h, w), dtype=bool)
    for polygon in polygons:
        inside = np.zeros((h, w), dtype=bool)
        for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=False):
            if y1 == y2:
                continue
            crosses = (py >= min(y1, y2)) & (py < max(y1, y2))
            x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (px < x_at)
        covered |= inside
    grown = covered.copy()
    grown[1:, :] |= covered[:-1, :]
    grown[:-1, :] |= covered[1:, :]
    grown[:, 1:] |= covered[:, :-1]
    grown[:, :-1] |= covered[:, 1:]
    return grown
