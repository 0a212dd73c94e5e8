"""Viewing video: live anonymised frames, snapshots and HLS playback of the anonymised recording.

Every view is audited. Nothing here can reach a sealed original: frames come from the ring the anonymiser
fills, playback from segments indexed as the privacy stream.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sereno.cameras.service import CameraService, CameraView
from sereno.core.audit.service import AuditLog
from sereno.core.auth.principal import Principal
from sereno.core.errors import NotFound, Unavailable
from sereno.privacy.ring import FrameRing, LiveFrame
from sereno.privacy.stream import PrivacySegment
from sereno.recording.service import NewSegment, RecordingService, SegmentInfo, new_segment_id, sha256_hex

STREAM = "privacy"
# Segments closer than this are one span on a timeline: the gap between two segments cut from one stream is a
# frame interval or less, and a timeline that broke there would show holes that are not there.
JOIN_WITHIN_US = 1_000_000


@dataclass(frozen=True)
class RecordedSpan:
    start_us: int
    end_us: int


class PrivacyService:
    def __init__(self, cameras: CameraService, recording: RecordingService, audit: AuditLog, ring: FrameRing) -> None:
        self._cameras = cameras
        self._recording = recording
        self._audit = audit
        self.ring = ring

    # live ----------------------------------------------------------------------------------------------

    def open_live(self, viewer: Principal, camera_id: str, client: str = "") -> CameraView:
        """Checks and audits the start of a live view; the caller then streams `ring` frames."""
        camera = self._viewable(viewer, camera_id)
        self._audit.record(
            actor=viewer.actor,
            action="video.live_view",
            target=f"camera:{camera_id}",
            centre=camera.centre,
            details={"client": client},
        )
        return camera

    def snapshot(self, viewer: Principal, camera_id: str, client: str = "") -> LiveFrame:
        camera = self._viewable(viewer, camera_id)
        frame = self.ring.latest(camera_id)
        if frame is None:
            raise Unavailable(f"camera '{camera_id}' has no anonymised picture right now")
        self._audit.record(
            actor=viewer.actor,
            action="video.snapshot",
            target=f"camera:{camera_id}",
            centre=camera.centre,
            details={"client": client, "captured_us": frame.captured_us},
        )
        return frame

    # playback ------------------------------------------------------------------------------------------

    def playlist(self, viewer: Principal, camera_id: str, start_us: int, end_us: int, client: str = "") -> str:
        """An HLS (fMP4) VOD playlist of the anonymised recording; program date-times make it seekable by clock."""
        camera = self._viewable(viewer, camera_id)
        segments = self._recording.segments(viewer, camera_id, start_us, end_us, stream=STREAM)
        if not segments:
            raise NotFound(f"no anonymised recording of '{camera_id}' in that time range")
        self._audit.record(
            actor=viewer.actor,
            action="video.playback",
            target=f"camera:{camera_id}",
            centre=camera.centre,
            details={"client": client, "start_us": start_us, "end_us": end_us, "segments": len(segments)},
        )
        return render_playlist(segments)

    def timeline(self, viewer: Principal, camera_id: str, start_us: int, end_us: int) -> list[RecordedSpan]:
        """When there is anonymised recording to play, as spans: what a playback timeline draws. It says
        when, never what, so it is not itself a view and is not audited; the playlist that follows is."""
        self._viewable(viewer, camera_id)
        spans: list[RecordedSpan] = []
        for s in self._recording.segments(viewer, camera_id, start_us, end_us, stream=STREAM):
            if spans and s.start_us - spans[-1].end_us <= JOIN_WITHIN_US:
                spans[-1] = RecordedSpan(spans[-1].start_us, max(spans[-1].end_us, s.end_us))
            else:
                spans.append(RecordedSpan(s.start_us, s.end_us))
        return spans

    def segment_part(self, viewer: Principal, camera_id: str, segment_id: str, part: str) -> bytes:
        info = self._recording.segment(viewer, segment_id)
        if info.stream != STREAM or info.camera_id != camera_id:
            raise NotFound(f"no segment '{segment_id}'")
        data = self._recording.read_plain(viewer, segment_id)
        return data[: info.init_bytes] if part == "init" else data[info.init_bytes :]

    # written by the privacy worker ---------------------------------------------------------------------

    def store_segment(self, segment: PrivacySegment, retention_days: int) -> str:
        segment_id = new_segment_id(segment.start_us)
        day = datetime.fromtimestamp(segment.start_us / 1e6, UTC).strftime("%Y/%m/%d")
        key = f"{segment.camera_id}/{STREAM}/{day}/{segment_id}.mp4"
        self._recording.store.put(key, segment.data)
        self._recording.add_segment(
            NewSegment(
                id=segment_id,
                camera_id=segment.camera_id,
                stream=STREAM,
                start_us=segment.start_us,
                end_us=segment.end_us,
                frames=segment.frames,
                size_bytes=len(segment.data),
                init_bytes=segment.init_bytes,
                sha256=sha256_hex(segment.data),
                sealed=False,
                retention_days=retention_days,
                key_wrapped=None,
                storage_key=key,
            )
        )
        return segment_id

    def _viewable(self, viewer: Principal, camera_id: str) -> CameraView:
        camera = self._cameras.get(viewer, camera_id)
        if not camera.anonymiser:
            raise Unavailable(f"camera '{camera_id}' has no anonymiser, so it shows nothing")
        return camera


def render_playlist(segments: list[SegmentInfo]) -> str:
    """Each stored segment carries its own initialisation section and restarts its timeline: a discontinuity."""
    target = max(math.ceil((s.end_us - s.start_us) / 1e6) for s in segments)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    for i, s in enumerate(segments):
        if i:
            lines.append("#EXT-X-DISCONTINUITY")
        when = datetime.fromtimestamp(s.start_us / 1e6, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines += [
            f'#EXT-X-MAP:URI="segments/{s.id}/init.mp4"',
            f"#EXT-X-PROGRAM-DATE-TIME:{when}",
            f"#EXTINF:{(s.end_us - s.start_us) / 1e6:.3f},",
            f"segments/{s.id}/media.m4s",
        ]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
