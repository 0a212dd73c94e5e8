"""The recorder: many cameras' main streams in one loop, copied (never re-encoded) into sealed segments.

Why one loop and a tick: reading every socket a few times a second, all that arrived at once, costs a fraction
of waking up per RTP packet, and that is most of what recording costs (see bench/record.py). Handshakes run
on a small thread pool so a camera that hangs on connect never holds up the others; sealing and storing run
on the sealer thread. A stream that stops, stalls or sends junk goes down alone, is retried with backoff,
and the time it was away is indexed as a gap.
"""

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sereno.config.recording import RecordingSettings
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.ingest.backoff import Backoff
from sereno.ingest.events import StreamStateChanged
from sereno.ingest.h264 import H264Depacketizer
from sereno.ingest.health import HealthCounter, StreamHealth, StreamState
from sereno.ingest.interleaved import InterleavedReader
from sereno.ingest.rtsp import RtspError, RtspStream, UnsupportedStream, open_stream
from sereno.recording.sealer import SegmentSealer
from sereno.recording.segments import SegmentBuilder

log = logging.getLogger(__name__)

STREAM = "main"
RECV_BYTES = 1 << 20
HEALTH_EVERY_S = 2.0
RESYNC_US = 1_000_000  # re-anchor RTP time to the wall clock when they drift apart by more than this


@dataclass(frozen=True)
class CameraSource:
    camera_id: str
    url: str
    retention_days: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass
class Feed:
    source: CameraSource
    health: HealthCounter
    backoff: Backoff
    stream: RtspStream | None = None
    reader: InterleavedReader | None = None
    builder: SegmentBuilder | None = None
    connecting: Future[RtspStream] | None = None
    retry_at: float = 0.0
    last_data: float = 0.0
    gap_start_us: int | None = None
    gap_reason: str = "recorder not running"
    lost_before: int = 0  # RTP packets lost on earlier connections


class Recorder:
    def __init__(
        self,
        sealer: SegmentSealer,
        clock: Clock,
        settings: RecordingSettings,
        *,
        add_gap: Callable[[str, str, int, int, str], None],
        last_end_us: Callable[[str], int | None] = lambda _camera: None,
        report_health: Callable[[list[StreamHealth]], None] | None = None,
        bus: EventBus | None = None,
        tick_s: float = 0.2,
    ) -> None:
        self._sealer = sealer
        self._clock = clock
        self._settings = settings
        self._add_gap = add_gap
        self._last_end_us = last_end_us
        self._report_health = report_health
        self._bus = bus
        self._tick = tick_s
        self._selector = selectors.DefaultSelector()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rtsp-connect")
        self.feeds: dict[str, Feed] = {}
        self.unsupported: dict[str, str] = {}  # camera -> why the fast path cannot record it
        self._next_health = 0.0

    # configuration -------------------------------------------------------------------------------------

    def set_sources(self, sources: list[CameraSource]) -> None:
        """Start recording new cameras, stop removed ones, reconnect changed ones."""
        wanted = {s.camera_id: s for s in sources}
        for camera_id in list(self.feeds):
            if camera_id not in wanted or wanted[camera_id] != self.feeds[camera_id].source:
                self._stop_feed(self.feeds.pop(camera_id))
        for camera_id, source in wanted.items():
            if camera_id not in self.feeds:
                backoff = Backoff(self._settings.reconnect_initial_s, self._settings.reconnect_max_s)
                feed = Feed(source, HealthCounter(camera_id, STREAM), backoff)
                feed.gap_start_us = self._last_end_us(camera_id)
                self.feeds[camera_id] = feed

    # the loop ------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.step()
                stop.wait(max(0.0, self._tick - (time.monotonic() - started)))
        finally:
            self.close()

    def step(self) -> None:
        now = time.monotonic()
        for feed in self.feeds.values():
            if feed.stream is None:
                self._advance_connection(feed, now)
        for key, _events in self._selector.select(0):
            self._read(key.data, now)
        for feed in self.feeds.values():
            stream = feed.stream
            if stream is None:
                continue
            if now - feed.last_data > self._settings.stall_timeout_s:
                self._go_down(feed, f"no video for {self._settings.stall_timeout_s:.0f} s", now)
            elif stream.keepalive_due(now):
                try:
                    stream.send_keepalive(now)
                except OSError as exc:
                    self._go_down(feed, f"keepalive failed: {exc}", now)
        if now >= self._next_health:
            self._next_health = now + HEALTH_EVERY_S
            self._publish_health()

    def close(self) -> None:
        for feed in list(self.feeds.values()):
            self._stop_feed(feed)
        self._publish_health()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._selector.close()

    # per feed ------------------------------------------------------------------------------------------

    def _advance_connection(self, feed: Feed, now: float) -> None:
        if feed.connecting is None:
            if now >= feed.retry_at:
                src = feed.source
                timeout = self._settings.connect_timeout_s
                feed.connecting = self._pool.submit(open_stream, src.url, src.username, src.password, timeout)
            return
        if not feed.connecting.done():
            return
        future, feed.connecting = feed.connecting, None
        try:
            stream = future.result()
        except UnsupportedStream as exc:
            self.unsupported[feed.source.camera_id] = str(exc)
            feed.retry_at = float("inf")  # the worker hands this camera to the PyAV path
            return
        except (RtspError, OSError) as exc:
            self._failed(feed, str(exc), now)
            return
        stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sps, pps = _parameter_sets(stream.track.parameter_sets)
        feed.stream, feed.last_data = stream, now
        feed.reader = InterleavedReader(H264Depacketizer(sps=sps, pps=pps))
        feed.builder = SegmentBuilder(feed.source.camera_id, STREAM, self._settings.segment_seconds, 0)
        feed.health.state = StreamState.CONNECTING
        self._selector.register(stream.sock, selectors.EVENT_READ, feed)
        if stream.leftover:
            self._consume(feed, stream.leftover)

    def _read(self, feed: Feed, now: float) -> None:
        stream = feed.stream
        if stream is None:
            return
        try:
            chunk = stream.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._go_down(feed, f"connection lost: {exc}", now)
            return
        if not chunk:
            self._go_down(feed, "the camera closed the connection", now)
            return
        feed.last_data = now
        self._consume(feed, chunk)

    def _consume(self, feed: Feed, chunk: bytes) -> None:
        reader, builder = feed.reader, feed.builder
        assert reader is not None and builder is not None
        units = reader.feed(chunk)
        if not units:
            return
        depacketizer = reader.depacketizer
        now_us = self._clock.now_us()
        for unit in units:
            if builder.anchor_pts is None or (
                unit.keyframe and abs(builder.wall_us(unit.pts_90k) - now_us) > RESYNC_US
            ):
                builder.anchor_wall_us, builder.anchor_pts = now_us, unit.pts_90k
            pending_before = builder.pending_frames
            finished = builder.add(unit, depacketizer.sps, depacketizer.pps)
            if pending_before == 0 and builder.pending_frames == 1 and finished is None:
                self._recording_started(feed, builder.wall_us(unit.pts_90k))
            if finished is not None:
                self._sealer.submit(finished, feed.source.retention_days)
        feed.health.frames(len(units), len(chunk), now_us)
        feed.health.packets_lost = feed.lost_before + depacketizer.lost

    def _recording_started(self, feed: Feed, start_us: int) -> None:
        """The first frame of a connection is in a segment: the time before it was a gap."""
        if feed.health.state is not StreamState.STREAMING:
            feed.health.state = StreamState.STREAMING
            feed.backoff.reset()
            self._announce(feed, None)
        gap_start, feed.gap_start_us = feed.gap_start_us, None
        if gap_start is not None and start_us > gap_start:
            camera_id, reason = feed.source.camera_id, feed.gap_reason
            self._sealer.call(lambda: self._add_gap(camera_id, STREAM, gap_start, start_us, reason))

    def _failed(self, feed: Feed, reason: str, now: float) -> None:
        feed.health.error(reason)
        if feed.health.state is not StreamState.DOWN:
            feed.health.state = StreamState.DOWN
            self._announce(feed, reason)
        if feed.gap_start_us is None:
            feed.gap_start_us = self._clock.now_us()
        feed.gap_reason = reason
        feed.retry_at = now + feed.backoff.next_delay()

    def _go_down(self, feed: Feed, reason: str, now: float) -> None:
        end_us = self._close_stream(feed)
        feed.health.reconnects += 1
        feed.gap_start_us = end_us if end_us is not None else self._clock.now_us()
        self._failed(feed, reason, now)

    def _close_stream(self, feed: Feed) -> int | None:
        """Closes the connection; what was gathered is stored. Returns where the recording now ends."""
        stream, feed.stream = feed.stream, None
        end_us = None
        if stream is not None:
            self._selector.unregister(stream.sock)
            stream.close()
        if feed.reader is not None:
            depacketizer = feed.reader.depacketizer
            last = depacketizer.flush()  # a frame whose marker never came is kept if any of its slices came
            if last is not None and feed.builder is not None and feed.builder.pending_frames:
                tail = feed.builder.add(last, depacketizer.sps, depacketizer.pps)
                if tail is not None:
                    self._sealer.submit(tail, feed.source.retention_days)
            feed.lost_before += depacketizer.lost
            feed.reader = None
        if feed.builder is not None:
            finished = feed.builder.flush()
            if finished is not None:
                end_us = finished.end_us
                self._sealer.submit(finished, feed.source.retention_days)
            feed.builder = None
        return end_us

    def _stop_feed(self, feed: Feed) -> None:
        if feed.connecting is not None:
            feed.connecting.cancel()
            feed.connecting.add_done_callback(_close_late_stream)
            feed.connecting = None
        self._close_stream(feed)
        feed.health.state = StreamState.STOPPED

    def _announce(self, feed: Feed, reason: str | None) -> None:
        if self._bus is not None:
            self._bus.publish_threadsafe(
                StreamStateChanged(
                    camera_id=feed.source.camera_id, stream=STREAM, state=feed.health.state.value, reason=reason
                )
            )

    def _publish_health(self) -> None:
        if self._report_health is None:
            return
        now_us = self._clock.now_us()
        snapshot = [feed.health.snapshot(now_us) for feed in self.feeds.values()]
        report = self._report_health
        self._sealer.call(lambda: report(snapshot))


def _parameter_sets(sets: list[bytes]) -> tuple[bytes | None, bytes | None]:
    sps = next((s for s in sets if s and s[0] & 0x1F == 7), None)
    pps = next((s for s in sets if s and s[0] & 0x1F == 8), None)
    return sps, pps


def _close_late_stream(future: Future[RtspStream]) -> None:
    """A handshake that finished after its camera was removed: hang up."""
    if not future.cancelled() and future.exception() is None:
        future.result().close()
