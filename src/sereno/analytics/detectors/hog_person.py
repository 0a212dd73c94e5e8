"""People by OpenCV's HOG + linear SVM (Dalal & Triggs), run only around what moves: the default detector,
because its weights are bundled inside OpenCV (nothing to fetch, nothing to configure) and it needs no GPU.

Cost follows activity: each moving region is grown by a margin (so a body split into head and legs by the
motion mask is whole again), overlapping regions are joined, and HOG runs on those crops of the luma only
(HOG works on gradients, so grayscale loses nothing). The detector's window is 64 x 128 px with the body about
96 px tall inside it, so a sub stream's small figures are invisible at their own size: a crop is scaled up
until its moving region is `min_height` px tall (at most `max_upscale` times; a region that could never
reach a body's size is skipped). Found windows are trimmed to the body, mapped back to the frame and merged
across crops by non-maximum suppression.

The score is the SVM's margin squashed into 0..1 (a logistic): monotone, comparable between frames, not a
probability. The detector says "a person" and where; it never looks at a face and never says who.
"""

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np
from pydantic import Field

from sereno.analytics.scene import Box, Detection, Luma, Motion
from sereno.config.base import StrictModel

NAME = "hog-person"

WINDOW = (64, 128)  # the default people detector's window (w, h)
BODY = 96  # the body's height inside that window, px
TRIM_X, TRIM_Y = 0.2, 0.125  # the window's margin around the body (share of its size, each side)

PixelBox = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, end exclusive
Windows = Callable[[Luma], tuple[Sequence[Sequence[int]], Sequence[float]]]  # crop -> (x, y, w, h) rects, weights


class Config(StrictModel):
    hit_threshold: float = Field(default=0.0, ge=-1, le=5, title="SVM margin a window needs to count")
    scale: float = Field(default=1.05, gt=1, le=2, title="Step between pyramid scales (smaller: slower, finer)")
    min_height: int = Field(default=128, ge=64, le=512, title="Height a moving region is scaled up to (px)")
    max_upscale: float = Field(default=4.0, ge=1, le=8, title="Largest scale-up of a crop")
    margin: float = Field(default=0.25, ge=0, le=2, title="Margin around a moving region (share of its size)")
    nms_iou: float = Field(default=0.4, gt=0, le=1, title="Overlap above which the weaker of two people is dropped")
    max_regions: int = Field(default=8, ge=1, le=64, title="Most crops examined per frame (largest first)")


class HogPerson:
    name = NAME

    def __init__(self, config: Config, windows: Windows | None = None) -> None:
        """`windows` replaces the HOG call (tests inject known windows to check cropping and mapping)."""
        self.config = config
        if windows is None:
            hog = cv2.HOGDescriptor()
            hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))

            def hog_windows(crop: Luma) -> tuple[Sequence[Sequence[int]], Sequence[float]]:
                return hog.detectMultiScale(
                    crop, hitThreshold=config.hit_threshold, winStride=(8, 8), padding=(8, 8), scale=config.scale
                )

            windows = hog_windows
        self._windows = windows

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        height, width = luma.shape
        rects: list[tuple[float, float, float, float]] = []
        scores: list[float] = []
        for crop, moving in self.regions(motion.boxes, width, height):
            factor = min(max(1.0, self.config.min_height / (moving[3] - moving[1])), self.config.max_upscale)
            image, (left, top) = _prepare(luma, crop, factor)
            found, margins = self._windows(image)
            for (x, y, w, h), weight in zip(found, np.ravel(margins), strict=True):
                x0 = (x + TRIM_X * w - left) / factor + crop[0]
                y0 = (y + TRIM_Y * h - top) / factor + crop[1]
                rects.append((x0, y0, w * (1 - 2 * TRIM_X) / factor, h * (1 - 2 * TRIM_Y) / factor))
                scores.append(1.0 / (1.0 + math.exp(-float(weight))))
        if not rects:
            return []
        keep = cv2.dnn.NMSBoxes(rects, scores, 0.0, self.config.nms_iou)
        out = []
        for index in np.ravel(np.asarray(keep, dtype=np.int64)):
            bx, by, bw, bh = rects[index]
            box = Box(
                float(max(0.0, bx / width)),
                float(max(0.0, by / height)),
                float(min(1.0, (bx + bw) / width)),
                float(min(1.0, (by + bh) / height)),
            )
            out.append(Detection(box, "person", scores[index]))
        return out

    def regions(self, boxes: list[Box], width: int, height: int) -> list[tuple[PixelBox, PixelBox]]:
        """(crop, moving area) pairs in frame pixels: moving boxes grown by the margin, overlapping crops joined
        (their moving areas too), those too small to hold a person even scaled up dropped, largest first."""
        pending: list[tuple[PixelBox, PixelBox]] = []
        for box in boxes:
            moving = (
                math.floor(box.x0 * width),
                math.floor(box.y0 * height),
                max(math.ceil(box.x1 * width), math.floor(box.x0 * width) + 1),
                max(math.ceil(box.y1 * height), math.floor(box.y0 * height) + 1),
            )
            pending.append((_grow(moving, self.config.margin, width, height), moving))
        joined: list[tuple[PixelBox, PixelBox]] = []
        while pending:
            crop, moving = pending.pop()
            overlapping = [i for i, (other, _) in enumerate(joined) if _overlap(crop, other)]
            if not overlapping:
                joined.append((crop, moving))
                continue
            for i in reversed(overlapping):  # join, then look again: the union may now touch others
                other, other_moving = joined.pop(i)
                crop, moving = _union(crop, other), _union(moving, other_moving)
            pending.append((crop, moving))
        tall_enough = [r for r in joined if (r[1][3] - r[1][1]) * self.config.max_upscale >= BODY / 2]
        tall_enough.sort(key=lambda r: (r[0][2] - r[0][0]) * (r[0][3] - r[0][1]), reverse=True)
        return tall_enough[: self.config.max_regions]


def _grow(box: PixelBox, margin: float, width: int, height: int) -> PixelBox:
    """The box plus its margin, and at least as wide and tall as a detector window around a body as tall as
    the box: a walker's moving region is narrower than the window's 1:2, and HOG needs the whole window."""
    x0, y0, x1, y1 = box
    window_h = (y1 - y0) * WINDOW[1] / BODY
    window_w = window_h * WINDOW[0] / WINDOW[1]
    dx = max(round((x1 - x0) * margin), math.ceil((window_w - (x1 - x0)) / 2))
    dy = max(round((y1 - y0) * margin), math.ceil((window_h - (y1 - y0)) / 2))
    return max(0, x0 - dx), max(0, y0 - dy), min(width, x1 + dx), min(height, y1 + dy)


def _overlap(a: PixelBox, b: PixelBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: PixelBox, b: PixelBox) -> PixelBox:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _prepare(luma: Luma, crop: PixelBox, factor: float) -> tuple[Luma, tuple[int, int]]:
    """The crop scaled by `factor`, padded (edge pixels repeated) to at least one detector window so small
    crops near the frame's edge are still examined; returns the image and the padding's (left, top)."""
    x0, y0, x1, y1 = crop
    image: Luma = luma[y0:y1, x0:x1]
    if factor != 1.0:
        size = (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), np.uint8)
    pad_x, pad_y = max(0, WINDOW[0] - image.shape[1]), max(0, WINDOW[1] - image.shape[0])
    if pad_x or pad_y:
        left, top = pad_x // 2, pad_y // 2
        image = np.asarray(cv2.copyMakeBorder(image, top, pad_y - top, left, pad_x - left, cv2.BORDER_REPLICATE))
        return image, (left, top)
    return image, (0, 0)


def create(config: Config) -> HogPerson:
    return HogPerson(config)
