"""Hot regions on a thermal camera, each with its temperature: what the thermal-hotspot rule and a volcano or
waste-bunker monitor read.

The picture must be radiometric luma: a stream whose 8-bit grey level maps linearly to temperature over a
known span (`t_min_c` at luma 0, `t_max_c` at luma 255), which is how radiometric cameras export a fixed
range to ordinary video. Pseudo-colour palettes (iron, rainbow) carry temperature in hue, not brightness,
so their Y plane is meaningless here: convert them to grey with the camera's palette upstream (or set the
camera to a white-hot grey palette with a fixed span). Black-hot palettes must be inverted upstream too.

Every frame is examined (`needs_every_frame`): a hotspot need not move, and a smouldering fire is exactly
the thing that does not. Pixels at or over `threshold_c` form regions (8-connected); regions smaller than
`min_pixels` are sensor noise or dead pixels and are ignored. Each region becomes a detection labelled
"hotspot" with `value` = its hottest pixel in °C, the hottest regions first.
"""

import cv2
import numpy as np
from pydantic import Field, model_validator

from sereno.analytics.scene import Box, Detection, Luma, Motion
from sereno.config.base import StrictModel

NAME = "thermal"


class Config(StrictModel):
    t_min_c: float = Field(default=-20.0, ge=-100, le=3000, title="Temperature at luma 0 (°C)")
    t_max_c: float = Field(default=150.0, ge=-100, le=3000, title="Temperature at luma 255 (°C)")
    threshold_c: float = Field(default=60.0, ge=-100, le=3000, title="Temperature a region must reach (°C)")
    min_pixels: int = Field(default=4, ge=1, le=100_000, title="Smallest hot region (pixels; noise ignored)")
    max_regions: int = Field(default=16, ge=1, le=256, title="Most hotspots reported per frame (hottest first)")

    @model_validator(mode="after")
    def _span(self) -> "Config":
        if self.t_min_c >= self.t_max_c:
            raise ValueError("t_min_c must be below t_max_c (invert black-hot pictures upstream)")
        if not self.t_min_c < self.threshold_c <= self.t_max_c:
            raise ValueError("threshold_c must lie within the span (t_min_c, t_max_c]: else nothing is ever hot")
        return self


class Thermal:
    name = NAME
    needs_every_frame = True  # the pipeline calls detect() even when nothing moves

    def __init__(self, config: Config) -> None:
        self.config = config
        span = config.t_max_c - config.t_min_c
        self._celsius = config.t_min_c + span * np.arange(256, dtype=np.float64) / 255.0
        self._hot = (self._celsius >= config.threshold_c).astype(np.uint8)  # a look-up table: luma -> 0/1

    def celsius(self, luma_value: int) -> float:
        return float(self._celsius[luma_value])

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        if not self._hot.any():
            return []
        height, width = luma.shape
        mask = cv2.LUT(luma, self._hot)
        if not mask.any():
            return []
        count, labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        found: list[Detection] = []
        for index in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[index])
            if area < self.config.min_pixels:
                continue
            inside = labels[y : y + h, x : x + w] == index
            hottest = self.celsius(int(luma[y : y + h, x : x + w][inside].max()))
            box = Box(x / width, y / height, (x + w) / width, (y + h) / height)
            found.append(Detection(box, "hotspot", 1.0, value=round(hottest, 2)))
        found.sort(key=lambda d: d.value or 0.0, reverse=True)
        return found[: self.config.max_regions]


def create(config: Config) -> Thermal:
    return Thermal(config)
