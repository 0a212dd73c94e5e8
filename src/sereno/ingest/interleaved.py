"""RTSP interleaved framing ('$', channel, 16-bit length, RTP packet) with RTSP answers mixed in.

The reader takes whatever one recv() returned, hands each RTP packet of the video channel to the
depacketiser and keeps an incomplete tail for the next call. Garbage between frames is skipped up to the next
'$'; it never raises, because a camera that sends junk must not take the recorder down.
"""

from sereno.ingest.h264 import AccessUnit, H264Depacketizer

_RTSP = b"RTSP/"
MAX_TAIL = 256 * 1024


class InterleavedReader:
    def __init__(self, depacketizer: H264Depacketizer, channel: int = 0) -> None:
        self.depacketizer = depacketizer
        self.channel = channel
        self.tail = b""
        self.packets = 0

    def feed(self, chunk: bytes) -> list[AccessUnit]:
        data = self.tail + chunk if self.tail else chunk
        units: list[AccessUnit] = []
        i, n = 0, len(data)
        while n - i >= 4:
            if data[i] != 0x24:
                resume = self._skip_text(data, i)
                if resume < 0:  # an RTSP answer not complete yet: keep it for the next chunk
                    break
                i = resume
                continue
            stopped, packets = self.depacketizer.push_interleaved(data, i, self.channel, units)
            self.packets += packets
            if stopped == i:  # an incomplete frame: wait for more
                break
            i = stopped
        self.tail = data[i:] if i < n else b""
        if len(self.tail) > MAX_TAIL:  # nothing parseable for a long stretch: drop it, resync later
            self.tail = b""
        return units

    def _skip_text(self, data: bytes, i: int) -> int:
        """An in-band RTSP answer (keepalive) is skipped whole; anything else up to the next '$'."""
        if data.startswith(_RTSP, i):
            head_end = data.find(b"\r\n\r\n", i)
            if head_end < 0:
                return -1
            length = 0
            for line in data[i:head_end].split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    value = line.split(b":", 1)[1].strip()
                    length = int(value) if value.isdigit() else 0
            end = head_end + 4 + length
            return end if end <= len(data) else -1
        following = data.find(b"$", i + 1)
        return following if following >= 0 else len(data)
