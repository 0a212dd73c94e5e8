"""Pixelate everything that moves (the default): high recall and cheap, like a privacy protector on a wall.

A person who moves is hidden whatever their pose or size. The background learns slowly and only where nothing
moves, so someone who walks in and stops stays pixelated. Until the background has settled (the warm-up
frames), the whole picture is pixelated: no model, no view; the background is then the per-pixel median of
those frames, so people walking by at start-up are not baked into it (a first-frame background left a
pixelated "ghost" wherever they had been, for good).

What this mode cannot hide is a person who stood still through the whole warm-up: to it they are background.
`sereno bench anonymise` reports that case separately (standing figures); the face-blur layer (`face-blur`)
covers their faces. Where such a person later walks off, the spot they leave stays pixelated (it differs from
the background and is never learnt): the cost of never learning a standing person in.
"""

import cv2
import numpy as np
from pydantic import Field

from sereno.config.base import StrictModel
from sereno.privacy.anonymiser import Image

NAME = "pixelate-motion"
START_SAMPLES = 15  # warm-up frames kept for the median (evenly spaced if the warm-up is longer)


class Config(StrictModel):
    block: int = Field(default=16, ge=4, le=64, title="Pixel block (px)")
    threshold: int = Field(default=14, ge=1, le=255, title="Luma change that counts as motion")
    grow_blocks: int = Field(default=1, ge=0, le=4, title="Blocks added around motion")
    learning_rate: float = Field(default=0.02, gt=0, le=0.5, title="Background learning rate")
    warmup_frames: int = Field(default=10, ge=1, le=1000, title="Frames fully hidden at start")


class PixelateMotion:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._background: np.ndarray | None = None
        self._start: list[np.ndarray] = []
        self._frames = 0

    def apply(self, image: Image) -> Image:
        cfg = self.config
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)  # BT.601 weights
        if self._background is None or self._background.shape != grey.shape:
            self._background, self._frames, self._start = grey.astype(np.float32), 0, []
        self._frames += 1
        if self._frames <= cfg.warmup_frames:
            self._warm_up(grey)
            h, w = grey.shape
            return _pixelate(image, np.ones((-(-h // cfg.block), -(-w // cfg.block)), dtype=bool), cfg.block)
        luma = grey.astype(np.float32)
        moving = np.abs(luma - self._background) > cfg.threshold
        blocks = _block_any(moving, cfg.block)
        blocks = _grow(blocks, cfg.grow_blocks)
        grid = np.repeat(np.repeat(blocks, cfg.block, 0), cfg.block, 1)[: luma.shape[0], : luma.shape[1]]
        still = np.ascontiguousarray(~grid).view(np.uint8)
        cv2.accumulateWeighted(luma, self._background, cfg.learning_rate, mask=still)  # bg += a * (luma - bg)
        return _pixelate(image, blocks, cfg.block)

    def _warm_up(self, grey: np.ndarray) -> None:
        stride = -(-self.config.warmup_frames // START_SAMPLES)
        if (self._frames - 1) % stride == 0:
            self._start.append(grey)
        if self._frames == self.config.warmup_frames:
            self._background = np.median(np.stack(self._start), axis=0).astype(np.float32)
            self._start = []


def create(config: Config) -> PixelateMotion:
    return PixelateMotion(config)


def _block_any(mask: np.ndarray, block: int) -> np.ndarray:
    h, w = mask.shape
    rows, cols = -(-h // block), -(-w // block)
    padded = np.zeros((rows * block, cols * block), dtype=bool)
    padded[:h, :w] = mask
    counts = padded.reshape(rows, block, cols, block).sum(axis=(1, 3))
    moving: np.ndarray = counts > 0
    return moving


def _grow(blocks: np.ndarray, steps: int) -> np.ndarray:
    grown = blocks.copy()
    for _ in range(steps):
        shifted = grown.copy()
        shifted[1:, :] |= grown[:-1, :]
        shifted[:-1, :] |= grown[1:, :]
        shifted[:, 1:] |= grown[:, :-1]
        shifted[:, :-1] |= grown[:, 1:]
        grown = shifted
    return grown


def _pixelate(image: Image, blocks: np.ndarray, block: int) -> Image:
    """Each marked block becomes its mean colour (edge blocks: the mean of the pixels they hold).

    Block sums come from an integral image and the means are scaled back up by nearest neighbour, so the cost
    is a few passes over the frame, not a float copy of it (this runs on every frame of every camera).
    """
    if not blocks.any():
        return image
    h, w, _ = image.shape
    rows, cols = blocks.shape
    sums = cv2.integral(image, sdepth=cv2.CV_64F)  # (h+1) x (w+1) x 3; int32 would overflow past 4K
    ys, xs = np.minimum(np.arange(rows + 1) * block, h), np.minimum(np.arange(cols + 1) * block, w)
    corners = sums[ys][:, xs]
    totals = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
    areas = np.diff(ys)[:, None, None] * np.diff(xs)[None, :, None]
    means = np.rint(totals / areas).astype(np.uint8)
    size = (cols * block, rows * block)
    big = np.ascontiguousarray(cv2.resize(means, size, interpolation=cv2.INTER_NEAREST)[:h, :w])
    marked = np.ascontiguousarray(cv2.resize(blocks.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)[:h, :w])
    return np.asarray(cv2.copyTo(big, marked, image.copy()), dtype=np.uint8)  # 50x faster than numpy's
