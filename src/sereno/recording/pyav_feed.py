"""Recording what the fast path does not take, through PyAV (libavformat): RTSP over UDP, HTTP(S) streams,
files, and codecs other than H.264. Still a stream copy: packets are remuxed into fMP4, never decoded.

One thread per such camera (libavformat blocks in its own reads and releases the GIL while it waits). Files
are read at their own pace, as a camera would send them, and start again from the beginning at the end.
"""

import io
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from urllib.parse import urlsplit

import av

from sereno.cameras.service import StreamCredentials
from sereno.config.recording import RecordingSettings
from sereno.core.clock import Clock
from sereno.ingest.backoff import Backoff
from sereno.ingest.health import HealthCounter, StreamState
from sereno.recording.recorder import STREAM, CameraSource
from sereno.recording.sealer import SegmentSealer
from sereno.recording.segments import MuxedSegment
from sereno.recording.service import init_section_length, new_segment_id

FMP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
GapWriter = Callable[[str, str, int, int, str], None]  # camera, stream, start, end, reason


def open_options(url: str, timeout_s: float) -> dict[str, str]:
    """`rtsp://...#udp` asks for RTP over UDP; everything else uses libavformat's defaults plus a timeout."""
    scheme = urlsplit(url).scheme
    options = {"rw_timeout": str(int(timeout_s * 1e6))} if scheme in ("http", "https") else {}
    if scheme in ("rtsp", "rtsps"):
        options = {"rtsp_transport": "udp" if url.endswith("#udp") else "tcp", "timeout": str(int(timeout_s * 1e6))}
    return options


class PyAVFeed:
    def __init__(
        self,
        source: CameraSource,
        sealer: SegmentSealer,
        clock: Clock,
        settings: RecordingSettings,
        health: HealthCounter,
        *,
        add_gap: GapWriter,
        gap_start_us: int | None,
    ) -> None:
        self.source = source
        self._sealer = sealer
        self._clock = clock
        self._settings = settings
        self.health = health
        self._add_gap = add_gap
        self._gap_start_us = gap_start_us
        self._gap_reason = "recorder not running"
        self._backoff = Backoff(settings.reconnect_initial_s, settings.reconnect_max_s)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"pyav-{source.camera_id}", daemon=True)

    def start(self) -> "PyAVFeed":
        self.thread.start()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout_s)
        self.health.state = StreamState.STOPPED

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.health.state = StreamState.CONNECTING
            try:
                end_us = self._record_until_it_ends()
                reason = "the stream ended"
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                end_us, reason = None, f"{type(exc).__name__}: {exc}"
            if self.stop_event.is_set():
                return
            self.health.error(reason)
            self.health.reconnects += 1
            self.health.state = StreamState.DOWN
            if self._gap_start_us is None:
                self._gap_start_us = end_us or self._clock.now_us()
            self._gap_reason = reason
            self.stop_event.wait(self._backoff.next_delay())

    def _url(self) -> str:
        credentials = StreamCredentials(self.source.username, self.source.password)
        return credentials.in_url(self.source.url.removesuffix("#udp"))

    def _record_until_it_ends(self) -> int | None:
        """Returns the wall time where the recording stopped (None if nothing was recorded)."""
        with av.open(self._url(), options=open_options(self.source.url, 5.0), timeout=5.0) as src:
            stream = src.streams.video[0]
            paced = urlsplit(self.source.url).scheme in ("", "file")
            started = time.monotonic()
            first_pts: int | None = None
            segment: _OpenSegment | None = None
            end_us = None
            for packet in src.demux(stream):
                if self.stop_event.is_set():
                    break
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                if first_pts is None:
                    first_pts = packet.pts
                offset_s = float((packet.pts - first_pts) * packet.time_base)
                if paced and (ahead := offset_s - (time.monotonic() - started)) > 0:
                    time.sleep(ahead)
                now_us = self._clock.now_us()
                self.health.frames(1, packet.size, now_us)
                if (
                    segment is not None
                    and packet.is_keyframe
                    and segment.seconds(packet) >= self._settings.segment_seconds
                ):
                    end_us = self._finish(segment, packet)
                    segment = None
                if segment is None:
                    if not packet.is_keyframe:
                        continue
                    segment = _OpenSegment(self.source.camera_id, stream, packet, now_us)
                    self._started(segment.start_us)
                segment.add(packet)
            if segment is not None:
                end_us = self._finish(segment, None)
            return end_us

    def _started(self, start_us: int) -> None:
        if self.health.state is not StreamState.STREAMING:
            self.health.state = StreamState.STREAMING
            self._backoff.reset()
        gap_start, self._gap_start_us = self._gap_start_us, None
        if gap_start is not None and start_us > gap_start:
            camera_id, reason = self.source.camera_id, self._gap_reason
            self._sealer.call(lambda: self._add_gap(camera_id, STREAM, gap_start, start_us, reason))

    def _finish(self, segment: "_OpenSegment", next_packet: av.Packet | None) -> int:
        finished = segment.close(next_packet)
        self._sealer.submit(finished, self.source.retention_days)
        return finished.end_us


class _OpenSegment:
    def __init__(self, camera_id: str, stream: av.VideoStream, first: av.Packet, start_us: int) -> None:
        self.camera_id = camera_id
        self.start_us = start_us
        self.first_pts = first.pts or 0
        self.last_pts = self.first_pts
        self.time_base: Fraction = first.time_base or Fraction(1, 90000)
        self.frames = 0
        self.buffer = io.BytesIO()
        self.output = av.open(self.buffer, "w", format="mp4", options=FMP4)
        self.video = self.output.add_stream_from_template(stream)

    def seconds(self, packet: av.Packet) -> float:
        return float(((packet.pts or 0) - self.first_pts) * self.time_base)

    def add(self, packet: av.Packet) -> None:
        self.last_pts = max(self.last_pts, packet.pts or 0)
        packet.stream = self.video
        self.output.mux(packet)
        self.frames += 1

    def close(self, next_packet: av.Packet | None) -> MuxedSegment:
        self.output.close()
        data = self.buffer.getvalue()
        end_pts = next_packet.pts if next_packet is not None and next_packet.pts is not None else self.last_pts
        end_us = self.start_us + int((end_pts - self.first_pts) * self.time_base * 1_000_000)
        return MuxedSegment(
            segment_id=new_segment_id(self.start_us),
            camera_id=self.camera_id,
            stream=STREAM,
            start_us=self.start_us,
            end_us=max(end_us, self.start_us + 1),
            data=data,
            init_bytes=init_section_length(data),
            frame_count=self.frames,
        )
