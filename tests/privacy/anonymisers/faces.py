"""A street-like frame with a face from scikit-image's bundled LFW crops, and the bench's notion of hidden."""

import cv2
import numpy as np
from skimage import data

from sereno.privacy.anonymiser import Image

Box = tuple[int, int, int, int]  # x1, y1, x2, y2


def face(index: int, size: int) -> Image:
    grey = (data.lfw_subset()[index] * 255).astype(np.float32)
    tinted = np.clip(grey[..., None] * np.array([1.05, 0.85, 0.7]), 0, 255).astype(np.uint8)
    resized: Image = cv2.resize(tinted, (size, size), interpolation=cv2.INTER_LINEAR)
    return resized


def frame_with_face(
    index: int = 0, size: int = 40, at: tuple[int, int] = (200, 80), shape: tuple[int, int] = (360, 640)
) -> tuple[Image, Box]:
    """A textured background, a clothed body and a hair band under and over the face; returns the face's box."""
    rng = np.random.default_rng(index)
    image = np.clip(rng.normal(110, 12, (*shape, 3)), 0, 255).astype(np.uint8)
    x, y = at
    image[y + size : y + 4 * size, x - size // 4 : x + size + size // 4] = (50, 70, 130)
    image[y - size // 4 : y, x : x + size] = (40, 30, 25)
    image[y : y + size, x : x + size] = face(index, size)
    return image, (x, y, x + size, y + size)


def hidden_share(original: Image, output: Image, box: Box, cell: int = 8) -> float:
    """Share of the box's 8 x 8 cells (with detail) that keep under half of the original's local variation:
    the definition `sereno bench anonymise` documents."""
    x1, y1, x2, y2 = box
    x1, y1 = x1 - x1 % cell, y1 - y1 % cell
    x2, y2 = x2 - (x2 - x1) % cell, y2 - (y2 - y1) % cell

    def cells(image: Image) -> np.ndarray:
        luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[y1:y2, x1:x2]
        rows, cols = luma.shape[0] // cell, luma.shape[1] // cell
        return luma.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, cell * cell)

    a, b = cells(original), cells(output)
    da, db = a - a.mean(axis=2, keepdims=True), b - b.mean(axis=2, keepdims=True)
    var, cov = (da * da).mean(axis=2), (da * db).mean(axis=2)
    judged = var >= 4
    return float(((np.abs(cov) < 0.5 * var) & judged).sum() / max(1, judged.sum()))
