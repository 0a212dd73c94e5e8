"""RTP depacketising and SPS parsing against real x264 output, packetised here the way cameras do it. The
helpers (encode, split, packetise) are imported by the fMP4 tests, which record the same clips end to end."""

import contextlib
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sereno.ingest.h264 import AccessUnit, H264Depacketizer, SpsInfo, parse_sprop, parse_sps

FRAME = 3600  # 25 fps at 90 kHz
MTU = 1200  # NAL units above this go out as FU-A
SSRC = 0x5E4E0000
TS = 123_456  # first RTP timestamp of the packetised clips

# name -> (testsrc2 size and pixel format, x264 options, chroma_format_idc, frame_mbs_only, luma bit depth)
CLIPS: dict[str, tuple[str, list[str], int, bool, int]] = {
    "baseline": ("640x360", ["-profile:v", "baseline"], 1, True, 8),
    "high-cropped-bframes": ("642x362", ["-profile:v", "high"], 1, True, 8),
    "high-slices": ("642x362", ["-bf", "0", "-x264-params", "slices=4"], 1, True, 8),
    "high422": ("642x362,format=yuv422p", [], 2, True, 8),
    "high444-scaling-matrix": ("641x361,format=yuv444p", ["-x264-params", "cqm=jvt"], 3, True, 8),
    "interlaced": ("640x364", ["-flags", "+ildct+ilme"], 1, False, 8),
    "monochrome": ("642x362,format=gray", ["-bf", "0"], 0, True, 8),
    "high10": ("642x362,format=yuv420p10le", [], 1, True, 10),
}


@dataclass
class Clip:
    units: list[list[bytes]]  # each access unit's NAL units (no start codes), in decode order
    width: int  # as ffprobe reports them
    height: int

    def first(self, kind: int) -> bytes:
        return next(nal for unit in self.units for nal in unit if nal[0] & 0x1F == kind)


def encode_clip(directory: Path, name: str, seconds: int = 3) -> Clip:
    source, options = CLIPS[name][:2]
    path = directory / f"{name}.h264"
    size, _, pixel_format = source.partition(",")
    lavfi = f"testsrc2=size={size}:rate=25" + (f",{pixel_format}" if pixel_format else "")
    encoder = ["-c:v", "libx264", "-g", "25", *options, "-bsf:v", "h264_mp4toannexb", "-f", "h264"]
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", lavfi, "-t", str(seconds)]
    subprocess.run([*command, *encoder, str(path)], check=True)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    width, height = (int(v) for v in probe.stdout.strip().split(","))
    return Clip(access_units(split_nals(path.read_bytes())), width, height)


def split_nals(stream: bytes) -> list[bytes]:
    """Annex B -> NAL units. A NAL unit never ends in a zero byte, so trailing zeros belong to 4-byte start codes."""
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", stream)]
    ends = [s - 3 for s in starts[1:]] + [len(stream)]
    return [stream[s:e].rstrip(b"\x00") for s, e in zip(starts, ends, strict=True)]


def access_units(nals: list[bytes]) -> list[list[bytes]]:
    """A new access unit begins, once the current one has a slice, at a parameter set, SEI or delimiter, or at
    a slice whose first_mb_in_slice is 0 (its first bit is set)."""
    units: list[list[bytes]] = []
    for nal in nals:
        kind = nal[0] & 0x1F
        begins = kind in (6, 7, 8, 9) or (kind in (1, 5) and nal[1] & 0x80)
        if not units or (begins and any(n[0] & 0x1F in (1, 5) for n in units[-1])):
            units.append([])
        units[-1].append(nal)
    return units


def payloads(unit: list[bytes], mtu: int = MTU) -> list[bytes]:
    """RFC 6184 payloads for one access unit: SPS+PPS in a STAP-A, small NALs alone, large ones as FU-A."""
    out: list[bytes] = []
    nals = list(unit)
    if len(nals) >= 2 and nals[0][0] & 0x1F == 7 and nals[1][0] & 0x1F == 8:
        nri = max(nals[0][0], nals[1][0]) & 0x60
        out.append(bytes((nri | 24,)) + b"".join(struct.pack(">H", len(n)) + n for n in nals[:2]))
        nals = nals[2:]
    for nal in nals:
        if len(nal) <= mtu:
            out.append(nal)
            continue
        chunks = [nal[i : i + mtu] for i in range(1, len(nal), mtu)]
        for i, chunk in enumerate(chunks):
            edge = (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
            out.append(bytes(((nal[0] & 0xE0) | 28, edge | (nal[0] & 0x1F))) + chunk)
    return out


def rtp(seq: int, ts: int, marker: bool, payload: bytes, csrcs: int = 0, ext: bytes = b"", pad: int = 0) -> bytes:
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext else 0) | csrcs
    head = struct.pack(">BBHII", b0, (0x80 if marker else 0) | 96, seq & 0xFFFF, ts & 0xFFFFFFFF, SSRC)
    head += bytes(range(4 * csrcs))
    if ext:
        head += struct.pack(">HH", 0xBEDE, len(ext) // 4) + ext
    return head + payload + (bytes(pad - 1) + bytes((pad,)) if pad else b"")


class RtpHeader(TypedDict, total=False):
    """The optional RTP header parts `rtp` adds: CSRC count, extension bytes, padding length."""

    csrcs: int
    ext: bytes
    pad: int


def packetize(
    units: list[list[bytes]], seq: int = 1000, ts: int = TS, markers: bool = True, **header: Unpack[RtpHeader]
) -> list[bytes]:
    packets: list[bytes] = []
    for n, unit in enumerate(units):
        parts = payloads(unit)
        for i, part in enumerate(parts):
            packets.append(rtp(seq + len(packets), ts + n * FRAME, markers and i == len(parts) - 1, part, **header))
    return packets


def depacketize(packets: list[bytes], d: H264Depacketizer | None = None) -> tuple[list[AccessUnit], H264Depacketizer]:
    d = d or H264Depacketizer()
    units = [unit for unit in map(d.push, packets) if unit is not None]
    last = d.flush()
    return units + ([last] if last is not None else []), d


COUNTERS = ("lost", "dropped_nals", "unsupported", "malformed", "late", "restarts", "pictureless")
ZERO = dict.fromkeys(COUNTERS, 0)


def counters(d: H264Depacketizer) -> dict[str, int]:
    return {name: getattr(d, name) for name in COUNTERS}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.skip("ffmpeg/ffprobe are not installed: these tests encode and check real H.264 with them")
    directory = tmp_path_factory.mktemp("h264")
    return {name: encode_clip(directory, name) for name in CLIPS}


@pytest.mark.parametrize("name", CLIPS)
def test_access_units_round_trip(clips: dict[str, Clip], name: str) -> None:
    clip = clips[name]
    units, d = depacketize(packetize(clip.units))
    assert [unit.nal_bytes() for unit in units] == clip.units
    assert [unit.keyframe for unit in units] == [any(nal[0] & 0x1F == 5 for nal in unit) for unit in clip.units]
    assert units[0].keyframe and units[25].keyframe
    assert [unit.pts_90k for unit in units] == [TS + n * FRAME for n in range(len(clip.units))]
    assert [unit.size for unit in units] == [sum(map(len, unit)) for unit in clip.units]
    assert (d.sps, d.pps) == (clip.first(7), clip.first(8))
    assert counters(d) == ZERO


def test_interleaved_framing_matches_push(clips: dict[str, Clip]) -> None:
    """The inline FU-A path of push_interleaved must build exactly what push builds."""
    clip = clips["high-cropped-bframes"]
    packets = packetize(clip.units)
    rtcp = b"$\x01\x00\x08" + bytes(8)
    data = b"".join(rtcp * (i % 7 == 0) + b"$\x00" + struct.pack(">H", len(p)) + p for i, p in enumerate(packets))
    d = H264Depacketizer()
    units: list[AccessUnit] = []
    stopped, count = d.push_interleaved(data + b"$\x00\x05\xdc\x80", 0, 0, units)
    assert (stopped, count) == (len(data), len(packets))  # the incomplete frame at the end is left for later
    assert [unit.nal_bytes() for unit in units] == clip.units
    assert any(isinstance(piece, memoryview) for unit in units for nal in unit.nals for piece in nal)
    assert counters(d) == ZERO
    d.push_interleaved(b"$\x00\x00\x00" + b"$\x00\x00\x10" + bytes(16), 0, 0, units)  # empty and short packets
    assert d.malformed == 2


def framed(packets: list[bytes]) -> bytes:
    return b"".join(b"$\x00" + struct.pack(">H", len(p)) + p for p in packets)


def outcome(units: list[AccessUnit], d: H264Depacketizer) -> tuple[object, ...]:
    return [(u.pts_90k, u.keyframe, u.nal_bytes()) for u in units], counters(d), d.sps, d.pps


@given(
    st.lists(
        st.tuples(st.sampled_from(["flip", "drop", "repeat", "swap"]), st.integers(0, 10_000), st.integers(0, 255)),
        max_size=12,
    )
)
def test_interleaved_inline_paths_decide_as_push_does(
    clips: dict[str, Clip], damage: list[tuple[str, int, int]]
) -> None:
    """Whatever arrives (bytes flipped in any header or payload, packets lost, repeated or swapped), the
    inline FU-A paths of push_interleaved build the same frames and count the same faults as push. The clip
    has four slices per frame, so first, middle and last pieces of several NAL units in one frame all occur."""
    packets = [bytearray(p) for p in packetize(clips["high-slices"].units[:12])]
    for kind, where, value in damage:
        at = where % len(packets)
        if kind == "flip":
            packets[at][(where // 7) % len(packets[at])] = value
        elif kind == "drop" and len(packets) > 1:
            del packets[at]
        elif kind == "repeat":
            packets.insert(at, bytearray(packets[at]))
        elif kind == "swap" and at + 1 < len(packets):
            packets[at], packets[at + 1] = packets[at + 1], packets[at]
    whole = [bytes(p) for p in packets if len(p) <= 0xFFFF]
    one_by_one = H264Depacketizer()
    expected = [u for u in map(one_by_one.push, whole) if u is not None]
    inline = H264Depacketizer()
    units: list[AccessUnit] = []
    stopped, count = inline.push_interleaved(framed(whole), 0, 0, units)
    assert (stopped, count) == (len(framed(whole)), len(whole))
    assert outcome(units, inline) == outcome(expected, one_by_one)


HEADERS: list[RtpHeader] = [{"csrcs": 3}, {"ext": bytes(range(8))}, {"pad": 7}, {"csrcs": 1, "pad": 1}]


@pytest.mark.parametrize("header", HEADERS)
def test_optional_rtp_header_parts(clips: dict[str, Clip], header: RtpHeader) -> None:
    clip = clips["baseline"]
    units, d = depacketize(packetize(clip.units, **header))
    assert [unit.nal_bytes() for unit in units] == clip.units
    assert counters(d) == ZERO


def test_units_complete_on_timestamp_change_without_markers(clips: dict[str, Clip]) -> None:
    clip = clips["baseline"]
    d = H264Depacketizer()
    units = [unit for unit in map(d.push, packetize(clip.units, markers=False)) if unit is not None]
    assert [unit.nal_bytes() for unit in units] == clip.units[:-1]  # the last one waits for more
    last = d.flush()
    assert last is not None and last.nal_bytes() == clip.units[-1] and d.flush() is None


def test_marker_on_the_packet_that_changes_timestamp_loses_nothing() -> None:
    d = H264Depacketizer()
    assert d.push(rtp(1, 0, False, b"\x65first")) is None
    finished = d.push(rtp(2, FRAME, True, b"\x41second"))
    assert finished is not None and finished.nal_bytes() == [b"\x65first"] and finished.keyframe
    following = d.push(rtp(3, 2 * FRAME, True, b"\x41third"))
    assert following is not None and following.nal_bytes() == [b"\x41second"] and following.pts_90k == FRAME
    last = d.flush()
    assert last is not None and last.nal_bytes() == [b"\x41third"]


def _fu_positions(packets: list[bytes], edge: int) -> list[int]:
    return [i for i, p in enumerate(packets) if p[12] & 0x1F == 28 and p[13] & 0xC0 == edge]


@pytest.mark.parametrize("edge", [0x80, 0, 0x40], ids=["first", "middle", "last"])
def test_gap_inside_fu_a_drops_that_nal_only(clips: dict[str, Clip], edge: int) -> None:
    clip = clips["high-slices"]
    packets = packetize(clip.units)
    victim = _fu_positions(packets, edge)[3]
    unit_index = (struct.unpack_from(">I", packets[victim], 4)[0] - TS) // FRAME
    expected = [list(unit) for unit in clip.units]
    expected[unit_index] = [nal for nal in expected[unit_index] if packets[victim][14:] not in nal]
    assert len(expected[unit_index]) == len(clip.units[unit_index]) - 1
    units, d = depacketize(packets[:victim] + packets[victim + 1 :])
    assert [unit.nal_bytes() for unit in units] == expected
    assert counters(d) == {**ZERO, "lost": 1, "dropped_nals": 1}


def _unit_of(packet: bytes) -> int:
    return int((struct.unpack_from(">I", packet, 4)[0] - TS) // FRAME)


def _second_keyframe(clip: Clip) -> int:
    return next(n for n, unit in enumerate(clip.units) if n and any(nal[0] & 0x1F == 5 for nal in unit))


def test_a_stream_cut_off_inside_a_keyframe_ends_on_the_last_whole_frame(clips: dict[str, Clip]) -> None:
    """A recorder that stops (or loses the camera) mid-keyframe holds the keyframe's parameter sets and part of
    its slice: that is no frame, and storing it as one made a segment promise a picture it could not show."""
    clip = clips["baseline"]
    packets = packetize(clip.units)
    keyframe = _second_keyframe(clip)
    cut = next(i for i in _fu_positions(packets, 0x80) if _unit_of(packets[i]) == keyframe)
    units, d = depacketize(packets[: cut + 1])
    assert [unit.nal_bytes() for unit in units] == clip.units[:keyframe]
    assert counters(d) == {**ZERO, "dropped_nals": 1, "pictureless": 1}
    assert d.sps == clip.first(7) and d.pps == clip.first(8)  # kept for the next keyframe


def test_an_access_unit_whose_only_slice_was_lost_is_no_frame(clips: dict[str, Clip]) -> None:
    clip = clips["baseline"]
    packets = packetize(clip.units)
    keyframe = _second_keyframe(clip)
    slices = [i for i, p in enumerate(packets) if _unit_of(p) == keyframe and p[12] & 0x1F in (5, 28)]
    assert slices  # its slice, whole or in pieces; its parameter sets (a STAP-A) still arrive
    units, d = depacketize([p for i, p in enumerate(packets) if i not in slices])
    assert [unit.nal_bytes() for unit in units] == clip.units[:keyframe] + clip.units[keyframe + 1 :]
    assert d.pictureless == 1 and d.lost == len(slices)
    assert not any(unit.pts_90k == TS + keyframe * FRAME for unit in units)


def test_timestamp_and_sequence_wraparound(clips: dict[str, Clip]) -> None:
    clip = clips["baseline"]
    first = (1 << 32) - 5 * FRAME + 17
    units, d = depacketize(packetize(clip.units, seq=65530, ts=first))
    pts = [unit.pts_90k for unit in units]
    assert pts == [first + n * FRAME for n in range(len(clip.units))]
    assert pts[-1] > 1 << 32
    assert counters(d) == ZERO


def test_repeated_late_and_restarted_sequences(clips: dict[str, Clip]) -> None:
    clip = clips["baseline"]
    packets = packetize(clip.units[:10])
    resent = [*packets[:5], packets[3], packets[4], *packets[5:]]
    units, d = depacketize(resent)
    assert [unit.nal_bytes() for unit in units] == clip.units[:10]
    assert counters(d) == {**ZERO, "late": 2}
    restarted = packetize(clip.units[10:20], seq=1000 + len(packets) - 30_000, ts=TS + 10 * FRAME)
    more, d = depacketize(restarted, d)
    assert [unit.nal_bytes() for unit in more] == clip.units[10:20]
    assert counters(d) == {**ZERO, "late": 2, "restarts": 1}


def test_unsupported_and_malformed_payloads_are_counted() -> None:
    d = H264Depacketizer()
    for payload in (b"\x19\x00\x01\x41", b"\x1a\x00", b"\x1d\x85\x00", b"\x00zero"):  # STAP-B, MTAP16, FU-B, 0
        assert d.push(rtp(1 + d.unsupported, 0, True, payload)) is None
    assert d.unsupported == 4
    too_short, version_1, bad_stap_a, bad_fu_a = bytes(12), b"\x40" + bytes(20), b"\x18\x00\x09\x67", b"\x1c"
    for packet in (b"", too_short, version_1, rtp(9, 0, True, bad_stap_a), rtp(10, 0, True, bad_fu_a)):
        assert d.push(packet) is None
    assert d.push(b"\xa0" + rtp(11, 0, True, b"\x41\xff")[1:]) is None  # more padding than payload
    assert d.push(b"\x90" + rtp(12, 0, True, b"\x00\x00")[1:]) is None  # extension header cut short
    assert d.malformed == 7


@given(st.binary(max_size=1600))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    d = H264Depacketizer()
    d.push(data)
    d.push(memoryview(data))
    d.push_interleaved(data, 0, 0, [])
    d.push_interleaved(b"$\x00" + struct.pack(">H", len(data)) + data, 0, 0, [])
    d.flush()


version_2 = st.builds(lambda b0, rest: bytes((0x80 | (b0 & 0x3F),)) + rest, st.integers(0, 255), st.binary(max_size=80))


@given(st.lists(version_2, max_size=40))
def test_packets_that_look_like_rtp_never_raise_nor_emit_empty_nals(packets: list[bytes]) -> None:
    d = H264Depacketizer()
    units = [d.push(p) for p in packets] + [d.flush()]
    for unit in units:
        assert unit is None or (unit.nals and all(unit.nal_bytes()))


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 2000), st.integers(0, 255)), max_size=30))
def test_corrupted_real_stream_never_raises(clips: dict[str, Clip], damage: list[tuple[int, int, int]]) -> None:
    packets = [bytearray(p) for p in packetize(clips["baseline"].units[:30])]
    for which, where, value in damage:
        packet = packets[which % len(packets)]
        packet[where % len(packet)] = value
    depacketize([bytes(p) for p in packets])


def test_parse_sprop_skips_bad_entries() -> None:
    assert parse_sprop("Z0IAHpWoLQSZ,aM48gA==, ,!!!,") == [bytes.fromhex("6742001e95a82d0499"), b"\x68\xce\x3c\x80"]


@pytest.mark.parametrize("name", CLIPS)
def test_parse_sps_matches_ffprobe(clips: dict[str, Clip], name: str) -> None:
    clip = clips[name]
    info = parse_sps(clip.first(7))
    assert (info.width, info.height) == (clip.width, clip.height)
    assert (info.chroma_format_idc, info.frame_mbs_only, info.bit_depth_luma) == CLIPS[name][2:]
    assert (info.profile_idc, info.level_idc) == (clip.first(7)[1], clip.first(7)[3])


def test_truncated_sps_raises_or_reads_the_same(clips: dict[str, Clip]) -> None:
    """Cut anywhere, the SPS is either rejected or (cut only in the VUI, which is not read) read identically."""
    for clip in clips.values():
        whole = parse_sps(clip.first(7))
        for size in range(len(clip.first(7))):
            try:
                info = parse_sps(clip.first(7)[:size])
            except ValueError as exc:
                assert "truncated" in str(exc)
                continue
            assert size > 6 and info == whole


class Bits:
    """Writes an SPS the way an encoder does, emulation prevention included, for syntax x264 never emits."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, size: int, value: int) -> "Bits":
        self.bits += [(value >> (size - 1 - i)) & 1 for i in range(size)]
        return self

    def ue(self, value: int) -> "Bits":
        code = value + 1
        return self.u(code.bit_length() - 1, 0).u(code.bit_length(), code)

    def se(self, value: int) -> "Bits":
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def sps(self) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)
        rbsp = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
        out, zeros = bytearray(b"\x67"), 0
        for byte in rbsp:
            if zeros >= 2 and byte <= 3:
                out.append(3)
                zeros = 0
            out.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        return bytes(out)


def _separate_planes_fields_poc1() -> bytes:
    b = Bits().u(8, 244).u(8, 0).u(8, 0).ue(0)  # High 4:4:4, level 0 so that 00 00 needs escaping
    b.ue(3).u(1, 1).ue(2).ue(2).u(1, 0).u(1, 1)  # 4:4:4 as separate planes, 10-bit, scaling matrices
    lists = {0: [1] * 16, 5: [-1] * 8, 6: [-8], 11: [3, -3] * 32}  # 5 ends at a zero scale, 6 means "default"
    for i in range(12):
        b.u(1, i in lists)
        for delta in lists.get(i, []):
            b.se(delta)
    b.ue(0).ue(1).u(1, 0).se(-70_000).se(65_536).ue(3).se(2**31 - 1).se(-5).se(100_000)  # POC type 1
    b.ue(4).u(1, 0).ue(119).ue(33).u(1, 0).u(1, 1).u(1, 1)  # 120 x 34 map units of field pairs, MBAFF
    return b.u(1, 1).ue(0).ue(0).ue(0).ue(4).u(1, 0).sps()  # crop 4 field rows of 2 lines; no VUI


def _main_cropped() -> bytes:
    b = Bits().u(8, 77).u(8, 0x40).u(8, 40).ue(0).ue(12).ue(2).ue(1).u(1, 0).ue(39).ue(22).u(1, 1).u(1, 1)
    return b.u(1, 1).ue(0).ue(3).ue(0).ue(4).u(1, 0).sps()


def _high422_fields() -> bytes:
    b = Bits().u(8, 122).u(8, 0).u(8, 41).ue(31).ue(2).ue(0).ue(0).u(1, 0).u(1, 0).ue(0).ue(0).ue(5)
    b.ue(2).u(1, 0).ue(79).ue(22).u(1, 0).u(1, 0).u(1, 1)
    return b.u(1, 1).ue(1).ue(2).ue(1).ue(2).u(1, 0).sps()


@pytest.mark.parametrize(
    ("sps", "expected"),
    [
        (_separate_planes_fields_poc1(), SpsInfo(1920, 1080, 244, 0, 3, 10, 10, False)),
        (_main_cropped(), SpsInfo(634, 360, 77, 40)),
        (_high422_fields(), SpsInfo(1274, 730, 122, 41, 2, 8, 8, False)),
    ],
    ids=["separate-planes-fields-poc1", "main-poc2-cropped", "high422-fields"],
)
def test_parse_synthetic_sps(sps: bytes, expected: SpsInfo) -> None:
    assert parse_sps(sps) == expected
    # the huge POC offsets come out as zero bytes that the encoder escapes before the picture size
    assert (b"\x00\x00\x03" in sps[:-8]) == (expected.profile_idc == 244)


_ONE_MACROBLOCK = Bits().u(8, 66).u(16, 30).ue(0).ue(0).ue(2).ue(1).u(1, 0).ue(0).ue(0).u(1, 1).u(1, 1)


@pytest.mark.parametrize(
    ("sps", "message"),
    [
        (b"", "truncated"),
        (b"\x67\x42", "truncated"),
        (b"\x68\x42\x00\x1e\xff", "not an SPS"),
        (b"\xe7\x42\x00\x1e\xff", "not an SPS"),
        (b"\x67\x42\x00\x1e" + bytes(8), "Exp-Golomb"),
        (Bits().u(8, 100).u(16, 30).ue(0).ue(4).sps(), "chroma_format_idc is 4"),
        (Bits().u(8, 66).u(16, 30).ue(0).ue(0).ue(3).sps(), "pic_order_cnt_type is 3"),
        (_ONE_MACROBLOCK.u(1, 1).ue(8).ue(0).ue(0).ue(0).sps(), "cropping leaves no picture"),
    ],
    ids=["empty", "short", "pps", "forbidden-bit", "all-zero", "chroma-format", "poc-type", "cropped-away"],
)
def test_invalid_sps_raises(sps: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sps(sps)


@given(st.binary(max_size=40))
def test_arbitrary_sps_bytes_only_raise_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_sps(b"\x67" + data)
