"""H.264 over RTP (RFC 6184): packets in, access units (frames) out, plus what SPS says about the picture.

The depacketiser runs once per RTP packet for every recorded camera (hundreds of packets per second each),
so its fast path is plain byte indexing with no per-packet objects beyond a slice. NAL units are kept as the
slices they arrived in and joined only when written, so payload bytes are never copied here. A packet lost in
the middle of a fragmented NAL unit drops that NAL rather than recording a corrupt one. Nothing a camera sends
raises: bad packets are counted and skipped, because one broken camera must not stop the others' recording.
"""

import base64
import binascii
import struct
from dataclasses import dataclass

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
STAP_A = 24
FU_A = 28
_WRAP = 1 << 32
# '$', channel, length; RTP b0, b1, sequence, timestamp (SSRC skipped); FU indicator and header
_INTERLEAVED = struct.Struct(">BBHBBHI4xBB")
_MISORDER = 100  # a packet at most this far behind the expected one is late or repeated, not a restart

Piece = bytes | memoryview
Nal = list[Piece]  # one NAL unit (no start code) as the pieces it arrived in: joined once, when stored


@dataclass(slots=True)
class AccessUnit:
    pts_90k: int  # RTP timestamp unwrapped across 32-bit wraparound (absolute: callers subtract a base)
    nals: list[Nal]
    keyframe: bool  # holds an IDR slice: a segment may start here

    @property
    def size(self) -> int:
        return sum(len(piece) for nal in self.nals for piece in nal)

    def nal_bytes(self) -> list[bytes]:
        """Each NAL unit as one bytes object, for inspection; the recording path keeps the pieces (no copy)."""
        return [b"".join(nal) for nal in self.nals]


class H264Depacketizer:
    """One RTP session's H.264 stream. Counters are cumulative so health reporting can read them at any time."""

    def __init__(self, sps: bytes | None = None, pps: bytes | None = None) -> None:
        self.sps = sps  # latest parameter sets: from the SDP at first, replaced by any sent in band
        self.pps = pps
        self.lost = 0  # RTP sequence numbers never seen
        self.dropped_nals = 0  # fragmented NAL units abandoned because a piece of them was lost
        self.unsupported = 0  # payloads this recorder does not handle (STAP-B, MTAP, FU-B, reserved types)
        self.malformed = 0  # too short, wrong RTP version, lengths pointing outside the packet
        self.late = 0  # repeated or out-of-order packets, ignored (their slot was already counted as lost)
        self.restarts = 0  # the sequence jumped far backwards: the sender restarted, the count resumes from there
        self.pictureless = 0  # access units left with no slice (theirs were lost or cut off): not frames, dropped
        self._nals: list[Nal] = []
        self._fragments: Nal = []
        self._fragmenting = False  # collecting the pieces of an FU-A NAL unit
        self._orphaned = False  # skipping the rest of an FU-A NAL unit already counted as dropped
        self._keyframe = False
        self._picture = False  # the access unit being collected holds a slice
        self._timestamp: int | None = None
        self._unwrapped = 0
        self._expected_seq: int | None = None

    def push_interleaved(self, data: bytes, start: int, channel: int, units: list[AccessUnit]) -> tuple[int, int]:
        """RTP packets framed as RTSP interleaved data ('$', channel, length), from `start` while whole ones
        last or a non-'$' byte comes. Returns (where it stopped, packets of `channel`).

        The pieces of fragmented NAL units are most packets of a high-bitrate stream; those of the frame being
        collected take the inline path below (a slice appended), everything else goes through `push`, which
        decides the same way with every case spelled out. `data` must not change
        afterwards (bytes, not a reused buffer): the access units keep views into it.
        """
        view = memoryview(data)
        i, n, packets = start, len(data), 0
        push, unpack = self.push, _INTERLEAVED.unpack_from
        fragmenting, expected, append = self._fragmenting, self._expected_seq, self._fragments.append
        timestamp = self._timestamp
        while True:
            if n - i >= 18:  # one C call reads what the fast path needs: cheaper than ten byte lookups
                dollar, ch, size, b0, b1, seq, stamp, indicator, fu = unpack(data, i)
            elif n - i >= 4:
                dollar, ch, size, b0 = data[i], data[i + 1], (data[i + 2] << 8) | data[i + 3], 0
            else:
                break
            end = i + 4 + size
            if dollar != 0x24 or end > n:
                break
            if ch != channel:
                i = end
                continue
            packets += 1
            # An FU-A piece of the frame being collected, in order, with a plain RTP header (version 2, no
            # padding, extension or CSRC): a slice appended, and the NAL unit or frame closed on its last piece.
            if b0 == 0x80 and seq == expected and stamp == timestamp and indicator & 0x1F == FU_A and size > 14:
                piece = fu & 0xC0
                if not piece and fragmenting and not b1 & 0x80:  # a middle piece
                    append(view[i + 18 : end])
                    expected = (seq + 1) & 0xFFFF
                    i = end
                    continue
                if piece == 0x40 and fragmenting:  # the last piece; with the marker, the frame's last
                    append(view[i + 18 : end])
                    expected = (seq + 1) & 0xFFFF
                    self._fragmenting = fragmenting = False
                    self._add(self._fragments)
                    self._fragments = []
                    append = self._fragments.append
                    if b1 & 0x80 and (unit := self._complete()) is not None:
                        units.append(unit)
                    i = end
                    continue
                if piece == 0x80 and not fragmenting and not b1 & 0x80:  # the first piece of the next slice
                    self._fragments = [bytes(((indicator & 0xE0) | (fu & 0x1F),)), view[i + 18 : end]]
                    self._fragmenting, self._orphaned = True, False
                    fragmenting, append = True, self._fragments.append
                    expected = (seq + 1) & 0xFFFF
                    i = end
                    continue
            self._expected_seq = expected
            unit = push(view[i + 4 : end])
            if unit is not None:
                units.append(unit)
            fragmenting, expected, append = self._fragmenting, self._expected_seq, self._fragments.append
            timestamp = self._timestamp
            i = end
        self._expected_seq = expected
        return i, packets

    def push(self, packet: memoryview | bytes) -> AccessUnit | None:
        """One RTP packet; returns the access unit it completes, if any.

        A unit completes on the marker bit, or when the timestamp moves on without one. When both happen on
        the same packet the earlier unit is returned and the new one waits for the next timestamp (or `flush`).
        """
        n = len(packet)
        if (  # the common case first: the next middle piece of an FU-A (same timestamp by RFC 6184 5.8)
            self._fragmenting
            and n > 14
            and packet[0] == 0x80  # version 2, no padding, extension or CSRC
            and packet[12] & 0x1F == FU_A
            and not packet[13] & 0xC0
            and not packet[1] & 0x80
        ):
            seq = (packet[2] << 8) | packet[3]
            if seq == self._expected_seq:
                self._expected_seq = (seq + 1) & 0xFFFF
                self._fragments.append(packet[14:])
                return None
        b0 = packet[0] if n > 12 else 0
        offset = 12 + ((b0 & 0x0F) << 2)
        if b0 & 0x10:  # header extension: 4 bytes, then its length in 32-bit words
            offset = offset + 4 + (((packet[offset + 2] << 8) | packet[offset + 3]) << 2) if n >= offset + 4 else n
        end = n - packet[n - 1] if b0 & 0x20 else n  # the last byte counts the padding
        if b0 & 0xC0 != 0x80 or offset >= end:
            self.malformed += 1
            return None
        seq = (packet[2] << 8) | packet[3]
        if seq != self._expected_seq and self._sequence_break(seq):
            return None
        self._expected_seq = (seq + 1) & 0xFFFF
        timestamp = (packet[4] << 24) | (packet[5] << 16) | (packet[6] << 8) | packet[7]
        finished = self._new_timestamp(timestamp) if timestamp != self._timestamp else None
        kind = packet[offset] & 0x1F
        if kind == FU_A:
            if end - offset < 3:
                self.malformed += 1
            elif self._fragmenting and not packet[offset + 1] & 0xC0:
                self._fragments.append(packet[offset + 2 : end])
            else:
                self._fragment(packet, offset, end)
        elif kind == STAP_A:
            self._aggregate(packet, offset + 1, end)
        elif 0 < kind < 24:
            self._add([packet[offset:end]])
        else:
            self.unsupported += 1
        if packet[1] & 0x80 and finished is None and self._nals:
            return self._complete()
        return finished

    def flush(self) -> AccessUnit | None:
        """The stream ended: the access unit still open, without any half-received NAL unit."""
        self._abandon()
        return self._complete() if self._nals else None

    def _sequence_break(self, seq: int) -> bool:
        """Accounts for a sequence number other than the expected one; True when the packet must be ignored."""
        expected = self._expected_seq
        if expected is None:
            return False
        gap = (seq - expected) & 0xFFFF
        if gap > 0xFFFF - _MISORDER:
            self.late += 1
            return True
        if gap < 0x8000:
            self.lost += gap
        else:
            self.restarts += 1
        if self._fragmenting:
            self._abandon()
            self._orphaned = True  # its remaining pieces are skipped without being counted again
        return False

    def _abandon(self) -> None:
        """A fragmented NAL unit missing a piece is dropped whole: a decoder copes with a missing slice far
        better than with a damaged one."""
        self._orphaned = False
        if self._fragmenting:
            self._fragmenting = False
            self._fragments = []
            self.dropped_nals += 1

    def _new_timestamp(self, timestamp: int) -> AccessUnit | None:
        finished = self._complete() if self._nals else None  # the previous frame ended without a marker
        self._abandon()  # a NAL unit never spans two timestamps
        previous = self._timestamp
        if previous is None:
            self._unwrapped = timestamp
        else:
            delta = (timestamp - previous) & (_WRAP - 1)
            self._unwrapped += delta if delta < _WRAP >> 1 else delta - _WRAP
        self._timestamp = timestamp
        return finished

    def _fragment(self, packet: memoryview | bytes, offset: int, end: int) -> None:
        """FU-A pieces other than a middle one of a NAL unit being collected."""
        fu = packet[offset + 1]
        if fu & 0x80:  # first piece
            if self._fragmenting:  # the previous one never ended
                self.dropped_nals += 1
            self._fragments = [bytes(((packet[offset] & 0xE0) | (fu & 0x1F),)), packet[offset + 2 : end]]
            self._fragmenting, self._orphaned = True, False
        elif self._fragmenting:
            self._fragments.append(packet[offset + 2 : end])
        else:  # its first piece was lost
            if not self._orphaned:
                self.dropped_nals += 1
            self._orphaned = not fu & 0x40
            return
        if fu & 0x40:  # last piece
            self._fragmenting = False
            self._add(self._fragments)
            self._fragments = []

    def _aggregate(self, packet: memoryview | bytes, i: int, end: int) -> None:
        while i + 2 <= end:
            size = (packet[i] << 8) | packet[i + 1]
            if size == 0 or i + 2 + size > end:
                self.malformed += 1
                return
            self._add([packet[i + 2 : i + 2 + size]])
            i += 2 + size

    def _add(self, nal: Nal) -> None:
        kind = nal[0][0] & 0x1F
        if 0 < kind <= NAL_IDR:
            self._picture = True
            self._keyframe = self._keyframe or kind == NAL_IDR
        elif kind == NAL_SPS:
            self.sps = b"".join(nal)
        elif kind == NAL_PPS:
            self.pps = b"".join(nal)
        self._nals.append(nal)

    def _complete(self) -> AccessUnit | None:
        """The access unit collected so far, unless none of its slices arrived: parameter sets or SEI alone
        (a stream cut off inside a keyframe, or its only slice lost) are no frame, and a recording that counted
        them as one would promise a picture no decoder can show. The parameter sets were kept above."""
        unit = AccessUnit(self._unwrapped, self._nals, self._keyframe) if self._picture else None
        if unit is None:
            self.pictureless += 1
        self._nals, self._keyframe, self._picture = [], False, False
        return unit


def parse_sprop(value: str) -> list[bytes]:
    """SDP sprop-parameter-sets: base64 NAL units separated by commas; bad entries are skipped, since a
    camera's SDP is untrusted input and the in-band parameter sets may still arrive."""
    sets = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            decoded = base64.b64decode(item + "=" * (-len(item) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        if decoded:
            sets.append(decoded)
    return sets


@dataclass(frozen=True, slots=True)
class SpsInfo:
    width: int  # displayed size: after frame cropping
    height: int
    profile_idc: int
    level_idc: int
    chroma_format_idc: int = 1
    bit_depth_luma: int = 8
    bit_depth_chroma: int = 8
    frame_mbs_only: bool = True


class _Bits:
    """Reads an RBSP bit by bit; an SPS is parsed once per stream, so clarity wins over speed here."""

    def __init__(self, rbsp: bytes) -> None:
        self.data = rbsp
        self.pos = 0
        self.size = len(rbsp) * 8

    def bit(self) -> int:
        pos = self.pos
        if pos >= self.size:
            raise ValueError("SPS is truncated")
        self.pos = pos + 1
        return (self.data[pos >> 3] >> (7 - (pos & 7))) & 1

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self, name: str, limit: int = (1 << 32) - 2) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError(f"SPS {name} is not a valid Exp-Golomb code")
        value = (1 << zeros) - 1 + self.bits(zeros)
        if value > limit:
            raise ValueError(f"SPS {name} is {value}, above its limit {limit}")
        return value

    def se(self, name: str) -> int:
        value = self.ue(name)
        return (value + 1) >> 1 if value & 1 else -(value >> 1)


def _rbsp(nal: bytes) -> bytes:
    """Removes emulation-prevention bytes (00 00 03 -> 00 00)."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


# profile_idc values whose SPS carries chroma format, bit depths and scaling matrices (7.3.2.1.1)
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
_SUBSAMPLING = {1: (2, 2), 2: (2, 1), 3: (1, 1)}  # chroma_format_idc -> (SubWidthC, SubHeightC)


def parse_sps(sps: bytes) -> SpsInfo:
    """Picture size and profile from a sequence parameter set (ITU-T H.264 7.3.2.1.1), for the MP4 track
    header and to check a camera sends what it is configured for. Raises ValueError on anything malformed."""
    if len(sps) < 4:
        raise ValueError(f"SPS is truncated ({len(sps)} bytes)")
    if sps[0] & 0x9F != NAL_SPS:
        raise ValueError(f"not an SPS NAL unit (header byte {sps[0]:#04x})")
    r = _Bits(_rbsp(sps[1:]))
    profile, _constraints, level = r.bits(8), r.bits(8), r.bits(8)
    r.ue("seq_parameter_set_id", 31)
    chroma_format, separate_planes, depth_luma, depth_chroma = 1, 0, 8, 8
    if profile in _HIGH_PROFILES:
        chroma_format = r.ue("chroma_format_idc", 3)
        if chroma_format == 3:
            separate_planes = r.bit()
        depth_luma = 8 + r.ue("bit_depth_luma_minus8", 6)
        depth_chroma = 8 + r.ue("bit_depth_chroma_minus8", 6)
        r.bit()  # qpprime_y_zero_transform_bypass_flag
        if r.bit():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if r.bit():
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue("log2_max_frame_num_minus4", 12)
    poc_type = r.ue("pic_order_cnt_type", 2)
    if poc_type == 0:
        r.ue("log2_max_pic_order_cnt_lsb_minus4", 12)
    elif poc_type == 1:
        r.bit()  # delta_pic_order_always_zero_flag
        r.se("offset_for_non_ref_pic")
        r.se("offset_for_top_to_bottom_field")
        for _ in range(r.ue("num_ref_frames_in_pic_order_cnt_cycle", 255)):
            r.se("offset_for_ref_frame")
    r.ue("max_num_ref_frames")
    r.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue("pic_width_in_mbs_minus1", 2047) + 1
    height_map_units = r.ue("pic_height_in_map_units_minus1", 2047) + 1
    frame_mbs_only = r.bit()
    if not frame_mbs_only:
        r.bit()  # mb_adaptive_frame_field_flag
    r.bit()  # direct_8x8_inference_flag
    crop_left = crop_right = crop_top = crop_bottom = 0
    if r.bit():  # frame_cropping_flag
        crop_left, crop_right = r.ue("frame_crop_left_offset"), r.ue("frame_crop_right_offset")
        crop_top, crop_bottom = r.ue("frame_crop_top_offset"), r.ue("frame_crop_bottom_offset")
    fields = 2 - frame_mbs_only  # map units are field macroblock pairs when frames may be coded as fields
    if separate_planes or chroma_format == 0:  # ChromaArrayType 0: cropping in luma samples
        unit_x, unit_y = 1, fields
    else:
        sub_width, sub_height = _SUBSAMPLING[chroma_format]
        unit_x, unit_y = sub_width, sub_height * fields
    width = width_mbs * 16 - unit_x * (crop_left + crop_right)
    height = height_map_units * 16 * fields - unit_y * (crop_top + crop_bottom)
    if width <= 0 or height <= 0:
        raise ValueError(f"SPS cropping leaves no picture ({width}x{height})")
    return SpsInfo(width, height, profile, level, chroma_format, depth_luma, depth_chroma, bool(frame_mbs_only))


def _skip_scaling_list(r: _Bits, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following:
            following = (last + r.se("delta_scale") + 256) % 256
        last = following or last
