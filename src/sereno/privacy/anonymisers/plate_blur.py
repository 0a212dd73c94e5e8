"""Motion pixelation, then every number plate OpenCV's plate cascade finds blurred: parked cars included.

The detector is the Haar cascade that opencv-python-headless 4.x ships (`haarcascade_russian_plate_number.xml`;
OpenCV 5 dropped cascades, hence the `<5` pin). It only says where a plate-like patch is; nothing here reads
a plate, and the box it returns is destroyed. Cascades miss plates (angle, foreign formats, and anything
narrower than its 60 x 20 px window: at 360p, cars more than a few metres away) and fire on other text: a
moving car is hidden by the motion layer whatever the cascade does, and a false hit costs a blurred sign,
which is the side to err on.
"""

from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from sereno.config.base import StrictModel
from sereno.privacy.anonymiser import AnonymiserUnavailable, Image
from sereno.privacy.anonymisers import pixelate_motion
from sereno.privacy.layers import Boxes, HideStyle, Layer, Layered

NAME = "plate-blur"
CASCADE = "haarcascade_russian_plate_number.xml"


class PlateConfig(StrictModel):
    scale_factor: float = Field(default=1.1, gt=1, le=2, title="Step between the scales searched")
    min_neighbors: int = Field(default=3, ge=0, le=20, title="Overlapping hits needed to keep a plate")
    min_width: int = Field(
        default=60, ge=60, le=1000, title="Smallest plate searched for (px); the cascade's window is 60 x 20"
    )
    cascade: Path | None = Field(default=None, title="Cascade XML; default: OpenCV's bundled plate cascade")


class Config(StrictModel):
    plates: PlateConfig = Field(default_factory=PlateConfig)
    hide: HideStyle = Field(default_factory=lambda: HideStyle(margin=0.15))
    motion: pixelate_motion.Config = Field(default_factory=pixelate_motion.Config)


def cascade_path(config: PlateConfig) -> Path:
    if config.cascade is not None:
        return config.cascade
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if folder is None:
        raise AnonymiserUnavailable("this OpenCV ships no cascades (OpenCV 5?): install opencv-python-headless<5")
    return Path(folder) / CASCADE


class PlateCascade:
    """Plate-like regions of an RGB frame, as boxes in its pixels."""

    def __init__(self, config: PlateConfig) -> None:
        self.config = config
        path = cascade_path(config)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise AnonymiserUnavailable(f"cannot load the plate cascade {path}")

    def detect(self, image: Image) -> Boxes:
        cfg = self.config
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        found = self._cascade.detectMultiScale(
            grey,
            scaleFactor=cfg.scale_factor,
            minNeighbors=cfg.min_neighbors,
            minSize=(cfg.min_width, cfg.min_width // 3),
        )
        if len(found) == 0:
            return np.zeros((0, 4), dtype=np.float32)
        xywh = np.asarray(found, dtype=np.float32).reshape(-1, 4)
        boxes: Boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        return boxes


def create(config: Config) -> Layered:
    return Layered(NAME, pixelate_motion.create(config.motion), [Layer(PlateCascade(config.plates), config.hide)])
