"""The cheapest detector: every moving region is an object labelled "moving". Enough for intrusion into a
closed area (anything entering is news) and for tamper; no model, no weights."""

from pydantic import Field

from sereno.analytics.scene import Detection, Luma, Motion
from sereno.config.base import StrictModel

NAME = "motion"


class Config(StrictModel):
    min_area: float = Field(default=0.001, ge=0, le=1, title="Smallest region that counts (share of picture)")


class MotionOnly:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        return [Detection(box, "moving", 1.0) for box in motion.boxes if box.area >= self.config.min_area]


def create(config: Config) -> MotionOnly:
    return MotionOnly(config)
