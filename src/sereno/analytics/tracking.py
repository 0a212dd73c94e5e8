"""Objects followed within one camera, so rules can reason about "the same person for 20 s" or "crossed the
line once". Ids are per camera and per run: nothing links an object across cameras or over days (DESIGN.md).

A small greedy tracker of our own (overlap first, then nearest predicted centre, same label only) rather than
a library: ByteTrack left `supervision` for a package that needs the GUI build of OpenCV, and norfair pins
numpy below 2. At a few objects per camera and 5 frames a second, greedy matching is as good as optimal.
"""

import itertools

from pydantic import Field

from sereno.analytics.scene import Box, Detection, Track
from sereno.config.base import StrictModel


class TrackerConfig(StrictModel):
    min_overlap: float = Field(default=0.15, ge=0, le=1, title="Overlap that continues a track (IoU)")
    max_jump: float = Field(default=0.12, gt=0, le=1, title="Largest move between frames (share of width)")
    max_age_s: float = Field(default=2.0, gt=0, le=60, title="Seconds unseen before a track ends")


def iou(a: Box, b: Box) -> float:
    x0, y0, x1, y1 = max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1)
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: dict[int, Track] = {}
        self._ids = itertools.count(1)

    def update(self, detections: list[Detection], at_us: int) -> list[Track]:
        """Returns the tracks seen in this frame (new ones included)."""
        free = set(self.tracks)
        seen: list[Track] = []
        pairs = sorted(
            ((self._score(track, d), tid, i) for tid, track in self.tracks.items() for i, d in enumerate(detections)),
            reverse=True,
        )
        used: set[int] = set()
        for score, tid, index in pairs:
            if score <= 0 or tid not in free or index in used:
                continue
            free.discard(tid)
            used.add(index)
            track = self.tracks[tid]
            track.seen(detections[index].box, at_us, detections[index].value)
            seen.append(track)
        for index, detection in enumerate(detections):
            if index not in used:
                track = Track(next(self._ids), detection.label, detection.box, at_us, at_us, value=detection.value)
                track.seen(detection.box, at_us, detection.value)
                self.tracks[track.id] = track
                seen.append(track)
        too_old = at_us - int(self.config.max_age_s * 1e6)
        for tid in [tid for tid, t in self.tracks.items() if t.last_us < too_old]:
            del self.tracks[tid]
        return seen

    def _score(self, track: Track, detection: Detection) -> float:
        """Overlap when boxes overlap enough, else closeness of centres within the jump limit (scored lower)."""
        if track.label != detection.label:
            return 0.0
        overlap = iou(track.box, detection.box)
        if overlap >= self.config.min_overlap:
            return 1.0 + overlap
        (ax, ay), (bx, by) = track.box.centre, detection.box.centre
        distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
        return 1.0 - distance / self.config.max_jump if distance < self.config.max_jump else 0.0
