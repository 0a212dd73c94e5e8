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
        pairs = self._pairs(detections)
        pairs.sort(reverse=True)
        free = set(self.tracks)
        seen: list[Track] = []
        used: set[int] = set()
        for _score, tid, index in pairs:
            if tid not in free or index in used:
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

    def _pairs(self, detections: list[Detection]) -> list[tuple[float, int, int]]:
        """(score, track id, detection index) for every pair that may continue a track (score above 0): overlap
        when the boxes overlap enough (1 + IoU), else closeness of centres within the jump limit (under 1).

        It runs for every track against every detection on every frame of every camera, so it works on plain
        floats unpacked once per box rather than through Box's properties and `iou` (the same arithmetic)."""
        if not self.tracks or not detections:
            return []
        min_overlap, max_jump = self.config.min_overlap, self.config.max_jump
        found = [(d.label, *_corners(d.box)) for d in detections]
        pairs: list[tuple[float, int, int]] = []
        for tid, track in self.tracks.items():
            label = track.label
            ax0, ay0, ax1, ay1, a_area = _corners(track.box)
            acx, acy = (ax0 + ax1) / 2, (ay0 + ay1) / 2
            for index, (d_label, bx0, by0, bx1, by1, b_area) in enumerate(found):
                if d_label != label:
                    continue
                across = (ax1 if ax1 < bx1 else bx1) - (ax0 if ax0 > bx0 else bx0)
                down = (ay1 if ay1 < by1 else by1) - (ay0 if ay0 > by0 else by0)
                inter = across * down if across > 0 and down > 0 else 0.0
                union = a_area + b_area - inter
                overlap = inter / union if union > 0 else 0.0
                if overlap >= min_overlap:
                    pairs.append((1.0 + overlap, tid, index))
                    continue
                distance = ((acx - (bx0 + bx1) / 2) ** 2 + (acy - (by0 + by1) / 2) ** 2) ** 0.5
                if distance < max_jump:
                    score = 1.0 - distance / max_jump
                    if score > 0:
                        pairs.append((score, tid, index))
        return pairs


def _corners(box: Box) -> tuple[float, float, float, float, float]:
    """x0, y0, x1, y1 and the area, as Box.area computes it."""
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    return x0, y0, x1, y1, (x1 - x0 if x1 > x0 else 0.0) * (y1 - y0 if y1 > y0 else 0.0)
