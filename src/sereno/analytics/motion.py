"""Motion on the luma plane: what changed against a slowly learned background, as boxes, plus the numbers the
tamper rule watches (brightness, sharpness, whole-picture shift).

The sub stream's Y plane is used as it arrives (no colour conversion: it is several times cheaper and motion
needs no colour), shrunk to about 160 px wide by block averaging, which also removes sensor noise. The
averaging is done in halvings: OpenCV's area resize has a fast vectorised path for exactly 2:1 and a slow
general one (640 -> 160 in one step cost five times 640 -> 320 -> 160 here), and two 2x2 averages are a 4x4
average up to rounding.

This runs on every frame of every camera, so the arithmetic is OpenCV calls on buffers kept between frames
(a masked running average instead of boolean indexing, counts instead of means of masks): at 160 x 90 the
cost of a frame is the number of calls, not the pixels.
"""

import cv2
import numpy as np
from pydantic import Field

from sereno.analytics.scene import Box, Luma, Motion
from sereno.config.base import StrictModel

SLOW_LEARNING_EVERY = 10  # frames between the background's updates under moving things (see update)


class MotionConfig(StrictModel):
    work_width: int = Field(default=160, ge=64, le=640, title="Analysis width (px)")
    threshold: int = Field(default=18, ge=2, le=255, title="Luma change that counts as motion")
    learning_rate: float = Field(default=0.03, gt=0, le=0.5, title="Background learning rate")
    min_area: float = Field(default=0.0008, ge=0, le=0.5, title="Smallest moving region (share of the picture)")
    dilate_px: int = Field(default=2, ge=0, le=10, title="Growth joining nearby changes (analysis px)")
    shift_every: int = Field(default=5, ge=1, le=100, title="Check the whole-picture shift every N frames")
    look_every: int = Field(
        default=5, ge=1, le=100, title="Measure the picture's brightness and sharpness every N frames"
    )
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
        self._look = (0.0, 0.0)  # mean luma, sharpness: what the last measurement found
        size = 2 * self.config.dilate_px + 1
        self._kernel = np.ones((size, size), np.uint8) if self.config.dilate_px else None

    def update(self, luma: Luma) -> Motion:
        cfg = self.config
        grey = self._shrink(luma)
        small = grey.astype(np.float32)
        if self._background is None or self._background.shape != small.shape:
            self._background, self._reference, self._frames = small.copy(), None, 0
        background = self._background
        self._frames += 1
        diff = cv2.absdiff(small, background)
        changes = (diff > cfg.threshold).view(np.uint8)  # bool is one byte of 0 or 1: a view, not a copy
        mask = changes if self._kernel is None else cv2.dilate(changes, self._kernel)
        # The background learns where nothing moves, and ten times slower under moving things (so a car that
        # parks becomes background eventually, a passer-by does not): background += rate * (frame - background).
        # Under moving things the full rate is applied every tenth frame, which is the same learning within a
        # hundredth (1 - 0.97 against 1 - 0.997^10 at the default rate) for one call a frame fewer.
        cv2.accumulateWeighted(small, background, cfg.learning_rate, np.equal(mask, 0).view(np.uint8))
        if self._frames % SLOW_LEARNING_EVERY == 0:
            cv2.accumulateWeighted(small, background, cfg.learning_rate, mask)
        if self._reference is None and self._frames >= 25:
            self._reference = background.copy()
        height, width = small.shape
        changed = cv2.countNonZero(mask)
        mean_luma, sharpness = self._looks(grey)
        return Motion(
            boxes=_boxes(mask, width, height, cfg.min_area, changed, cfg.dilate_px),
            fraction=changed / mask.size,
            mean_luma=mean_luma,
            sharpness=sharpness,
            shift=self._shift(small, changed / mask.size),
        )

    def _shrink(self, luma: Luma) -> np.ndarray:
        height, width = luma.shape
        target = self.config.work_width
        image: np.ndarray = luma
        while width >= 2 * target:  # exact halvings first: OpenCV's fast path (see the module's docstring)
            width, height = width // 2, max(1, height // 2)
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        size = (target, max(1, round(luma.shape[0] * target / luma.shape[1])))
        if (width, height) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return image

    def _looks(self, grey: np.ndarray) -> tuple[float, float]:
        """Mean brightness and edge energy, for the tamper rule. A covered or defocused lens stays so for
        seconds, so measuring every few frames is enough (these two steps cost as much as the rest of a
        frame's differencing)."""
        if (self._frames - 1) % self.config.look_every == 0:
            mean, _ = cv2.meanStdDev(grey)
            _, edges = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_16S))  # exact: whole numbers within +-2040
            self._look = (float(mean[0, 0]), float(edges[0, 0]) ** 2)
        return self._look

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


def _boxes(mask: np.ndarray, width: int, height: int, min_area: float, changed: int, grown_px: int = 0) -> list[Box]:
    """Moving regions (8-connected) as boxes, the smallest dropped.

    Outer outlines rather than labelled components: on a 160 x 90 mask `findContours` costs half of
    `connectedComponentsWithStats`, which labels every pixel and gathers statistics nothing here reads (the
    same boxes on the simulator's traffic scene, frame for frame). A region lying in the hole of another (a
    ring of change around a still patch) belongs to the outer one's box instead of getting its own.

    A region's size is the count of changed pixels inside its box, and counting is mostly avoidable: the box's
    area bounds it from above, and a mask grown by `grown_px` (the dilation) from below. A connected region has
    a pixel in every column and row its box spans, and each came from a change grown by `grown_px` on every
    side, so at least grown_px + 1 of that column's (row's) pixels are the region's, even at the picture's
    edge: the count is at least (grown_px + 1) * max(w, h). Only a region between both bounds is counted."""
    if not changed:
        return []
    min_px = min_area * width * height
    contours, _hierarchy = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w * h < min_px:
            continue
        if (grown_px + 1) * max(w, h) < min_px and cv2.countNonZero(mask[y : y + h, x : x + w]) < min_px:
            continue
        boxes.append(Box(x / width, y / height, (x + w) / width, (y + h) / height))
    return boxes
