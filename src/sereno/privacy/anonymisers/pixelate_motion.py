"""Pixelate everything that moves (the default): high recall and cheap, like a privacy protector on a wall.

A person who moves is hidden whatever their pose or size; a person who stands still long enough fades into the
background model and would show, so the background learns slowly and only where nothing moves. Until the
background has settled (the first frames), the whole picture is pixelated: no model, no view.
"""

import numpy as np
from pydantic import Field

from sereno.config.base import StrictModel
from sereno.privacy.anonymiser import Image

NAME = "pixelate-motion"


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
        self._frames = 0

    def apply(self, image: Image) -> Image:
        cfg = self.config
        luma = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if self._background is None or self._background.shape != luma.shape:
            self._background, self._frames = luma.copy(), 0
        self._frames += 1
        moving = np.abs(luma - self._background) > cfg.threshold
        blocks = _block_any(moving, cfg.block)
        blocks = _grow(blocks, cfg.grow_blocks)
        still = ~np.repeat(np.repeat(blocks, cfg.block, 0), cfg.block, 1)[: luma.shape[0], : luma.shape[1]]
        self._background[still] += cfg.learning_rate * (luma[still] - self._background[still])
        if self._frames <= cfg.warmup_frames:
            blocks[:] = True
        return _pixelate(image, blocks, cfg.block)


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
    """Each marked block becomes its mean colour."""
    if not blocks.any():
        return image
    h, w, _ = image.shape
    rows, cols = blocks.shape
    padded = np.zeros((rows * block, cols * block, 3), dtype=np.float32)
    padded[:h, :w] = image
    tiles = padded.reshape(rows, block, cols, block, 3)
    means = tiles.mean(axis=(1, 3), keepdims=True)
    tiles = np.where(blocks[:, None, :, None, None], means, tiles)
    out: Image = tiles.reshape(rows * block, cols * block, 3)[:h, :w].astype(np.uint8)
    return out
