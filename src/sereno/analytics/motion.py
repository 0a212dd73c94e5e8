"""Motion on the luma plane: what changed against a slowly learned background, as boxes, plus the numbers the
tamper rule watches (brightness, sharpness, whole-picture shift).

The sub stream's Y plane is used as it arrives (no colour conversion: it is several times cheaper and motion
needs no colour), shrunk to about 160 px wide by block averaging, which also removes sensor noise.
"""

import cv2
import numpy as np
from pydantic import Field

from sereno.analytics.scene import Box, Luma, Motion
from sereno.config.base import StrictModel


class MotionConfig(StrictModel):
    work_width: int = Field(default=160, ge=64, le=640, title="Analysis width (px)")
    threshold: int = Field(default=18, ge=2, le=255, title="Luma change that counts as motion")
    learning_rate: float = Field(default=0.03, gt=0, le=0.5, title="Background learning rate")
    min_area: float = Field(default=0.0008, ge=0, le=0.5, title="Smallest moving region (share of the picture)")
    dilate_px: int = Field(default=2, ge=0, le=10, title="Growth joining nearby changes (analysis px)")
    shift_every: int = Field(default=5, ge=1, le=100, title="Check the whole-picture shift every N frames")
    moved_changed_share: float = Field(
        default=0.6, gt=0, le=1, title="Share of the picture that must change before the camera may have moved"
    )


class MotionDetector:
    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._background: np.ndarray | None = None
        self._reference: np.ndarray | None = None  # a settled picture, for the camera-moved check
        self._frames = 0
        self._window: np.ndarray | None = None
        self._last_shift = 0.0

    def update(self, luma: Luma) -> Motion:
        small = self._shrink(luma)
        if self._background is None or self._background.shape != small.shape:
            self._background, self._reference, self._frames = small.copy(), None, 0
        self._frames += 1
        diff = np.abs(small - self._background)
        mask = (diff > self.config.threshold).astype(np.uint8)
        if self.config.dilate_px:
            size = 2 * self.config.dilate_px + 1
            mask = cv2.dilate(mask, np.ones((size, size), np.uint8))
        still = mask == 0
        self._background[still] += self.config.learning_rate * (small[still] - self._background[still])
        self._background[~still] += self.config.learning_rate * 0.1 * (small[~still] - self._background[~still])
        if self._reference is None and self._frames >= 25:
            self._reference = self._background.copy()
        height, width = small.shape
        boxes = _boxes(mask, width, height, self.config.min_area)
        return Motion(
            boxes=boxes,
            fraction=float(mask.mean()),
            mean_luma=float(small.mean()),
            sharpness=float(cv2.Laplacian(small, cv2.CV_32F).var()),
            shift=self._shift(small, float(mask.mean())),
        )

    def _shrink(self, luma: Luma) -> np.ndarray:
        height, width = luma.shape
        scale = self.config.work_width / width
        size = (self.config.work_width, max(1, round(height * scale)))
        return cv2.resize(luma, size, interpolation=cv2.INTER_AREA).astype(np.float32)

    def _shift(self, small: np.ndarray, changed: float) -> float:
        """Pixels the whole picture moved against the settled reference (phase correlation): a camera knocked
        or turned shows as a large shift even when nothing in the scene moves. A moved camera stays moved, so
        checking every few frames is enough (it is the costliest step here).

        Only asked when most of the picture changed: passing traffic changes a part of it, a moved camera
        changes nearly all of it. Without that gate, in a scene with little texture the correlation locks on
        to the moving objects and reports their travel as the camera's."""
        if self._reference is None or changed < self.config.moved_changed_share:
            self._last_shift = 0.0
            return 0.0
        if self._frames % self.config.shift_every:
            return self._last_shift
        if self._window is None or self._window.shape != small.shape:
            self._window = cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F)
        (dx, dy), _response = cv2.phaseCorrelate(self._reference, small, self._window)
        self._last_shift = float(np.hypot(dx, dy))
        return self._last_shift


def _boxes(mask: np.ndarray, width: int, height: int, min_area: float) -> list[Box]:
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found = []
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        if area / (width * height) < min_area:
            continue
        found.append(Box(x / width, y / height, (x + w) / width, (y + h) / height))
    return found
