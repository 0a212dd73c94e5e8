"""Motion pixelation, then faces and number plates blurred: for cameras over streets with parked cars.

The two detector layers of `face-blur` and `plate-blur` over one motion layer (one background model, one
pixelation pass), each with its own settings.
"""

from pydantic import Field

from sereno.config.base import StrictModel
from sereno.privacy.anonymisers import face_blur, pixelate_motion, plate_blur
from sereno.privacy.layers import HideStyle, Layer, Layered

NAME = "face-plate-blur"


class Config(StrictModel):
    faces: face_blur.FaceConfig = Field(default_factory=face_blur.FaceConfig)
    face_hide: HideStyle = Field(default_factory=lambda: face_blur.Config().hide)
    plates: plate_blur.PlateConfig = Field(default_factory=plate_blur.PlateConfig)
    plate_hide: HideStyle = Field(default_factory=lambda: plate_blur.Config().hide)
    motion: pixelate_motion.Config = Field(default_factory=pixelate_motion.Config)


def create(config: Config) -> Layered:
    return Layered(
        NAME,
        pixelate_motion.create(config.motion),
        [
            Layer(face_blur.CenterFace(config.faces), config.face_hide),
            Layer(plate_blur.PlateCascade(config.plates), config.plate_hide),
        ],
    )
