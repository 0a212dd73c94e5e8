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
        self._shapes: dict[int, _Shape] = {}  # each track's label and box as plain floats, kept with the track
        self._ids = itertools.count(1)

    def update(self, detections: list[Detection], at_us: int) -> list[Track]:
        """Returns the tracks seen in this frame (new ones included)."""
        found = [_shape(d.label, d.box) for d in detections]
        pairs = self._pairs(found)
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
            self._shapes[tid] = found[index]
            seen.append(track)
        for index, detection in enumerate(detections):
            if index not in used:
                track = Track(next(self._ids), detection.label, detection.box, at_us, at_us, value=detection.value)
                track.seen(detection.box, at_us, detection.value)
                self.tracks[track.id] = track
                self._shapes[track.id] = found[index]
                seen.append(track)
        too_old = at_us - int(self.config.max_age_s * 1e6)
        for tid in [tid for tid in free if self.tracks[tid].last_us < too_old]:
            del self.tracks[tid], self._shapes[tid]
        return seen

    def _pairs(self, found: list["_Shape"]) -> list[tuple[float, int, int]]:
        """(score, track id, detection index) for every pair that may continue a track (score above 0): overlap
        when the boxes overlap enough (1 + IoU), else closeness of centres within the jump limit (under 1).

        It runs for every track against every detection on every frame of every camera, so it works on plain
        floats prepared once per box (`_shape`) rather than through Box's properties and `iou` (the same
        arithmetic; tests/analytics/test_tracking.py holds it to them)."""
        if not self._shapes or not found:
            return []
        min_overlap, max_jump = self.config.min_overlap, self.config.max_jump
        pairs: list[tuple[float, int, int]] = []
        for tid, (label, ax0, ay0, ax1, ay1, a_area, acx, acy) in self._shapes.items():
            for index, (d_label, bx0, by0, bx1, by1, b_area, bcx, bcy) in enumerate(found):
                if d_label != label:
                    continue
                across = (ax1 if ax1 < bx1 else bx1) - (ax0 if ax0 > bx0 else bx0)
                if across > 0:
                    down = (ay1 if ay1 < by1 else by1) - (ay0 if ay0 > by0 else by0)
                    if down > 0:
                        inter = across * down
                        overlap = inter / (a_area + b_area - inter)  # the union holds the overlap: above 0
                        if overlap >= min_overlap:
                            pairs.append((1.0 + overlap, tid, index))
                            continue
                dx, dy = acx - bcx, acy - bcy
                distance = (dx * dx + dy * dy) ** 0.5
                if distance < max_jump:
                    pairs.append((1.0 - distance / max_jump, tid, index))
        return pairs


# label, x0, y0, x1, y1, area (as Box.area computes it), centre x, centre y
_Shape = tuple[str, float, float, float, float, float, float, float]


def _shape(label: str, box: Box) -> _Shape:
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    area = (x1 - x0 if x1 > x0 else 0.0) * (y1 - y0 if y1 > y0 else 0.0)
    return label, x0, y0, x1, y1, area, (x0 + x1) / 2, (y0 + y1) / 2
