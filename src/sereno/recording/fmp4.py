"""A minimal fragmented-MP4 writer for H.264: an initialisation section from SPS/PPS, fragments of samples.

Written out by hand (not through libavformat) because the recorder already holds each frame's NAL units:
laying them out as length-prefixed samples with one moof per segment costs a few microseconds per frame,
where a muxer round trip through PyAV costs tens. The output is plain ISO BMFF that players and ffmpeg read.
"""

import struct
from dataclasses import dataclass

from sereno.ingest.h264 import Nal, SpsInfo, parse_sps

KEY_FLAGS = 0x02000000  # sample_depends_on = 2: an independent (sync) sample
DELTA_FLAGS = 0x01010000  # depends on others, non-sync
_DEFAULT_BASE_IS_MOOF = 0x020000  # tfhd: data offsets count from the moof, as fragmented-MP4 readers expect
_TRUN_FLAGS = 0x000701  # data offset, then per sample: duration, size, flags
_LENGTH = struct.Struct(">I")
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(slots=True)
class Sample:
    duration: int  # until the next sample, in timescale units (the caller picks the last one's, e.g. the previous)
    nals: list[Nal]  # written as 4-byte big-endian length + NAL unit, the avcC's lengthSizeMinusOne = 3
    keyframe: bool  # an IDR: marked as a sync sample, where players can seek to


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def init_segment(sps: bytes, pps: bytes, *, timescale: int = 90000) -> bytes:
    """ftyp + moov describing one H.264 video track (track 1) with no samples: fragments follow."""
    info = parse_sps(sps)
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso6iso2avc1mp41")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, 0),
        bytes(8),
        struct.pack(">HHHH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", info.width << 16, info.height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I", 0), b"vide", bytes(12), b"Sereno video\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    avcc = box(
        b"avcC",
        bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1)),  # 4-byte NAL lengths, one SPS
        struct.pack(">H", len(sps)),
        sps,
        bytes((1,)),
        struct.pack(">H", len(pps)),
        pps,
        _high_profile_fields(info),
    )
    avc1 = box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),
        bytes(16),
        struct.pack(">HH", info.width, info.height),
        struct.pack(">IIIH", 0x480000, 0x480000, 0, 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
        avcc,
    )
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl)))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


def _high_profile_fields(info: SpsInfo) -> bytes:
    """ISO/IEC 14496-15 5.3.3.1: profiles above Main repeat chroma format and bit depths after the PPS."""
    if info.profile_idc in (66, 77, 88):
        return b""
    return bytes(
        (0xFC | info.chroma_format_idc, 0xF8 | (info.bit_depth_luma - 8), 0xF8 | (info.bit_depth_chroma - 8), 0)
    )


def fragment(sequence: int, base_decode_time: int, samples: list[Sample]) -> list[bytes | memoryview]:
    """moof + mdat as pieces to join (with the init section or other fragments): the NAL bytes are not copied
    here, only referenced. Samples are in decode order; `base_decode_time` is the first one's, in timescale
    units (tfdt version 1: 64 bits, so a long-running track never wraps)."""
    if not samples:
        raise ValueError("a fragment needs at least one sample")
    pieces: list[bytes | memoryview] = [b""]  # the header, once its sizes are known
    entries: list[int] = []
    pack_length = _LENGTH.pack
    mdat_size = 0
    for sample in samples:
        size = 0
        for nal in sample.nals:
            length = sum(map(len, nal))
            pieces.append(pack_length(length))
            pieces += nal
            size += 4 + length
        entries += (sample.duration, size, KEY_FLAGS if sample.keyframe else DELTA_FLAGS)
        mdat_size += size
    count = len(samples)
    trun_size = 20 + 12 * count  # full box header, sample count, data offset, 3 fields per sample
    traf_size = 8 + 16 + 20 + trun_size  # traf header, tfhd, tfdt (v1), trun
    moof_size = 8 + 16 + traf_size  # moof header, mfhd
    if 8 + mdat_size > 0xFFFFFFFF:
        raise ValueError(f"fragment of {mdat_size} bytes is too large for a 32-bit mdat: cut segments shorter")
    pieces[0] = b"".join(
        (
            struct.pack(">I4s", moof_size, b"moof"),
            struct.pack(">I4sII", 16, b"mfhd", 0, sequence),
            struct.pack(">I4s", traf_size, b"traf"),
            struct.pack(">I4sII", 16, b"tfhd", _DEFAULT_BASE_IS_MOOF, 1),
            struct.pack(">I4sIQ", 20, b"tfdt", 1 << 24, base_decode_time),
            struct.pack(">I4sIIi", trun_size, b"trun", _TRUN_FLAGS, count, moof_size + 8),
            struct.pack(f">{3 * count}I", *entries),
            struct.pack(">I4s", 8 + mdat_size, b"mdat"),
        )
    )
    return pieces
