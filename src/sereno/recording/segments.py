"""Cutting a camera's access units into segments: ~N seconds each, always starting on a keyframe.

Pure and synchronous (no I/O), so the cutting rules are tested without cameras: the recorder feeds access
units in, and gets finished segments out to be sealed and stored by another thread.
"""

import itertools
from dataclasses import dataclass, field
from typing import Protocol

from sereno.ingest.h264 import AccessUnit
from sereno.recording.fmp4 import Sample, fragment, init_segment
from sereno.recording.service import new_segment_id

TIMESCALE = 90_000


class SealableSegment(Protocol):
    """What the sealer stores: an id, where it belongs, and a way to produce its MP4 bytes."""

    segment_id: str
    camera_id: str
    stream: str
    start_us: int
    end_us: int

    @property
    def frames(self) -> int: ...

    def render(self) -> tuple[bytes, int]: ...


@dataclass
class MuxedSegment:
    """A segment already muxed (by PyAV, for sources the fast path does not take)."""

    segment_id: str
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    data: bytes
    init_bytes: int
    frame_count: int

    def render(self) -> tuple[bytes, int]:
        return self.data, self.init_bytes

    @property
    def frames(self) -> int:
        return self.frame_count


@dataclass
class FinishedSegment:
    segment_id: str
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    sps: bytes
    pps: bytes
    samples: list[Sample]

    def render(self) -> tuple[bytes, int]:
        """The playable MP4 (init + one fragment) and the length of its init part."""
        init = init_segment(self.sps, self.pps, timescale=TIMESCALE)
        pieces = fragment(1, 0, self.samples)
        return b"".join([init, *pieces]), len(init)

    @property
    def frames(self) -> int:
        return len(self.samples)


@dataclass
class SegmentBuilder:
    """One camera stream's open segment. Timestamps come from RTP (90 kHz), anchored to the wall clock once."""

    camera_id: str
    stream: str
    target_s: float
    anchor_wall_us: int
    anchor_pts: int | None = None
    sps: bytes | None = None
    pps: bytes | None = None
    _units: list[AccessUnit] = field(default_factory=list)
    _waiting_for_key: bool = True

    def add(self, unit: AccessUnit, sps: bytes | None, pps: bytes | None) -> FinishedSegment | None:
        """Adds a frame; returns the previous segment when this keyframe closes it."""
        if self.anchor_pts is None:
            self.anchor_pts = unit.pts_90k
        if self._waiting_for_key:
            if not unit.keyframe or sps is None or pps is None:
                return None  # a segment can only start where a decoder can
            self._waiting_for_key = False
        finished = None
        if unit.keyframe and self._units:
            span = unit.pts_90k - self._units[0].pts_90k
            if span >= self.target_s * TIMESCALE or (sps, pps) != (self.sps, self.pps):
                finished = self._finish(next_pts=unit.pts_90k)
        if not self._units:
            self.sps, self.pps = sps, pps
        self._units.append(unit)
        return finished

    def flush(self) -> FinishedSegment | None:
        """The stream stopped: what was gathered becomes a (shorter) segment."""
        if not self._units:
            return None
        return self._finish(next_pts=None)

    def wall_us(self, pts_90k: int) -> int:
        assert self.anchor_pts is not None
        return self.anchor_wall_us + (pts_90k - self.anchor_pts) * 1_000_000 // TIMESCALE

    @property
    def pending_frames(self) -> int:
        return len(self._units)

    def _finish(self, next_pts: int | None) -> FinishedSegment:
        units, self._units = self._units, []
        samples = []
        last_duration = 3600  # 25 fps, until the stream tells us better
        for current, following in itertools.pairwise(units):
            duration = following.pts_90k - current.pts_90k
            last_duration = duration if 0 < duration < 10 * TIMESCALE else last_duration
            samples.append(Sample(last_duration, current.nals, current.keyframe))
        tail = next_pts - units[-1].pts_90k if next_pts is not None else last_duration
        tail = tail if 0 < tail < 10 * TIMESCALE else last_duration
        samples.append(Sample(tail, units[-1].nals, units[-1].keyframe))
        start_us = self.wall_us(units[0].pts_90k)
        end_us = self.wall_us(units[-1].pts_90k + tail)
        assert self.sps is not None and self.pps is not None
        return FinishedSegment(
            segment_id=new_segment_id(start_us),
            camera_id=self.camera_id,
            stream=self.stream,
            start_us=start_us,
            end_us=end_us,
            sps=self.sps,
            pps=self.pps,
            samples=samples,
        )
