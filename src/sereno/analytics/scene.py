"""What the pipeline knows about one camera's picture at one moment, in the shapes detectors and rules share.

Coordinates are normalised to the frame (0..1, origin top-left) so zones drawn once work at any resolution
and a camera that changes its sub stream size keeps its rules.

These are made for every frame of every camera (a few boxes, detections and hits each), so they are slotted
dataclasses and not frozen ones: a frozen dataclass sets each field through object.__setattr__, which made a
Box cost 560 ns to build against 150. Treat them as values all the same; nothing here changes one after the
fact except a Track, which is what following an object means. (A/B with 8 cameras, old and new code side by
side on one replayed recording, together with the zones' prepared edges: the analysis lane 7% cheaper a frame.)
"""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Luma = npt.NDArray[np.uint8]
Point = tuple[float, float]


@dataclass(slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> Point:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    @property
    def foot(self) -> Point:
        """Where the object touches the ground: what zones and lines are tested against."""
        return (self.x0 + self.x1) / 2, self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)


@dataclass(slots=True)
class Detection:
    box: Box
    label: str  # "person", "vehicle", "moving", "hotspot"
    score: float
    value: float | None = None  # e.g. a hotspot's temperature in °C


@dataclass(slots=True)
class Track:
    """One object followed within one camera. Its id means nothing outside that camera, by design."""

    id: int
    label: str
    box: Box
    first_us: int
    last_us: int
    path: list[tuple[int, Point]] = field(default_factory=list)  # (time, foot point), recent first-to-last
    value: float | None = None

    def seen(self, box: Box, at_us: int, value: float | None = None, keep: int = 200) -> None:
        self.box, self.last_us, self.value = box, at_us, value
        self.path.append((at_us, box.foot))
        del self.path[:-keep]


@dataclass(slots=True)
class Motion:
    boxes: list[Box]
    fraction: float  # share of the picture that changed
    mean_luma: float  # 0..255: a covered lens is dark (or uniformly bright)
    sharpness: float  # edge energy: a defocused or sprayed lens loses it
    shift: float  # how much the whole picture moved against the reference (camera moved)


@dataclass(slots=True)
class Scene:
    camera_id: str
    centre: str
    captured_us: int
    width: int
    height: int
    motion: Motion
    detections: list[Detection]
    tracks: list[Track]
    luma: Luma | None = None  # for rules that look at pixels (thermal)
